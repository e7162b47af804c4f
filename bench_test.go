package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sendbox/whatsapp"
	"sendbox/whatsapp/sim"
)

// These benchmarks run the built binary as a subprocess, the way it runs in
// production, with the load generator in the benchmark process on the same
// machine. Run them one at a time, e.g.:
//
//	go test -run '^$' -bench BenchmarkInboundThroughput -benchtime 40000x .
//	go test -run '^$' -bench BenchmarkWebhookLatency -benchtime 10000x .
//	go test -run '^$' -bench 'BenchmarkOutboundThroughput$' -benchtime 30000x -timeout 30m .
//	go test -run '^$' -bench BenchmarkOutboundThroughput80 -benchtime 4000x -timeout 30m .
//	go test -run '^$' -bench BenchmarkStartup -benchtime 5x .

// cpuTime is the CPU the process has used, user and system: on a shared
// machine a steadier measure of the cost per message than wall time.
func (p *proc) cpuTime(b testing.TB) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks of 10 ms.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

func stopProc(p *proc) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}

func (p *proc) waitMetric(b *testing.B, name string, atLeast int, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, _ := strconv.ParseFloat(p.metric(b, name), 64)
		if int(v) >= atLeast {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s reached %v, not %d, in %s\n%s", name, v, atLeast, timeout, p.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func signedBodies(n int) ([][]byte, []string) {
	bodies := make([][]byte, n)
	sigs := make([]string, n)
	for i := range bodies {
		bodies[i] = webhookBody(fmt.Sprintf("wamid.bench.%d.%d", time.Now().UnixNano(), i), fmt.Sprintf("39333%07d", i%50000), i)
		sigs[i] = whatsapp.Sign([]byte(crashSecret), bodies[i])
	}
	return bodies, sigs
}

func post(c *http.Client, addr string, body []byte, sig string) (int, error) {
	req, _ := http.NewRequest("POST", "http://"+addr+"/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, sig)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	// Read to the end so the connection goes back to the pool: 64
	// kept-alive connections, as the comment below says, not one dial per
	// webhook eating the CPU the server is measured on.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// flood posts every body from 64 concurrent kept-alive connections and
// returns how many were not acknowledged with a 200.
func flood(p *proc, bodies [][]byte, sigs []string) int64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				if code, err := post(client, p.addr, bodies[i], sigs[i]); err != nil || code != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return failed.Load()
}

// BenchmarkInboundThroughput: signed webhooks (one text message each, as
// most are) from 64 concurrent connections, until every message is a row
// in SQLite. Reports messages per second end to end.
func BenchmarkInboundThroughput(b *testing.B) {
	floodUntil(b, `sendbox_messages_stored_total{direction="inbound"}`, "stored_msgs/s", 5*time.Minute)
}

// BenchmarkIndexingUnderLoad: the same flood of signed webhooks, measuring
// how fast the search index takes the messages in while they keep coming:
// the time until every message is searchable.
//
//	go test -run '^$' -bench BenchmarkIndexingUnderLoad -benchtime 100000x .
func BenchmarkIndexingUnderLoad(b *testing.B) {
	floodUntil(b, `sendbox_search_indexed_total{kind="message",op="upsert"}`, "indexed_msgs/s", 10*time.Minute)
}

// floodUntil starts the binary, floods it with b.N signed webhooks and
// waits until metric counts b.N. It reports the rate at which the webhooks
// were acknowledged, the rate at which metric reached b.N (as unit), and
// the server's CPU per message.
func floodUntil(b *testing.B, metric, unit string, timeout time.Duration) {
	p := start(b, b.TempDir())
	defer stopProc(p)
	bodies, sigs := signedBodies(b.N)
	cpu0 := p.cpuTime(b)
	b.ResetTimer()
	start := time.Now()
	failed := flood(p, bodies, sigs)
	acked := time.Since(start)
	p.waitMetric(b, metric, b.N, timeout)
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := p.cpuTime(b) - cpu0
	if failed > 0 {
		b.Fatalf("%d webhooks not acknowledged", failed)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked_webhooks/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server_cpu_us/msg")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWebhookLatency: an open-loop load of 1,000 signed webhooks per
// second (requests leave on schedule whether or not earlier ones were
// answered); reports the acknowledgement latency percentiles.
func BenchmarkWebhookLatency(b *testing.B) {
	const rate = 1000
	p := start(b, b.TempDir())
	defer stopProc(p)
	bodies, sigs := signedBodies(b.N)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
	lat := make([]time.Duration, b.N)
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		due := t0.Add(time.Duration(i) * time.Second / rate)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int, due time.Time) {
			defer wg.Done()
			code, err := post(client, p.addr, bodies[i], sigs[i])
			lat[i] = time.Since(due) // from when it should have left: no coordinated omission
			if err != nil || code != 200 {
				failed.Add(1)
			}
		}(i, due)
	}
	wg.Wait()
	b.StopTimer()
	p.waitMetric(b, `sendbox_messages_stored_total{direction="inbound"}`, b.N, 5*time.Minute)
	if failed.Load() > 0 {
		b.Fatalf("%d webhooks not acknowledged", failed.Load())
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
	b.ReportMetric(0, "ns/op")
}

// graphRecorder is the local Graph endpoint of the outbound benchmarks: the
// simulator (enforcing the number's throughput on a sliding second of
// arrivals with 130429, and the pair rate with 131056), with the arrival
// times of accepted sends recorded.
type graphRecorder struct {
	sim      atomic.Pointer[sim.Simulator] // set once sendbox's address is known
	mu       sync.Mutex
	sends    []time.Time
	inbound  []time.Time
	ok, errs atomic.Int64
	// watch, if set, records when the first accepted send whose body
	// holds watchText arrived, by recipient (wa_id digits).
	watch     map[string]time.Time
	watchText string
}

func (g *graphRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := g.sim.Load()
	if s == nil {
		http.Error(w, "simulator not ready", http.StatusServiceUnavailable)
		return
	}
	arrived := time.Now()
	var to string
	if g.watch != nil && r.Method == "POST" {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(g.watchText)) {
			var m struct{ To string }
			json.Unmarshal(body, &m)
			to = strings.TrimPrefix(m.To, "+")
		}
	}
	rec := &statusWriter{ResponseWriter: w, code: 200}
	s.Handler().ServeHTTP(rec, r)
	if r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/messages") {
		return
	}
	if rec.code == 200 {
		g.mu.Lock()
		g.sends = append(g.sends, time.Now())
		if _, seen := g.watch[to]; to != "" && !seen {
			g.watch[to] = arrived
		}
		g.mu.Unlock()
		g.ok.Add(1)
	} else {
		g.errs.Add(1)
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) { s.code = code; s.ResponseWriter.WriteHeader(code) }

// BenchmarkOutboundThroughput: the binary in production mode with
// SENDBOX_WA_MPS=1000 against a local Graph endpoint; b.N template messages
// (10 per recipient, within the pair burst) are queued through the REST API
// while the sender drains them, and customers write meanwhile at 5 % of the
// rate (Meta counts their messages against the same throughput). Reports
// the sends per second, all messages (sends and inbound) as a share of
// SENDBOX_WA_MPS, and the 130429/131056 answers (both must be zero).
func BenchmarkOutboundThroughput(b *testing.B) { outboundBench(b, 1000) }

// BenchmarkOutboundThroughput80: the same at Meta's default 80 msgs/s, e.g.
//
//	go test -run '^$' -bench BenchmarkOutboundThroughput80 -benchtime 4000x -timeout 30m .
func BenchmarkOutboundThroughput80(b *testing.B) { outboundBench(b, 80) }

// BenchmarkOutboundThroughput500: the same at 500 msgs/s, where a 2-core
// machine still has CPU to spare for the simulator and the load generator
// beside sendbox; at 1,000 it has not, so this one tells the limiter's
// pacing apart from the machine's limit.
func BenchmarkOutboundThroughput500(b *testing.B) { outboundBench(b, 500) }

// startAgainstGraph runs the binary in production mode at mps against g,
// the simulator behind a recorder, and returns it, the simulator and an
// owner API key; all are stopped when the benchmark ends.
func startAgainstGraph(b *testing.B, g *graphRecorder, mps int) (*proc, *sim.Simulator, string) {
	graph := httptest.NewServer(g)
	b.Cleanup(graph.Close)
	dir := b.TempDir()
	env := []string{"SENDBOX_WA_PHONE_NUMBER_ID=" + sim.DefaultPhoneNumberID, "SENDBOX_WA_WABA_ID=" + sim.DefaultWABAID, "SENDBOX_WA_TOKEN=bench-token",
		"SENDBOX_WA_VERIFY_TOKEN=v", "SENDBOX_WA_APP_SECRET=" + crashSecret, "SENDBOX_WA_API_URL=" + graph.URL, "SENDBOX_WA_MPS=" + strconv.Itoa(mps)}
	key, errOut, code := runCLI(b, append(env, "SENDBOX_DATA="+dir), "apikey", "create", "--name", "bench")
	if code != 0 {
		b.Fatal(errOut)
	}
	p := start(b, dir, env...)
	b.Cleanup(func() { stopProc(p) })
	s, err := sim.New(sim.Options{Token: "bench-token", MPS: mps, AppSecret: []byte(crashSecret),
		WebhookURL: "http://" + p.addr + "/webhooks/whatsapp", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	g.sim.Store(s)
	return p, s, strings.TrimSpace(key)
}

func outboundBench(b *testing.B, mps int) {
	g := &graphRecorder{}
	p, s, key := startAgainstGraph(b, g, mps)

	// Customers write at random times, 5 % of the rate on average.
	stopInbound := make(chan struct{})
	inboundDone := make(chan struct{})
	go func() {
		defer close(inboundDone)
		rng := rand.New(rand.NewPCG(7, 9))
		for i := 0; ; i++ {
			select {
			case <-stopInbound:
				return
			case <-time.After(time.Duration(rng.ExpFloat64() * float64(time.Second) / (0.05 * float64(mps)))):
			}
			if _, err := s.SendInbound(context.Background(), sim.Inbound{From: fmt.Sprintf("3935%08d", i%5000),
				Message: json.RawMessage(`{"type":"text","text":{"body":"a che ora aprite domani?"}}`)}); err == nil {
				g.mu.Lock()
				g.inbound = append(g.inbound, time.Now())
				g.mu.Unlock()
			}
		}
	}()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	var refused atomic.Int64
	cpu0 := p.cpuTime(b)
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				body := fmt.Sprintf(`{"to":"+3934%08d","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`, i/10)
				req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/messages", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := client.Do(req)
				if err != nil || resp.StatusCode != 202 {
					refused.Add(1)
				}
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	enqueued := time.Since(t0)
	// The assistant may answer a customer too: wait for b.N sends at least.
	deadline := time.Now().Add(time.Duration(b.N)*time.Second/time.Duration(mps)*2 + time.Minute)
	for g.ok.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d sends reached Graph", g.ok.Load(), b.N)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	close(stopInbound)
	<-inboundDone
	cpu := p.cpuTime(b) - cpu0
	if refused.Load() > 0 {
		b.Fatalf("%d messages refused by the API", refused.Load())
	}
	st := s.Stats()
	g.mu.Lock()
	first, last := g.sends[0], g.sends[len(g.sends)-1]
	in := 0
	for _, at := range g.inbound {
		if !at.Before(first) && !at.After(last) {
			in++
		}
	}
	sends := len(g.sends)
	g.mu.Unlock()
	span := last.Sub(first).Seconds()
	b.ReportMetric(float64(sends-1)/span, "sends/s")
	b.ReportMetric(100*float64(sends-1+in)/span/float64(mps), "%_of_mps") // sends and inbound
	b.ReportMetric(float64(in)/span, "inbound/s")
	b.ReportMetric(span, "span_s")
	b.ReportMetric(enqueued.Seconds(), "enqueue_s") // all accepted by the API
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server_cpu_us/msg")
	b.ReportMetric(float64(st.Rejected[130429]), "rate_limit_errors")
	b.ReportMetric(float64(st.Rejected[131056]), "pair_pacing_errors")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkStartup: the time from exec to /readyz answering 200 on an empty
// data folder, and the resident memory after 5 s idle.
func BenchmarkStartup(b *testing.B) {
	var total time.Duration
	var last *proc
	for i := 0; i < b.N; i++ {
		if last != nil {
			stopProc(last)
		}
		dir := b.TempDir()
		t0 := time.Now()
		last = start(b, dir)
		total += time.Since(t0)
	}
	b.StopTimer()
	time.Sleep(5 * time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", last.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	var rssKB float64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKB, _ = strconv.ParseFloat(strings.Fields(v)[0], 64)
		}
	}
	stopProc(last)
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms_to_ready")
	b.ReportMetric(rssKB/1024, "idle_rss_MB")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkReplyBehindBulk: a person's reply sent while a campaign has
// 100,000 messages queued in the bulk lane (SENDBOX_BENCH_BULK to change),
// the binary in production mode at Meta's default 80 messages a second
// against the simulator enforcing it. b.N customers write first (their
// window is open, and the assistant answers them); then the campaign is
// queued through the REST API, and then b.N agents' replies, one every
// 250 ms, each a text with "person": true. Reports the time from the API's
// 202 to the reply's arrival at Graph (p50, p99, max), the campaign's sends
// a second meanwhile as a share of the rate (at most SENDBOX_BULK_SHARE,
// 70 %), the campaign messages still queued when the last reply left, and
// Meta's 130429 and 131056 answers (both must be zero). E.g.
//
//	go test -run '^$' -bench BenchmarkReplyBehindBulk -benchtime 200x -timeout 30m .
//
// SENDBOX_BENCH_LANES=0 sends everything without the lane fields, to run
// this file against a sendbox from before lanes.
func BenchmarkReplyBehindBulk(b *testing.B) {
	const mps = 80
	bulkN := 100000
	if v, err := strconv.Atoi(os.Getenv("SENDBOX_BENCH_BULK")); err == nil && v > 0 {
		bulkN = v
	}
	lanes := os.Getenv("SENDBOX_BENCH_LANES") != "0"
	const reply = "Ci scusi: lo spediamo oggi stesso."
	g := &graphRecorder{watch: map[string]time.Time{}, watchText: reply}
	p, s, key := startAgainstGraph(b, g, mps)

	customer := func(i int) string { return fmt.Sprintf("3936%08d", i) }
	for i := range b.N {
		if _, err := s.SendInbound(context.Background(), sim.Inbound{From: customer(i),
			Message: json.RawMessage(`{"type":"text","text":{"body":"il mio ordine non è ancora arrivato"}}`)}); err != nil {
			b.Fatal(err)
		}
	}
	p.waitMetric(b, `sendbox_messages_stored_total{direction="inbound"}`, b.N, time.Minute)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	send := func(body string) (time.Time, error) {
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			return time.Time{}, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 202 {
			return time.Time{}, fmt.Errorf("http %d", resp.StatusCode)
		}
		return time.Now(), nil
	}
	lane, person := "", ""
	if lanes {
		lane, person = `,"lane":"bulk"`, `,"person":true`
	}
	t0 := time.Now()
	var next, refused atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= bulkN {
					return
				}
				if _, err := send(fmt.Sprintf(`{"to":"+3934%08d","type":"template"%s,"template":{"name":"hello_world","language":{"code":"en_US"}}}`, i, lane)); err != nil {
					refused.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if refused.Load() > 0 {
		b.Fatalf("%d campaign messages refused by the API", refused.Load())
	}
	enqueued := time.Since(t0)
	startSends := g.ok.Load()

	b.ResetTimer()
	phase := time.Now()
	queued := make([]time.Time, b.N)
	for i := range b.N {
		at, err := send(fmt.Sprintf(`{"to":"+%s","type":"text","text":{"body":%q}%s}`, customer(i), reply, person))
		if err != nil {
			b.Fatalf("reply %d: %v", i, err)
		}
		queued[i] = at
		time.Sleep(250 * time.Millisecond)
	}
	lat := make([]time.Duration, b.N)
	deadline := time.Now().Add(time.Duration(bulkN/mps)*time.Second + time.Minute)
	for i := range b.N {
		for {
			g.mu.Lock()
			at, ok := g.watch[customer(i)]
			g.mu.Unlock()
			if ok {
				lat[i] = at.Sub(queued[i])
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("reply %d never reached Graph", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	b.StopTimer()
	span := time.Since(phase)
	sent := g.ok.Load() - startSends - int64(b.N) // the campaign's (and the assistant's) sends meanwhile
	st := s.Stats()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
	b.ReportMetric(100*float64(sent)/span.Seconds()/mps, "%_of_mps_to_others")
	b.ReportMetric(float64(int64(bulkN)-(g.ok.Load()-int64(b.N))), "campaign_left")
	b.ReportMetric(enqueued.Seconds(), "enqueue_s")
	b.ReportMetric(float64(st.Rejected[130429]), "rate_limit_errors")
	b.ReportMetric(float64(st.Rejected[131056]), "pair_pacing_errors")
	b.ReportMetric(0, "ns/op")
}
