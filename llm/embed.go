package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ollama/ollama/api"
)

// embedBatch bounds one request, so that a long list neither makes one huge
// body nor waits for its headers past headerTimeout.
const embedBatch = 64

// Embed returns one vector per input, in order, all of the same length.
// Inputs longer than the model's context are truncated by the server.
func (c *Client) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	if model == "" {
		return nil, errors.New("llm: embed: no model")
	}
	if len(inputs) == 0 {
		return nil, nil
	}
	start := time.Now()
	out := make([][]float32, 0, len(inputs))
	dim := 0
	for lo := 0; lo < len(inputs); lo += embedBatch {
		batch := inputs[lo:min(lo+embedBatch, len(inputs))]
		resp, err := c.api.Embed(ctx, &api.EmbedRequest{Model: model, Input: batch})
		if err != nil {
			return nil, c.fail(ctx, "embed with "+model, model, err)
		}
		if len(resp.Embeddings) != len(batch) {
			return nil, fmt.Errorf("llm: embed with %s: %d vectors for %d inputs", model, len(resp.Embeddings), len(batch))
		}
		for i, v := range resp.Embeddings {
			if dim == 0 {
				dim = len(v)
			}
			if len(v) == 0 || len(v) != dim {
				return nil, fmt.Errorf("llm: embed with %s: vector %d has %d dimensions, want %d", model, lo+i, len(v), dim)
			}
		}
		out = append(out, resp.Embeddings...)
	}
	c.log.Debug("embed", slog.String("model", model), slog.Int("inputs", len(inputs)),
		slog.Int("dim", dim), slog.Duration("elapsed", time.Since(start)))
	return out, nil
}
