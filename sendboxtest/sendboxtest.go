// Package sendboxtest boots a real sendbox for tests: the embedded broker,
// a SQLite file and HTTP on a free loopback port, in a temporary folder.
// Tests talk to it over HTTP the way Meta, a browser or an integration does.
package sendboxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/app"
	"sendbox/config"
	"sendbox/whatsapp"
	"sendbox/whatsapp/sim"
)

// AppSecret and VerifyToken are the test instance's webhook secrets.
const (
	AppSecret   = "test-app-secret"
	VerifyToken = "test-verify-token"
	GraphToken  = "test-graph-token"
)

// App is a running sendbox under test.
type App struct {
	*app.App
	T      testing.TB
	Key    string // an owner API key
	Client *http.Client
	// Sim is the Graph simulator in use: the built-in one in sandbox mode,
	// or the external one of WithGraph.
	Sim *sim.Simulator
	// GraphRequests counts requests the external Graph endpoint received.
	GraphRequests atomic.Int64
}

type options struct {
	dataDir   string
	configure []func(*config.Config)
	simOpts   *sim.Options
	logLevel  slog.Level
	logTo     io.Writer
	assistant bool
}

// Option changes how New boots sendbox.
type Option func(*options)

// WithConfig edits the configuration before boot.
func WithConfig(f func(*config.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, f) }
}

// WithDataDir boots on an existing data folder (for restarts).
func WithDataDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// WithGraph runs sendbox in production mode against an external simulator
// with these options, as if it were Meta: the test controls its limits.
// Its WebhookURL, BaseURL, Token and AppSecret are filled in.
func WithGraph(so sim.Options) Option { return func(o *options) { o.simOpts = &so } }

// WithAssistant keeps the AI assistant running, as it does for users. By
// default tests of other features stop it at boot, so that its replies and
// escalations do not mix with what they count; the assistant's own tests
// and the end-to-end ones turn it on.
func WithAssistant() Option { return func(o *options) { o.assistant = true } }

// WithLogLevel shows sendbox's log at this level (default: warnings).
func WithLogLevel(l slog.Level) Option { return func(o *options) { o.logLevel = l } }

// WithLogOutput also writes sendbox's log to w, for a test that reads it
// (what must never be logged). w must be safe for concurrent writes.
func WithLogOutput(w io.Writer) Option { return func(o *options) { o.logTo = w } }

// New boots sendbox and stops it when the test ends.
func New(t testing.TB, opts ...Option) *App {
	t.Helper()
	o := &options{logLevel: slog.LevelWarn}
	for _, f := range opts {
		f(o)
	}
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	cfg := config.Defaults()
	cfg.DataDir = o.dataDir
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.WA.AppSecret = AppSecret
	cfg.WA.VerifyToken = VerifyToken
	cfg.ShutdownTimeout = 10 * time.Second
	// Never a developer's own Ollama: tests that want one use the
	// ollama-tiny server of Ollama(t) through WithConfig.
	cfg.OllamaURL = "http://127.0.0.1:9"

	a := &App{T: t, Client: &http.Client{Timeout: 30 * time.Second}}
	var ext *httptest.Server
	var handler atomic.Value // http.Handler, set once the simulator exists
	if o.simOpts != nil {
		ext = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.GraphRequests.Add(1)
			h, _ := handler.Load().(http.Handler)
			if h == nil {
				http.Error(w, "simulator not ready", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		}))
		cfg.WA.APIURL = ext.URL
		cfg.WA.PhoneNumberID = sim.DefaultPhoneNumberID
		cfg.WA.WABAID = sim.DefaultWABAID
		cfg.WA.Token = GraphToken
	}
	for _, f := range o.configure {
		f(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sendboxtest: config: %v", err)
	}
	var logTo io.Writer = testWriter{t}
	if o.logTo != nil {
		logTo = io.MultiWriter(logTo, o.logTo)
	}
	log := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: o.logLevel}))
	sb, err := app.New(context.Background(), cfg, log)
	if err != nil {
		if ext != nil {
			ext.Close()
		}
		t.Fatalf("sendboxtest: start: %v", err)
	}
	a.App = sb
	a.Sim = sb.Sim
	if !o.assistant {
		sb.Assistant.Stop()
	}
	if o.simOpts != nil {
		so := *o.simOpts
		so.WebhookURL = sb.URL() + "/webhooks/whatsapp"
		so.BaseURL = ext.URL
		so.Token = GraphToken
		so.AppSecret = []byte(AppSecret)
		if so.Logger == nil {
			so.Logger = log.With(slog.String("component", "external-sim"))
		}
		s, err := sim.New(so)
		if err != nil {
			t.Fatalf("sendboxtest: simulator: %v", err)
		}
		a.Sim = s
		handler.Store(s.Handler())
	}
	served := make(chan struct{})
	go func() { defer close(served); sb.Serve() }()
	key, _, err := accounts.CreateAPIKey(context.Background(), sb.Store, "test", "owner")
	if err != nil {
		t.Fatalf("sendboxtest: api key: %v", err)
	}
	a.Key = key
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := sb.Close(ctx); err != nil {
				t.Errorf("sendboxtest: close: %v", err)
			}
			<-served
			if o.simOpts != nil {
				a.Sim.Close()
				ext.Close()
			}
		})
	})
	return a
}

// testWriter sends log lines to t.Log, so they show only for failed tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// PostWebhook posts body to the webhook endpoint, signed like Meta does.
func (a *App) PostWebhook(body []byte) (int, []byte) {
	a.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL()+"/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign([]byte(AppSecret), body))
	return a.do(req)
}

// Do calls the API with the owner key. body is JSON-encoded unless it is
// nil, a []byte or a string.
func (a *App) Do(method, path string, body any) (int, []byte) {
	a.T.Helper()
	return a.DoAs(a.Key, method, path, body)
}

// DoAs calls the API with the given key ("" for none).
func (a *App) DoAs(key, method, path string, body any) (int, []byte) {
	a.T.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.T.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.URL()+path, r)
	if err != nil {
		a.T.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return a.do(req)
}

func (a *App) do(req *http.Request) (int, []byte) {
	a.T.Helper()
	resp, err := a.Client.Do(req)
	if err != nil {
		a.T.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// JSON decodes b into v or fails the test.
func JSON[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// Eventually polls cond every 20 ms until it is true or timeout passes.
// The timeouts are generous: a test must not fail because the machine is busy.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FixturesDir is where the WhatsApp fixture envelopes are, relative to a
// package folder one level below the module root.
const FixturesDir = "../testdata/whatsapp/split"

// Fixtures returns every fixture envelope by file name.
func Fixtures(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	if len(out) == 0 {
		t.Fatalf("no fixtures in %s", dir)
	}
	return out
}
