package llm_test

import (
	"slices"
	"strings"
	"testing"

	"sendbox/llm"
	"sendbox/sendboxtest"
)

func TestModels(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	models, err := c.Models(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]llm.Model{}
	for _, m := range models {
		byName[m.Name] = m
	}
	for _, want := range []struct {
		name, family      string
		chat, embed, tool bool
	}{
		{"tiny:latest", "llama", true, false, true},
		{"tiny-random:latest", "llama", true, false, true},
		{"tiny-embed:latest", "bert", false, true, false},
	} {
		m, ok := byName[want.name]
		if !ok {
			t.Errorf("Models lacks %s: %+v", want.name, models)
			continue
		}
		if m.Family != want.family || m.Size <= 0 || m.Modified.IsZero() || m.ParameterSize == "" || m.Quantization == "" {
			t.Errorf("%s: %+v", want.name, m)
		}
		if m.CanChat() != want.chat || m.CanEmbed() != want.embed || slices.Contains(m.Capabilities, "tools") != want.tool {
			t.Errorf("%s: capabilities %q", want.name, m.Capabilities)
		}
	}
	if !slices.IsSortedFunc(models, func(a, b llm.Model) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Models is not sorted by name")
	}
}

func TestModelsAsksShowOncePerModel(t *testing.T) {
	t.Parallel()
	f := newFlaky(t, sendboxtest.Ollama(t))
	c := newClient(t, f.URL)
	first, err := c.Models(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	shows := f.shows.Load()
	if int(shows) != len(first) {
		t.Errorf("first listing: %d Show requests for %d models", shows, len(first))
	}
	again, err := c.Models(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if f.shows.Load() != shows {
		t.Errorf("second listing asked Show again (%d requests)", f.shows.Load()-shows)
	}
	if !slices.EqualFunc(first, again, func(a, b llm.Model) bool {
		return a.Name == b.Name && slices.Equal(a.Capabilities, b.Capabilities)
	}) {
		t.Errorf("cached listing differs:\n%+v\n%+v", first, again)
	}
	// The cache hands out copies.
	if len(again) > 0 && len(again[0].Capabilities) > 0 {
		again[0].Capabilities[0] = "changed"
		third, _ := c.Models(t.Context())
		if third[0].Capabilities[0] == "changed" {
			t.Error("Models shares its cached capabilities with callers")
		}
	}
}
