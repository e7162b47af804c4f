package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sendbox/store"
	"sendbox/whatsapp"
)

// binary is the sendbox executable built once for the tests that run it
// as a user or an init system would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sendbox-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sendbox")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build sendbox: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

const crashSecret = "crash-test-secret"

type proc struct {
	cmd  *exec.Cmd
	addr string
	log  *logBuffer
	done chan error
}

// logBuffer holds a process's output; the test may read it while the
// process still writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs the binary on dataDir and waits until /readyz answers 200.
func start(t testing.TB, dataDir string, env ...string) *proc {
	t.Helper()
	return startUntil(t, dataDir, "/readyz", env...)
}

// startUntil runs the binary on dataDir and waits until path answers 200.
func startUntil(t testing.TB, dataDir, path string, env ...string) *proc {
	t.Helper()
	p := &proc{addr: freePort(t), log: &logBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "serve")
	p.cmd.Env = append(os.Environ(), "SENDBOX_DATA="+dataDir, "SENDBOX_HTTP="+p.addr,
		"SENDBOX_WA_APP_SECRET="+crashSecret, "SENDBOX_LOG_LEVEL=warn")
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("sendbox exited before ready: %v\n%s", err, p.log)
		default:
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			t.Fatalf("sendbox not ready in 30 s\n%s", p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric reads one series from /metrics.
func (p *proc) metric(t testing.TB, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	return ""
}

func webhookBody(wamid, from string, i int) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Cliente %d"},"wa_id":%q}],"messages":[{"from":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":"Messaggio numero %d"}}]}}]}]}`,
		i, from, from, wamid, time.Now().Unix(), i))
}

// TestCrashLosesNothingAcknowledged floods the real binary with signed
// webhooks, kills it with SIGKILL mid-flood, restarts it, and checks that
// every webhook that got a 200 is stored exactly once.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	dataDir := t.TempDir()
	p := start(t, dataDir)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	var mu sync.Mutex
	acked := map[string]bool{}
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				wamid := fmt.Sprintf("wamid.crash.%d.%d", w, i)
				body := webhookBody(wamid, fmt.Sprintf("39333%03d%04d", w, i%500), i)
				req, _ := http.NewRequest("POST", "http://"+p.addr+"/webhooks/whatsapp", bytes.NewReader(body))
				req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign([]byte(crashSecret), body))
				sent.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(5 * time.Millisecond)
					continue // the server is dead: nothing was acknowledged
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked[wamid] = true
					mu.Unlock()
				}
			}
		}(w)
	}
	// Kill mid-flood, once enough has been acknowledged to matter.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 3000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	mu.Lock()
	ackedN := len(acked)
	mu.Unlock()
	if ackedN == 0 {
		t.Fatalf("nothing was acknowledged before the kill\n%s", p.log)
	}
	t.Logf("%d webhooks sent, %d acknowledged before SIGKILL", sent.Load(), ackedN)

	// Restart and kill again at once, while the backlog is being ingested.
	p = start(t, dataDir)
	time.Sleep(30 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done

	// Restart on the same data: the backlog in the broker is ingested.
	p = start(t, dataDir)
	deadline = time.Now().Add(60 * time.Second)
	for p.metric(t, `sendbox_queue_depth{stream="INBOUND"}`) != "0" || p.metric(t, "sendbox_outbox_pending") != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("backlog not ingested in 60 s\n%s", p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A clean stop this time.
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, p.log)
	}

	st, err := store.Open(context.Background(), filepath.Join(dataDir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	missing := 0
	for wamid := range acked {
		if _, err := st.MessageByWAMID(context.Background(), wamid); err != nil {
			missing++
			if missing < 5 {
				t.Errorf("acknowledged webhook %s is not stored: %v", wamid, err)
			}
		}
	}
	c, _ := st.Count(context.Background())
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged webhooks lost", missing, ackedN)
	}
	if c.Inbound < ackedN || int64(c.Inbound) > sent.Load() {
		t.Fatalf("stored %d messages for %d acknowledged and %d sent", c.Inbound, ackedN, sent.Load())
	}
	t.Logf("stored %d messages: all %d acknowledged, once each (wamid is unique)", c.Inbound, ackedN)
}

func runCLI(t testing.TB, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestCLI(t *testing.T) {
	data := "SENDBOX_DATA=" + t.TempDir()
	if out, _, code := runCLI(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "sendbox ") {
		t.Fatalf("version: %d %q", code, out)
	}
	out, _, code := runCLI(t, []string{data, "SENDBOX_WA_PHONE_NUMBER_ID=123", "SENDBOX_WA_TOKEN=EAAGsecrettoken",
		"SENDBOX_WA_APP_SECRET=shh-app", "SENDBOX_WA_VERIFY_TOKEN=shh-verify"}, "config")
	if code != 0 || strings.Contains(out, "EAAGsecrettoken") || strings.Contains(out, "shh-") ||
		!strings.Contains(out, "SENDBOX_WA_TOKEN") || !strings.Contains(out, "production") {
		t.Fatalf("config: %d\n%s", code, out)
	}
	if _, errOut, code := runCLI(t, []string{"SENDBOX_WA_MPS=lots"}, "config"); code != 1 || !strings.Contains(errOut, "SENDBOX_WA_MPS") {
		t.Fatalf("bad env: %d %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, nil, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, []string{data}, "apikey", "create"); code != 1 || !strings.Contains(errOut, "--name") {
		t.Fatalf("apikey without name: %d %q", code, errOut)
	}
	key, errOut, code := runCLI(t, []string{data}, "apikey", "create", "--name", "crm", "--role", "agent")
	key = strings.TrimSpace(key)
	if code != 0 || !strings.HasPrefix(key, "sbx_") || !strings.Contains(errOut, "only this once") {
		t.Fatalf("apikey create: %d %q %q", code, key, errOut)
	}
	list, _, code := runCLI(t, []string{data}, "apikey", "list")
	if code != 0 || !strings.Contains(list, "crm") || strings.Contains(list, key) {
		t.Fatalf("apikey list shows the key or misses it: %d\n%s", code, list)
	}
	// The key works against a running sendbox, then stops working once revoked.
	dir := strings.TrimPrefix(data, "SENDBOX_DATA=")
	p := start(t, dir)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); <-p.done }()
	get := func() int {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/api/v1/contacts", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("new key refused: %d", code)
	}
	if out, _, code := runCLI(t, []string{data}, "apikey", "revoke", "1"); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %q", code, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for get() != 401 {
		if time.Now().After(deadline) {
			t.Fatal("revoked key still accepted after 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, errOut, code := runCLI(t, []string{data}, "apikey", "revoke", "1"); code != 1 || !strings.Contains(errOut, "no live API key") {
		t.Fatalf("second revoke: %d %q", code, errOut)
	}
}

// TestSandboxNeedsNoConfiguration starts the binary with nothing but a data
// folder and an address, as the README's run command does.
func TestSandboxNeedsNoConfiguration(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	cmd := exec.Command(binary)
	cmd.Dir = dir // ./sendbox-data is created here
	cmd.Env = append(os.Environ(), "SENDBOX_HTTP="+addr)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("not ready\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, f := range []string{"sendbox-data/sendbox.db", "sendbox-data/jetstream", "sendbox-data/sandbox.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not created: %v", f, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "sendbox-data/sandbox.json")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("sandbox secrets are readable by others: %v", fi.Mode())
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("did not stop within 30 s of SIGINT")
	}
	if !strings.Contains(log.String(), "sandbox mode") {
		t.Errorf("the log does not say it runs in sandbox mode:\n%s", log.String())
	}
}

// TestReindexCommand rebuilds the search index with the sendbox command:
// through a running sendbox (which keeps serving), then with none running.
func TestReindexCommand(t *testing.T) {
	dataDir := t.TempDir()
	env := []string{"SENDBOX_DATA=" + dataDir}
	key, _, code := runCLI(t, env, "apikey", "create", "--name", "t")
	if code != 0 {
		t.Fatal("apikey")
	}
	key = strings.TrimSpace(key)
	p := start(t, dataDir)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 50; i++ {
		body := webhookBody(fmt.Sprintf("wamid.ri.%d", i), fmt.Sprintf("3933366%05d", i), i)
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/webhooks/whatsapp", bytes.NewReader(body))
		req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign([]byte(crashSecret), body))
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	found := func() int {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/api/v1/search?kind=message&q=messaggio", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct{ Total int }
		json.NewDecoder(resp.Body).Decode(&r)
		return r.Total
	}
	deadline := time.Now().Add(30 * time.Second)
	for found() != 50 {
		if time.Now().After(deadline) {
			t.Fatalf("indexed %d of 50", found())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, errOut, code := runCLI(t, env, "reindex")
	if code != 0 || !strings.Contains(errOut, "sendbox is running") || !strings.Contains(errOut, "rebuilt") {
		t.Fatalf("reindex through the running sendbox: %d\n%s", code, errOut)
	}
	if n := found(); n != 50 {
		t.Fatalf("after the rebuild the index finds %d of 50", n)
	}
	stopProc(p)
	_, errOut, code = runCLI(t, env, "reindex")
	if code != 0 || strings.Contains(errOut, "sendbox is running") || !strings.Contains(errOut, "rebuilt") {
		t.Fatalf("reindex with no sendbox running: %d\n%s", code, errOut)
	}
	p = start(t, dataDir)
	defer stopProc(p)
	if n := found(); n != 50 {
		t.Fatalf("the offline rebuild finds %d of 50", n)
	}
}

// TestAssistantCrashAnswersEachMessageOnce kills the binary with SIGKILL
// while the assistant works through a burst of questions, twice, and
// checks that after recovery every customer message got exactly one
// answer: none lost with the killed process, none sent twice on replay.
func TestAssistantCrashAnswersEachMessageOnce(t *testing.T) {
	dataDir := t.TempDir()
	env := []string{"SENDBOX_DATA=" + dataDir, "SENDBOX_OLLAMA_URL=http://127.0.0.1:9"}
	key, errOut, code := runCLI(t, env, "apikey", "create", "--name", "crash", "--role", "admin")
	if code != 0 {
		t.Fatalf("apikey: %s", errOut)
	}
	key = strings.TrimSpace(key)
	p := start(t, dataDir, env[1:]...)
	faq := `{"question":"Do you have parking for customers?","answer":"Yes, free parking behind the shop."}`
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/knowledge", strings.NewReader(faq))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("add FAQ: %v %v", err, resp)
	}
	resp.Body.Close()
	time.Sleep(500 * time.Millisecond) // indexed behind the event stream

	const n = 1000
	var acked atomic.Int64
	post := func(i int) {
		body := []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Cliente %d"},"wa_id":"3934%08d"}],"messages":[{"from":"3934%08d","id":"wamid.ai.%d","timestamp":"%d","type":"text","text":{"body":"Hi, do you have parking for customers?"}}]}}]}]}`,
			i, i, i, i, time.Now().Unix()))
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/webhooks/whatsapp", bytes.NewReader(body))
		req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign([]byte(crashSecret), body))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				acked.Add(1)
			}
		}
	}
	outbound := func() int {
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/api/v1/messages?direction=outbound&limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var page struct{ Total int }
		json.NewDecoder(resp.Body).Decode(&page)
		return page.Total
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				post(i)
			}
		}(w)
	}
	wg.Wait()
	// Kill while the turns are under way, then again during recovery.
	for round := 0; round < 2; round++ {
		for got := outbound(); got >= 0 && got < (round+1)*n/4; got = outbound() {
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("SIGKILL with %d of %d answers queued", outbound(), acked.Load())
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		p = start(t, dataDir, env[1:]...)
	}
	st, err := store.Open(context.Background(), filepath.Join(dataDir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var answered int
	deadline := time.Now().Add(90 * time.Second)
	for {
		stats, err := st.AIStats(context.Background(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		answered = stats[store.AIQuoted]
		counts, _ := st.Count(context.Background())
		if answered+stats[store.AIHandoff] >= counts.Inbound && counts.Inbound >= int(acked.Load()) || time.Now().After(deadline) {
			if stats[store.AIHandoff] > 0 {
				t.Errorf("%d questions handed off instead of answered: %v", stats[store.AIHandoff], stats)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	counts, _ := st.Count(context.Background())
	if answered != counts.Inbound || counts.Inbound < int(acked.Load()) {
		t.Fatalf("%d questions answered for %d stored (%d acknowledged) after two crashes\n%s", answered, counts.Inbound, acked.Load(), p.log)
	}
	msgs, total, _, err := st.ListMessages(context.Background(), store.MessageFilter{Direction: "outbound", Limit: 1})
	if err != nil || total != answered || len(msgs) != 1 || msgs[0].Text != "Yes, free parking behind the shop." {
		t.Fatalf("outbound: %d messages for %d answers, %v", total, answered, err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, p.log)
	}
}
