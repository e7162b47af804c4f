package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// The chain shows a record changed or removed in the middle of the consent
// ledger, but not records removed from its end: what is left is still a
// valid chain. The anchor is a small file beside the database naming the
// last record seen and its hash. It follows the ledger (at open, then every
// anchorEvery, and at close), so verifying finds records deleted from the
// end, as long as the anchor saw them. It lives outside the database, so
// editing the database alone cannot hide a deletion; whoever can edit both
// can still rewrite everything, which is why VerifyConsentLedger also gives
// the head for an auditor to note elsewhere.
//
// After restoring an older copy of the database on purpose, remove the
// anchor file: the next start anchors the restored ledger.

// anchorEvery is how often the anchor catches up with the ledger.
var anchorEvery = time.Minute

// ledgerAnchor is the anchor file's content.
type ledgerAnchor struct {
	ID   int64     `json:"id"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

type anchorer struct {
	s    *Store
	path string
	mu   sync.Mutex // one write at a time; the file only moves forward
	last ledgerAnchor
	stop chan struct{}
	done chan struct{}
}

func (s *Store) anchorPath() string { return s.path + ".ledger-anchor" }

func startAnchorer(s *Store) *anchorer {
	a := &anchorer{s: s, path: s.anchorPath(), stop: make(chan struct{}), done: make(chan struct{})}
	if cur, err := readAnchor(a.path); err == nil && cur != nil {
		a.last = *cur
	}
	a.advance()
	go a.run()
	return a
}

func (a *anchorer) run() {
	defer close(a.done)
	t := time.NewTicker(anchorEvery)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.advance()
		}
	}
}

func (a *anchorer) close() {
	close(a.stop)
	<-a.done
	a.advance()
}

// advance writes the ledger's last committed record to the anchor if it is
// newer than the one there, and the anchored record is still as it was:
// otherwise the anchor stays, as the evidence verifying reports. The file
// is replaced by a rename, so it is never half-written.
func (a *anchorer) advance() {
	a.mu.Lock()
	defer a.mu.Unlock()
	var head ledgerAnchor
	err := a.s.r.QueryRow("SELECT id, hash FROM consent_ledger ORDER BY id DESC LIMIT 1").Scan(&head.ID, &head.Hash)
	if errors.Is(err, sql.ErrNoRows) || err == nil && head.ID <= a.last.ID {
		return
	}
	if err == nil && a.last.ID > 0 {
		var h string
		err = a.s.r.QueryRow("SELECT hash FROM consent_ledger WHERE id = ?", a.last.ID).Scan(&h)
		if errors.Is(err, sql.ErrNoRows) || err == nil && h != a.last.Hash {
			a.s.log.Warn("the consent ledger no longer matches its anchor; the anchor is kept (GET /api/v1/consent/verify)",
				slog.Int64("anchored_record", a.last.ID))
			return
		}
	}
	if err == nil {
		head.At = time.Now().UTC()
		err = writeAnchor(a.path, &head)
	}
	if err != nil {
		a.s.log.Warn("write the consent ledger's anchor; will retry", slog.Any("err", err))
		return
	}
	a.last = head
}

func writeAnchor(path string, head *ledgerAnchor) error {
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readAnchor reads the anchor; nil when there is none.
func readAnchor(path string) (*ledgerAnchor, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var a ledgerAnchor
	if err := json.Unmarshal(b, &a); err != nil || a.ID <= 0 || a.Hash == "" {
		return nil, fmt.Errorf("the consent ledger's anchor %s is damaged", path)
	}
	return &a, nil
}

// checkAnchor compares the anchor, read before the ledger was walked, with
// what the walk found: last is the last record's id, and h the hash of the
// anchored record (ok: the walk saw it).
func checkAnchor(out *LedgerCheck, anchor *ledgerAnchor, anchorErr error, last int64, h string, ok bool) {
	if anchorErr != nil {
		out.OK, out.Reason = false, anchorErr.Error()
		return
	}
	if anchor == nil || !out.OK {
		return
	}
	out.AnchorID, out.AnchorAt = anchor.ID, anchor.At
	switch {
	case !ok && anchor.ID > last:
		out.OK, out.BrokenID = false, anchor.ID
		out.Reason = fmt.Sprintf("the ledger ends at record %d, but on %s it had reached record %d: records were removed from its end, or the database was replaced by an older copy",
			last, anchor.At.Format(time.RFC3339), anchor.ID)
	case !ok:
		out.OK, out.BrokenID = false, anchor.ID
		out.Reason = fmt.Sprintf("record %d, which the anchor names, is missing", anchor.ID)
	case h != anchor.Hash:
		out.OK, out.BrokenID = false, anchor.ID
		out.Reason = fmt.Sprintf("record %d does not have the hash it had on %s: the chain was rewritten from there on",
			anchor.ID, anchor.At.Format(time.RFC3339))
	}
}

// AnchorConsentLedger brings the anchor up to the ledger now (the
// anchorer does it every minute); for tests and the CLI.
func (s *Store) AnchorConsentLedger() {
	if s.anchor != nil {
		s.anchor.advance()
	}
}
