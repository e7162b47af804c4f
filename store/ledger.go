package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"sendbox/events"
)

// The consent ledger keeps every consent a contact gave or withdrew, per
// purpose, with where it came from, the wording they saw, the proof and
// who recorded it. It is append-only; contacts.consent, consent_source and
// consent_at are the current marketing state, written in the same
// transaction as each record that changes it, so the checks that read the
// contact (outbound's) need no join.
//
// Tamper evidence: each record's hash is SHA-256(previous hash || digest),
// the digest a SHA-256 over a canonical encoding of the record's payload.
// Erasing a contact blanks its records' payloads but keeps their digests,
// so the chain still verifies without keeping anything about the person.
// Whoever holds the database can rewrite the whole chain: this shows an
// edited or deleted record, it does not prevent it. Records removed from
// the end leave a valid chain: the anchor beside the database
// (ledgeranchor.go) shows those.
const schemaV16 = `
CREATE TABLE consent_ledger (
	id              INTEGER PRIMARY KEY,
	contact_id      INTEGER,                 -- NULL once the contact is erased
	purpose         TEXT NOT NULL,           -- marketing, utility
	status          TEXT NOT NULL,           -- opted_in, opted_out, unknown
	effect          TEXT NOT NULL,           -- applied, superseded, refused_suppressed, pending
	source          TEXT NOT NULL,           -- keyword, form, import, agent, api, ... (ConsentSource*)
	detail          TEXT NOT NULL DEFAULT '', -- what contacts.consent_source shows ("set by Maria")
	wording         TEXT NOT NULL DEFAULT '',
	wording_version TEXT NOT NULL DEFAULT '',
	proof           TEXT NOT NULL DEFAULT '{}',
	actor           TEXT NOT NULL DEFAULT '{}', -- events.Actor as JSON
	at              INTEGER NOT NULL,        -- when the customer gave or withdrew it
	recorded_at     INTEGER NOT NULL,
	dedupe_key      TEXT UNIQUE,             -- a record with the same key is written once
	erased_at       INTEGER,
	digest          TEXT NOT NULL,           -- hex SHA-256 of the canonical payload
	hash            TEXT NOT NULL            -- hex SHA-256(previous hash || digest)
);
CREATE INDEX consent_ledger_contact ON consent_ledger(contact_id, id) WHERE contact_id IS NOT NULL;
`

// migrateV16 creates the ledger and gives every contact whose consent is
// known one "migrated" record, so each current state has a record behind it.
func migrateV16(ctx context.Context, tx *sql.Tx) error {
	if err := execAll(schemaV16)(ctx, tx); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, consent, consent_source, consent_at FROM contacts
		WHERE consent != 'unknown' ORDER BY id`)
	if err != nil {
		return err
	}
	var recs []ledgerRow
	nowMS := time.Now().UnixMilli()
	for rows.Next() {
		var r ledgerRow
		var at sql.NullInt64
		var source string
		if err := rows.Scan(&r.contactID, &r.status, &source, &at); err != nil {
			rows.Close()
			return err
		}
		proof, _ := json.Marshal(map[string]string{"consent_source": source})
		r.purpose, r.effect, r.source, r.detail, r.proof = PurposeMarketing, EffectApplied, ConsentSourceMigrated, source, string(proof)
		r.actor = `{"kind":"system","name":"migration 16"}`
		r.at, r.recordedAt = nowMS, nowMS
		if at.Valid {
			r.at = at.Int64
		}
		recs = append(recs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := appendLedger(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}

// Purposes a consent is given for: marketing messages, and separately the
// utility messages the business sends (reminders, order updates).
const (
	PurposeMarketing = "marketing"
	PurposeUtility   = "utility"
)

// Sources of a consent record.
const (
	ConsentSourceImport        = "import"               // a row of an imported file (proof: file and row)
	ConsentSourceKeyword       = "keyword"              // the customer wrote an opt-in or opt-out word (proof: the message)
	ConsentSourceLink          = "link"                 // the keyword of the wa.me link or QR code (proof: the message)
	ConsentSourceForm          = "form"                 // the hosted opt-in page (proof: IP, user agent)
	ConsentSourceAgent         = "agent"                // a person in the panel
	ConsentSourceAPI           = "api"                  // an integration
	ConsentSourcePreferences   = "whatsapp_preferences" // Meta's user_preferences webhook
	ConsentSourceMeta131050    = "meta_131050"          // Meta refused a marketing message: the customer stopped them
	ConsentSourceCampaignReply = "campaign_reply"       // a reply to a campaign
	ConsentSourceDoubleOptIn   = "double_opt_in"        // the tap on the confirmation button (proof: its message)
	ConsentSourceMigrated      = "migrated"             // the state a contact had before the ledger existed
	ConsentSourceSystem        = "system"               // sendbox itself, by a caller that says no more
)

// Effects of a consent record on the contact's current state.
const (
	EffectApplied    = "applied"            // it is (or was) the current state
	EffectSuperseded = "superseded"         // a later choice was recorded before it arrived
	EffectRefused    = "refused_suppressed" // an opt-in without proof for an erased opted-out number
	EffectPending    = "pending"            // asked for, waits for the double opt-in's confirmation
)

// ErrConsentRefused: an opt-in was recorded but not applied, because the
// number is on the suppression list and the source is no explicit opt-in
// with proof (an import row, an agent or API call without proof).
var ErrConsentRefused = errors.New("the number opted out before it was erased: only an explicit opt-in with proof (keyword, form, double opt-in) brings it back")

// ConsentEntry is one consent to record.
type ConsentEntry struct {
	ContactID      int64
	Purpose        string // PurposeMarketing ("" means it) or PurposeUtility
	Status         string // ConsentOptedIn, ConsentOptedOut or ConsentUnknown
	Source         string // ConsentSource*
	Detail         string // what the contact's consent_source shows; "" means Source
	Wording        string // the exact words the customer was shown
	WordingVersion string
	Proof          map[string]any // message id, file and row, IP and user agent...
	Actor          *events.Actor  // nil: the actor of the caller's context
	At             time.Time      // when the customer chose; zero: now
	// Key, if set, makes the record once: a second entry with the same key
	// records nothing (a redelivered message, a retried request).
	Key string
	// Pending records a request that waits for the customer's confirmation
	// (double opt-in): the current state does not change.
	Pending bool

	// ifLatest: a choice older than the recorded one is superseded (Meta's
	// retries may bring an old one late).
	ifLatest bool
	// ifChanged: nothing is recorded when the state is already this one.
	ifChanged bool
	// eventStatus replaces events.ChangeConsent on the event.
	eventStatus string
}

// ConsentRecord is one record of the ledger as read back.
type ConsentRecord struct {
	ID             int64           `json:"id"`
	ContactID      int64           `json:"contact_id,omitempty"`
	Purpose        string          `json:"purpose,omitempty"`
	Status         string          `json:"status,omitempty"`
	Effect         string          `json:"effect,omitempty"`
	Source         string          `json:"source,omitempty"`
	Detail         string          `json:"detail,omitempty"`
	Wording        string          `json:"wording,omitempty"`
	WordingVersion string          `json:"wording_version,omitempty"`
	Proof          json.RawMessage `json:"proof,omitempty"`
	Actor          *events.Actor   `json:"actor,omitempty"`
	At             time.Time       `json:"at,omitzero"`
	RecordedAt     time.Time       `json:"recorded_at,omitzero"`
	ErasedAt       time.Time       `json:"erased_at,omitzero"`
	Hash           string          `json:"hash"`
}

// ledgerRow is a record's stored columns; the payload is what the digest covers.
type ledgerRow struct {
	contactID                                                               int64
	purpose, status, effect, source, detail, wording, version, proof, actor string
	at, recordedAt                                                          int64
	key                                                                     string // not in the digest: a technical column
}

// digest is the SHA-256 of the payload's canonical encoding: a version
// tag, then each field as its length (uvarint) and bytes, in a fixed order.
func (r ledgerRow) digest() []byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, f := range []string{"consent-ledger/1", strconv.FormatInt(r.contactID, 10), r.purpose, r.status, r.effect,
		r.source, r.detail, r.wording, r.version, r.proof, r.actor, strconv.FormatInt(r.at, 10),
		strconv.FormatInt(r.recordedAt, 10)} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

// chain is the hash of a record: SHA-256(previous hash || digest); the
// first record's previous hash is empty.
func chain(prev, digest []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(digest)
	return h.Sum(nil)
}

type execQuerier interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// appendLedger writes a record at the end of the chain. Called inside the
// single writer's transaction, so no other append runs between the read
// of the last hash and the insert.
func appendLedger(ctx context.Context, tx execQuerier, r ledgerRow) (int64, error) {
	id, _, err := appendLedgerWith(func(q string, args ...any) *sql.Row { return tx.QueryRowContext(ctx, q, args...) }, nil, r)
	return id, err
}

// appendLedger appends in the write transaction, with its prepared
// statements, and keeps the new last hash for the transaction's next
// append: an import records a consent per row.
func (t *wtx) appendLedger(r ledgerRow) (int64, error) {
	id, h, err := appendLedgerWith(t.queryRow, t.ledgerHead, r)
	if err == nil {
		t.ledgerHead = h
	}
	return id, err
}

// appendLedgerWith appends r after the last record, whose hash is prev
// when known (nil: read it).
func appendLedgerWith(queryRow func(q string, args ...any) *sql.Row, prev []byte, r ledgerRow) (int64, []byte, error) {
	if prev == nil {
		var last string
		err := queryRow("SELECT hash FROM consent_ledger ORDER BY id DESC LIMIT 1").Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, nil, fmt.Errorf("consent ledger: %w", err)
		}
		if prev, err = hex.DecodeString(last); err != nil {
			return 0, nil, fmt.Errorf("consent ledger: the last hash %q is damaged", last)
		}
	}
	d := r.digest()
	h := chain(prev, d)
	var id int64
	err := queryRow(`INSERT INTO consent_ledger (contact_id, purpose, status, effect, source, detail, wording,
		wording_version, proof, actor, at, recorded_at, dedupe_key, digest, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		r.contactID, r.purpose, r.status, r.effect, r.source, r.detail, r.wording, r.version, r.proof, r.actor, r.at, r.recordedAt,
		nullStr(r.key), hex.EncodeToString(d), hex.EncodeToString(h)).Scan(&id)
	if err != nil {
		return 0, nil, fmt.Errorf("consent ledger: %w", err)
	}
	return id, h, nil
}

// RecordConsent appends a consent to the ledger and, if it applies, makes
// it the contact's current state, in one transaction. It returns the
// record; its Effect says whether it applied. An opt-in refused for a
// suppressed number is recorded and returned with ErrConsentRefused.
func (s *Store) RecordConsent(ctx context.Context, e ConsentEntry) (*ConsentRecord, error) {
	var id int64
	err := s.update(ctx, func(t *wtx) error {
		var err error
		id, _, err = t.appendConsent(e)
		return err
	})
	if err != nil {
		return nil, err
	}
	rec, err := s.consentRecord(ctx, id)
	if err == nil && rec.Effect == EffectRefused {
		return rec, ErrConsentRefused
	}
	return rec, err
}

// recordConsent appends a consent to the ledger and applies it (see
// RecordConsent); a refused opt-in is recorded, not an error.
func (t *wtx) recordConsent(e ConsentEntry) error {
	_, _, err := t.appendConsent(e)
	return err
}

func checkEntry(e *ConsentEntry) error {
	if e.Purpose == "" {
		e.Purpose = PurposeMarketing
	}
	if e.Purpose != PurposeMarketing && e.Purpose != PurposeUtility {
		return fmt.Errorf("consent purpose is marketing or utility, not %q", e.Purpose)
	}
	if err := checkConsent(e.Status); err != nil {
		return err
	}
	if e.Source == "" {
		return errors.New("a consent record needs its source")
	}
	return nil
}

// liftsSuppression says whether an opt-in from this source may take an
// erased opted-out number off the suppression list: only an explicit
// opt-in by the customer, with proof. sendbox's own callers (system) are
// trusted; an import row never is.
func liftsSuppression(e *ConsentEntry) bool {
	switch e.Source {
	case ConsentSourceKeyword, ConsentSourceLink, ConsentSourceForm, ConsentSourceDoubleOptIn, ConsentSourcePreferences,
		ConsentSourceSystem:
		return true
	case ConsentSourceAgent, ConsentSourceAPI:
		return len(e.Proof) > 0
	}
	return false
}

// appendConsent records e and returns its id (0 when nothing was recorded:
// an unchanged state with ifChanged) and its effect ("" for a known key).
func (t *wtx) appendConsent(e ConsentEntry) (int64, string, error) {
	if err := checkEntry(&e); err != nil {
		return 0, "", err
	}
	if e.Key != "" {
		var id int64
		err := t.queryRow("SELECT id FROM consent_ledger WHERE dedupe_key = ?", e.Key).Scan(&id)
		if err == nil {
			return id, "", nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, "", err
		}
	}
	if e.At.IsZero() {
		e.At = t.now
	}
	optedOutOf, err := t.attributeOptOut(&e)
	if err != nil {
		return 0, "", err
	}
	actor := t.actor
	if e.Actor != nil {
		actor = *e.Actor
	}
	if e.Detail == "" {
		e.Detail = e.Source
	}
	var waID, userID sql.NullString
	var consent string
	var consentAt sql.NullInt64
	err = t.queryRow("SELECT wa_id, user_id, consent, consent_at FROM contacts WHERE id = ?", e.ContactID).
		Scan(&waID, &userID, &consent, &consentAt)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNotFound
	}
	if err != nil {
		return 0, "", err
	}
	effect := EffectApplied
	switch {
	case e.Pending:
		effect = EffectPending
	case e.Purpose != PurposeMarketing:
	case e.ifChanged && consent == e.Status:
		return 0, "", nil
	case e.ifLatest && consentAt.Valid && consentAt.Int64 > e.At.UnixMilli():
		effect = EffectSuperseded
	case e.Status == ConsentOptedIn && !liftsSuppression(&e):
		sup, err := t.suppressed(waID.String, userID.String)
		if err != nil {
			return 0, "", err
		}
		if sup {
			effect = EffectRefused
		}
	}
	proof := []byte("{}")
	if len(e.Proof) > 0 {
		if proof, err = json.Marshal(e.Proof); err != nil {
			return 0, "", fmt.Errorf("consent proof: %w", err)
		}
	}
	actorJSON, err := json.Marshal(actor)
	if err != nil {
		return 0, "", err
	}
	id, err := t.appendLedger(ledgerRow{contactID: e.ContactID, purpose: e.Purpose, status: e.Status,
		effect: effect, source: e.Source, detail: e.Detail, wording: e.Wording, version: e.WordingVersion,
		proof: string(proof), actor: string(actorJSON), at: e.At.UnixMilli(), recordedAt: t.now.UnixMilli(), key: e.Key})
	if err != nil {
		return 0, "", err
	}
	if effect != EffectApplied || e.Purpose != PurposeMarketing {
		return id, effect, nil
	}
	if _, err := t.exec(`UPDATE contacts SET consent = ?, consent_source = ?, consent_at = ?, updated_at = ?
		WHERE id = ?`, e.Status, e.Detail, e.At.UnixMilli(), t.now.UnixMilli(), e.ContactID); err != nil {
		return 0, "", err
	}
	if e.Status == ConsentOptedIn {
		if err := t.unsuppress(e.ContactID); err != nil {
			return 0, "", err
		}
	}
	if optedOutOf != 0 {
		if err := t.markOptedOut(optedOutOf, e.At); err != nil {
			return 0, "", err
		}
	}
	ev := events.Event{Type: events.ContactUpdated, ContactID: e.ContactID, Status: events.ChangeConsent,
		Data: map[string]any{events.DataConsent: e.Status, events.DataSource: e.Detail}}
	if e.eventStatus != "" {
		ev.Status, ev.Data = e.eventStatus, map[string]any{events.DataConsent: e.Status}
	}
	return id, effect, t.emit(ev)
}

// suppressed reports, inside the transaction, whether a number or BSUID is
// on the suppression list.
func (t *wtx) suppressed(waID, userID string) (bool, error) {
	if waID == "" && userID == "" {
		return false, nil
	}
	// Most businesses have erased nobody: no key to read, no hash to make
	// (an import asks for every row).
	var listed bool
	if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM suppressions)").Scan(&listed); err != nil || !listed {
		return false, err
	}
	hashes, err := suppressionHashes(t.ctx, cachedTx{t}, waID, userID)
	if err != nil {
		return false, err
	}
	for _, h := range hashes {
		var one int
		err := t.queryRow("SELECT 1 FROM suppressions WHERE hash = ?", h).Scan(&one)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	return false, nil
}

// sourceOf is the ledger source of a consent set through setConsent,
// which says only who acted.
func sourceOf(a events.Actor) string {
	switch a.Kind {
	case events.ActorUser:
		return ConsentSourceAgent
	case events.ActorAPIKey:
		return ConsentSourceAPI
	}
	return ConsentSourceSystem
}

// eraseLedger blanks the payload of a contact's records, keeping their
// digests and hashes: the chain still verifies, nothing about the person
// is left.
func (t *wtx) eraseLedger(contactID int64) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE consent_ledger SET contact_id = NULL, purpose = '', status = '', effect = '',
		source = '', detail = '', wording = '', wording_version = '', proof = '', actor = '', at = 0, recorded_at = 0,
		dedupe_key = NULL, erased_at = ? WHERE contact_id = ?`, t.now.UnixMilli(), contactID)
	if err != nil {
		return fmt.Errorf("erase consent ledger: %w", err)
	}
	return nil
}

const ledgerCols = `id, COALESCE(contact_id, 0), purpose, status, effect, source, detail, wording, wording_version, proof, actor,
	at, recorded_at, erased_at, digest, hash`

func scanLedger(sc interface{ Scan(...any) error }) (*ConsentRecord, ledgerRow, string, error) {
	var c ConsentRecord
	var r ledgerRow
	var erased sql.NullInt64
	var digest string
	if err := sc.Scan(&c.ID, &r.contactID, &r.purpose, &r.status, &r.effect, &r.source, &r.detail, &r.wording, &r.version,
		&r.proof, &r.actor, &r.at, &r.recordedAt, &erased, &digest, &c.Hash); err != nil {
		return nil, r, "", err
	}
	c.ContactID, c.Purpose, c.Status, c.Effect, c.Source, c.Detail = r.contactID, r.purpose, r.status, r.effect, r.source, r.detail
	c.Wording, c.WordingVersion, c.ErasedAt = r.wording, r.version, fromMS(erased)
	if !erased.Valid {
		c.Proof = json.RawMessage(jsonText(r.proof))
		c.At, c.RecordedAt = time.UnixMilli(r.at).UTC(), time.UnixMilli(r.recordedAt).UTC()
		var a events.Actor
		if json.Unmarshal([]byte(r.actor), &a) == nil {
			c.Actor = &a
		}
	}
	return &c, r, digest, nil
}

func (s *Store) consentRecord(ctx context.Context, id int64) (*ConsentRecord, error) {
	c, _, _, err := scanLedger(s.r.QueryRowContext(ctx, "SELECT "+ledgerCols+" FROM consent_ledger WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// ConsentLedger returns a contact's consent records, newest first.
func (s *Store) ConsentLedger(ctx context.Context, contactID int64) ([]ConsentRecord, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+ledgerCols+" FROM consent_ledger WHERE contact_id = ? ORDER BY id DESC", contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ConsentRecord{}
	for rows.Next() {
		c, _, _, err := scanLedger(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// CurrentConsent returns a contact's current consent for a purpose: the
// latest applied record (nil if none).
func (s *Store) CurrentConsent(ctx context.Context, contactID int64, purpose string) (*ConsentRecord, error) {
	c, _, _, err := scanLedger(s.r.QueryRowContext(ctx, "SELECT "+ledgerCols+` FROM consent_ledger
		WHERE contact_id = ? AND purpose = ? AND effect = 'applied' ORDER BY id DESC LIMIT 1`, contactID, purpose))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// LedgerCheck is what verifying the consent ledger found.
type LedgerCheck struct {
	OK      bool   `json:"ok"`
	Records int    `json:"records"`
	Erased  int    `json:"erased"`
	Head    string `json:"head,omitempty"` // the last record's hash
	// AnchorID is the record the anchor beside the database names, and
	// AnchorAt when it was written (ledgeranchor.go).
	AnchorID int64     `json:"anchor_id,omitempty"`
	AnchorAt time.Time `json:"anchor_at,omitzero"`
	// BrokenID is the first record that does not verify, and Reason why.
	BrokenID int64  `json:"broken_id,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// VerifyConsentLedger walks the whole chain and reports the first record
// whose payload does not match its digest, or whose hash does not follow
// from the previous record's. It reads one snapshot of the database.
func (s *Store) VerifyConsentLedger(ctx context.Context) (*LedgerCheck, error) {
	// The anchor first: it is written after the records it names were
	// committed, so the walk below sees them.
	anchor, anchorErr := readAnchor(s.anchorPath())
	out := &LedgerCheck{OK: true}
	var last int64
	var anchoredHash string
	var anchoredSeen bool
	defer func() {
		checkAnchor(out, anchor, anchorErr, last, anchoredHash, anchoredSeen)
	}()
	rows, err := s.r.QueryContext(ctx, "SELECT "+ledgerCols+" FROM consent_ledger ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var prev []byte
	for rows.Next() {
		c, r, stored, err := scanLedger(rows)
		if err != nil {
			return nil, err
		}
		out.Records++
		d, err := hex.DecodeString(stored)
		broken := func(why string) (*LedgerCheck, error) {
			out.OK, out.BrokenID, out.Reason = false, c.ID, why
			return out, nil
		}
		if err != nil || len(d) != sha256.Size {
			return broken("its digest is damaged")
		}
		if c.ErasedAt.IsZero() {
			if !bytes.Equal(r.digest(), d) {
				return broken("its content was changed: it does not match its digest")
			}
		} else {
			out.Erased++
		}
		h := chain(prev, d)
		if hex.EncodeToString(h) != c.Hash {
			return broken("its hash does not follow from the previous record: a record was changed, removed or inserted")
		}
		prev, out.Head, last = h, c.Hash, c.ID
		if anchor != nil && c.ID == anchor.ID {
			anchoredHash, anchoredSeen = c.Hash, true
		}
	}
	return out, rows.Err()
}
