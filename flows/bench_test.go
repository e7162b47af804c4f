package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"testing"
	"time"

	"sendbox/metrics"
	"sendbox/outbound"
	"sendbox/store"
)

// benchEngine opens a store in a temporary folder with n customers who
// wrote a minute ago, and an engine with a published two-question loop.
func benchEngine(b *testing.B, n int) (*Engine, *store.Store, []int64, int64) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "sendbox.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	var batch store.IngestBatch
	for i := range n {
		batch.Messages = append(batch.Messages, store.InboundMessage{WAMID: fmt.Sprintf("wamid.bench%d", i), PhoneNumberID: "1",
			WaID: strconv.Itoa(393000000000 + i), Type: "text", Text: "hi", Timestamp: time.Now().Add(-time.Minute)})
		if len(batch.Messages) == 1000 || i == n-1 {
			if _, err := st.Ingest(ctx, &batch); err != nil {
				b.Fatal(err)
			}
			batch = store.IngestBatch{}
		}
	}
	def := Definition{Triggers: []Trigger{{Type: TriggerKeyword, Keywords: []string{"go"}}}, Steps: []Step{
		{ID: "q1", Type: StepAsk, Input: InputNumber, Var: "a", Text: "How many rooms?"},
		{ID: "c", Type: StepCondition, If: &Cond{Left: "vars.a", Op: OpGt, Right: "2"}, Then: "q2", Else: "q2"},
		{ID: "s", Type: StepSet, Attribute: "rooms", Value: "{{vars.a}}"},
		{ID: "q2", Type: StepAsk, Input: InputText, Var: "b", Text: "And your name, {{contact.name}}?", Next: "q1"},
	}}
	if ps := def.Validate(); len(ps) > 0 {
		b.Fatal(ps)
	}
	raw, _ := json.Marshal(def)
	e := &Engine{Store: st, Outbound: &outbound.Service{Store: st, PhoneNumberID: "1"}}
	f, err := e.Create(ctx, "bench", raw)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Publish(ctx, f.ID, ""); err != nil {
		b.Fatal(err)
	}
	var contacts []int64
	for i := range n {
		c, err := st.ContactByRecipient(ctx, strconv.Itoa(393000000000+i), "")
		if err != nil {
			b.Fatal(err)
		}
		contacts = append(contacts, c.ID)
	}
	return e, st, contacts, f.ID
}

// BenchmarkStepTransition: a customer's answer moves their run on one
// step transaction: the answer checked and kept, a condition, an
// attribute set, the next question queued (its send is the sender's, not
// timed here), the run's new token and step log. With 1,000 runs waiting.
func BenchmarkStepTransition(b *testing.B) {
	const runs = 1000
	e, _, contacts, flowID := benchEngine(b, runs)
	ctx := context.Background()
	e.mu.RLock()
	c := &e.active[0]
	e.mu.RUnlock()
	var ids []int64
	for i, contact := range contacts {
		r, _, err := e.start(ctx, c, contact, 0, "bench:"+strconv.Itoa(i), nil)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	_ = flowID
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		m := &store.Message{ID: int64(1_000_000 + i), Text: strconv.Itoa(3 + i%5), Type: "text"}
		t0 := time.Now()
		if err := e.input(ctx, ids[i%runs], m); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.5), "p50_ms")
	b.ReportMetric(pct(0.90), "p90_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(pct(0.999), "p999_ms")
}

// BenchmarkWaitingRunsMemory: 10,000 runs waiting at once (each for an
// answer to the question it was sent; the figure: at most 30 MB).
// Runs live in SQLite, not in Go: the heap does not grow; the resident set
// grows by SQLite's page caches and WAL index over the rows written (runs,
// step log, the questions queued, the outbox). Reported: both growths from
// before the runs started to after (garbage collected, memory returned).
func BenchmarkWaitingRunsMemory(b *testing.B) {
	const runs = 10000
	e, _, contacts, _ := benchEngine(b, runs)
	ctx := context.Background()
	e.mu.RLock()
	c := &e.active[0]
	e.mu.RUnlock()
	settle := func() (int64, uint64) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return metrics.ResidentMemory(), ms.HeapInuse
	}
	rss0, heap0 := settle()
	for b.Loop() {
		for i, contact := range contacts {
			if _, _, err := e.start(ctx, c, contact, 0, fmt.Sprintf("mem:%d:%d", b.N, i), nil); err != nil && b.N == 1 {
				b.Fatal(err)
			}
		}
	}
	rss1, heap1 := settle()
	waiting, _, err := e.Store.FlowRunCounts(ctx, e.active[0].flow.ID, 0)
	if err != nil || waiting != runs {
		b.Fatalf("%d runs waiting, want %d (%v)", waiting, runs, err)
	}
	b.ReportMetric(float64(rss1-rss0)/(1<<20), "extra-RSS-MB")
	b.ReportMetric((float64(heap1)-float64(heap0))/(1<<20), "extra-heap-MB")
}
