package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ListWebhookEvents returns recorded non-message webhook changes, newest
// first, optionally of one field.
func (s *Store) ListWebhookEvents(ctx context.Context, field string, limit int) ([]WebhookEvent, error) {
	q := "SELECT id, field, type, waba_id, phone_number_id, event_time, value, received_at FROM webhook_events"
	var args []any
	if field != "" {
		q += " WHERE field = ?"
		args = append(args, field)
	}
	q += " ORDER BY id DESC LIMIT ?"
	rows, err := s.r.QueryContext(ctx, q, append(args, clampLimit(limit))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WebhookEvent
	for rows.Next() {
		var e WebhookEvent
		var evt sql.NullInt64
		var received int64
		var value string
		if err := rows.Scan(&e.ID, &e.Field, &e.Type, &e.WABAID, &e.PhoneNumberID, &evt, &value, &received); err != nil {
			return nil, err
		}
		e.EventTime, e.ReceivedAt, e.Value = fromMS(evt), time.UnixMilli(received).UTC(), jsonText(value)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Setting returns a stored setting, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, err
}

// InitSetting stores value under key unless the key has one, and returns
// the one stored: the first caller's value wins, however many race.
func (s *Store) InitSetting(ctx context.Context, key, value string) (string, error) {
	var v string
	err := s.update(ctx, func(t *wtx) error {
		if _, err := t.exec("INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, ?, ?)", key, value, t.now.UnixMilli()); err != nil {
			return err
		}
		return t.queryRow("SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	})
	return v, err
}

// SetSetting stores a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, now().UnixMilli())
	return err
}
