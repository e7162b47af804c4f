package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestOptOutSurvivesErasure: erasing an opted-out contact leaves only a
// keyed hash of the number, which recognises the number when it returns;
// an opt-in by that number takes it off; erasing a contact who had not
// opted out leaves nothing.
func TestOptOutSurvivesErasure(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	ts := time.Now().Add(-time.Minute)
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{text("wamid.s1", "393330001111", "STOP", ts),
		text("wamid.s2", "393330002222", "ciao", ts)}}); err != nil {
		t.Fatal(err)
	}
	out, _ := s.ContactByRecipient(ctx, "393330001111", "")
	other, _ := s.ContactByRecipient(ctx, "393330002222", "")
	if err := s.SetConsent(ctx, out.ID, ConsentOptedOut, "whatsapp message", ts); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{out.ID, other.ID} {
		if _, err := s.EraseContact(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if sup, err := s.Suppressed(ctx, "393330001111", ""); err != nil || !sup {
		t.Fatalf("the opted-out number is not suppressed after erasure: %v %v", sup, err)
	}
	if sup, _ := s.Suppressed(ctx, "393330002222", ""); sup {
		t.Fatal("a number that never opted out is suppressed")
	}
	// The table holds hashes, not numbers.
	var n int
	var h string
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*), MAX(hash) FROM suppressions").Scan(&n, &h); err != nil {
		t.Fatal(err)
	}
	if n != 1 || strings.Contains(h, "393330001111") || len(h) != 64 {
		t.Fatalf("suppressions: %d rows, %q", n, h)
	}

	// The number writes again: a new contact, still suppressed.
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{text("wamid.s3", "393330001111", "ciao di nuovo", time.Now())}}); err != nil {
		t.Fatal(err)
	}
	back, _ := s.ContactByRecipient(ctx, "393330001111", "")
	if sup, _ := s.Suppressed(ctx, "393330001111", ""); back.Consent != ConsentUnknown || !sup {
		t.Fatalf("returning number: consent %s, suppressed %v", back.Consent, sup)
	}
	// It re-subscribes: off the list.
	if err := s.SetConsent(ctx, back.ID, ConsentOptedIn, "whatsapp message", time.Now()); err != nil {
		t.Fatal(err)
	}
	if sup, _ := s.Suppressed(ctx, "393330001111", ""); sup {
		t.Fatal("still suppressed after opting in")
	}
}

// TestResumeUnsuppresses: Meta's user_preferences resume is an opt-in too.
func TestResumeUnsuppresses(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	stop := Preference{WaID: "393330003333", Category: "marketing_messages", Value: "stop", At: time.Now().Add(-time.Hour)}
	if _, err := s.Ingest(ctx, &IngestBatch{Events: []EventInput{{Field: "user_preferences", Value: []byte(`{"stop":1}`),
		Preferences: []Preference{stop}}}}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.ContactByRecipient(ctx, "393330003333", "")
	if _, err := s.EraseContact(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if sup, _ := s.Suppressed(ctx, "393330003333", ""); !sup {
		t.Fatal("not suppressed after erasure")
	}
	resume := Preference{WaID: "393330003333", Category: "marketing_messages", Value: "resume", At: time.Now()}
	if _, err := s.Ingest(ctx, &IngestBatch{Events: []EventInput{{Field: "user_preferences", Value: []byte(`{"resume":1}`),
		Preferences: []Preference{resume}}}}); err != nil {
		t.Fatal(err)
	}
	if sup, _ := s.Suppressed(ctx, "393330003333", ""); sup {
		t.Fatal("still suppressed after resume")
	}
}

// TestMetaMarketingErrors: 131050 from a send or a failed status sets the
// contact opted_out; 131049 holds marketing to them for 24 hours.
func TestMetaMarketingErrors(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	stopped := queue(t, s, "393330004444", "offer")
	limited := queue(t, s, "393330005555", "offer")
	late := queue(t, s, "393330006666", "offer")

	// A send answered 131050 and one answered 131049.
	if err := s.RecordSends(ctx, []SendOutcome{
		{MessageID: stopped.ID, Attempts: 1, Err: &MessageError{Code: 131050, Title: "User stopped marketing"}},
		{MessageID: limited.ID, Attempts: 1, Err: &MessageError{Code: 131049, Title: "Healthy ecosystem"}},
		{MessageID: late.ID, WAMID: "wamid.late", Attempts: 1},
	}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.ContactByID(ctx, stopped.ContactID)
	if c.Consent != ConsentOptedOut || c.ConsentSource != "meta 131050" {
		t.Fatalf("after 131050: %s from %q", c.Consent, c.ConsentSource)
	}
	c, _ = s.ContactByID(ctx, limited.ContactID)
	if d := time.Until(c.MarketingHoldUntil); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("after 131049: hold until %s", c.MarketingHoldUntil)
	}

	// Meta accepted the third, then reported it failed with 131050 and, on
	// a later message, 131049.
	failedAt := time.Now().Add(-time.Hour).Truncate(time.Second)
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{{WAMID: "wamid.late", Status: StateFailed,
		Timestamp: failedAt, RecipientID: "393330006666", Error: &MessageError{Code: 131050}, Raw: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	c, _ = s.ContactByID(ctx, late.ContactID)
	if c.Consent != ConsentOptedOut || !c.ConsentAt.Equal(failedAt) {
		t.Fatalf("after a failed status 131050: %s at %s", c.Consent, c.ConsentAt)
	}
	// A status about a message sendbox has no record of still counts.
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{{WAMID: "wamid.unknown", Status: StateFailed,
		Timestamp: failedAt, RecipientID: "393330006666", Error: &MessageError{Code: 131049}, Raw: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	c, _ = s.ContactByID(ctx, late.ContactID)
	if !c.MarketingHoldUntil.Equal(failedAt.Add(MarketingHold)) {
		t.Fatalf("after a failed status 131049: hold until %s, want %s", c.MarketingHoldUntil, failedAt.Add(MarketingHold))
	}

	// An opt-in recorded after Meta's 131050 is not undone by that old status
	// arriving late.
	optIn := time.Now()
	if err := s.SetConsent(ctx, late.ContactID, ConsentOptedIn, "agent", optIn); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, &IngestBatch{Statuses: []StatusUpdate{{WAMID: "wamid.old", Status: StateFailed,
		Timestamp: failedAt, RecipientID: "393330006666", Error: &MessageError{Code: 131050}, Raw: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	if c, _ = s.ContactByID(ctx, late.ContactID); c.Consent != ConsentOptedIn {
		t.Fatalf("a late 131050 overwrote a newer opt-in: %s", c.Consent)
	}
}
