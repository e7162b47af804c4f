package llm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/llm"
	"sendbox/sendboxtest"
)

// The tests in this package run against a real Ollama (tools/ollama-tiny, see
// sendboxtest.Ollama), except the pull tests, which need the internet there
// and use a stand-in instead (pull_test.go).

// newClient returns a client for base that logs to the test's output.
func newClient(t testing.TB, base string) *llm.Client {
	t.Helper()
	c, err := llm.New(base, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // ends its pulls, as when sendbox stops
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c.Run(ctx)
	})
	return c
}

// deadURL is a loopback URL where nothing listens.
func deadURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// eventually fails the test unless cond holds within d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after %s: %s", d, what)
		}
	}
}

func TestNewValidatesURL(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "127.0.0.1:11434", "localhost", "ftp://127.0.0.1:11434", "http://", "http://127.0.0.1:11434/?x=1"} {
		if _, err := llm.New(bad, nil); err == nil {
			t.Errorf("New(%q) accepted it", bad)
		}
	}
	for in, want := range map[string]string{
		"http://127.0.0.1:11434":          "http://127.0.0.1:11434",
		" http://127.0.0.1:11434/ ":       "http://127.0.0.1:11434",
		"https://ai.example.com/ollama//": "https://ai.example.com/ollama",
		// Behind a proxy that asks for a password; it is never shown.
		"https://ai:pw-123@ai.example.com/": "https://ai:********@ai.example.com",
	} {
		c, err := llm.New(in, nil)
		if err != nil {
			t.Errorf("New(%q): %v", in, err)
			continue
		}
		if c.URL() != want {
			t.Errorf("New(%q).URL() = %q, want %q", in, c.URL(), want)
		}
	}
}

func TestProbeOnline(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	if c.Online() {
		t.Error("Online before any probe")
	}
	if !c.Probe(t.Context()) || !c.Online() {
		t.Fatal("Probe of a running server: offline")
	}
	v, err := c.Version(t.Context())
	if err != nil || v == "" {
		t.Fatalf("Version = %q, %v", v, err)
	}
	t.Logf("Ollama %s", v)
}

func TestOffline(t *testing.T) {
	t.Parallel()
	c := newClient(t, deadURL(t))
	start := time.Now()
	if c.Probe(t.Context()) || c.Online() {
		t.Fatal("Probe of a dead URL: online")
	}
	ctx := t.Context()
	calls := map[string]func() error{
		"Version": func() error { _, err := c.Version(ctx); return err },
		"Models":  func() error { _, err := c.Models(ctx); return err },
		"Chat": func() error {
			_, err := c.Chat(ctx, llm.ChatRequest{Model: "tiny", Messages: []llm.Message{{Role: "user", Content: "hi"}}}, nil)
			return err
		},
		"Embed": func() error { _, err := c.Embed(ctx, "tiny-embed", []string{"hi"}); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, llm.ErrOffline) || errors.Is(err, llm.ErrNoModel) {
			t.Errorf("%s on a dead URL: %v, want ErrOffline", name, err)
		}
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			t.Errorf("%s: the cause is lost: %v", name, err)
		}
	}
	if c.Online() {
		t.Error("Online after failed calls")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("failing on a dead URL took %s", d)
	}
}

// flaky is a proxy to a real Ollama that can drop /api/chat requests without
// an answer, the way a server that stops mid-request does.
type flaky struct {
	*httptest.Server
	dropChat atomic.Bool
	shows    atomic.Int32
}

func newFlaky(t testing.TB, base string) *flaky {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/show" {
			f.shows.Add(1)
		}
		if r.URL.Path == "/api/chat" && f.dropChat.Load() {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		// Buffer the request body: net/http's server closes it once the
		// proxy writes the response headers, and the transport's final read
		// of a body it is still sending then fails and cuts the upstream
		// connection mid-answer (golang/go#40747).
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func TestRunProbesAgainAfterOfflineCall(t *testing.T) {
	t.Parallel()
	f := newFlaky(t, sendboxtest.Ollama(t))
	c := newClient(t, f.URL)
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() { c.Run(ctx); close(ran) }()
	eventually(t, 3*time.Second, "Run's first probe did not find the server online", c.Online)

	f.dropChat.Store(true)
	_, err := c.Chat(t.Context(), llm.ChatRequest{Model: "tiny", Messages: []llm.Message{{Role: "user", Content: "hi"}}}, nil)
	if !errors.Is(err, llm.ErrOffline) {
		t.Fatalf("Chat through a proxy that drops it: %v, want ErrOffline", err)
	}
	if c.Online() {
		t.Error("still Online right after a call failed with ErrOffline")
	}
	// The probe (HEAD /) still passes: Run must ask again at once, not after 10 s.
	eventually(t, 3*time.Second, "Run did not probe again after the failed call", c.Online)

	cancel()
	select {
	case <-ran:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestErrorsKeepTheirCause(t *testing.T) {
	t.Parallel()
	c := newClient(t, sendboxtest.Ollama(t))
	_, err := c.Chat(t.Context(), llm.ChatRequest{Model: "no-such-model", Messages: []llm.Message{{Role: "user", Content: "hi"}}}, nil)
	if !errors.Is(err, llm.ErrNoModel) || errors.Is(err, llm.ErrOffline) {
		t.Fatalf("Chat with a missing model: %v, want ErrNoModel", err)
	}
	if !strings.Contains(err.Error(), "no-such-model") {
		t.Errorf("the error does not name the model: %v", err)
	}
}
