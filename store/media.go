package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"sendbox/events"
)

// SetMediaStored records that a message's media is on disk.
func (s *Store) SetMediaStored(ctx context.Context, msgID int64, path string, size int64, mime string) error {
	return s.setMedia(ctx, msgID, `UPDATE messages SET media_state = 'stored', media_path = ?, media_size = ?,
		media_mime = COALESCE(NULLIF(media_mime, ''), ?), media_error = NULL WHERE id = ?
		RETURNING conversation_id, contact_id`, path, size, mime, msgID)
}

// SetMediaFailed records why a message's media could not be stored.
func (s *Store) SetMediaFailed(ctx context.Context, msgID int64, reason string) error {
	return s.setMedia(ctx, msgID, `UPDATE messages SET media_state = 'failed', media_error = ? WHERE id = ?
		RETURNING conversation_id, contact_id`, reason, msgID)
}

func (s *Store) setMedia(ctx context.Context, msgID int64, query string, args ...any) error {
	return s.update(ctx, func(t *wtx) error {
		var conv, contact int64
		if err := t.tx.QueryRowContext(ctx, query, args...).Scan(&conv, &contact); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("media of message %d: %w", msgID, err)
		}
		return t.emit(events.Event{Type: events.MessageUpdated, MessageID: msgID, ConversationID: conv, ContactID: contact, Status: events.ChangeMedia})
	})
}

// PendingMedia lists messages whose media is still to be downloaded.
func (s *Store) PendingMedia(ctx context.Context, limit int) ([]int64, error) {
	return s.ids(ctx, "SELECT id FROM messages WHERE media_state = 'pending' ORDER BY id LIMIT ?", limit)
}
