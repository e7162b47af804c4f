package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sendbox/events"
)

// ledgerContacts records a small history for two contacts, through every
// path that changes consent: setConsent, RecordConsent with proof, Meta's
// user_preferences and 131050.
func ledgerContacts(t *testing.T, s *Store) (ada, bea int64) {
	t.Helper()
	ctx := context.Background()
	var err error
	if ada, err = s.CreateContact(ctx, "393330007001", ContactUpdate{Name: "Ada"}, ConsentOptedIn, "set by Maria", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if bea, err = s.CreateContact(ctx, "393330007002", ContactUpdate{Name: "Bea"}, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordConsent(ctx, ConsentEntry{ContactID: bea, Status: ConsentOptedIn, Source: ConsentSourceForm,
		Wording: "Yes, send me offers", WordingVersion: "en-1", Proof: map[string]any{"ip": "203.0.113.7", "user_agent": "Firefox"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordConsent(ctx, ConsentEntry{ContactID: bea, Purpose: PurposeUtility, Status: ConsentOptedIn,
		Source: ConsentSourceForm}); err != nil {
		t.Fatal(err)
	}
	stop := Preference{WaID: "393330007001", Category: "marketing_messages", Value: "stop", At: time.Now().Add(-time.Minute)}
	if _, err := s.Ingest(ctx, &IngestBatch{Events: []EventInput{{Field: "user_preferences", Value: []byte(`{"stop":7001}`),
		Preferences: []Preference{stop}}}}); err != nil {
		t.Fatal(err)
	}
	return ada, bea
}

// TestConsentLedgerChainVerifies: every consent change appends a record,
// the contact's current state follows the applied ones, and the chain
// verifies.
func TestConsentLedgerChainVerifies(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	ada, bea := ledgerContacts(t, s)
	recs, err := s.ConsentLedger(ctx, ada)
	if err != nil || len(recs) != 2 {
		t.Fatalf("Ada's ledger: %+v %v", recs, err)
	}
	if recs[0].Status != ConsentOptedOut || recs[0].Source != ConsentSourcePreferences || recs[1].Status != ConsentOptedIn ||
		recs[1].Source != ConsentSourceSystem || recs[1].Detail != "set by Maria" {
		t.Fatalf("Ada's ledger, newest first: %+v", recs)
	}
	c, _ := s.ContactByID(ctx, ada)
	if c.Consent != ConsentOptedOut || c.ConsentSource != "whatsapp preferences" {
		t.Fatalf("Ada now: %s from %q", c.Consent, c.ConsentSource)
	}
	recs, _ = s.ConsentLedger(ctx, bea)
	if len(recs) != 2 || recs[1].Wording != "Yes, send me offers" || !strings.Contains(string(recs[1].Proof), "203.0.113.7") {
		t.Fatalf("Bea's ledger: %+v", recs)
	}
	if u, err := s.CurrentConsent(ctx, bea, PurposeUtility); err != nil || u == nil || u.Status != ConsentOptedIn {
		t.Fatalf("Bea's utility consent: %+v %v", u, err)
	}
	if c, _ := s.ContactByID(ctx, bea); c.Consent != ConsentOptedIn || c.ConsentSource != ConsentSourceForm {
		t.Fatalf("Bea now: %s from %q (a utility consent must not change the marketing state)", c.Consent, c.ConsentSource)
	}
	check, err := s.VerifyConsentLedger(ctx)
	if err != nil || !check.OK || check.Records != 4 || check.Head == "" {
		t.Fatalf("verify: %+v %v", check, err)
	}
	// A redelivered entry with the same key records nothing more.
	for range 2 {
		if _, err := s.RecordConsent(ctx, ConsentEntry{ContactID: bea, Status: ConsentOptedOut, Source: ConsentSourceKeyword,
			Key: "msg:42", Proof: map[string]any{"message_id": 42}}); err != nil {
			t.Fatal(err)
		}
	}
	if recs, _ := s.ConsentLedger(ctx, bea); len(recs) != 3 {
		t.Fatalf("a repeated key recorded twice: %d records", len(recs))
	}
}

// TestConsentLedgerTamperingIsFound: changing a record's content, its hash,
// or removing a record is reported at the first record that no longer
// verifies.
func TestConsentLedgerTamperingIsFound(t *testing.T) {
	for _, tc := range []struct {
		name, sql string
		broken    int64
	}{
		{"wording changed", "UPDATE consent_ledger SET wording = 'something else' WHERE id = 2", 2},
		{"status changed", "UPDATE consent_ledger SET status = 'opted_in' WHERE id = 4", 4},
		{"hash changed", "UPDATE consent_ledger SET hash = '" + strings.Repeat("ab", 32) + "' WHERE id = 3", 3},
		{"record removed", "DELETE FROM consent_ledger WHERE id = 2", 3},
		{"record and digest rewritten", "UPDATE consent_ledger SET source = 'agent', digest = '" + strings.Repeat("cd", 32) + "' WHERE id = 1", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			ctx := context.Background()
			ledgerContacts(t, s)
			if _, err := s.w.ExecContext(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			check, err := s.VerifyConsentLedger(ctx)
			if err != nil || check.OK || check.BrokenID != tc.broken || check.Reason == "" {
				t.Fatalf("verify after %s: %+v %v", tc.name, check, err)
			}
		})
	}
}

// TestConsentLedgerSurvivesErasure: erasing a contact blanks its records
// (nothing of theirs is left, not even the contact id) and the chain still
// verifies.
func TestConsentLedgerSurvivesErasure(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	_, bea := ledgerContacts(t, s)
	if _, err := s.EraseContact(ctx, bea); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM consent_ledger WHERE contact_id = ? OR proof LIKE '%203.0.113.7%'
		OR wording != '' AND erased_at IS NOT NULL`, bea).Scan(&left); err != nil || left != 0 {
		t.Fatalf("records still naming the erased contact: %d %v", left, err)
	}
	check, err := s.VerifyConsentLedger(ctx)
	if err != nil || !check.OK || check.Records != 4 || check.Erased != 2 {
		t.Fatalf("verify after erasure: %+v %v", check, err)
	}
}

// TestConsentSuppressionNeedsExplicitOptIn: an erased opted-out number
// that comes back is not lifted off the suppression list by an import row
// or an agent without proof (recorded as refused), only by an explicit
// opt-in with proof.
func TestConsentSuppressionNeedsExplicitOptIn(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const number = "393330007003"
	id, err := s.CreateContact(ctx, number, ContactUpdate{}, ConsentOptedOut, "whatsapp message", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EraseContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	back, err := s.CreateContact(ctx, number, ContactUpdate{}, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	user := events.User(3, "Maria")
	for _, e := range []ConsentEntry{
		{ContactID: back, Status: ConsentOptedIn, Source: ConsentSourceImport, Proof: map[string]any{"file": "list.csv", "row": 7}},
		{ContactID: back, Status: ConsentOptedIn, Source: ConsentSourceAgent, Actor: &user},
	} {
		rec, err := s.RecordConsent(ctx, e)
		if !errors.Is(err, ErrConsentRefused) || rec == nil || rec.Effect != EffectRefused {
			t.Fatalf("%s opt-in for a suppressed number: %+v %v", e.Source, rec, err)
		}
	}
	c, _ := s.ContactByID(ctx, back)
	if sup, _ := s.Suppressed(ctx, number, ""); c.Consent != ConsentUnknown || !sup {
		t.Fatalf("after refused opt-ins: consent %s, suppressed %v", c.Consent, sup)
	}
	rec, err := s.RecordConsent(ctx, ConsentEntry{ContactID: back, Status: ConsentOptedIn, Source: ConsentSourceKeyword,
		Proof: map[string]any{"message_id": 9, "wamid": "wamid.k9"}})
	if err != nil || rec.Effect != EffectApplied {
		t.Fatalf("keyword opt-in: %+v %v", rec, err)
	}
	c, _ = s.ContactByID(ctx, back)
	if sup, _ := s.Suppressed(ctx, number, ""); c.Consent != ConsentOptedIn || sup {
		t.Fatalf("after a keyword opt-in: consent %s, suppressed %v", c.Consent, sup)
	}
	if check, _ := s.VerifyConsentLedger(ctx); !check.OK || check.Records != 4 {
		t.Fatalf("verify: %+v", check)
	}
}

// TestMigrationBackfillsConsentLedger: migration 16 gives every contact
// whose consent is known one "migrated" record, and the chain verifies.
func TestMigrationBackfillsConsentLedger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.CreateContact(ctx, "393330007004", ContactUpdate{}, ConsentOptedIn, "sign-up form", time.UnixMilli(1700000000000))
	out, _ := s.CreateContact(ctx, "393330007005", ContactUpdate{}, ConsentOptedOut, "whatsapp message", time.Now())
	unknown, _ := s.CreateContact(ctx, "393330007006", ContactUpdate{}, "", "", time.Now())
	undoMigrations(t, s, 16)
	s.Close()
	if s, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, want := range map[int64]int{in: 1, out: 1, unknown: 0} {
		recs, err := s.ConsentLedger(ctx, id)
		if err != nil || len(recs) != want {
			t.Fatalf("contact %d: %+v %v", id, recs, err)
		}
		if want == 1 && (recs[0].Source != ConsentSourceMigrated || recs[0].Effect != EffectApplied) {
			t.Fatalf("contact %d: %+v", id, recs[0])
		}
	}
	recs, _ := s.ConsentLedger(ctx, in)
	if recs[0].Status != ConsentOptedIn || recs[0].At.UnixMilli() != 1700000000000 || !strings.Contains(string(recs[0].Proof), "sign-up form") {
		t.Fatalf("the migrated record: %+v", recs[0])
	}
	if check, err := s.VerifyConsentLedger(ctx); err != nil || !check.OK || check.Records != 2 {
		t.Fatalf("verify: %+v %v", check, err)
	}
}

// TestMeta131050IsRecorded: Meta's 131050 opts the customer out through
// the ledger, once: a second 131050 while opted out records nothing more.
func TestMeta131050IsRecorded(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	first := queue(t, s, "393330007007", "offer")
	second := queue(t, s, "393330007007", "offer again")
	for _, m := range []*Message{first, second} {
		if err := s.RecordSends(ctx, []SendOutcome{{MessageID: m.ID, Attempts: 1,
			Err: &MessageError{Code: 131050, Title: "User stopped marketing"}}}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.ConsentLedger(ctx, first.ContactID)
	if err != nil || len(recs) != 1 || recs[0].Source != ConsentSourceMeta131050 || recs[0].Status != ConsentOptedOut ||
		!strings.Contains(string(recs[0].Proof), "131050") {
		t.Fatalf("ledger: %+v %v", recs, err)
	}
}

// TestConsentLedgerChainAcrossSavepoints: a transaction that appends
// several records chains each to the one before without reading it back;
// a record rolled back with its savepoint (a timer's handler that failed)
// must not be chained to, or the next record would break the chain.
func TestConsentLedgerChainAcrossSavepoints(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	ada, bea := ledgerContacts(t, s)
	now := time.Now()
	if _, err := s.AddTimers(ctx, []TimerSpec{{Kind: "test.consent", Owner: 1, DueAt: now.Add(-2 * time.Second)},
		{Kind: "test.consent", Owner: 2, DueAt: now.Add(-time.Second)}, {Kind: "test.consent", Owner: 3, DueAt: now}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.FireDue(ctx, now, 10, func(_ context.Context, x *TimerTx, tm *Timer) (bool, error) {
		contact := ada
		if tm.Owner == 2 {
			contact = bea
		}
		if err := x.t.recordConsent(ConsentEntry{ContactID: contact, Status: ConsentOptedIn, Source: ConsentSourceAgent}); err != nil {
			return false, err
		}
		if tm.Owner == 2 {
			return false, errors.New("the handler fails after recording")
		}
		return true, nil
	})
	if err != nil || res.Fired != 2 || len(res.Errors) != 1 {
		t.Fatalf("fire: %+v %v", res, err)
	}
	check, err := s.VerifyConsentLedger(ctx)
	if err != nil || !check.OK || check.Records != 6 {
		t.Fatalf("verify: %+v %v", check, err)
	}
}
