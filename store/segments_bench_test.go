package store

import (
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkSegmentCount counts typical rules over 100,000 contacts (the
// live count of the panel's rule builder; the target is 50 ms):
//
//	go test -run '^$' -bench BenchmarkSegmentCount -benchtime 20x ./store
func BenchmarkSegmentCount(b *testing.B) {
	s := openTest(b)
	seedSegments(b, s, 100_000, rand.New(rand.NewPCG(1, 2)), true)
	if _, err := s.w.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		rule SegmentRule
	}{
		{"tag+consent+inbound30d", SegmentRule{Group: GroupAnd, Rules: []SegmentRule{
			{Field: FieldTag, Op: "has", Value: "vip"},
			{Field: FieldConsent, Op: "is", Value: "opted_in"},
			{Field: FieldLastInbound, Op: "within_days", Days: 30},
		}}},
		{"attribute-equals", SegmentRule{Field: FieldAttribute, Key: "city", Op: "equals", Value: "Roma"}},
		{"event-within-30d", SegmentRule{Field: FieldEvent, Op: "occurred", Key: "order.created", Days: 30}},
		{"consent+not-tag+country", SegmentRule{Group: GroupAnd, Rules: []SegmentRule{
			{Field: FieldConsent, Op: "is", Value: "opted_in"},
			{Field: FieldTag, Op: "has_not", Value: "lead"},
			{Field: FieldCountry, Op: "is", Value: "IT"},
		}}},
		{"language", SegmentRule{Field: FieldLanguage, Op: "is", Value: "it"}},
		{"label", SegmentRule{Field: FieldLabel, Op: "has", Value: "urgent"}},
		{"flow-ended-with", SegmentRule{Field: FieldFlow, Op: "ended_with", FlowID: 1, Value: "completed"}},
		{"event-twice-ever", SegmentRule{Field: FieldEvent, Op: "occurred", Key: "order.created", Count: 2}},
		{"attribute-within-30d", SegmentRule{Field: FieldAttribute, Key: "last_order", Op: "within_days", Days: 30}},
		{"any-campaign-replied-7d", SegmentRule{Field: FieldCampaign, Op: "replied", Days: 7}},
		{"language+campaign-read", SegmentRule{Group: GroupOr, Rules: []SegmentRule{
			{Field: FieldLanguage, Op: "is", Value: "it"},
			{Field: FieldCampaign, Op: "read", CampaignID: 1},
		}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for range b.N {
				var err error
				if n, err = s.SegmentCount(ctx, bc.rule); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "contacts")
		})
	}
	// What the schema's choices save, measured on the same data: an
	// attribute read with json_extract from every contact's JSON, and the
	// typical rule with no index on contacts (a scan, without the index on
	// last_inbound_at).
	where, args, err := s.SegmentWhere(SegmentRule{Group: GroupAnd, Rules: []SegmentRule{
		{Field: FieldTag, Op: "has", Value: "vip"},
		{Field: FieldConsent, Op: "is", Value: "opted_in"},
		{Field: FieldLastInbound, Op: "within_days", Days: 30},
	}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, query string
		args        []any
	}{
		{"compare-attribute-json_extract", `SELECT COUNT(*) FROM contacts c WHERE json_extract(c.attributes, '$.city') = ?`, []any{"Roma"}},
		{"compare-tag+consent+inbound30d-no-index", "SELECT COUNT(*) FROM contacts c NOT INDEXED WHERE " + where, args},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for range b.N {
				if err := s.r.QueryRowContext(ctx, bc.query, bc.args...).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "contacts")
		})
	}
}
