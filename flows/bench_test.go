package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"testing"
	"time"

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
	b.ReportMetric(pct(0.99), "p99_ms")
}

// BenchmarkWaitingRunsMemory: 10,000 runs waiting (for an answer, with a
// timeout timer each) cost the Go heap nothing: they live in SQLite.
func BenchmarkWaitingRunsMemory(b *testing.B) {
	const runs = 10000
	e, _, contacts, _ := benchEngine(b, runs)
	ctx := context.Background()
	e.mu.RLock()
	c := &e.active[0]
	e.mu.RUnlock()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		for i, contact := range contacts {
			if _, _, err := e.start(ctx, c, contact, 0, fmt.Sprintf("mem:%d:%d", b.N, i), nil); err != nil && b.N == 1 {
				b.Fatal(err)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<20), "heap_MB")
}
