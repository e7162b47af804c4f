package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sendbox/store"
	"sendbox/whatsapp"
	"sendbox/whatsapp/sim"
)

// standIn is Meta for the sending crash tests: the simulator behind a real
// HTTP server in the test process, which outlives the sendbox processes it
// serves. It records every accepted send by the caller's own
// biz_opaque_callback_data, can hold the answer to chosen sends (Meta has
// the message, sendbox never hears back), and posts status webhooks
// through a relay to whichever sendbox runs now, holding them back or
// dropping some on request.
type standIn struct {
	t      testing.TB
	sim    *sim.Simulator
	graph  *httptest.Server
	relay  *httptest.Server
	target atomic.Value // the running sendbox's address

	mu       sync.Mutex
	accepted map[string][]string // caller's value -> wamids Meta gave it, in order
	byTo     map[string]int      // recipient -> accepted sends
	times    []time.Time         // when each accepted send arrived
	rejected map[int]int         // by Meta error code
	hold     map[string]bool     // callers whose answer is held until release closes
	held     chan string
	release  chan struct{}
	drop     map[string]bool // callers whose status webhooks never reach sendbox
	paused   atomic.Bool     // status webhooks are refused (503) while set: Meta retries them
}

func newStandIn(t testing.TB, mps int, opts ...func(*sim.Options)) *standIn {
	s := &standIn{t: t, accepted: map[string][]string{}, byTo: map[string]int{}, rejected: map[int]int{}, hold: map[string]bool{},
		held: make(chan string, 16), release: make(chan struct{}), drop: map[string]bool{}}
	s.graph = httptest.NewServer(http.HandlerFunc(s.serveGraph))
	s.relay = httptest.NewServer(http.HandlerFunc(s.serveRelay))
	var err error
	o := sim.Options{Token: "crash-token", AppSecret: []byte(crashSecret), WebhookURL: s.relay.URL,
		BaseURL: s.graph.URL, MPS: mps, StatusWebhooks: true, Logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	s.sim, err = sim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.mu.Lock()
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		s.mu.Unlock()
		s.sim.Close()
		s.graph.Close()
		s.relay.Close()
	})
	return s
}

// env runs sendbox in production mode against the stand-in.
func (s *standIn) env(mps int) []string {
	return []string{"SENDBOX_WA_PHONE_NUMBER_ID=" + sim.DefaultPhoneNumberID, "SENDBOX_WA_WABA_ID=" + sim.DefaultWABAID,
		"SENDBOX_WA_TOKEN=crash-token", "SENDBOX_WA_VERIFY_TOKEN=v", "SENDBOX_WA_APP_SECRET=" + crashSecret, "SENDBOX_WA_API_URL=" + s.graph.URL,
		"SENDBOX_WA_MPS=" + strconv.Itoa(mps)}
}

func (s *standIn) serveGraph(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/messages") {
		s.sim.Handler().ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Opaque string `json:"biz_opaque_callback_data"`
		To     string `json:"to"`
	}
	json.Unmarshal(body, &req)
	_, caller := whatsapp.SplitOpaque(req.Opaque)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.sim.Handler().ServeHTTP(rec, r)
	var resp struct {
		Messages []struct{ ID string }
		Error    *struct{ Code int }
	}
	json.Unmarshal(rec.Body.Bytes(), &resp)
	s.mu.Lock()
	hold := false
	switch {
	case rec.Code == 200 && len(resp.Messages) == 1:
		s.accepted[caller] = append(s.accepted[caller], resp.Messages[0].ID)
		s.byTo[strings.TrimPrefix(req.To, "+")]++
		s.times = append(s.times, time.Now())
		hold = s.hold[caller]
		delete(s.hold, caller) // the first send only
	case resp.Error != nil:
		s.rejected[resp.Error.Code]++
	}
	s.mu.Unlock()
	if hold {
		s.held <- caller
		<-s.release // Meta has it; the answer never reaches the sendbox that asked
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// serveRelay forwards the simulator's status webhooks to the running
// sendbox, without the statuses of dropped callers (re-signed).
func (s *standIn) serveRelay(w http.ResponseWriter, r *http.Request) {
	addr, _ := s.target.Load().(string)
	if s.paused.Load() || addr == "" {
		http.Error(w, "sendbox is down", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, e := range env["entry"].([]any) {
		for _, c := range e.(map[string]any)["changes"].([]any) {
			v := c.(map[string]any)["value"].(map[string]any)
			sts, _ := v["statuses"].([]any)
			v["statuses"] = slices.DeleteFunc(sts, func(st any) bool {
				o, _ := st.(map[string]any)["biz_opaque_callback_data"].(string)
				_, caller := whatsapp.SplitOpaque(o)
				return s.drop[caller]
			})
		}
	}
	s.mu.Unlock()
	body, _ = json.Marshal(env)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign([]byte(crashSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
}

// sends returns how many times Meta accepted the caller's message.
func (s *standIn) sends(caller string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted[caller])
}

// wamids returns the ids Meta gave the caller's message.
func (s *standIn) wamids(caller string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted[caller])
}

// sentCount returns how many sends Meta accepted.
func (s *standIn) sentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times)
}

// sentSince returns the arrival times of the sends accepted after t.
func (s *standIn) sentSince(t time.Time) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, at := range s.times {
		if at.After(t) {
			out = append(out, at)
		}
	}
	return out
}

// api calls sendbox's REST API with key.
func api(t testing.TB, p *proc, key, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+p.addr+path, r)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// outboundByCaller lists sendbox's outbound messages by the caller's
// biz_opaque_callback_data, as the API shows it.
func outboundByCaller(t testing.TB, p *proc, key string) map[string]store.Message {
	t.Helper()
	out := map[string]store.Message{}
	cursor := ""
	for {
		code, b := api(t, p, key, "GET", "/api/v1/messages?direction=outbound&limit=500&cursor="+cursor, nil)
		if code != 200 {
			t.Fatalf("list messages: %d %s", code, b)
		}
		var page struct {
			Data       []store.Message
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Data {
			var pl struct {
				Opaque string `json:"biz_opaque_callback_data"`
			}
			json.Unmarshal(m.Payload, &pl)
			out[pl.Opaque] = m
		}
		if page.NextCursor == "" || len(page.Data) == 0 {
			return out
		}
		cursor = page.NextCursor
	}
}

func template(to, name, lang, caller string, params map[string]string) map[string]any {
	tpl := map[string]any{"name": name, "language": map[string]string{"code": lang}}
	if len(params) > 0 {
		var ps []map[string]string
		for k, v := range params {
			ps = append(ps, map[string]string{"type": "text", "parameter_name": k, "text": v})
		}
		tpl["components"] = []map[string]any{{"type": "body", "parameters": ps}}
	}
	return map[string]any{"to": to, "type": "template", "template": tpl, "biz_opaque_callback_data": caller}
}

// TestSendingResumesAfterCrash queues 1,200 messages at 100 msgs/s, a third
// in each sending lane (person, transactional, bulk: each has its own
// consumer to take back after the crash), kills sendbox with SIGKILL
// mid-drain, restarts it, and measures how soon after /readyz sending
// resumes and how long the rest takes; every message must reach Meta
// exactly once and be recorded with Meta's id, in its lane.
func TestSendingResumesAfterCrash(t *testing.T) {
	const mps, n = 100, 1200
	meta := newStandIn(t, mps)
	dir := t.TempDir()
	env := meta.env(mps)
	key, errOut, code := runCLI(t, append(env, "SENDBOX_DATA="+dir), "apikey", "create", "--name", "crash")
	if code != 0 {
		t.Fatal(errOut)
	}
	key = strings.TrimSpace(key)
	p := start(t, dir, env...)
	meta.target.Store(p.addr)

	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				req := template(fmt.Sprintf("+3934%08d", i/4), "hello_world", "en_US", fmt.Sprintf("m%d", i), nil)
				switch i % 3 {
				case 0:
					req["person"] = true
				case 2:
					req["lane"] = "bulk"
				}
				if code, b := api(t, p, key, "POST", "/api/v1/messages", req); code != 202 {
					t.Errorf("queue %d: %d %s", i, code, b)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Every job is in the broker and pulled by the sender, and a part is
	// sent: then kill it.
	deadline := time.Now().Add(60 * time.Second)
	for p.metric(t, "sendbox_outbox_pending") != "0" || len(meta.sentSince(time.Time{})) < n/4 {
		if time.Now().After(deadline) {
			t.Fatalf("not draining: %d sent\n%s", len(meta.sentSince(time.Time{})), p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	before := len(meta.sentSince(time.Time{}))

	p = start(t, dir, env...)
	ready := time.Now()
	meta.target.Store(p.addr)
	defer stopProc(p)
	deadline = time.Now().Add(3 * time.Minute)
	for len(meta.sentSince(time.Time{})) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d sent 3 minutes after the restart\n%s", len(meta.sentSince(time.Time{})), n, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	after := meta.sentSince(ready)
	resumed, drained := after[0].Sub(ready), after[len(after)-1].Sub(ready)
	t.Logf("SIGKILL after %d of %d sends; after the restart the first send came %s after /readyz, and the %d left "+
		"were sent %s after it (%.0f msgs/s)", before, n, resumed.Round(time.Millisecond), len(after), drained.Round(time.Millisecond),
		float64(len(after))/after[len(after)-1].Sub(after[0]).Seconds())
	// 2 s is the target; the bound is generous for a busy machine, and far
	// below the minute the jobs of the killed process used to wait.
	if resumed > 15*time.Second {
		t.Errorf("sending resumed %s after /readyz", resumed)
	}
	for i := range n {
		if got := meta.sends(fmt.Sprintf("m%d", i)); got != 1 {
			t.Errorf("message m%d reached Meta %d times", i, got)
		}
	}
	// The store agrees: every message carries the id Meta gave it.
	deadline = time.Now().Add(time.Minute)
	for {
		msgs, bad := outboundByCaller(t, p, key), ""
		for i := range n {
			c := fmt.Sprintf("m%d", i)
			m, ok := msgs[c]
			if w := meta.wamids(c); !ok || len(w) != 1 || m.WAMID != w[0] || m.Status == store.StateFailed || m.Status == store.StateUncertain {
				bad = fmt.Sprintf("%s: %s %q, Meta gave %v", c, m.Status, m.WAMID, w)
				break
			}
			if lane := []string{"person", "transactional", "bulk"}[i%3]; m.Lane != lane {
				t.Fatalf("%s is in the %q lane, want %q", c, m.Lane, lane)
			}
		}
		if bad == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store: %s", bad)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := meta.rejected[130429]; r != 0 {
		t.Errorf("%d sends refused with 130429", r)
	}
}

// TestNoDoubleSendAcrossCrash kills sendbox while Meta has accepted three
// messages whose answers never came back. After the restart: the one whose
// status echo arrives is recorded with Meta's id and not sent again; of the
// two whose echoes are lost, the transactional one is sent again a minute
// after /readyz and the marketing one is marked uncertain, not sent again,
// and says so; the caller's biz_opaque_callback_data comes back unchanged.
func TestNoDoubleSendAcrossCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a minute for status echoes that never come")
	}
	const mps = 80
	meta := newStandIn(t, mps)
	meta.hold["echoed"], meta.hold["lost-utility"], meta.hold["lost-marketing"] = true, true, true
	meta.drop["lost-utility"], meta.drop["lost-marketing"] = true, true
	dir := t.TempDir()
	env := meta.env(mps)
	key, errOut, code := runCLI(t, append(env, "SENDBOX_DATA="+dir), "apikey", "create", "--name", "crash")
	if code != 0 {
		t.Fatal(errOut)
	}
	key = strings.TrimSpace(key)
	p := start(t, dir, env...)
	meta.target.Store(p.addr)

	// The marketing template goes to a customer who opted in.
	body := webhookBody("wamid.optin", "393455500003", 1)
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign([]byte(crashSecret), body))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", err, resp)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var contact *store.Contact
	for deadline := time.Now().Add(30 * time.Second); contact == nil; time.Sleep(50 * time.Millisecond) {
		contact, _ = st.ContactByRecipient(context.Background(), "393455500003", "")
		if time.Now().After(deadline) {
			t.Fatal("the customer's message was not stored")
		}
	}
	if err := st.SetConsent(context.Background(), contact.ID, store.ConsentOptedIn, "test", time.Now()); err != nil {
		t.Fatal(err)
	}

	queue := func(req map[string]any) {
		t.Helper()
		if code, b := api(t, p, key, "POST", "/api/v1/messages", req); code != 202 {
			t.Fatalf("queue: %d %s", code, b)
		}
	}
	for i := range 20 {
		queue(template(fmt.Sprintf("+3934555%05d", 100+i), "hello_world", "en_US", fmt.Sprintf("m%d", i), nil))
	}
	meta.paused.Store(true) // the held sends' echoes wait for the restart
	queue(template("+393455500001", "hello_world", "en_US", "echoed", nil))
	queue(template("+393455500002", "hello_world", "en_US", "lost-utility", nil))
	queue(template("+393455500003", "seasonal_offer", "en_US", "lost-marketing", map[string]string{"first_name": "Ada", "code": "SPRING"}))
	for range 3 {
		select {
		case <-meta.held:
		case <-time.After(60 * time.Second):
			t.Fatalf("the held sends did not reach Meta\n%s", p.log)
		}
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	meta.mu.Lock()
	close(meta.release)
	meta.mu.Unlock()

	p = start(t, dir, env...)
	ready := time.Now()
	meta.target.Store(p.addr)
	meta.paused.Store(false)
	defer stopProc(p)

	var msgs map[string]store.Message
	deadline := time.Now().Add(3 * time.Minute)
	callers := []string{"echoed", "lost-utility", "lost-marketing"}
	for i := range 20 {
		callers = append(callers, fmt.Sprintf("m%d", i))
	}
	for {
		msgs = outboundByCaller(t, p, key)
		var waiting []string
		for _, c := range callers {
			if m, ok := msgs[c]; !ok || m.Status == store.StateQueued || m.Status == store.StateSending {
				waiting = append(waiting, c+" "+m.Status)
			}
		}
		if len(waiting) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still waiting 3 minutes after the restart: %v\n%s", waiting, p.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("settled %s after /readyz", time.Since(ready).Round(time.Second))

	if m, w := msgs["echoed"], meta.wamids("echoed"); len(w) != 1 || m.WAMID != w[0] || m.Status == store.StateUncertain {
		t.Errorf("echoed: Meta accepted it %d times, the store says %s %q", len(w), m.Status, m.WAMID)
	}
	if m, w := msgs["lost-utility"], meta.wamids("lost-utility"); len(w) != 2 || m.WAMID != w[1] {
		t.Errorf("lost-utility: Meta accepted it %d times (want the resend), the store says %s %q", len(w), m.Status, m.WAMID)
	}
	// Sent again only once the minute of waiting for an echo was over.
	if at := meta.sentSince(ready.Add(55 * time.Second)); len(at) != 1 {
		t.Errorf("%d sends 55 s or more after /readyz, want the one resend", len(at))
	}
	m := msgs["lost-marketing"]
	if w := meta.wamids("lost-marketing"); len(w) != 1 || m.Status != store.StateUncertain || m.WAMID != "" ||
		m.Error == nil || !strings.Contains(m.Error.Detail, "not sent again") {
		t.Errorf("lost-marketing: Meta accepted it %d times, the store says %s %q %+v", len(w), m.Status, m.WAMID, m.Error)
	}
	for i := range 20 {
		c := fmt.Sprintf("m%d", i)
		if w := meta.wamids(c); len(w) != 1 || msgs[c].WAMID != w[0] {
			t.Errorf("%s: Meta accepted it %d times, the store has %q", c, len(w), msgs[c].WAMID)
		}
	}
	// The API shows the caller's own value, without sendbox's tag.
	code, b := api(t, p, key, "GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil)
	if code != 200 || !strings.Contains(string(b), `"biz_opaque_callback_data":"lost-marketing"`) || strings.Contains(string(b), "sbx:") {
		t.Errorf("GET the message: %d %s", code, b)
	}
}
