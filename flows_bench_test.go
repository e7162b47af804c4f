package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/store"
	"sendbox/whatsapp"
)

// textWebhook is a customer's text message as Meta posts it.
func textWebhook(wamid, from, text string) []byte {
	body, _ := json.Marshal(text)
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Cliente"},"wa_id":%q}],"messages":[{"from":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":%s}}]}}]}]}`,
		from, from, wamid, time.Now().Unix(), body))
}

// BenchmarkFlowsUnderLoad: 5 active flows, 10,000 customers waiting in a
// run for the answer to a question, then b.N of them answering at 1,000
// webhooks a second (SENDBOX_WA_MPS=1000, against the simulator). Reports
// the webhooks' acknowledgement latency; the step's latency from the
// answer stored to the next question queued (step_queued_*) and the rate
// of those steps; and from the answer's webhook to the question reaching
// Meta (step_*) and the rate of those sends. Meta counts a number's
// throughput over inbound and outbound messages together: while 1,000
// answers a second arrive on a 1,000-MPS number, no budget is left to
// send, and the questions go out when the burst ends. Every answer must
// reach its run.
func BenchmarkFlowsUnderLoad(b *testing.B) {
	const waiting, rate = 10000, 1000
	if b.N > waiting {
		b.Fatalf("at most %d answers (-benchtime %dx)", waiting, waiting)
	}
	g := &graphRecorder{watch: map[string]time.Time{}, watchText: "And your name"}
	p, _, key := startAgainstGraph(b, g, rate)
	for i := 1; i <= 4; i++ {
		def := map[string]any{"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{fmt.Sprintf("offer%d", i)}}},
			"steps": []any{map[string]any{"id": "hi", "type": "send", "text": "Here it is."}}}
		if code, body := api(b, p, key, "POST", "/api/v1/flows", map[string]any{"name": fmt.Sprintf("Other %d", i), "definition": def}); code != 201 {
			b.Fatalf("flow: %d %s", code, body)
		}
		if code, body := api(b, p, key, "POST", fmt.Sprintf("/api/v1/flows/%d/publish", i), nil); code != 200 {
			b.Fatalf("publish: %d %s", code, body)
		}
	}
	survey := map[string]any{"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{"survey"}}},
		"steps": []any{
			map[string]any{"id": "rooms", "type": "ask", "input": "number", "var": "rooms", "text": "How many rooms?"},
			map[string]any{"id": "name", "type": "ask", "input": "text", "var": "name", "text": "Thanks! And your name?"},
			map[string]any{"id": "done", "type": "end", "outcome": "answered"}}}
	if code, body := api(b, p, key, "POST", "/api/v1/flows", map[string]any{"name": "Survey", "definition": survey}); code != 201 {
		b.Fatalf("flow: %d %s", code, body)
	}
	if code, body := api(b, p, key, "POST", "/api/v1/flows/5/publish", nil); code != 200 {
		b.Fatalf("publish: %d %s", code, body)
	}
	phone := func(i int) string { return fmt.Sprintf("39345%07d", i) }
	// 10,000 customers start the survey and wait at its first question.
	bodies, sigs := make([][]byte, waiting), make([]string, waiting)
	for i := range waiting {
		bodies[i] = textWebhook(fmt.Sprintf("wamid.survey.%d", i), phone(i), "survey")
		sigs[i] = whatsapp.Sign([]byte(crashSecret), bodies[i])
	}
	if failed := flood(p, bodies, sigs); failed > 0 {
		b.Fatalf("%d webhooks not acknowledged", failed)
	}
	active := func() int {
		_, body := api(b, p, key, "GET", "/api/v1/flows/5/stats", nil)
		var st struct{ Data struct{ Active int } }
		json.Unmarshal(body, &st)
		return st.Data.Active
	}
	for deadline := time.Now().Add(5 * time.Minute); active() < waiting || g.ok.Load() < waiting; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d runs waiting, %d questions sent, after 5 minutes", active(), g.ok.Load())
		}
	}
	sent0 := g.ok.Load()

	// b.N of them answer, 1,000 a second.
	answers, asigs := make([][]byte, b.N), make([]string, b.N)
	for i := range b.N {
		answers[i] = textWebhook(fmt.Sprintf("wamid.answer.%d", i), phone(i), "3")
		asigs[i] = whatsapp.Sign([]byte(crashSecret), answers[i])
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
	lat := make([]time.Duration, b.N)
	due := make([]time.Time, b.N)
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for i := range b.N {
		due[i] = t0.Add(time.Duration(i) * time.Second / rate)
		if d := time.Until(due[i]); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			code, err := post(client, p.addr, answers[i], asigs[i])
			lat[i] = time.Since(due[i])
			if err != nil || code != 200 {
				failed.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if failed.Load() > 0 {
		b.Fatalf("%d webhooks not acknowledged", failed.Load())
	}
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		g.mu.Lock()
		n := len(g.watch)
		g.mu.Unlock()
		if n >= b.N {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d answers moved their run 5 minutes after the last", n, b.N)
		}
	}
	b.StopTimer()
	g.mu.Lock()
	step := make([]time.Duration, 0, b.N)
	var first, last time.Time
	for i := range b.N {
		at, ok := g.watch[phone(i)]
		if !ok {
			g.mu.Unlock()
			b.Fatalf("no second question for %s", phone(i))
		}
		step = append(step, at.Sub(due[i]))
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	g.mu.Unlock()
	pct := func(d []time.Duration, q float64) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 0.5), "webhook_p50_ms")
	b.ReportMetric(pct(lat, 0.99), "webhook_p99_ms")
	b.ReportMetric(pct(step, 0.5), "step_p50_ms")
	b.ReportMetric(pct(step, 0.99), "step_p99_ms")
	if span := last.Sub(first).Seconds(); span > 0 {
		b.ReportMetric(float64(b.N)/span, "questions/s")
	}
	b.ReportMetric(float64(g.ok.Load()-sent0), "sent")
	// The step itself: from the answer stored to the next question queued
	// (committed in the run's transaction), whatever Meta's budget allows.
	answered, asked := map[int64]time.Time{}, map[int64]time.Time{}
	since := strconv.FormatInt(t0.Add(-time.Second).Unix(), 10)
	for _, dir := range []string{"inbound", "outbound"} {
		for cursor := ""; ; {
			code, body := api(b, p, key, "GET", "/api/v1/messages?order=asc&limit=500&direction="+dir+"&since="+since+"&cursor="+cursor, nil)
			if code != 200 {
				b.Fatalf("list messages: %d %s", code, body)
			}
			var page struct {
				Data       []store.Message
				NextCursor string `json:"next_cursor"`
			}
			json.Unmarshal(body, &page)
			for _, m := range page.Data {
				switch {
				case dir == "inbound" && m.Text == "3":
					answered[m.ContactID] = m.CreatedAt
				case dir == "outbound" && strings.Contains(m.Text, "And your name"):
					asked[m.ContactID] = m.CreatedAt
				}
			}
			if page.NextCursor == "" || len(page.Data) == 0 {
				break
			}
			cursor = page.NextCursor
		}
	}
	queued := make([]time.Duration, 0, b.N)
	var qFirst, qLast time.Time
	for c, at := range answered {
		q, ok := asked[c]
		if !ok {
			b.Fatalf("contact %d answered and was not asked the next question", c)
		}
		queued = append(queued, q.Sub(at))
		if qFirst.IsZero() || q.Before(qFirst) {
			qFirst = q
		}
		if q.After(qLast) {
			qLast = q
		}
	}
	if len(queued) != b.N {
		b.Fatalf("%d answers stored, want %d", len(queued), b.N)
	}
	b.ReportMetric(pct(queued, 0.5), "step_queued_p50_ms")
	b.ReportMetric(pct(queued, 0.99), "step_queued_p99_ms")
	if span := qLast.Sub(qFirst).Seconds(); span > 0 {
		b.ReportMetric(float64(b.N)/span, "steps/s")
	}
	b.ReportMetric(0, "ns/op")
}
