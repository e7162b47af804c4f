package store

import (
	"context"
	"time"
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
