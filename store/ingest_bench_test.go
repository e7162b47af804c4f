package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkIngest stores batches of 100 text messages as the ingest worker
// does, half of them from a customer writing for the first time, into a
// store that already holds 100,000 messages. Reports the cost per message.
//
//	go test -run '^$' -bench BenchmarkIngest -benchtime 200x ./store
func BenchmarkIngest(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	now := time.Now()
	seq := 0
	batch := func(n int) *IngestBatch {
		var bt IngestBatch
		for range n {
			// Every customer writes twice: once new, once known.
			from := fmt.Sprintf("39333%07d", seq/2)
			bt.Messages = append(bt.Messages, text(fmt.Sprintf("wamid.ingest.%d", seq), from, "Buongiorno, avete il divano verde?", now))
			seq++
		}
		return &bt
	}
	for range 1000 {
		if _, err := s.Ingest(ctx, batch(100)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := s.Ingest(ctx, batch(100)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N*100), "us/msg")
	b.ReportMetric(0, "ns/op")
}
