package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestPricingAndPacingPerMessage: the send response's pacing status and
// the pricing object of status webhooks land on the message; a later
// status without pricing keeps it; an "accepted" pacing writes nothing.
func TestPricingAndPacingPerMessage(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var ids []int64
	for _, wa := range []string{"393330000001", "393330000002"} {
		m, _, err := s.QueueOutbound(ctx, OutboundInput{PhoneNumberID: "pn1", WaID: wa, Type: "template", Text: "hi", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if err := s.RecordSends(ctx, []SendOutcome{{MessageID: ids[0], WAMID: "wamid.a", Attempts: 1, MessageStatus: "held_for_quality_assessment"},
		{MessageID: ids[1], WAMID: "wamid.b", Attempts: 1, MessageStatus: "accepted"}}); err != nil {
		t.Fatal(err)
	}
	yes := true
	now := time.Now()
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{
		{WAMID: "wamid.a", Status: "sent", Timestamp: now, PricingCategory: "marketing", PricingType: "regular", PricingModel: "PMP", PricingBillable: &yes, Raw: []byte(`{}`)},
		{WAMID: "wamid.a", Status: "read", Timestamp: now.Add(2 * time.Second), Raw: []byte(`{}`)},
		{WAMID: "wamid.b", Status: "delivered", Timestamp: now, PricingCategory: "utility", PricingType: "free_customer_service", PricingModel: "PMP", Raw: []byte(`{}`)},
	}}); err != nil {
		t.Fatal(err)
	}
	type row struct {
		cat, typ, model, pacing sql.NullString
		billable                sql.NullBool
	}
	read := func(id int64) row {
		var r row
		if err := s.r.QueryRow("SELECT pricing_category, pricing_type, pricing_model, pacing_status, pricing_billable FROM messages WHERE id = ?", id).
			Scan(&r.cat, &r.typ, &r.model, &r.pacing, &r.billable); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if a := read(ids[0]); a.cat.String != "marketing" || a.typ.String != "regular" || a.model.String != "PMP" || !a.billable.Valid || !a.billable.Bool ||
		a.pacing.String != "held_for_quality_assessment" {
		t.Errorf("a: %+v", a)
	}
	if b := read(ids[1]); b.cat.String != "utility" || b.typ.String != "free_customer_service" || b.billable.Valid || b.pacing.Valid {
		t.Errorf("b: %+v", b)
	}
}
