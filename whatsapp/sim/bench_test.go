package sim

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/whatsapp"
)

// loadServer is the simulator as the outbound benchmark uses it: real
// loopback HTTP, status webhooks off, throughput and pair limits out of the
// way, recipients spread like a campaign's.
func loadServer(tb testing.TB) (*httptest.Server, *http.Client) {
	s, err := New(Options{
		Token:      testToken,
		MPS:        1 << 30,
		NoPairRate: true,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	tb.Cleanup(func() { srv.Close(); s.Close() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	tb.Cleanup(client.CloseIdleConnections)
	return srv, client
}

// campaignBody is a template send as a campaign makes them.
func campaignBody(i int) string {
	return fmt.Sprintf(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+1650%07d","type":"template",`+
		`"template":{"name":"order_update","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"A-%d"}]}]}}`,
		i%50000, i)
}

// postSend posts one send and reports whether it was accepted.
func postSend(client *http.Client, url, body string) (bool, error) {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// BenchmarkSend measures the send endpoint over loopback HTTP, client and
// server on the same machine, as the sender's benchmark runs it.
func BenchmarkSend(b *testing.B) {
	srv, client := loadServer(b)
	url := srv.URL + testPath
	var n atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ok, err := postSend(client, url, campaignBody(int(n.Add(1))))
			if err != nil || !ok {
				b.Errorf("send: ok=%v err=%v", ok, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}

// TestSustainedLoad paces 1 000 sends/s for SIM_SOAK seconds (skipped when
// unset) and reports latency and memory: the outbound benchmark's load.
func TestSustainedLoad(t *testing.T) {
	secs := 0
	fmt.Sscan(os.Getenv("SIM_SOAK"), &secs)
	if secs <= 0 {
		t.Skip("set SIM_SOAK=<seconds> to run")
	}
	srv, client := loadServer(t)
	url := srv.URL + testPath
	const rate = 1000
	total := rate * secs
	var (
		mu   sync.Mutex
		lats = make([]time.Duration, 0, total)
		bad  atomic.Int64
		wg   sync.WaitGroup
		jobs = make(chan int, rate)
	)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				start := time.Now()
				ok, err := postSend(client, url, campaignBody(i))
				d := time.Since(start)
				if err != nil || !ok {
					bad.Add(1)
				}
				mu.Lock()
				lats = append(lats, d)
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for i := range total {
		// An absolute schedule: a late wake-up is caught up, not lost.
		if d := time.Until(start.Add(time.Duration(i) * time.Second / rate)); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lats)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("%d sends in %s (%.0f/s), failed %d, latency p50 %s p99 %s max %s, heap %d MB",
		total, el.Round(time.Millisecond), float64(total)/el.Seconds(), bad.Load(),
		lats[len(lats)/2], lats[len(lats)*99/100], lats[len(lats)-1], ms.HeapAlloc>>20)
	if bad.Load() > 0 {
		t.Fatalf("%d sends failed", bad.Load())
	}
}

// BenchmarkSendClient is BenchmarkSend through sendbox's own Graph client
// (validation, JSON encoding and error decoding included), the way the
// outbound benchmark drives the simulator.
func BenchmarkSendClient(b *testing.B) {
	srv, _ := loadServer(b)
	c := &whatsapp.Client{BaseURL: srv.URL, Version: "v25.0", PhoneNumberID: DefaultPhoneNumberID, Token: testToken}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			_, err := c.Send(b.Context(), &whatsapp.OutboundMessage{
				To: fmt.Sprintf("+1650%07d", i%50000), Type: "template",
				Template: &whatsapp.Template{Name: "order_update", Language: whatsapp.TemplateLanguage{Code: "en_US"},
					Components: []whatsapp.TemplateComponent{{Type: "body", Parameters: []whatsapp.TemplateParameter{{Type: "text", Text: fmt.Sprint("A-", i)}}}}},
			})
			if err != nil {
				b.Errorf("send: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}
