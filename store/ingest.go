package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sendbox/events"
	"sendbox/language"
)

// InboundMessage is one customer message to store, already decoded by the
// inbox from Meta's webhook.
type InboundMessage struct {
	WAMID         string
	PhoneNumberID string

	// Who sent it: at least one of WaID and UserID is set.
	WaID, UserID, ParentUserID string
	ProfileName, Username      string

	Type      string
	Text      string
	Preview   string // the conversation list's one-line summary
	Silent    bool   // reactions, edits, deletions, notices: no unread, no preview
	Timestamp time.Time
	// Lang is the language the customer's own words in Text point to
	// ("" when they do not tell), and LangSure whether they are clear
	// enough to change a language already detected (search.GuessLang).
	Lang     string
	LangSure bool

	MediaID, MediaMime, MediaSHA256, MediaFilename string
	Latitude, Longitude                            *float64
	ReplyID, ContextWAMID, RelatedWAMID            string
	Error                                          *MessageError
	Raw                                            []byte

	// Effect is what the message does to earlier rows: "" (nothing),
	// EffectEdit (RelatedWAMID gets Text), EffectRevoke (RelatedWAMID is
	// marked deleted) or EffectNumberChanged (the contact's wa_id becomes NewWaID).
	Effect  string
	NewWaID string
}

// Effects of an inbound message on earlier rows.
const (
	EffectEdit          = "edit"
	EffectRevoke        = "revoke"
	EffectNumberChanged = "number_changed"
)

// StatusUpdate is one status webhook about a message the business sent.
type StatusUpdate struct {
	WAMID           string
	Status          string
	Timestamp       time.Time
	RecipientID     string
	Error           *MessageError
	PricingCategory string
	PricingType     string
	PricingModel    string
	PricingBillable *bool
	Raw             []byte
	SendID          string // sendbox's send id echoed in biz_opaque_callback_data
}

// EventInput is a non-message webhook change to record.
type EventInput struct {
	Field         string
	Type          string
	WABAID        string
	PhoneNumberID string
	EventTime     time.Time
	Value         []byte
	// Preferences are the marketing choices of a user_preferences change.
	Preferences []Preference
}

// Preference is a customer's marketing choice as Meta reports it.
type Preference struct {
	WaID, UserID string
	Category     string // marketing_messages
	Value        string // stop, resume
	At           time.Time
}

// IngestBatch is everything parsed out of a batch of webhooks.
type IngestBatch struct {
	Messages []InboundMessage
	// Echoes are the business's messages sent from the WhatsApp Business
	// app: WaID and UserID name the customer they went to.
	Echoes   []InboundMessage
	Statuses []StatusUpdate
	Events   []EventInput
}

// IngestResult counts what a batch changed.
type IngestResult struct {
	NewMessages     int
	NewEchoes       int
	Duplicates      int
	StatusesNew     int // (wamid, status) pairs seen for the first time
	StatusesApplied int // of which moved a message's state forward
	EventsNew       int
}

// OrderTime places an inbound message among the business's messages. Meta
// stamps it in whole seconds of the customer's clock; the message was sent
// within [ts, ts+1s). Its arrival time, clamped into that second, keeps the
// true order both ways: a bot's reply in the same second sorts after the
// message, a quick tap on a template's button sorts after the template,
// and a webhook Meta delivered days late sorts when the customer wrote.
func OrderTime(ts, arrived time.Time) time.Time {
	end := ts.Add(time.Second - time.Millisecond)
	switch {
	case arrived.Before(ts):
		return ts
	case arrived.After(end):
		return end
	}
	return arrived
}

// rankSQL orders message states; failed is terminal and handled apart.
const rankSQL = `CASE %s WHEN 'queued' THEN 0 WHEN 'accepted' THEN 1 WHEN 'sent' THEN 2
	WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'played' THEN 5 ELSE -1 END`

type ingestStmts struct {
	msgExists, contactByWa, contactByUser, insertContact, touchContact, setContactUser,
	setContactWa, openConv, prevLang, insertConv, insertConvWith, insertMsg, touchConv, applyEdit, applyRevoke,
	insertStatus, applyStatus, insertEvent, insertOutbox *sql.Stmt
}

func prepareIngest(ctx context.Context, db *sql.DB) (*ingestStmts, error) {
	st := &ingestStmts{}
	list := []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.msgExists, `SELECT 1 FROM messages WHERE wamid = ?`},
		{&st.contactByWa, `SELECT id, COALESCE(user_id, '') FROM contacts WHERE wa_id = ?`},
		{&st.contactByUser, `SELECT id, COALESCE(user_id, '') FROM contacts WHERE user_id = ?`},
		{&st.insertContact, `INSERT INTO contacts (wa_id, user_id, parent_user_id, name, username, last_inbound_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`},
		{&st.touchContact, `UPDATE contacts SET
			name = CASE WHEN ?1 != '' THEN ?1 ELSE name END,
			username = CASE WHEN ?2 != '' THEN ?2 ELSE username END,
			parent_user_id = COALESCE(?3, parent_user_id),
			last_inbound_at = MAX(COALESCE(last_inbound_at, 0), ?4),
			updated_at = ?5
			WHERE id = ?6`},
		{&st.setContactUser, `UPDATE OR IGNORE contacts SET user_id = ? WHERE id = ? AND user_id IS NULL`},
		{&st.setContactWa, `UPDATE OR IGNORE contacts SET wa_id = ?, updated_at = ? WHERE id = ?`},
		{&st.openConv, `SELECT id, language_detected FROM conversations WHERE contact_id = ? AND phone_number_id = ?
			AND status != 'resolved' ORDER BY id DESC LIMIT 1`},
		{&st.prevLang, `SELECT language_detected, language_chosen FROM conversations WHERE contact_id = ?
			ORDER BY id DESC LIMIT 1`},
		{&st.insertConv, `INSERT INTO conversations (contact_id, phone_number_id, status, last_message_at, created_at, updated_at,
			language_detected, language_chosen) VALUES (?, ?, 'open', ?, ?, ?, ?, ?) RETURNING id`},
		{&st.insertConvWith, `INSERT INTO conversations (contact_id, phone_number_id, status, last_message_at,
			last_inbound_at, preview, unread, created_at, updated_at, language_detected, language_chosen)
			VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`},
		{&st.insertMsg, `INSERT INTO messages (wamid, direction, conversation_id, contact_id, phone_number_id, type, text,
			media_id, media_mime, media_sha256, media_filename, media_state, latitude, longitude, reply_id, context_wamid,
			related_wamid, status, error_code, error_title, error_detail, sent_at, created_at, raw)
			VALUES (?, 'inbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?, ?)
			ON CONFLICT(wamid) DO NOTHING RETURNING id`},
		{&st.touchConv, `UPDATE conversations SET
			preview = CASE WHEN ?1 AND ?2 >= last_message_at THEN ?3 ELSE preview END,
			last_message_at = CASE WHEN ?1 THEN MAX(last_message_at, ?2) ELSE last_message_at END,
			last_inbound_at = MAX(COALESCE(last_inbound_at, 0), ?7),
			unread = unread + ?4,
			status = CASE WHEN ?1 AND status = 'snoozed' THEN 'open' ELSE status END,
			language_detected = ?8,
			updated_at = ?5
			WHERE id = ?6`},
		{&st.applyEdit, `UPDATE messages SET text = ?, edited_at = ? WHERE wamid = ? AND direction = ?
			RETURNING id, conversation_id, contact_id`},
		{&st.applyRevoke, `UPDATE messages SET revoked_at = ? WHERE wamid = ? AND direction = ?
			RETURNING id, conversation_id, contact_id`},
		{&st.insertStatus, `INSERT INTO statuses (wamid, status, ts, recipient_id, error_code, error_title, error_detail,
			pricing_category, pricing_type, raw, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (wamid, status) DO NOTHING`},
		{&st.applyStatus, fmt.Sprintf(`UPDATE messages SET status = ?1, status_at = ?2,
			error_code = COALESCE(?3, error_code), error_title = COALESCE(?4, error_title), error_detail = COALESCE(?5, error_detail)
			WHERE wamid = ?6 AND direction = 'outbound' AND status != 'failed'
			AND (?1 = 'failed' OR %s < %s)
			RETURNING id, conversation_id, contact_id`, fmt.Sprintf(rankSQL, "status"), fmt.Sprintf(rankSQL, "?1"))},
		{&st.insertEvent, `INSERT INTO webhook_events (dedup, field, type, waba_id, phone_number_id, event_time, value, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedup) DO NOTHING`},
		{&st.insertOutbox, `INSERT INTO outbox (subject, msg_id, payload, created_at) VALUES (?, ?, ?, ?)`},
	}
	for _, p := range list {
		s, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.dst = s
	}
	return st, nil
}

func (st *ingestStmts) close() {
	for _, s := range []*sql.Stmt{st.msgExists, st.contactByWa, st.contactByUser, st.insertContact, st.touchContact,
		st.setContactUser, st.setContactWa, st.openConv, st.prevLang, st.insertConv, st.insertConvWith, st.insertMsg, st.touchConv, st.applyEdit,
		st.applyRevoke, st.insertStatus, st.applyStatus, st.insertEvent, st.insertOutbox} {
		if s != nil {
			s.Close()
		}
	}
}

// wtx is one write transaction with the prepared statements bound to it
// and the outbox at hand.
type wtx struct {
	s      *Store
	ctx    context.Context
	tx     *sql.Tx
	st     *ingestStmts
	bound  map[*sql.Stmt]*sql.Stmt
	now    time.Time
	outbox int
	// actor is who makes the change, from the caller's context; emit
	// records it on every event that does not name its own.
	actor events.Actor
	// timerDue is the earliest due time (unix ms) of the timers added, 0 if none.
	timerDue int64
	// ledgerHead is the hash of the consent ledger's last record once this
	// transaction appended one (nil before): the next append chains to it
	// without reading it back.
	ledgerHead []byte
}

// update runs fn in one write transaction and wakes the relay if fn wrote
// to the outbox.
func (s *Store) update(ctx context.Context, fn func(t *wtx) error) error {
	var outbox int
	var timerDue int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Statements run without the caller's cancellation: with it, both
		// database/sql and the driver start a goroutine per statement to
		// watch the context, a tenth of ingest's CPU. The transaction still
		// ends when ctx does (database/sql rolls it back), so a cancelled
		// write stops at the next statement and commits nothing.
		t := &wtx{s: s, ctx: context.WithoutCancel(ctx), tx: tx, st: s.ingest, bound: map[*sql.Stmt]*sql.Stmt{}, now: now(),
			actor: events.ActorFrom(ctx)}
		defer func() {
			for _, b := range t.bound {
				b.Close()
			}
		}()
		if err := fn(t); err != nil {
			return err
		}
		outbox, timerDue = t.outbox, t.timerDue
		return nil
	})
	if err == nil && outbox > 0 && s.Notify != nil {
		s.Notify()
	}
	if err == nil && timerDue != 0 && s.TimerAdded != nil {
		s.TimerAdded(time.UnixMilli(timerDue))
	}
	s.prepareWanted(context.WithoutCancel(ctx))
	return err
}

func (t *wtx) stmt(s *sql.Stmt) *sql.Stmt {
	if b, ok := t.bound[s]; ok {
		return b
	}
	b := t.tx.StmtContext(t.ctx, s)
	t.bound[s] = b
	return b
}

// emit writes one domain event to the outbox in the current transaction.
func (t *wtx) emit(ev events.Event) error {
	ev.At = t.now
	if ev.Actor.Kind == "" {
		ev.Actor = t.actor
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	id := ev.MessageID
	if id == 0 {
		id = ev.ConversationID
	}
	if id == 0 {
		id = ev.ContactID
	}
	if id == 0 {
		id = ev.DocID
	}
	msgID := ev.Type + "." + strconv.FormatInt(id, 10)
	if ev.Status != "" {
		msgID += "." + ev.Status
	}
	if ev.Type == events.ConversationUpdated || ev.Type == events.MessageUpdated || ev.Type == events.ContactUpdated ||
		ev.Type == events.KBChanged {
		// These recur for the same row: only a crash-replay may be deduplicated.
		msgID += "." + strconv.FormatInt(t.now.UnixNano(), 36)
	}
	return t.job(events.Subject(ev.Type), msgID, payload)
}

// job writes one publication to the outbox in the current transaction.
func (t *wtx) job(subject, msgID string, payload []byte) error {
	if _, err := t.stmt(t.st.insertOutbox).ExecContext(t.ctx, subject, msgID, payload, t.now.UnixMilli()); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	t.outbox++
	return nil
}

// Ingest stores a batch in one transaction. It is idempotent: a message is
// keyed by its wamid, a status by (wamid, status), an event by the hash of
// its field and value, so Meta's retries and the broker's redeliveries
// change nothing the second time.
func (s *Store) Ingest(ctx context.Context, b *IngestBatch) (IngestResult, error) {
	var res IngestResult
	err := s.update(ctx, func(t *wtx) error {
		res = IngestResult{}
		for i := range b.Messages {
			if err := t.message(&b.Messages[i], &res); err != nil {
				return fmt.Errorf("message %s: %w", b.Messages[i].WAMID, err)
			}
		}
		for i := range b.Echoes {
			if err := t.echo(&b.Echoes[i], &res); err != nil {
				return fmt.Errorf("echo %s: %w", b.Echoes[i].WAMID, err)
			}
		}
		for i := range b.Statuses {
			if err := t.status(&b.Statuses[i], &res); err != nil {
				return fmt.Errorf("status %s %s: %w", b.Statuses[i].WAMID, b.Statuses[i].Status, err)
			}
		}
		for i := range b.Events {
			if err := t.event(&b.Events[i], &res); err != nil {
				return fmt.Errorf("event %s: %w", b.Events[i].Field, err)
			}
		}
		return nil
	})
	for i := range b.Events {
		if IsTemplateField(b.Events[i].Field) {
			s.templates.clear() // again after the commit: a reader may have cached the old row meanwhile
			break
		}
	}
	return res, err
}

func (t *wtx) message(m *InboundMessage, res *IngestResult) error {
	if m.WAMID == "" {
		return errors.New("message without id")
	}
	if seen, err := t.seen(m.WAMID, res); seen || err != nil {
		return err
	}
	ts := m.Timestamp
	if ts.IsZero() {
		ts = t.now
	}
	contactID, newContact, err := t.contact(m, ts)
	if err != nil {
		return fmt.Errorf("contact: %w", err)
	}
	unread := 1
	if m.Silent {
		unread = 0
	}
	orderAt := OrderTime(ts, t.now)
	var convID int64
	var detected string // the conversation's detected language, before this message
	err = sql.ErrNoRows // a contact created just now has no conversation yet
	if !newContact {
		err = t.stmt(t.st.openConv).QueryRowContext(t.ctx, contactID, m.PhoneNumberID).Scan(&convID, &detected)
	}
	newConv := false
	switch {
	case errors.Is(err, sql.ErrNoRows):
		var chosen string
		if !newContact {
			if detected, chosen, err = t.lastLanguage(contactID); err != nil {
				return err
			}
		}
		// The conversation starts with this message: written with it at
		// once, not inserted and then updated.
		lastAt, preview := orderAt, m.Preview
		if m.Silent {
			lastAt, preview = ts, ""
		}
		if err := t.stmt(t.st.insertConvWith).QueryRowContext(t.ctx, contactID, m.PhoneNumberID, lastAt.UnixMilli(),
			ts.UnixMilli(), preview, unread, t.now.UnixMilli(), t.now.UnixMilli(),
			language.Follow(detected, m.Lang, m.LangSure), chosen).Scan(&convID); err != nil {
			return fmt.Errorf("create conversation: %w", err)
		}
		if err := t.emit(events.Event{Type: events.ConversationCreated, ConversationID: convID, ContactID: contactID}); err != nil {
			return err
		}
		newConv = true
	case err != nil:
		return fmt.Errorf("find conversation: %w", err)
	}

	var mediaState any
	if m.MediaID != "" {
		mediaState = "pending"
	}
	var code, title, detail any
	if m.Error != nil {
		code, title, detail = m.Error.Code, m.Error.Title, m.Error.Detail
	}
	var msgID int64
	err = t.stmt(t.st.insertMsg).QueryRowContext(t.ctx, m.WAMID, convID, contactID, m.PhoneNumberID, m.Type, m.Text,
		nullStr(m.MediaID), nullStr(m.MediaMime), nullStr(m.MediaSHA256), nullStr(m.MediaFilename), mediaState,
		m.Latitude, m.Longitude, nullStr(m.ReplyID), nullStr(m.ContextWAMID), nullStr(m.RelatedWAMID),
		code, title, detail, ts.UnixMilli(), t.now.UnixMilli(), string(m.Raw)).Scan(&msgID)
	if errors.Is(err, sql.ErrNoRows) { // same wamid earlier in this very batch
		res.Duplicates++
		return nil
	}
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	res.NewMessages++

	if !newConv {
		if _, err := t.stmt(t.st.touchConv).ExecContext(t.ctx, !m.Silent, orderAt.UnixMilli(), m.Preview, unread,
			t.now.UnixMilli(), convID, ts.UnixMilli(), language.Follow(detected, m.Lang, m.LangSure)); err != nil {
			return fmt.Errorf("update conversation: %w", err)
		}
	}
	if err := t.effect(m, Inbound); err != nil {
		return err
	}
	if err := t.campaignReply(contactID, t.now, m.Type == "button" || m.ReplyID != ""); err != nil {
		return err
	}
	if m.MediaID != "" {
		if err := t.mediaJob(msgID); err != nil {
			return err
		}
	}
	return t.emit(events.Event{Type: events.MessageReceived, MessageID: msgID, ConversationID: convID, ContactID: contactID, WAMID: m.WAMID})
}

// lastLanguage is the language of a contact's latest conversation, for
// their new one: a returning customer speaks as before, and an agent's
// choice still holds.
func (t *wtx) lastLanguage(contactID int64) (detected, chosen string, err error) {
	err = t.stmt(t.st.prevLang).QueryRowContext(t.ctx, contactID).Scan(&detected, &chosen)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("language of the last conversation: %w", err)
	}
	return detected, chosen, nil
}

// contact finds the sender by wa_id, then by BSUID, creating it if new, and
// refreshes its profile and its customer service window.
func (t *wtx) contact(m *InboundMessage, ts time.Time) (id int64, created bool, err error) {
	var userID string
	err = sql.ErrNoRows
	if m.WaID != "" {
		err = t.stmt(t.st.contactByWa).QueryRowContext(t.ctx, m.WaID).Scan(&id, &userID)
	}
	if errors.Is(err, sql.ErrNoRows) && m.UserID != "" {
		err = t.stmt(t.st.contactByUser).QueryRowContext(t.ctx, m.UserID).Scan(&id, &userID)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if m.WaID == "" && m.UserID == "" {
			return 0, false, errors.New("sender has neither wa_id nor user_id")
		}
		if err := t.stmt(t.st.insertContact).QueryRowContext(t.ctx, nullStr(m.WaID), nullStr(m.UserID),
			nullStr(m.ParentUserID), m.ProfileName, m.Username, ts.UnixMilli(), t.now.UnixMilli(), t.now.UnixMilli()).Scan(&id); err != nil {
			return 0, false, err
		}
		return id, true, t.emit(events.Event{Type: events.ContactCreated, ContactID: id})
	case err != nil:
		return 0, false, err
	}
	if _, err := t.stmt(t.st.touchContact).ExecContext(t.ctx, m.ProfileName, m.Username, nullStr(m.ParentUserID),
		ts.UnixMilli(), t.now.UnixMilli(), id); err != nil {
		return 0, false, err
	}
	if userID == "" && m.UserID != "" {
		if _, err := t.stmt(t.st.setContactUser).ExecContext(t.ctx, m.UserID, id); err != nil {
			return 0, false, err
		}
	}
	return id, false, nil
}

// effect applies what m does to an earlier message of the same direction
// (a customer edits theirs, the business its own, from the app), or to the
// customer's number.
func (t *wtx) effect(m *InboundMessage, direction string) error {
	var row *sql.Row
	switch m.Effect {
	case EffectEdit:
		row = t.stmt(t.st.applyEdit).QueryRowContext(t.ctx, m.Text, t.now.UnixMilli(), m.RelatedWAMID, direction)
	case EffectRevoke:
		row = t.stmt(t.st.applyRevoke).QueryRowContext(t.ctx, t.now.UnixMilli(), m.RelatedWAMID, direction)
	case EffectNumberChanged:
		if m.NewWaID == "" || m.WaID == "" || direction != Inbound {
			return nil
		}
		var id int64
		var userID string
		if err := t.stmt(t.st.contactByWa).QueryRowContext(t.ctx, m.WaID).Scan(&id, &userID); err != nil {
			return nil // the sender was found by BSUID only: nothing to renumber
		}
		_, err := t.stmt(t.st.setContactWa).ExecContext(t.ctx, m.NewWaID, t.now.UnixMilli(), id)
		return err
	default:
		return nil
	}
	var id, conv, contact int64
	switch err := row.Scan(&id, &conv, &contact); {
	case errors.Is(err, sql.ErrNoRows):
		return nil // the original is unknown to us (sent before sendbox ran)
	case err != nil:
		return err
	}
	return t.emit(events.Event{Type: events.MessageUpdated, MessageID: id, ConversationID: conv, ContactID: contact})
}

func (t *wtx) status(u *StatusUpdate, res *IngestResult) error {
	ts := u.Timestamp
	if ts.IsZero() {
		ts = t.now
	}
	var code, title, detail any
	if u.Error != nil {
		code, title, detail = u.Error.Code, nullStr(u.Error.Title), nullStr(u.Error.Detail)
	}
	r, err := t.stmt(t.st.insertStatus).ExecContext(t.ctx, u.WAMID, u.Status, ts.UnixMilli(), nullStr(u.RecipientID),
		code, title, detail, nullStr(u.PricingCategory), nullStr(u.PricingType), string(u.Raw), t.now.UnixMilli())
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return nil // seen before
	}
	res.StatusesNew++
	if u.SendID != "" {
		if err := t.adoptSend(u.SendID, u.WAMID); err != nil {
			return err
		}
	}
	if err := t.recordPricing(u); err != nil {
		return err
	}
	var id, conv, contact int64
	switch err := t.stmt(t.st.applyStatus).QueryRowContext(t.ctx, u.Status, ts.UnixMilli(), code, title, detail, u.WAMID).
		Scan(&id, &conv, &contact); {
	case errors.Is(err, sql.ErrNoRows):
		// Older than the message's state, or about a message we have not
		// recorded yet; what it says of the customer still counts.
		if u.Error != nil && u.Status == StateFailed {
			c, err := t.recipientContact(u.RecipientID)
			if err != nil {
				return err
			}
			return t.metaMarketingError(c, u.Error.Code, ts)
		}
		return nil
	case err != nil:
		return err
	}
	if u.Error != nil && u.Status == StateFailed {
		if err := t.metaMarketingError(contact, u.Error.Code, ts); err != nil {
			return err
		}
	}
	statusCode := 0
	if u.Error != nil {
		statusCode = u.Error.Code
	}
	if err := t.campaignMessage(id, u.Status, statusCode, ts); err != nil {
		return err
	}
	res.StatusesApplied++
	return t.emit(events.Event{Type: events.MessageStatus, MessageID: id, ConversationID: conv, ContactID: contact,
		WAMID: u.WAMID, Status: u.Status})
}

func (t *wtx) event(e *EventInput, res *IngestResult) error {
	h := sha256.New()
	h.Write([]byte(e.Field))
	h.Write([]byte{0})
	h.Write(e.Value)
	if IsTemplateField(e.Field) {
		// The same change recurs legitimately (approved, paused, approved
		// again): its time tells a new one from Meta's retry of an old one.
		h.Write([]byte(strconv.FormatInt(e.EventTime.Unix(), 10)))
	}
	r, err := t.stmt(t.st.insertEvent).ExecContext(t.ctx, hex.EncodeToString(h.Sum(nil)), e.Field, e.Type, e.WABAID,
		e.PhoneNumberID, ms(e.EventTime), string(e.Value), t.now.UnixMilli())
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n > 0 {
		res.EventsNew++
		if IsTemplateField(e.Field) {
			if _, err := t.templateEvent(e); err != nil {
				return fmt.Errorf("template change: %w", err)
			}
		}
		for _, p := range e.Preferences {
			if err := t.preference(p); err != nil {
				return fmt.Errorf("user preference: %w", err)
			}
		}
	}
	return nil
}

// preference applies a marketing stop or resume at once, unless a later
// choice is already recorded: Meta's retries may bring an old one late.
func (t *wtx) preference(p Preference) error {
	if p.Category != "marketing_messages" || (p.WaID == "" && p.UserID == "") {
		return nil
	}
	consent, status := "", ""
	switch strings.ToLower(p.Value) {
	case "stop":
		consent, status = ConsentOptedOut, events.ConsentStopped
	case "resume":
		consent, status = ConsentOptedIn, events.ConsentResumed
	default:
		return nil
	}
	id, err := t.recipient(p.WaID, p.UserID)
	if err != nil {
		return err
	}
	at := p.At
	if at.IsZero() {
		at = t.now
	}
	return t.recordConsent(ConsentEntry{ContactID: id, Status: consent, Source: ConsentSourcePreferences,
		Detail: "whatsapp preferences", At: at,
		Proof:    map[string]any{"webhook": "user_preferences", "category": p.Category, "value": p.Value},
		ifLatest: true, eventStatus: status})
}

// OriginBusinessApp marks a message the business sent from the WhatsApp
// Business app, which Meta echoed (Message.Origin).
const OriginBusinessApp = "business_app"

// OriginFlow marks a message an automation flow sent.
const OriginFlow = "flow"

// echo stores a message the business sent from the WhatsApp Business app
// as an outbound message of the person lane, already sent: it shows in the
// thread, and pauses the assistant like a reply from the panel. An edit or
// a deletion applies to the business's original, as the customer's do to
// theirs. It never touches the contact's 24-hour window, which only the
// customer opens.
func (t *wtx) echo(m *InboundMessage, res *IngestResult) error {
	if m.WAMID == "" {
		return errors.New("echo without id")
	}
	if seen, err := t.seen(m.WAMID, res); seen || err != nil {
		return err
	}
	ts := m.Timestamp
	if ts.IsZero() {
		ts = t.now
	}
	contactID, err := t.recipient(m.WaID, m.UserID)
	if err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	convID, err := t.outboundConv(contactID, m.PhoneNumberID)
	if err != nil {
		return err
	}
	var mediaState any
	if m.MediaID != "" {
		mediaState = "pending"
	}
	var msgID int64
	if err := t.queryRow(`INSERT INTO messages (wamid, direction, conversation_id, contact_id, phone_number_id, type, text,
		media_id, media_mime, media_sha256, media_filename, media_state, latitude, longitude, context_wamid, related_wamid,
		status, status_at, sent_at, created_at, raw, lane, origin)
		VALUES (?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?, ?, ?) RETURNING id`,
		m.WAMID, convID, contactID, m.PhoneNumberID, m.Type, m.Text,
		nullStr(m.MediaID), nullStr(m.MediaMime), nullStr(m.MediaSHA256), nullStr(m.MediaFilename), mediaState,
		m.Latitude, m.Longitude, nullStr(m.ContextWAMID), nullStr(m.RelatedWAMID),
		ts.UnixMilli(), ts.UnixMilli(), t.now.UnixMilli(), string(m.Raw), events.LanePerson, OriginBusinessApp).Scan(&msgID); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	res.NewEchoes++
	if !m.Silent {
		if _, err := t.exec(`UPDATE conversations SET last_message_at = MAX(last_message_at, ?1), preview = ?2, updated_at = ?3
			WHERE id = ?4`, ts.UnixMilli(), m.Preview, t.now.UnixMilli(), convID); err != nil {
			return err
		}
	}
	if err := t.effect(m, Outbound); err != nil {
		return err
	}
	if !m.Silent || m.Effect != "" {
		if err := t.personReplied(convID, contactID, events.BotPausedBusinessApp); err != nil {
			return err
		}
	}
	if m.MediaID != "" {
		if err := t.mediaJob(msgID); err != nil {
			return err
		}
	}
	return t.emit(events.Event{Type: events.MessageEchoed, MessageID: msgID, ConversationID: convID, ContactID: contactID, WAMID: m.WAMID})
}

// seen reports whether a message with this wamid is stored already (Meta
// sends again what it sent), counting it as a duplicate.
func (t *wtx) seen(wamid string, res *IngestResult) (bool, error) {
	var one int
	switch err := t.stmt(t.st.msgExists).QueryRowContext(t.ctx, wamid).Scan(&one); {
	case err == nil:
		res.Duplicates++
		return true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	return false, nil
}

// mediaJob asks for a message's media to be downloaded.
func (t *wtx) mediaJob(msgID int64) error {
	job, _ := json.Marshal(events.Event{Type: events.JobMediaDownload, MessageID: msgID, At: t.now})
	return t.job(events.SubjectMediaDownload, "media."+strconv.FormatInt(msgID, 10), job)
}
