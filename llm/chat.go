package llm

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// Defaults for the zero values of ChatRequest.
const (
	defaultTemperature = 0.2
	// defaultNumCtx is set on every request because Ollama's own default is
	// small and it drops the start of a longer prompt without saying so.
	defaultNumCtx = 4096
)

// Message is one turn of a conversation.
type Message struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// ChatRequest is one generation.
type ChatRequest struct {
	Model    string
	Messages []Message
	// Format is a JSON schema (or the JSON string "json") that the answer
	// must follow. With it the answer is not streamed: onToken gets it whole.
	Format json.RawMessage
	// Temperature: 0 means 0.2; a negative value means 0 (always the most
	// likely token).
	Temperature float64
	// NumPredict caps the answer's tokens; 0 leaves the model's own limit.
	NumPredict int
	// NumCtx is the context window in tokens; 0 means 4096.
	NumCtx int
	// KeepAlive is how long the model stays loaded after the request; 0
	// leaves the server's default (5 min), negative keeps it loaded.
	KeepAlive time.Duration
}

// ChatResult is a finished (or, with an error, partial) answer.
type ChatResult struct {
	Content    string
	Model      string
	DoneReason string // "stop": the model ended; "length": NumPredict or the context ran out
	// PromptTokens counts the prompt tokens Ollama evaluated, which leaves out
	// a prefix it still had cached from the previous request.
	PromptTokens int
	OutputTokens int
	Total        time.Duration // server time for the whole request
	Load         time.Duration // loading the model, if it was not loaded
	PromptEval   time.Duration
	Eval         time.Duration
}

// errCut is a stream that ended without its final chunk.
var errCut = fmt.Errorf("the answer stream ended before it was done: %w", io.ErrUnexpectedEOF)

// Chat generates the next assistant message. Without a Format it streams:
// onToken, if not nil, gets each chunk of text as it comes. Ending ctx stops
// the generation on the server too; the error then wraps ctx's error and the
// result holds the text so far. Thinking models are asked not to think.
func (c *Client) Chat(ctx context.Context, req ChatRequest, onToken func(string)) (ChatResult, error) {
	if err := req.check(); err != nil {
		return ChatResult{}, err
	}
	msgs := make([]api.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = api.Message{Role: m.Role, Content: m.Content}
	}
	temp := req.Temperature
	switch {
	case temp == 0:
		temp = defaultTemperature
	case temp < 0:
		temp = 0
	}
	opts := map[string]any{"temperature": temp, "num_ctx": cmp.Or(req.NumCtx, defaultNumCtx)}
	if req.NumPredict != 0 {
		opts["num_predict"] = req.NumPredict
	}
	stream := len(req.Format) == 0
	areq := &api.ChatRequest{Model: req.Model, Messages: msgs, Stream: &stream, Options: opts,
		// A thinking model (qwen3, deepseek-r1, ...) would spend most of a
		// CPU's turn and of NumPredict reasoning before it answers; other
		// models accept false and ignore it.
		Think: &api.ThinkValue{Value: false}}
	if !stream {
		areq.Format = req.Format
	}
	if req.KeepAlive != 0 {
		areq.KeepAlive = &api.Duration{Duration: req.KeepAlive}
	}

	var (
		res  ChatResult
		text strings.Builder
		done bool
	)
	start := time.Now()
	err := c.api.Chat(ctx, areq, func(r api.ChatResponse) error {
		if s := r.Message.Content; s != "" {
			text.WriteString(s)
			if onToken != nil {
				onToken(s)
			}
		}
		if r.Done {
			done = true
			res.Model = r.Model
			res.DoneReason = r.DoneReason
			res.PromptTokens = r.PromptEvalCount
			res.OutputTokens = r.EvalCount
			res.Total = r.TotalDuration
			res.Load = r.LoadDuration
			res.PromptEval = r.PromptEvalDuration
			res.Eval = r.EvalDuration
		}
		return nil
	})
	res.Content = text.String()
	// The api client ends a stream quietly when the connection does, even
	// when ctx was what closed it: without the final chunk it is a failure.
	if err == nil && !done {
		err = ctx.Err()
		if err == nil {
			err = errCut
		}
	}
	if err != nil {
		if errors.Is(err, errCut) {
			c.log.Warn("chat stream cut", slog.String("model", req.Model), slog.Int("chars", text.Len()))
			return res, fmt.Errorf("llm: chat with %s: %w", req.Model, err)
		}
		return res, c.fail(ctx, "chat with "+req.Model, req.Model, err)
	}
	// Never the text: prompts and answers are customer data.
	c.log.Debug("chat",
		slog.String("model", res.Model), slog.String("done_reason", res.DoneReason),
		slog.Int("prompt_tokens", res.PromptTokens), slog.Int("output_tokens", res.OutputTokens),
		slog.Duration("load", res.Load), slog.Duration("total", res.Total),
		slog.Duration("elapsed", time.Since(start)), slog.Bool("structured", !stream))
	return res, nil
}

func (r ChatRequest) check() error {
	if r.Model == "" {
		return errors.New("llm: chat: no model")
	}
	if len(r.Messages) == 0 {
		return errors.New("llm: chat: no messages")
	}
	for i, m := range r.Messages {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			return fmt.Errorf("llm: chat: message %d: role %q is not system, user or assistant", i, m.Role)
		}
	}
	if len(r.Format) > 0 && !json.Valid(r.Format) {
		return errors.New("llm: chat: Format is not valid JSON")
	}
	if r.NumCtx < 0 {
		return fmt.Errorf("llm: chat: NumCtx %d is negative", r.NumCtx)
	}
	return nil
}
