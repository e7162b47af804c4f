package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"sendbox/llm"
	"sendbox/sendboxtest"
)

// tinyAnswer is what the model "tiny" of tools/ollama-tiny says to anything.
const tinyAnswer = "Hello, I am a tiny model."

func ask(model, text string) llm.ChatRequest {
	return llm.ChatRequest{Model: model, Messages: []llm.Message{
		{Role: "system", Content: "You answer customers of a shop on WhatsApp."},
		{Role: "user", Content: text},
	}}
}

func TestChatStreams(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	var chunks []string
	res, err := c.Chat(t.Context(), ask("tiny", "Where is my order?"), func(s string) { chunks = append(chunks, s) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Content != tinyAnswer {
		t.Errorf("Content = %q, want %q", res.Content, tinyAnswer)
	}
	if len(chunks) < 2 || strings.Join(chunks, "") != res.Content {
		t.Errorf("streamed %q, want several chunks making %q", chunks, res.Content)
	}
	if res.Model != "tiny" || res.DoneReason != "stop" {
		t.Errorf("Model %q, DoneReason %q", res.Model, res.DoneReason)
	}
	if res.PromptTokens <= 0 || res.OutputTokens <= 0 || res.Total <= 0 || res.Eval <= 0 {
		t.Errorf("counts and durations missing: %+v", res)
	}
	t.Logf("%d chunks, %+v", len(chunks), res)
}

func TestChatFormat(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	req := ask("tiny", "Answer in JSON.")
	req.Format = json.RawMessage(`{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`)
	calls := 0
	res, err := c.Chat(t.Context(), req, func(string) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Answer *string `json:"answer"`
	}
	if err := json.Unmarshal([]byte(res.Content), &out); err != nil || out.Answer == nil {
		t.Fatalf("structured answer %q does not decode: %v", res.Content, err)
	}
	if calls != 1 {
		t.Errorf("onToken called %d times for a structured answer, want once with all of it", calls)
	}
	if res.DoneReason != "stop" || res.OutputTokens <= 0 {
		t.Errorf("%+v", res)
	}
	t.Logf("%s", res.Content)
}

func TestChatDeadline(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	// Load the model first, so the deadline falls while it writes.
	warm := ask("tiny-random", "hi")
	warm.NumPredict = 1
	if _, err := c.Chat(t.Context(), warm, nil); err != nil {
		t.Fatal(err)
	}

	req := ask("tiny-random", "Tell me everything.")
	req.NumPredict = 1_000_000 // far more than fits in the deadline
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	chunks := 0
	res, err := c.Chat(ctx, req, func(string) { chunks++ })
	late := time.Since(deadline)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Chat past its deadline: %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, llm.ErrOffline) {
		t.Errorf("a deadline is not the server being offline: %v", err)
	}
	if late > 2*time.Second {
		t.Errorf("Chat returned %s after its deadline", late)
	}
	if chunks == 0 || res.Content == "" {
		t.Errorf("no partial answer before the deadline (%d chunks)", chunks)
	}
	t.Logf("returned %s after the deadline with %d chunks", late, chunks)

	serverStopped(t, c, "tiny-random")
}

// serverStopped checks that the server is no longer busy with a cancelled
// request on model: the next one would otherwise wait behind a million tokens.
func serverStopped(t *testing.T, c *llm.Client, model string) {
	t.Helper()
	next := ask(model, "hi")
	next.NumPredict = 4
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := c.Chat(ctx, next, nil); err != nil {
		t.Fatalf("the request after a cancelled one: %v", err)
	}
	// Alone it takes ~20 ms; the slack is for a loaded CI machine.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the request after a cancelled one took %s: the server kept generating", d)
	}
}

func TestChatCancelStructured(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	req := ask("tiny-random", "JSON please")
	// The schema keeps the random model writing: a string of at least 2000
	// characters. (Far larger minimums crash Ollama's runner: its grammar
	// parser refuses them and the runner dies with SIGSEGV.)
	req.Format = json.RawMessage(`{"type":"object","properties":{"answer":{"type":"string","minLength":2000}},"required":["answer"]}`)
	req.NumPredict = 1_000_000
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	res, err := c.Chat(ctx, req, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("structured Chat past its deadline: %v (%q), want context.DeadlineExceeded", err, res.Content)
	}
	if late := time.Since(deadline); late > 2*time.Second {
		t.Errorf("returned %s after its deadline", late)
	}
	serverStopped(t, c, "tiny-random")
}

func TestChatErrors(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	ctx := t.Context()

	_, err := c.Chat(ctx, ask("no-such-model", "hi"), nil)
	if !errors.Is(err, llm.ErrNoModel) {
		t.Errorf("missing model: %v, want ErrNoModel", err)
	}
	// An embedding model cannot chat: Ollama answers 400, not 404.
	_, err = c.Chat(ctx, ask("tiny-embed", "hi"), nil)
	if err == nil || errors.Is(err, llm.ErrNoModel) || errors.Is(err, llm.ErrOffline) {
		t.Errorf("chat with an embedding model: %v", err)
	}

	for name, req := range map[string]llm.ChatRequest{
		"no model":    {Messages: []llm.Message{{Role: "user", Content: "hi"}}},
		"no messages": {Model: "tiny"},
		"bad role":    {Model: "tiny", Messages: []llm.Message{{Role: "bot", Content: "hi"}}},
		"bad format":  {Model: "tiny", Messages: []llm.Message{{Role: "user", Content: "hi"}}, Format: json.RawMessage(`{"type":`)},
	} {
		if _, err := c.Chat(ctx, req, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
