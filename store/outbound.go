package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"sendbox/events"
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
	// Lane is the sending lane (events.Lane*; "" is transactional), which
	// outbound.Service decides. A message in the person lane pauses the
	// assistant, whoever sent it.
	Lane string
	// Media is a file sent from the panel, kept so the thread can show it.
	Media *Media
	// Origin is who in sendbox wrote it, when not a person or the API:
	// OriginFlow.
	Origin string
	// Marketing says it is a marketing template (outbound.Service decides):
	// counted per contact for the campaigns' frequency cap.
	Marketing bool
}

// QueueOutbound records an outbound message as queued and, in the same
// transaction, the job that hands it to the sender, so a message that was
// accepted here is never lost. With an IdempotencyKey already used it
// returns the earlier message and created=false.
//
// Calls that arrive while another commits are written together, in one
// transaction, each in a savepoint of its own (a group commit): at a
// thousand sends a second, a transaction per message spent a quarter
// of a millisecond committing, most of it writing the same leaf pages of
// the messages table and its indexes to the WAL again and again.
func (s *Store) QueueOutbound(ctx context.Context, in OutboundInput) (*Message, bool, error) {
	if in.WaID == "" && in.UserID == "" {
		return nil, false, errors.New("queue outbound: no recipient")
	}
	var msg *Message
	var created bool
	err := s.grouped(ctx, func(t *wtx) error {
		var err error
		msg, created, err = t.queueOne(in)
		return err
	})
	return msg, created, err
}

// queueOne writes one outbound message in the group's transaction.
func (t *wtx) queueOne(in OutboundInput) (*Message, bool, error) {
	var id int64
	if in.IdempotencyKey != "" {
		switch err := t.queryRow("SELECT id FROM messages WHERE idempotency_key = ?", in.IdempotencyKey).Scan(&id); {
		case err == nil:
			msg, err := t.messageByID(id)
			return msg, false, err
		case !errors.Is(err, sql.ErrNoRows):
			return nil, false, err
		}
	}
	contactID, err := t.recipient(in.WaID, in.UserID)
	if err != nil {
		return nil, false, fmt.Errorf("recipient: %w", err)
	}
	nowMS := t.now.UnixMilli()
	convID, err := t.outboundConv(contactID, in.PhoneNumberID)
	if err != nil {
		return nil, false, err
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
	lane := in.Lane
	if lane == "" {
		lane = events.LaneTransactional
	}
	if !events.ValidLane(lane) {
		return nil, false, fmt.Errorf("unknown sending lane %q", lane)
	}
	if err := t.queryRow(`INSERT INTO messages (direction, conversation_id, contact_id, phone_number_id,
		type, text, context_wamid, status, sent_at, created_at, idempotency_key, payload, author_id, lane,
		media_id, media_mime, media_filename, media_path, media_size, media_state, origin)
		VALUES ('outbound', ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		convID, contactID, in.PhoneNumberID, in.Type, in.Text, nullStr(in.ContextWAMID), nowMS, nowMS,
		nullStr(in.IdempotencyKey), string(in.Payload), author, lane,
		nullStr(md.ID), nullStr(md.MimeType), nullStr(md.Filename), nullStr(md.Path), md.Size, mediaState, in.Origin).Scan(&id); err != nil {
		return nil, false, fmt.Errorf("insert: %w", err)
	}
	preview := in.Preview
	if preview == "" {
		preview = in.Text
	}
	if _, err := t.exec(`UPDATE conversations SET last_message_at = MAX(last_message_at, ?1),
		preview = ?2, updated_at = ?1 WHERE id = ?3`, nowMS, preview, convID); err != nil {
		return nil, false, err
	}
	if lane == events.LanePerson {
		if err := t.personReplied(convID, contactID, events.BotPausedAgentReplied); err != nil {
			return nil, false, err
		}
	}
	if in.Marketing {
		if err := t.recordMarketingSend(contactID, id); err != nil {
			return nil, false, err
		}
	}
	job, _ := json.Marshal(events.Event{Type: events.JobSend, MessageID: id, ContactID: contactID, At: t.now})
	if err := t.job(events.SendSubject(lane), "send."+strconv.FormatInt(id, 10), job); err != nil {
		return nil, false, err
	}
	if err := t.emit(events.Event{Type: events.MessageQueued, MessageID: id, ConversationID: convID, ContactID: contactID}); err != nil {
		return nil, false, err
	}
	msg, err := t.messageByID(id)
	return msg, true, err
}

// outboundConv returns the open conversation with a contact on a number,
// starting one if there is none.
func (t *wtx) outboundConv(contactID int64, phoneNumberID string) (int64, error) {
	nowMS := t.now.UnixMilli()
	var convID int64
	switch err := t.stmt(t.st.openConv).QueryRowContext(t.ctx, contactID, phoneNumberID).Scan(&convID, new(string)); {
	case errors.Is(err, sql.ErrNoRows):
		detected, chosen, err := t.lastLanguage(contactID)
		if err != nil {
			return 0, err
		}
		if err := t.stmt(t.st.insertConv).QueryRowContext(t.ctx, contactID, phoneNumberID, nowMS, nowMS, nowMS,
			detected, chosen).Scan(&convID); err != nil {
			return 0, fmt.Errorf("create conversation: %w", err)
		}
		if err := t.emit(events.Event{Type: events.ConversationCreated, ConversationID: convID, ContactID: contactID}); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	}
	return convID, nil
}

// personReplied ends the contact's flow runs and pauses the assistant in a
// conversation a person of the business wrote in, if it was on, with the timeline line and the event of
// any switch; reason is events.BotPaused*.
func (t *wtx) personReplied(convID, contactID int64, reason string) error {
	// A person took the conversation over: the contact's flow runs end
	// with it, so no step of theirs talks over the person later.
	if _, err := t.stopRuns(contactID, 0, RunTakenOver); err != nil {
		return err
	}
	r, err := t.exec("UPDATE conversations SET bot = 'paused' WHERE id = ? AND bot = 'on'", convID)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return nil
	}
	// Said like any other switch of the assistant, so that the panel,
	// and reports later, learn of it from the events.
	data := map[string]any{events.DataBot: BotPaused, events.DataReason: reason}
	if err := t.addTimeline(convID, events.ChangeBot, data, ""); err != nil {
		return err
	}
	return t.emit(events.Event{Type: events.ConversationUpdated, ConversationID: convID, ContactID: contactID,
		Status: events.ChangeBot, Data: data})
}

// messageByID reads a message back in the transaction that wrote it. On a
// reader connection the same read costs several times more at a thousand
// sends a second: every commit of the writer empties the readers' page caches.
func (t *wtx) messageByID(id int64) (*Message, error) {
	return scanMessage(t.queryRow("SELECT "+messageCols+" FROM messages m WHERE m.id = ?", id))
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
	return id, t.emit(events.Event{Type: events.ContactCreated, ContactID: id})
}

// The sender's states of an outbound message besides queued, accepted and
// failed: sending from just before a Graph call until its outcome is
// stored; uncertain when that outcome was never learned and the message is
// not sent again (marketing: a duplicate promotion is worse than none).
const (
	StateSending   = "sending"
	StateUncertain = "uncertain"
)

// SendClaim marks one message as being sent by one Graph call.
type SendClaim struct {
	MessageID int64
	SendID    string // the call's id, carried in biz_opaque_callback_data
	// PrevSendID is the claim this one replaces: a message still "sending"
	// from a call whose outcome was never learned, sent again. "" for a
	// queued message.
	PrevSendID string
}

// ClaimSends marks messages "sending" in one transaction, before their
// Graph calls, so that a crash during a call leaves a trace to reconcile
// with Meta's status echoes instead of a "queued" message that would be
// sent again. ok[i] is false when claims[i] did not take: the message is
// no longer waiting (an earlier delivery of its job sent it, it was
// deleted) or another call holds it.
func (s *Store) ClaimSends(ctx context.Context, claims []SendClaim) (ok []bool, err error) {
	ok = make([]bool, len(claims))
	err = s.update(ctx, func(t *wtx) error {
		for i, c := range claims {
			r, err := t.exec(`UPDATE messages SET status = 'sending', send_id = ?1, status_at = ?2, attempts = attempts + 1
				WHERE id = ?3 AND direction = 'outbound' AND (status = 'queued' OR (status = 'sending' AND send_id = ?4))`,
				c.SendID, t.now.UnixMilli(), c.MessageID, c.PrevSendID)
			if err != nil {
				return fmt.Errorf("claim send %d: %w", c.MessageID, err)
			}
			n, _ := r.RowsAffected()
			ok[i] = n == 1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ok, nil
}

// ReleaseSend puts a claimed message back in the queue: Meta answered its
// call with an error, so it does not have the message, and a crash before
// the retry must not make it look uncertain.
func (s *Store) ReleaseSend(ctx context.Context, id int64, sendID string) error {
	return s.update(ctx, func(t *wtx) error {
		_, err := t.exec(`UPDATE messages SET status = 'queued', send_id = NULL
			WHERE id = ? AND status = 'sending' AND send_id = ?`, id, sendID)
		return err
	})
}

// SendID returns the id of the Graph call a "sending" message is claimed by.
func (s *Store) SendID(ctx context.Context, messageID int64) (string, error) {
	var id sql.NullString
	err := s.cachedRow(ctx, "SELECT send_id FROM messages WHERE id = ?", messageID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return id.String, err
}

// SendOutcome is what became of one send attempt series.
type SendOutcome struct {
	MessageID int64
	SendID    string        // the claim it ends ("" when refused before any call)
	WAMID     string        // set when Meta accepted the message
	Err       *MessageError // set when it failed for good
	// Uncertain: the outcome of the call was never learned and the message
	// is not sent again; Err says why, for the thread and the API.
	Uncertain bool
	Attempts  int
	// MessageStatus is the send response's message_status for templates
	// under Meta's pacing (accepted, held_for_quality_assessment, paused).
	MessageStatus string
}

// RecordSends stores the outcome of sends in one transaction. Only a
// message still queued or sending under the outcome's claim changes, so a
// redelivered job cannot overwrite a later state, nor can a call whose
// message a status echo already settled.
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
			switch {
			case o.Uncertain:
				state = StateUncertain
				err = t.queryRow(`UPDATE messages SET status = 'uncertain', status_at = ?, attempts = MAX(attempts, ?),
					error_code = NULL, error_title = ?, error_detail = ?
					WHERE id = ? AND status = 'sending' AND send_id = ? RETURNING conversation_id, contact_id`,
					t.now.UnixMilli(), o.Attempts, nullStr(o.Err.Title), nullStr(o.Err.Detail), o.MessageID, o.SendID).Scan(&conv, &contact)
			case o.Err == nil:
				state = StateAccepted
				err = t.queryRow(`UPDATE messages SET wamid = ?, status = 'accepted', status_at = ?, attempts = MAX(attempts, ?)
					WHERE id = ? AND status IN ('queued', 'sending') AND COALESCE(send_id, '') = ?
					RETURNING conversation_id, contact_id`,
					o.WAMID, t.now.UnixMilli(), o.Attempts, o.MessageID, o.SendID).Scan(&conv, &contact)
			default:
				state = StateFailed
				err = t.queryRow(`UPDATE messages SET status = 'failed', status_at = ?, attempts = MAX(attempts, ?),
					error_code = ?, error_title = ?, error_detail = ?
					WHERE id = ? AND status IN ('queued', 'sending') AND COALESCE(send_id, '') = ?
					RETURNING conversation_id, contact_id`,
					t.now.UnixMilli(), o.Attempts, o.Err.Code, nullStr(o.Err.Title), nullStr(o.Err.Detail), o.MessageID, o.SendID).Scan(&conv, &contact)
			}
			if errors.Is(err, sql.ErrNoRows) {
				// Already recorded by an earlier delivery of the same job, or
				// settled by a status echo that came first. The echo does not
				// say whether Meta held the message (only the send's answer
				// does): that is kept all the same.
				if o.Err == nil && !o.Uncertain {
					if err := t.recordPacingOf(o.MessageID, o.WAMID, o.MessageStatus); err != nil {
						return err
					}
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("record send %d: %w", o.MessageID, err)
			}
			if o.Err != nil {
				if err := t.metaMarketingError(contact, o.Err.Code, t.now); err != nil {
					return err
				}
			}
			code := 0
			if o.Err != nil {
				code = o.Err.Code
			}
			if err := t.campaignMessage(o.MessageID, state, code, t.now); err != nil {
				return err
			}
			if err := t.emit(events.Event{Type: events.MessageStatus, MessageID: o.MessageID, ConversationID: conv,
				ContactID: contact, WAMID: o.WAMID, Status: state}); err != nil {
				return err
			}
			if state == StateAccepted {
				if err := t.recordPacing(o.MessageID, o.MessageStatus); err != nil {
					return err
				}
				if err := t.applyEarlyStatuses(o.WAMID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// adoptSend links a status webhook to the message whose Graph call it
// echoes (by the send id in biz_opaque_callback_data) when sendbox never
// recorded that call's wamid: it stopped between Meta's answer and the
// record, or the answer was lost on the way. The message becomes accepted
// under Meta's wamid, so the status then applies as usual and the message
// is not sent again.
func (t *wtx) adoptSend(sendID, wamid string) error {
	var id, conv, contact int64
	switch err := t.queryRow(`UPDATE messages SET wamid = ?1, status = 'accepted', status_at = ?2,
		error_code = NULL, error_title = NULL, error_detail = NULL
		WHERE send_id = ?3 AND wamid IS NULL AND direction = 'outbound' AND status IN ('sending', 'uncertain')
		RETURNING id, conversation_id, contact_id`, wamid, t.now.UnixMilli(), sendID).Scan(&id, &conv, &contact); {
	case errors.Is(err, sql.ErrNoRows):
		return nil // the usual case: the wamid is recorded, or will be by the sender
	case err != nil:
		return fmt.Errorf("adopt send %s: %w", sendID, err)
	}
	if err := t.campaignMessage(id, StateAccepted, 0, t.now); err != nil {
		return err
	}
	return t.emit(events.Event{Type: events.MessageStatus, MessageID: id, ConversationID: conv, ContactID: contact,
		WAMID: wamid, Status: StateAccepted})
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
		if err := t.campaignMessage(id, x.status, int(x.code.Int64), time.UnixMilli(x.ts)); err != nil {
			return err
		}
		if err := t.emit(events.Event{Type: events.MessageStatus, MessageID: id, ConversationID: conv, ContactID: contact,
			WAMID: wamid, Status: x.status}); err != nil {
			return err
		}
	}
	return nil
}

// PendingOutbox returns up to limit outbox items in order.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]events.Publication, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, subject, msg_id, payload FROM outbox ORDER BY id LIMIT ?", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []events.Publication
	for rows.Next() {
		var it events.Publication
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
