package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// ContactEvent is an event from the business's own system about a contact
// (an order, a booking), kept for segments ("ordered within 30 days") and
// campaign conversions.
type ContactEvent struct {
	ID        int64             `json:"id"`
	ContactID int64             `json:"contact_id"`
	Name      string            `json:"name"`
	Key       string            `json:"key"`
	Data      map[string]string `json:"data,omitempty"`
	At        time.Time         `json:"at"`
}

// RecordContactEvent keeps an event for its contact, once per key: false if
// an event of that key is kept already (the same event sent again). At
// defaults to now.
func (s *Store) RecordContactEvent(ctx context.Context, e ContactEvent) (bool, error) {
	var added bool
	err := s.update(ctx, func(t *wtx) error {
		var err error
		added, err = t.recordContactEvent(e)
		return err
	})
	return added, err
}

func (t *wtx) recordContactEvent(e ContactEvent) (bool, error) {
	data := []byte("{}")
	if len(e.Data) > 0 {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return false, err
		}
	}
	at := e.At
	if at.IsZero() {
		at = t.now
	}
	r, err := t.tx.ExecContext(t.ctx, `INSERT INTO contact_events (contact_id, name, key, data, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, e.ContactID, e.Name, e.Key, string(data), at.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("record event %s: %w", e.Name, err)
	}
	n, err := r.RowsAffected()
	if err != nil || n != 1 {
		return false, err
	}
	// A new event converts the campaigns that count it; the same key
	// again converts nothing.
	if _, err := t.campaignConversion(e.ContactID, e.Name, at); err != nil {
		return false, err
	}
	return true, nil
}

// ContactEvents are a contact's events, newest first, at most limit.
func (s *Store) ContactEvents(ctx context.Context, contactID int64, limit int) ([]ContactEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, contact_id, name, key, data, at FROM contact_events
		WHERE contact_id = ? ORDER BY at DESC, id DESC LIMIT ?`, contactID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("contact events: %w", err)
	}
	defer rows.Close()
	out := []ContactEvent{}
	for rows.Next() {
		var e ContactEvent
		var data string
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &e.ContactID, &e.Name, &e.Key, &data, &at); err != nil {
			return nil, err
		}
		if data != "{}" {
			if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
				return nil, fmt.Errorf("event %d data: %w", e.ID, err)
			}
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
