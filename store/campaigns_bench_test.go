package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkSnapshot freezes a segment of 100,000 contacts (opted in, from
// Italy, not tagged "blocked"; 110,000 contacts in all) into a campaign's
// recipients, a new campaign each time, and reports the time of a whole
// snapshot and its longest write transaction (targets: 3 s and 50 ms):
//
//	go test -run '^$' -bench BenchmarkSnapshot -benchtime 3x ./store
func BenchmarkSnapshot(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	const n, out = 110_000, 10_000 // out: the contacts the segment leaves out
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		consent, tag := "opted_in", "customer"
		switch {
		case i%22 == 3:
			consent = "opted_out"
		case i%22 == 7:
			tag = "blocked"
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO contacts (wa_id, name, consent, attributes, created_at, updated_at)
			VALUES (?, ?, ?, ?, 0, 0) RETURNING id`, fmt.Sprintf("3934%08d", i), fmt.Sprintf("Customer %d", i), consent,
			fmt.Sprintf(`{"city":"Roma","plan":"p%d"}`, i%5)).Scan(&id); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO contact_tags (contact_id, tag) VALUES (?, ?)", id, tag); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := s.w.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	where, args, err := s.SegmentWhere(SegmentRule{Group: GroupAnd, Rules: []SegmentRule{
		{Field: FieldConsent, Op: "is", Value: "opted_in"},
		{Field: FieldCountry, Op: "is", Value: "IT"},
		{Field: FieldTag, Op: "has_not", Value: "blocked"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	var longest, total time.Duration
	var all []time.Duration
	snapshotTx = func(d time.Duration) { longest = max(longest, d); all = append(all, d) }
	b.Cleanup(func() { snapshotTx = nil })
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		c, err := s.CreateCampaign(ctx, &Campaign{Name: fmt.Sprintf("big %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		got, err := s.SnapshotRecipients(ctx, c.ID, where, args, []VariantShare{{"A", 5000}, {"B", 5000}})
		total += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if got != n-out {
			b.Fatalf("%d recipients, want %d", got, n-out)
		}
	}
	slices.Sort(all)
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/snapshot")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "ms-median-tx")
	b.Logf("slowest: %v", all[max(0, len(all)-6):])
	b.ReportMetric(float64(longest.Microseconds())/1000, "ms-longest-tx")
}
