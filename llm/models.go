package llm

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// Model is a model installed on the server.
type Model struct {
	Name          string // as Ollama lists it, with its tag: "llama3.2:3b", "tiny:latest"
	Size          int64  // bytes on disk
	Family        string // "llama", "bert", ...
	ParameterSize string // "3.2B"
	Quantization  string // "Q4_K_M"
	Modified      time.Time
	// Capabilities are Ollama's: "completion", "embedding", "tools", "vision", "thinking", ...
	Capabilities []string
}

// CanChat reports whether the model generates text.
func (m Model) CanChat() bool { return slices.Contains(m.Capabilities, "completion") }

// CanEmbed reports whether the model computes embeddings.
func (m Model) CanEmbed() bool { return slices.Contains(m.Capabilities, "embedding") }

// Models lists the installed models, sorted by name. Capabilities come from
// one Show per model, remembered by name and digest, so a listing costs one
// request once the models are known and a re-pulled model is asked again.
func (c *Client) Models(ctx context.Context) ([]Model, error) {
	lr, err := c.api.List(ctx)
	if err != nil {
		return nil, c.fail(ctx, "list models", "", err)
	}
	out := make([]Model, 0, len(lr.Models))
	seen := make(map[string]bool, len(lr.Models))
	for _, m := range lr.Models {
		key := m.Name + "@" + m.Digest
		seen[key] = true
		c.mu.Lock()
		caps, ok := c.caps[key]
		c.mu.Unlock()
		if !ok {
			sr, err := c.api.Show(ctx, &api.ShowRequest{Model: m.Name})
			var se api.StatusError
			if errors.As(err, &se) && se.StatusCode == 404 {
				continue // deleted since List
			}
			if err != nil {
				return nil, c.fail(ctx, "show model "+m.Name, m.Name, err)
			}
			caps = make([]string, len(sr.Capabilities))
			for i, cp := range sr.Capabilities {
				caps[i] = string(cp)
			}
			c.mu.Lock()
			c.caps[key] = caps
			c.mu.Unlock()
		}
		out = append(out, Model{
			Name:          m.Name,
			Size:          m.Size,
			Family:        m.Details.Family,
			ParameterSize: m.Details.ParameterSize,
			Quantization:  m.Details.QuantizationLevel,
			Modified:      m.ModifiedAt,
			Capabilities:  slices.Clone(caps),
		})
	}
	c.mu.Lock()
	for key := range c.caps {
		if !seen[key] {
			delete(c.caps, key)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Model) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
