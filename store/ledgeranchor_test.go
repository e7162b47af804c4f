package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsentLedgerAnchorFindsTheEnd: records removed from the end of the
// ledger leave a valid chain, which the anchor beside the database tells
// apart from the ledger it saw; so does a tail rewritten with fresh hashes.
// The anchor does not move past a mismatch, and a restart keeps it.
func TestConsentLedgerAnchorFindsTheEnd(t *testing.T) {
	for _, tc := range []struct {
		name, sql, reason string
	}{
		{"last records removed", "DELETE FROM consent_ledger WHERE id >= 3", "the ledger ends at record 2, but on"},
		{"last record rewritten", "UPDATE consent_ledger SET hash = '" + strings.Repeat("ef", 32) + "' WHERE id = 4",
			"its hash does not follow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "sendbox.db")
			s, err := Open(ctx, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			ledgerContacts(t, s)
			s.AnchorConsentLedger()
			if check, err := s.VerifyConsentLedger(ctx); err != nil || !check.OK || check.AnchorID != 4 {
				t.Fatalf("before: %+v %v", check, err)
			}
			if _, err := s.w.ExecContext(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			s.AnchorConsentLedger() // the ledger no longer matches: the anchor stays
			s.Close()

			s, err = Open(ctx, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			check, err := s.VerifyConsentLedger(ctx)
			if err != nil || check.OK || !strings.Contains(check.Reason, tc.reason) {
				t.Fatalf("after %s: %+v %v", tc.name, check, err)
			}
		})
	}
}

// TestConsentLedgerAnchorRewrittenChain: a whole chain rewritten from a
// record on, hashes recomputed so that it verifies alone, does not match
// the anchored record; records added after it do not move the anchor.
func TestConsentLedgerAnchorRewrittenChain(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ada, _ := ledgerContacts(t, s)
	s.AnchorConsentLedger()
	// Remove the last record and append a different one in its place: a
	// valid chain with the same length and last id.
	if _, err := s.w.ExecContext(ctx, "DELETE FROM consent_ledger WHERE id = 4"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordConsent(ctx, ConsentEntry{ContactID: ada, Status: ConsentOptedIn, Source: ConsentSourceAgent,
		Proof: map[string]any{"note": "forged"}}); err != nil {
		t.Fatal(err)
	}
	s.AnchorConsentLedger()
	check, err := s.VerifyConsentLedger(ctx)
	if err != nil || check.OK || check.BrokenID != 4 || !strings.Contains(check.Reason, "does not have the hash it had") {
		t.Fatalf("after a rewritten end: %+v %v", check, err)
	}
}

// TestConsentLedgerAnchorAfterRestore: removing the anchor after restoring
// an older copy on purpose anchors the restored ledger at the next start.
func TestConsentLedgerAnchorAfterRestore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ledgerContacts(t, s)
	s.Close()
	if _, err := os.Stat(path + ".ledger-anchor"); err != nil {
		t.Fatalf("no anchor after close: %v", err)
	}
	if err := os.Remove(path + ".ledger-anchor"); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if check, err := s.VerifyConsentLedger(ctx); err != nil || !check.OK || check.AnchorID != 4 {
		t.Fatalf("re-anchored: %+v %v", check, err)
	}
}
