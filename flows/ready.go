package flows

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// The ready-made flows: one per business we build for, to start from,
// change the wording and the rules of, and publish.
//
//go:embed ready/*.json
var readyFS embed.FS

// ReadyFlow is a ready-made flow.
type ReadyFlow struct {
	Key         string          `json:"key"`
	Name        string          `json:"name"`
	Business    string          `json:"business"`
	Description string          `json:"description"`
	Definition  json.RawMessage `json:"definition"`
}

// Ready lists the ready-made flows by name.
func Ready() ([]ReadyFlow, error) {
	entries, err := readyFS.ReadDir("ready")
	if err != nil {
		return nil, err
	}
	var out []ReadyFlow
	for _, e := range entries {
		b, err := readyFS.ReadFile(path.Join("ready", e.Name()))
		if err != nil {
			return nil, err
		}
		var r ReadyFlow
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("ready-made flow %s: %w", e.Name(), err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ReadyFlow) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ReadyFlows lists the ready-made flows as CreateReady would copy them.
func (e *Engine) ReadyFlows() ([]ReadyFlow, error) {
	all, err := Ready()
	for i := range all {
		all[i].Definition = all[i].definition(e.CatalogueURL)
	}
	return all, err
}

// ErrNoReadyFlow: no ready-made flow has that key.
var ErrNoReadyFlow = errors.New("no ready-made flow has this key")

// CreateReady adds a draft flow from a ready-made one, named after it (with
// " (2)", " (3)"… when the name is taken).
func (e *Engine) CreateReady(ctx context.Context, key string) (*Flow, error) {
	all, err := Ready()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(r ReadyFlow) bool { return r.Key == key })
	if i < 0 {
		return nil, ErrNoReadyFlow
	}
	return e.CreateUnique(ctx, all[i].Name, all[i].definition(e.CatalogueURL))
}

// definition is the ready-made flow's definition with the catalogue's URL
// in place: the sandbox's demo catalogue, or a placeholder for the
// business's own.
func (r *ReadyFlow) definition(catalogue string) json.RawMessage {
	if catalogue == "" {
		catalogue = "https://catalogue.example.com"
	}
	return json.RawMessage(strings.ReplaceAll(string(r.Definition), "$CATALOGUE", catalogue))
}

// CreateUnique is Create with " (2)", " (3)"… added to a name in use.
func (e *Engine) CreateUnique(ctx context.Context, name string, def json.RawMessage) (*Flow, error) {
	for n := 1; n < 100; n++ {
		try := name
		if n > 1 {
			try = fmt.Sprintf("%s (%d)", name, n)
		}
		f, err := e.Create(ctx, try, def)
		var ie *InvalidError
		if errors.As(err, &ie) && ie.Code == "name_taken" {
			continue
		}
		return f, err
	}
	return nil, &InvalidError{Code: "name_taken", Message: fmt.Sprintf("too many flows are called %q", name)}
}
