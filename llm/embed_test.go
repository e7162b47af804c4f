package llm_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"sendbox/llm"
	"sendbox/sendboxtest"
)

func TestEmbed(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	in := []string{"Where is my order?", "Quiero cancelar mi suscripción", "Where is my order?"}
	vecs, err := c.Embed(t.Context(), "tiny-embed", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(in) {
		t.Fatalf("%d vectors for %d inputs", len(vecs), len(in))
	}
	for i, v := range vecs {
		if len(v) != 64 {
			t.Errorf("vector %d has %d dimensions, want 64", i, len(v))
		}
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(math.Sqrt(n)-1) > 1e-3 {
			t.Errorf("vector %d has norm %g, want 1", i, math.Sqrt(n))
		}
	}
	if !slices.Equal(vecs[0], vecs[2]) {
		t.Error("the same text gave different vectors")
	}
	if slices.Equal(vecs[0], vecs[1]) {
		t.Error("different texts gave the same vector")
	}

	// Alone or in a batch, the same text gets the same vector.
	one, err := c.Embed(t.Context(), "tiny-embed", in[:1])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(one[0], vecs[0]) {
		t.Error("a text embedded alone differs from the same text in a batch")
	}
}

func TestEmbedManyInputs(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	in := make([]string, 150) // more than one request's worth
	for i := range in {
		in[i] = fmt.Sprintf("message number %d", i%50)
	}
	vecs, err := c.Embed(t.Context(), "tiny-embed", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(in) {
		t.Fatalf("%d vectors for %d inputs", len(vecs), len(in))
	}
	for i := 50; i < len(in); i++ {
		if !slices.Equal(vecs[i], vecs[i%50]) {
			t.Fatalf("input %d and %d are the same text but got different vectors: order lost across batches?", i, i%50)
		}
	}
}

func TestEmbedErrors(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	if _, err := c.Embed(t.Context(), "no-such-model", []string{"x"}); !errors.Is(err, llm.ErrNoModel) {
		t.Errorf("missing model: %v, want ErrNoModel", err)
	}
	if _, err := c.Embed(t.Context(), "", []string{"x"}); err == nil {
		t.Error("no model: accepted")
	}
	if v, err := c.Embed(t.Context(), "tiny-embed", nil); err != nil || v != nil {
		t.Errorf("no inputs: %v, %v", v, err)
	}
}
