package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// OutboundInput is a message the business wants to send.
type OutboundInput struct {
	PhoneNumberID string
	// The recipient: a phone number's digits (WaID) or a BSUID (UserID).
	WaID, UserID   string
	Type           string
	Text           string // what the thread and search show
	Preview        string // the conversation list's one-line summary
	ContextWAMID   string // quoted reply
	Payload        []byte // the send request in Meta's shape
	IdempotencyKey string // the API client's key; "" for none
	AuthorID       int64  // the agent who sent it from the panel; 0 for the API
	// Media is a file sent from the panel, kept so the thread can show it.
	Media *Media
}

// QueueOutbound records an outbound message as queued and, in the same
// transaction, the job that hands it to the sender, so a message that was
// accepted here is never lost. With an IdempotencyKey already used it
// returns the earlier message and created=false.
func (s *Store) QueueOutbound(ctx context.Context, in OutboundInput) (msg *Message, created bool, err error) {
	if in.WaID == "" && in.UserID == "" {
		return nil, false, errors.New("queue outbound: no recipient")
	}
	var id int64
	err = s.update(ctx, func(t *wtx) error {
		if in.IdempotencyKey != "" {
			switch err := t.queryRow("SELECT id FROM messages WHERE idempotency_key = ?", in.IdempotencyKey).Scan(&id); {
			case err == nil:
				return nil
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		created = true
		contactID, err := t.recipient(in.WaID, in.UserID)
		if err != nil {
			return fmt.Errorf("recipient: %w", err)
		}
		nowMS := t.now.UnixMilli()
		var convID int64
		switch err := t.stmt(t.st.openConv).QueryRowContext(ctx, contactID, in.PhoneNumberID).Scan(&convID, new(string)); {
		case errors.Is(err, sql.ErrNoRows):
			detected, chosen, err := t.lastLanguage(contactID)
			if err != nil {
				return err
			}
			if err := t.stmt(t.st.insertConv).QueryRowContext(ctx, contactID, in.PhoneNumberID, nowMS, nowMS, nowMS,
				detected, chosen).Scan(&convID); err != nil {
				return fmt.Errorf("create conversation: %w", err)
			}
			if err := t.emit(Event{Type: EventConversationCreated, ConversationID: convID, ContactID: contactID}); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		var author any
		if in.AuthorID != 0 {
			author = in.AuthorID
		}
		md := in.Media
		if md == nil {
			md = &Media{}
		}
		var mediaState any
		if md.Path != "" {
			mediaState = "stored"
		}
		if err := t.queryRow(`INSERT INTO messages (direction, conversation_id, contact_id, phone_number_id,
			type, text, context_wamid, status, sent_at, created_at, idempotency_key, payload, author_id,
			media_id, media_mime, media_filename, media_path, media_size, media_state)
			VALUES ('outbound', ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			convID, contactID, in.PhoneNumberID, in.Type, in.Text, nullStr(in.ContextWAMID), nowMS, nowMS,
			nullStr(in.IdempotencyKey), string(in.Payload), author,
			nullStr(md.ID), nullStr(md.MimeType), nullStr(md.Filename), nullStr(md.Path), md.Size, mediaState).Scan(&id); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		preview := in.Preview
		if preview == "" {
			preview = in.Text
		}
		if _, err := t.exec(`UPDATE conversations SET last_message_at = MAX(last_message_at, ?1),
			preview = ?2, updated_at = ?1 WHERE id = ?3`, nowMS, preview, convID); err != nil {
			return err
		}
		if in.AuthorID != 0 {
			// A person replied: the assistant steps back in this conversation.
			r, err := t.exec("UPDATE conversations SET bot = 'paused' WHERE id = ? AND bot = 'on'", convID)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n > 0 {
				if _, err := t.exec(`INSERT INTO conversation_events (conversation_id, kind, actor_id, body, created_at)
					VALUES (?, ?, ?, 'Assistant paused: an agent replied', ?)`, convID, EventBot, in.AuthorID, nowMS); err != nil {
					return err
				}
			}
		}
		job, _ := json.Marshal(Event{Type: "send", MessageID: id, ContactID: contactID, At: t.now})
		if err := t.job(SubjectSend, "send."+strconv.FormatInt(id, 10), job); err != nil {
			return err
		}
		return t.emit(Event{Type: EventMessageQueued, MessageID: id, ConversationID: convID, ContactID: contactID})
	})
	if err != nil {
		return nil, false, err
	}
	msg, err = s.messageWhere(ctx, s.r, "m.id = ?", id)
	return msg, created, err
}

// recipient finds or creates the contact a message is sent to.
func (t *wtx) recipient(waID, userID string) (int64, error) {
	var id int64
	var u string
	err := sql.ErrNoRows
	if waID != "" {
		err = t.stmt(t.st.contactByWa).QueryRowContext(t.ctx, waID).Scan(&id, &u)
	}
	if errors.Is(err, sql.ErrNoRows) && userID != "" {
		err = t.stmt(t.st.contactByUser).QueryRowContext(t.ctx, userID).Scan(&id, &u)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	if err := t.stmt(t.st.insertContact).QueryRowContext(t.ctx, nullStr(waID), nullStr(userID), nil, "", "", nil,
		t.now.UnixMilli(), t.now.UnixMilli()).Scan(&id); err != nil {
		return 0, err
	}
	return id, t.emit(Event{Type: EventContactCreated, ContactID: id})
}

// SendOutcome is what became of one send attempt series.
type SendOutcome struct {
	MessageID int64
	WAMID     string        // set when Meta accepted the message
	Err       *MessageError // set when it failed for good
	Attempts  int
}

// RecordSends stores the outcome of sends in one transaction. Only queued
// messages change, so a redelivered job cannot overwrite a later state.
// A status webhook may have arrived before the wamid was recorded: the best
// status already stored for that wamid is applied at once.
func (s *Store) RecordSends(ctx context.Context, outs []SendOutcome) error {
	if len(outs) == 0 {
		return nil
	}
	return s.update(ctx, func(t *wtx) error {
		for _, o := range outs {
			var conv, contact int64
			var state string
			var err error
			if o.Err == nil {
				state = StateAccepted
				err = t.queryRow(`UPDATE messages SET wamid = ?, status = 'accepted', status_at = ?, attempts = ?
					WHERE id = ? AND status = 'queued' RETURNING conversation_id, contact_id`,
					o.WAMID, t.now.UnixMilli(), o.Attempts, o.MessageID).Scan(&conv, &contact)
			} else {
				state = StateFailed
				err = t.queryRow(`UPDATE messages SET status = 'failed', status_at = ?, attempts = ?,
					error_code = ?, error_title = ?, error_detail = ?
					WHERE id = ? AND status = 'queued' RETURNING conversation_id, contact_id`,
					t.now.UnixMilli(), o.Attempts, o.Err.Code, nullStr(o.Err.Title), nullStr(o.Err.Detail), o.MessageID).Scan(&conv, &contact)
			}
			if errors.Is(err, sql.ErrNoRows) {
				continue // already recorded by an earlier delivery of the same job
			}
			if err != nil {
				return fmt.Errorf("record send %d: %w", o.MessageID, err)
			}
			if o.Err != nil {
				if err := t.metaMarketingError(contact, o.Err.Code, t.now); err != nil {
					return err
				}
			}
			if err := t.emit(Event{Type: EventMessageStatus, MessageID: o.MessageID, ConversationID: conv,
				ContactID: contact, WAMID: o.WAMID, Status: state}); err != nil {
				return err
			}
			if o.Err == nil {
				if err := t.applyEarlyStatuses(o.WAMID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// applyEarlyStatuses replays statuses that arrived before the wamid was known.
func (t *wtx) applyEarlyStatuses(wamid string) error {
	rows, err := t.query(`SELECT status, ts, error_code, error_title, error_detail FROM statuses
		WHERE wamid = ? ORDER BY `+fmt.Sprintf(rankSQL, "status"), wamid)
	if err != nil {
		return err
	}
	type st struct {
		status        string
		ts            int64
		code          sql.NullInt64
		title, detail sql.NullString
	}
	var list []st
	for rows.Next() {
		var x st
		if err := rows.Scan(&x.status, &x.ts, &x.code, &x.title, &x.detail); err != nil {
			rows.Close()
			return err
		}
		list = append(list, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range list {
		var code, title, detail any
		if x.code.Valid {
			code = x.code.Int64
		}
		if x.title.Valid {
			title = x.title.String
		}
		if x.detail.Valid {
			detail = x.detail.String
		}
		var id, conv, contact int64
		switch err := t.stmt(t.st.applyStatus).QueryRowContext(t.ctx, x.status, x.ts, code, title, detail, wamid).
			Scan(&id, &conv, &contact); {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return err
		}
		if err := t.emit(Event{Type: EventMessageStatus, MessageID: id, ConversationID: conv, ContactID: contact,
			WAMID: wamid, Status: x.status}); err != nil {
			return err
		}
	}
	return nil
}

// PendingOutbox returns up to limit outbox items in order.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]OutboxItem, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, subject, msg_id, payload FROM outbox ORDER BY id LIMIT ?", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		if err := rows.Scan(&it.ID, &it.Subject, &it.MsgID, &it.Payload); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// DeleteOutbox removes the items up to and including id, once published.
func (s *Store) DeleteOutbox(ctx context.Context, upTo int64) error {
	_, err := s.w.ExecContext(ctx, "DELETE FROM outbox WHERE id <= ?", upTo)
	return err
}

// OutboxLen is the number of items waiting to be published.
func (s *Store) OutboxLen(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox").Scan(&n)
	return n, err
}
