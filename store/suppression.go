package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"sendbox/events"
)

// The suppression list keeps a marketing opt-out alive after the right to
// erasure removed the contact: a number that said STOP and was then erased
// must not be marketed to when it comes back as a new contact.
//
// An entry is HMAC-SHA256(key, "wa:<digits>") or HMAC-SHA256(key,
// "user:<bsuid>") with a key drawn for this install (migration 5) and its
// creation time; nothing else about the person is kept.
//
// What the keyed hash protects: the table on its own (exported, pasted into
// a bug report, compared with another install's) is not a list of phone
// numbers, and the same number hashes differently in every install. What it
// does not protect: whoever holds the whole database holds the key too, and
// phone numbers are few enough to hash them all; it is pseudonymisation,
// not anonymisation. It cannot be more: recognising the number when it
// comes back is the point of the list.
const suppressionKeySetting = "suppression.key"

// suppressionHashes returns the hashes of a recipient's identities.
func suppressionHashes(ctx context.Context, q querier, waID, userID string) ([]string, error) {
	var k string
	err := q.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", suppressionKeySetting).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errors.New("suppression list: its key is missing from settings (restore it from a backup)")
	}
	if err != nil {
		return nil, fmt.Errorf("suppression key: %w", err)
	}
	key, err := hex.DecodeString(k)
	if err != nil || len(key) < 16 {
		return nil, errors.New("suppression list: its key in settings is damaged (restore it from a backup)")
	}
	var ids, out []string
	if waID != "" {
		ids = append(ids, "wa:"+waID)
	}
	if userID != "" {
		ids = append(ids, "user:"+userID)
	}
	for _, id := range ids {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id))
		out = append(out, hex.EncodeToString(m.Sum(nil)))
	}
	return out, nil
}

// Suppressed reports whether a phone number (digits) or a BSUID is on the
// suppression list: it opted out of marketing before its contact was erased.
func (s *Store) Suppressed(ctx context.Context, waID, userID string) (bool, error) {
	if waID == "" && userID == "" {
		return false, nil
	}
	hashes, err := suppressionHashes(ctx, s.r, waID, userID)
	if err != nil {
		return false, err
	}
	for _, h := range hashes {
		var one int
		switch err := s.cachedRow(ctx, "SELECT 1 FROM suppressions WHERE hash = ?", h).Scan(&one); {
		case err == nil:
			return true, nil
		case !errors.Is(err, sql.ErrNoRows):
			return false, err
		}
	}
	return false, nil
}

// suppress puts a contact's identities on the suppression list.
func (t *wtx) suppress(waID, userID string) error {
	hashes, err := suppressionHashes(t.ctx, t.tx, waID, userID)
	if err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := t.tx.ExecContext(t.ctx, "INSERT OR IGNORE INTO suppressions (hash, created_at) VALUES (?, ?)",
			h, t.now.UnixMilli()); err != nil {
			return fmt.Errorf("suppression list: %w", err)
		}
	}
	return nil
}

// unsuppress takes a contact's identities off the suppression list: they
// opted in again.
func (t *wtx) unsuppress(contactID int64) error {
	var listed bool // the list is usually empty: then there is nothing to look up
	if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM suppressions)").Scan(&listed); err != nil || !listed {
		return err
	}
	var waID, userID sql.NullString
	if err := t.queryRow("SELECT wa_id, user_id FROM contacts WHERE id = ?", contactID).
		Scan(&waID, &userID); err != nil {
		return err
	}
	hashes, err := suppressionHashes(t.ctx, cachedTx{t}, waID.String, userID.String)
	if err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := t.exec("DELETE FROM suppressions WHERE hash = ?", h); err != nil {
			return fmt.Errorf("suppression list: %w", err)
		}
	}
	return nil
}

// MarketingHold is how long marketing to a customer waits after Meta
// answered 131049 (its per-user marketing limit): Meta asks for no retry
// within 24 hours.
const MarketingHold = 24 * time.Hour

// Meta's error codes that change a contact's marketing state.
const (
	codeMarketingLimit   = 131049 // per-user marketing limit: hold marketing for 24 hours
	codeMarketingStopped = 131050 // the customer stopped marketing messages
)

// metaMarketingError records what Meta's answer about a marketing message
// says of the customer: 131050 means they stopped marketing messages (their
// consent becomes opted_out unless a later choice is recorded), 131049 that
// Meta's per-user limit was hit (marketing waits 24 hours from at).
func (t *wtx) metaMarketingError(contactID int64, code int, at time.Time) error {
	if contactID == 0 {
		return nil
	}
	switch code {
	case codeMarketingStopped:
		return t.recordConsent(ConsentEntry{ContactID: contactID, Status: ConsentOptedOut, Source: ConsentSourceMeta131050,
			Detail: "meta 131050", At: at, Proof: map[string]any{"error_code": code}, ifLatest: true, ifChanged: true})
	case codeMarketingLimit:
		r, err := t.tx.ExecContext(t.ctx, `UPDATE contacts SET marketing_hold_until = ?1, updated_at = ?2
			WHERE id = ?3 AND COALESCE(marketing_hold_until, 0) < ?1`, at.Add(MarketingHold).UnixMilli(), t.now.UnixMilli(), contactID)
		if err != nil {
			return fmt.Errorf("meta error %d: %w", code, err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		return t.emit(events.Event{Type: events.ContactUpdated, ContactID: contactID, Status: events.ChangeConsent})
	}
	return nil
}

// recipientContact finds the contact a status webhook's recipient_id names.
func (t *wtx) recipientContact(recipient string) (int64, error) {
	if recipient == "" {
		return 0, nil
	}
	var id int64
	var u string
	err := t.stmt(t.st.contactByWa).QueryRowContext(t.ctx, recipient).Scan(&id, &u)
	if errors.Is(err, sql.ErrNoRows) {
		err = t.stmt(t.st.contactByUser).QueryRowContext(t.ctx, recipient).Scan(&id, &u)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}
