package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/whatsapp"
)

const (
	testToken  = "test-token"
	testSecret = "test-app-secret"
	testPath   = "/v25.0/" + DefaultPhoneNumberID + "/messages"
	waitFor    = 10 * time.Second // generous: a busy machine must not fail a test
)

// fakeClock is Options.Now for tests: time moves only when told to.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// hookServer plays sendbox's webhook endpoint: it checks the signature on
// the exact bytes and records each POST.
type hookServer struct {
	*httptest.Server
	t      testing.TB
	mu     sync.Mutex
	bodies [][]byte
	got    chan []byte
	// status, if set, decides the answer to each POST (default 200).
	status func(n int) int
	posts  atomic.Int64
	gate   chan struct{} // if non-nil, each POST waits for it to close
}

func newHookServer(t testing.TB) *hookServer {
	h := &hookServer{t: t, got: make(chan []byte, 10000)}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

func (h *hookServer) serve(w http.ResponseWriter, r *http.Request) {
	n := int(h.posts.Add(1))
	body, _ := io.ReadAll(r.Body)
	if g := h.gate; g != nil {
		<-g
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		h.t.Errorf("webhook: %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if err := whatsapp.VerifySignature([]byte(testSecret), body, r.Header.Get(whatsapp.SignatureHeader)); err != nil {
		h.t.Errorf("webhook signature: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h.status != nil {
		if st := h.status(n); st != http.StatusOK {
			w.WriteHeader(st)
			return
		}
	}
	h.mu.Lock()
	h.bodies = append(h.bodies, body)
	h.mu.Unlock()
	h.got <- body
}

// statuses waits until n statuses arrived (over any number of POSTs) and
// returns them in arrival order.
func (h *hookServer) statuses(t *testing.T, n int) []whatsapp.Status {
	t.Helper()
	var out []whatsapp.Status
	deadline := time.After(waitFor)
	for len(out) < n {
		select {
		case b := <-h.got:
			wh, err := whatsapp.ParseWebhook(b)
			if err != nil {
				t.Fatalf("parse webhook: %v\n%s", err, b)
			}
			out = append(out, wh.Statuses...)
		case <-deadline:
			t.Fatalf("got %d statuses, want %d: %+v", len(out), n, out)
		}
	}
	return out
}

// next waits for the next webhook body.
func (h *hookServer) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-h.got:
		return b
	case <-time.After(waitFor):
		t.Fatal("no webhook arrived")
		return nil
	}
}

// quiet checks that no webhook arrives for a little while.
func (h *hookServer) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case b := <-h.got:
		t.Fatalf("unexpected webhook: %s", b)
	case <-time.After(d):
	}
}

// env is a simulator behind a real HTTP server, with a webhook receiver.
type env struct {
	sim   *Simulator
	graph *httptest.Server
	hooks *hookServer
	clock *fakeClock
}

// newEnv starts a simulator; change options with edit. Status webhooks are
// on with tiny delays unless edit says otherwise.
func newEnv(t testing.TB, edit func(*Options)) *env {
	t.Helper()
	e := &env{hooks: newHookServer(t), clock: newClock()}
	t.Cleanup(e.hooks.Close)
	e.graph = httptest.NewUnstartedServer(nil)
	opts := Options{
		Token:          testToken,
		AppSecret:      []byte(testSecret),
		WebhookURL:     e.hooks.URL,
		BaseURL:        "http://" + e.graph.Listener.Addr().String(),
		StatusWebhooks: true,
		SentDelay:      time.Millisecond,
		DeliveredDelay: 2 * time.Millisecond,
		Now:            e.clock.Now,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if edit != nil {
		edit(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.sim = s
	e.graph.Config.Handler = s.Handler()
	e.graph.Start()
	t.Cleanup(e.graph.Close)
	t.Cleanup(func() { s.Close() }) // runs first: before the servers close
	return e
}

// do sends a Graph request with the test token and decodes the JSON answer.
func (e *env) do(t testing.TB, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, e.graph.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return doReq(t, req)
}

func doReq(t testing.TB, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v\n%s", req.Method, req.URL, err, raw)
	}
	return resp.StatusCode, m
}

// send posts a send body and returns the status and answer.
func (e *env) send(t testing.TB, body string) (int, map[string]any) {
	t.Helper()
	return e.do(t, http.MethodPost, testPath, body)
}

// text is a text send body.
func text(to, body string) string {
	b, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "to": to, "type": "text", "text": map[string]string{"body": body}})
	return string(b)
}

// sendOK sends and expects 200, returning the wamid.
func (e *env) sendOK(t testing.TB, body string) string {
	t.Helper()
	st, m := e.send(t, body)
	if st != http.StatusOK {
		t.Fatalf("send: %d %v", st, m)
	}
	return m["messages"].([]any)[0].(map[string]any)["id"].(string)
}

// inbound writes as the customer and expects success.
func (e *env) inbound(t testing.TB, from, message string) string {
	t.Helper()
	id, err := e.sim.SendInbound(context.Background(), Inbound{From: from, Name: "Ada", Message: json.RawMessage(message)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// graphErr extracts {"error":{…}} from an answer.
func graphErr(t testing.TB, m map[string]any) (code int, details string, e map[string]any) {
	t.Helper()
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", m)
	}
	code = int(e["code"].(float64))
	if d, ok := e["error_data"].(map[string]any); ok {
		details, _ = d["details"].(string)
	}
	return code, details, e
}

// wantError checks an error answer's HTTP status and Meta code.
func wantError(t testing.TB, st int, m map[string]any, wantStatus, wantCode int) map[string]any {
	t.Helper()
	code, _, e := graphErr(t, m)
	if st != wantStatus || code != wantCode {
		t.Fatalf("got HTTP %d code %d, want HTTP %d code %d: %v", st, code, wantStatus, wantCode, m)
	}
	if e["fbtrace_id"] == "" || e["type"] == "" || e["message"] == "" {
		t.Fatalf("error body lacks Graph fields: %v", e)
	}
	return e
}

// mustJSON compacts JSON text for byte comparisons.
func mustJSON(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
