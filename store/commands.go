package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"sendbox/events"
)

// Store methods the inbox's commands (inbox/commands.go, inbox/contacts.go)
// need beyond the older ones, kept apart to ease merging.

// UpdateContactConsent saves a contact's editable fields and tags and, in
// the same transaction, its marketing consent (as SetConsent does).
func (s *Store) UpdateContactConsent(ctx context.Context, id int64, u ContactUpdate, consent, source string, at time.Time) error {
	if err := checkConsent(consent); err != nil {
		return err
	}
	return s.update(ctx, func(t *wtx) error {
		if err := t.updateContact(ctx, id, u); err != nil {
			return err
		}
		return t.setConsent(ctx, id, consent, source, at)
	})
}

// CreateContact adds a contact with a phone number (digits, as wa_id)
// before the customer has written, with its fields and tags and, unless
// consent is "", its consent (as SetConsent records it), in one
// transaction. A contact with that number already is ErrConflict.
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
		if err := t.emit(events.Event{Type: events.ContactCreated, ContactID: id}); err != nil {
			return err
		}
		if consent == "" {
			return nil
		}
		return t.setConsent(ctx, id, consent, source, at)
	})
	return id, err
}
