package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"sendbox/events"
)

// Removed lists the media files that no row refers to any more after a
// deletion: the caller deletes them from disk once the transaction committed.
type Removed struct {
	Messages   int
	MediaPaths []string
}

// DeleteMessage removes one message, its statuses and, if no other message
// shares it, its media file.
func (s *Store) DeleteMessage(ctx context.Context, id int64) (*Removed, error) {
	out := &Removed{}
	err := s.update(ctx, func(t *wtx) error {
		var conv, contact int64
		var wamid, path sql.NullString
		err := t.tx.QueryRowContext(ctx, "SELECT conversation_id, contact_id, wamid, media_path FROM messages WHERE id = ?", id).
			Scan(&conv, &contact, &wamid, &path)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := t.deleteMessages(ctx, "id = ?", []any{id}, out); err != nil {
			return err
		}
		return t.emit(events.Event{Type: events.MessageDeleted, MessageID: id, ConversationID: conv, ContactID: contact})
	})
	return out, err
}

// EraseContact removes a customer and everything about them: conversations,
// messages, statuses, timeline, tags. It is the right to erasure: nothing of
// theirs is left but the media files the caller deletes next, and, if they
// had opted out of marketing, a keyed hash of their number on the
// suppression list, so the opt-out outlives them.
func (s *Store) EraseContact(ctx context.Context, id int64) (*Removed, error) {
	out := &Removed{}
	err := s.update(ctx, func(t *wtx) error {
		var waID, userID sql.NullString
		var consent string
		if err := t.tx.QueryRowContext(ctx, "SELECT wa_id, user_id, consent FROM contacts WHERE id = ?", id).
			Scan(&waID, &userID, &consent); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if consent == ConsentOptedOut {
			if err := t.suppress(waID.String, userID.String); err != nil {
				return err
			}
		}
		if err := t.eraseLedger(id); err != nil {
			return err
		}
		// Rows an import turned down keep the number and the row's cells
		// for a while (package contacts): theirs go now.
		if err := t.eraseImportRows(waID.String); err != nil {
			return err
		}
		// Webhook records that name them (marketing preferences, system
		// notices…) go too: their raw JSON holds the number.
		for _, v := range []sql.NullString{waID, userID} {
			if v.Valid && v.String != "" {
				if _, err := t.tx.ExecContext(ctx, "DELETE FROM webhook_events WHERE instr(value, ?) > 0", `"`+v.String+`"`); err != nil {
					return err
				}
			}
		}
		// One event per message lets the search index drop each document.
		rows, err := t.tx.QueryContext(ctx, "SELECT id, conversation_id FROM messages WHERE contact_id = ?", id)
		if err != nil {
			return err
		}
		type ref struct{ id, conv int64 }
		var refs []ref
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.id, &r.conv); err != nil {
				rows.Close()
				return err
			}
			refs = append(refs, r)
		}
		rows.Close()
		if err := t.deleteMessages(ctx, "contact_id = ?", []any{id}, out); err != nil {
			return err
		}
		for _, r := range refs {
			if err := t.emit(events.Event{Type: events.MessageDeleted, MessageID: r.id, ConversationID: r.conv, ContactID: id}); err != nil {
				return err
			}
		}
		for _, q := range []string{
			"DELETE FROM conversations WHERE contact_id = ?", // cascades to labels and the timeline
			"DELETE FROM contacts WHERE id = ?",              // cascades to tags
		} {
			if _, err := t.tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("erase contact: %w", err)
			}
		}
		return t.emit(events.Event{Type: events.ContactErased, ContactID: id})
	})
	return out, err
}

// deleteMessages deletes the messages matching where, their statuses, and
// notes which media files are no longer referenced.
func (t *wtx) deleteMessages(ctx context.Context, where string, args []any, out *Removed) error {
	rows, err := t.tx.QueryContext(ctx, "SELECT DISTINCT media_path FROM messages WHERE media_path IS NOT NULL AND "+where, args...)
	if err != nil {
		return err
	}
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return err
		}
		paths = append(paths, p)
	}
	rows.Close()
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM statuses WHERE wamid IN (SELECT wamid FROM messages
		WHERE wamid IS NOT NULL AND `+where+`)`, args...); err != nil {
		return err
	}
	r, err := t.tx.ExecContext(ctx, "DELETE FROM messages WHERE "+where, args...)
	if err != nil {
		return err
	}
	n, _ := r.RowsAffected()
	out.Messages += int(n)
	for _, p := range paths {
		var still int
		if err := t.tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages WHERE media_path = ?", p).Scan(&still); err != nil {
			return err
		}
		if still == 0 {
			out.MediaPaths = append(out.MediaPaths, p)
		}
	}
	return nil
}
