package schedule_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sendbox/metrics"
	"sendbox/schedule"
	"sendbox/store"
)

// BenchmarkSchedulerPendingMemory measures what 1,000,000 pending timers
// cost a running scheduler in resident memory: a fresh process runs the
// scheduler on a database holding them (and 1,000 due at once, so that it
// fires too), another on one holding only the 1,000, and the difference of
// their resident sets is reported as extra-RSS-MB. Run with -benchtime=1x.
func BenchmarkSchedulerPendingMemory(b *testing.B) {
	const pending = 1_000_000
	dir := b.TempDir()
	empty, full := filepath.Join(dir, "none.db"), filepath.Join(dir, "million.db")
	prepare := func(path string, n int) {
		st, err := store.Open(context.Background(), path, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		now := time.Now()
		specs := make([]store.TimerSpec, 0, 10_000)
		for i := 0; i < n; i += len(specs) {
			specs = specs[:0]
			for j := i; j < min(i+10_000, n); j++ {
				specs = append(specs, store.TimerSpec{Kind: "bench.noop", Owner: int64(j), Token: strconv.Itoa(j),
					DueAt: now.Add(24*time.Hour + time.Duration(j)*time.Millisecond)})
			}
			if _, err := st.AddTimers(context.Background(), specs); err != nil {
				b.Fatal(err)
			}
		}
		specs = specs[:0]
		for j := 0; j < 1000; j++ {
			specs = append(specs, store.TimerSpec{Kind: "bench.noop", Owner: int64(j), DueAt: now.Add(-time.Second)})
		}
		if _, err := st.AddTimers(context.Background(), specs); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	prepare(empty, 0)
	prepare(full, pending)
	b.Logf("databases written in %v", time.Since(start).Round(time.Second))
	rss := func(path string) int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPendingMemoryChild$", "-test.v")
		cmd.Env = append(os.Environ(), "SENDBOX_SCHEDULE_MEMORY_DB="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		_, after, ok := strings.Cut(string(out), "RSS=")
		if !ok {
			b.Fatalf("no RSS in\n%s", out)
		}
		n, _ := strconv.ParseInt(strings.Fields(after)[0], 10, 64)
		return n
	}
	b.ResetTimer()
	for range b.N {
		none, million := rss(empty), rss(full)
		b.ReportMetric(float64(none)/(1<<20), "base-RSS-MB")
		b.ReportMetric(float64(million-none)/(1<<20), "extra-RSS-MB")
	}
}

// TestPendingMemoryChild is BenchmarkSchedulerPendingMemory's measured
// process: it runs a scheduler on the database it is given until the due
// timers have fired, and prints its resident set size.
func TestPendingMemoryChild(t *testing.T) {
	path := os.Getenv("SENDBOX_SCHEDULE_MEMORY_DB")
	if path == "" {
		t.Skip("run by BenchmarkSchedulerPendingMemory")
	}
	st, err := store.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := schedule.New(st, nil, nil)
	fired := make(chan struct{}, 1000)
	s.Handle("bench.noop", func(context.Context, *store.TimerTx, *store.Timer) (bool, error) {
		fired <- struct{}{}
		return true, nil
	})
	st.TimerAdded = s.Notify
	ctx, cancel := context.WithCancel(context.Background())
	go s.Run(ctx)
	for range 1000 {
		select {
		case <-fired:
		case <-time.After(30 * time.Second):
			t.Fatal("the due timers did not fire")
		}
	}
	// A timer added now wakes it, and it goes back to sleep.
	if _, err := st.AddTimers(ctx, []store.TimerSpec{{Kind: "bench.noop", DueAt: time.Now().Add(100 * time.Millisecond)}}); err != nil {
		t.Fatal(err)
	}
	<-fired
	time.Sleep(time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	fmt.Printf("RSS=%d\n", metrics.ResidentMemory())
	cancel()
	<-s.Done()
}

// BenchmarkSchedulerLateness snoozes 10,000 conversations to wake at 1,000
// a second for ten seconds, the real snooze handler reopening each, and
// reports the lateness recorded on the timers (due to claimed, in the
// transaction that applies the effect): p50, p99 and max in ms. With
// SENDBOX_BENCH_SCHEDULE_PENDING=1000000 that many other timers, due
// tomorrow, wait in the table meanwhile. Run with -benchtime=1x.
func BenchmarkSchedulerLateness(b *testing.B) {
	const n, rate = 10_000, 1000
	backlog, _ := strconv.Atoi(os.Getenv("SENDBOX_BENCH_SCHEDULE_PENDING"))
	for range b.N {
		b.StopTimer()
		st := openStore(b)
		ctx := context.Background()
		for i := 0; i < backlog; i += 10_000 {
			specs := make([]store.TimerSpec, 0, 10_000)
			for j := i; j < min(i+10_000, backlog); j++ {
				specs = append(specs, store.TimerSpec{Kind: "bench.later", Owner: int64(j), DueAt: time.Now().Add(24 * time.Hour)})
			}
			if _, err := st.AddTimers(ctx, specs); err != nil {
				b.Fatal(err)
			}
		}
		batch := &store.IngestBatch{}
		for i := range n {
			batch.Messages = append(batch.Messages, store.InboundMessage{WAMID: fmt.Sprintf("wamid.%d", i), PhoneNumberID: "pn1",
				WaID: fmt.Sprintf("39340%07d", i), Type: "text", Text: "ciao", Timestamp: time.Now(), Raw: []byte(`{}`)})
		}
		if _, err := st.Ingest(ctx, batch); err != nil {
			b.Fatal(err)
		}
		var convs []int64
		for cursor := ""; ; {
			page, _, next, err := st.ListConversations(ctx, store.ConversationFilter{After: cursor, Limit: 500})
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range page {
				convs = append(convs, c.ID)
			}
			if cursor = next; next == "" {
				break
			}
		}
		s := newScheduler(st)
		runCtx, cancel := context.WithCancel(ctx)
		go s.Run(runCtx)
		base := time.Now().Add(8 * time.Second) // after the snoozes are written
		for i, id := range convs {
			if err := st.SetStatus(ctx, id, "snoozed", base.Add(time.Duration(i)*time.Second/rate)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		deadline := base.Add(time.Duration(n)*time.Second/rate + 30*time.Second)
		for {
			// Not TimerCounts: a scan of the backlog would weigh on what is measured.
			_, snoozed, _, err := st.ListConversations(ctx, store.ConversationFilter{Status: "snoozed", Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
			if snoozed == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d still snoozed", snoozed)
			}
			time.Sleep(100 * time.Millisecond)
		}
		b.StopTimer()
		cancel()
		<-s.Done()
		late := make([]time.Duration, 0, n)
		for _, id := range convs {
			tms, _ := st.TimersOf(ctx, store.TimerSnoozeWake, id)
			late = append(late, tms[0].Lateness)
		}
		slices.Sort(late)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(late[len(late)/2]), "p50-lateness-ms")
		b.ReportMetric(ms(late[len(late)*99/100]), "p99-lateness-ms")
		b.ReportMetric(ms(late[len(late)-1]), "max-lateness-ms")
	}
}
