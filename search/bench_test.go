package search

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"sendbox/search/corpus"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func toMessage(m *corpus.Message) Message {
	return Message{ID: m.ID, ConversationID: m.ConversationID, ContactID: m.ContactID, AgentID: m.AgentID,
		Direction: m.Direction, Type: m.Type, Status: m.Status, Labels: m.Labels, Text: m.Text, At: m.At}
}

func TestBenchCorpus(t *testing.T) {
	if os.Getenv("SENDBOX_BENCH_SEARCH") == "" {
		t.Skip("set SENDBOX_BENCH_SEARCH=1")
	}
	n := envInt("SENDBOX_BENCH_N", 1_000_000)
	nc := envInt("SENDBOX_BENCH_CONTACTS", 50_000)
	dir := t.TempDir()
	c := corpus.New(1, nc)
	x, err := Open(Options{Dir: dir, DefaultLang: "it"})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ctx := context.Background()
	b := &Batch{}
	start := time.Now()
	last := start
	c.Messages(n, func(m *corpus.Message) bool {
		b.Messages = append(b.Messages, toMessage(m))
		if len(b.Messages) == 1000 {
			if err := x.Apply(ctx, b); err != nil {
				t.Fatal(err)
			}
			b.Messages = b.Messages[:0]
			if m.ID%100000 == 0 {
				now := time.Now()
				t.Logf("%d msgs %.0f/s (last 100k %.0f/s)", m.ID, float64(m.ID)/now.Sub(start).Seconds(), 100000/now.Sub(last).Seconds())
				last = now
			}
		}
		return true
	})
	if err := x.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := x.Stats()
	t.Logf("indexed %d in %v: %.0f msg/s; disk %d B = %.0f B/msg; heap %d MB", n, el, float64(n)/el.Seconds(), st.DiskBytes, float64(st.DiskBytes)/float64(n), ms.HeapAlloc>>20)
	time.Sleep(5 * time.Second)
	st = x.Stats()
	t.Logf("after 5s: disk %d B = %.0f B/msg, docs %d", st.DiskBytes, float64(st.DiskBytes)/float64(n), st.Docs)
}
