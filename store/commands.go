package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sendbox/events"
)

// Store methods the inbox's commands (inbox/commands.go, inbox/contacts.go)
// need beyond the older ones, kept apart to ease merging.

// UpdateContactConsent saves a contact's editable fields and tags and, in
// the same transaction, its marketing consent (as SetConsent does). An
// opt-in refused for a suppressed number (see liftsSuppression) is recorded
// as such, the rest saved, and ErrConsentRefused returned.
func (s *Store) UpdateContactConsent(ctx context.Context, id int64, u ContactUpdate, consent, source string, at time.Time) error {
	if err := checkConsent(consent); err != nil {
		return err
	}
	var effect string
	err := s.update(ctx, func(t *wtx) error {
		if err := t.updateContact(ctx, id, u); err != nil {
			return err
		}
		var err error
		_, effect, err = t.appendConsent(ConsentEntry{ContactID: id, Status: consent, Source: sourceOf(t.actor), Detail: source, At: at})
		return err
	})
	if err == nil && effect == EffectRefused {
		return ErrConsentRefused
	}
	return err
}

// CreateContact adds a contact with a phone number (digits, as wa_id)
// before the customer has written, with its fields and tags and, unless
// consent is "", its consent (as SetConsent records it), in one
// transaction. A contact with that number already is ErrConflict; an
// opt-in refused for a suppressed number is recorded as such, the contact
// added, and ErrConsentRefused returned with its id.
func (s *Store) CreateContact(ctx context.Context, waID string, u ContactUpdate, consent, source string, at time.Time) (int64, error) {
	if consent != "" {
		if err := checkConsent(consent); err != nil {
			return 0, err
		}
	}
	attrs, err := json.Marshal(u.Attributes)
	if err != nil {
		return 0, err
	}
	if u.Attributes == nil {
		attrs = []byte("{}")
	}
	var id int64
	var effect string
	err = s.update(ctx, func(t *wtx) error {
		err := t.tx.QueryRowContext(ctx, `INSERT INTO contacts (wa_id, name, email, notes, attributes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, waID, u.Name, u.Email, u.Notes, string(attrs),
			t.now.UnixMilli(), t.now.UnixMilli()).Scan(&id)
		if isUnique(err) {
			return fmt.Errorf("a contact with the number +%s: %w", waID, ErrConflict)
		}
		if err != nil {
			return err
		}
		if err := t.replaceTags(ctx, id, u.Tags); err != nil {
			return err
		}
		if err := t.emitContactChange(events.ContactCreated, id, contactState{}); err != nil {
			return err
		}
		if consent == "" {
			return nil
		}
		_, effect, err = t.appendConsent(ConsentEntry{ContactID: id, Status: consent, Source: sourceOf(t.actor), Detail: source, At: at})
		return err
	})
	if err == nil && effect == EffectRefused {
		return id, ErrConsentRefused
	}
	return id, err
}

// ErrTooManyTags: a tag edit would leave a contact with more tags than allowed.
var ErrTooManyTags = errors.New("too many tags")

// EditContactTags adds and removes a contact's tags in one transaction, so
// that edits made at the same time all count (tags compare without regard
// to case; an added tag the contact has already keeps its spelling). An
// edit that would leave more than max tags is ErrTooManyTags and changes
// nothing.
func (s *Store) EditContactTags(ctx context.Context, id int64, add, remove []string, max int) error {
	return s.update(ctx, func(t *wtx) error {
		before, err := t.contactState(id)
		if err != nil {
			return err
		}
		r, err := t.tx.ExecContext(ctx, "UPDATE contacts SET updated_at = ? WHERE id = ?", t.now.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		for _, tag := range remove {
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM contact_tags WHERE contact_id = ? AND tag = ?", id, tag); err != nil {
				return err
			}
		}
		for _, tag := range add {
			if _, err := t.tx.ExecContext(ctx, "INSERT OR IGNORE INTO contact_tags (contact_id, tag) VALUES (?, ?)", id, tag); err != nil {
				return err
			}
		}
		var n int
		if err := t.tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM contact_tags WHERE contact_id = ?", id).Scan(&n); err != nil {
			return err
		}
		if n > max {
			return ErrTooManyTags
		}
		return t.emitContactChange(events.ContactUpdated, id, before)
	})
}
