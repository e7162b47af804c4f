package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sendbox/events"
	"sendbox/language"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const messageCols = `m.id, COALESCE(m.wamid, ''), m.direction, m.conversation_id, m.contact_id, m.phone_number_id, m.type, m.text,
	COALESCE(m.media_id, ''), COALESCE(m.media_mime, ''), COALESCE(m.media_sha256, ''), COALESCE(m.media_filename, ''),
	COALESCE(m.media_path, ''), COALESCE(m.media_size, 0), COALESCE(m.media_state, ''), COALESCE(m.media_error, ''),
	m.latitude, m.longitude, COALESCE(m.reply_id, ''), COALESCE(m.context_wamid, ''), COALESCE(m.related_wamid, ''),
	m.edited_at, m.revoked_at, m.status, m.status_at, m.error_code, COALESCE(m.error_title, ''), COALESCE(m.error_detail, ''),
	m.sent_at, m.created_at, COALESCE(m.idempotency_key, ''), COALESCE(m.payload, ''), m.attempts, COALESCE(m.raw, ''),
	COALESCE(m.author_id, 0), m.lane, m.origin`

type scanner interface{ Scan(dest ...any) error }

func scanMessage(sc scanner) (*Message, error) {
	var m Message
	var md Media
	var lat, lon sql.NullFloat64
	var edited, revoked, statusAt, code sql.NullInt64
	var sentAt, createdAt int64
	var title, detail, payload, raw string
	if err := sc.Scan(&m.ID, &m.WAMID, &m.Direction, &m.ConversationID, &m.ContactID, &m.PhoneNumberID, &m.Type, &m.Text,
		&md.ID, &md.MimeType, &md.SHA256, &md.Filename, &md.Path, &md.Size, &md.State, &md.Error,
		&lat, &lon, &m.ReplyID, &m.ContextWAMID, &m.RelatedWAMID,
		&edited, &revoked, &m.Status, &statusAt, &code, &title, &detail,
		&sentAt, &createdAt, &m.IdempotencyKey, &payload, &m.Attempts, &raw, &m.AuthorID, &m.Lane, &m.Origin); err != nil {
		return nil, err
	}
	if md.ID != "" || md.State != "" {
		m.Media = &md
	}
	if lat.Valid && lon.Valid {
		m.Latitude, m.Longitude = &lat.Float64, &lon.Float64
	}
	m.EditedAt, m.RevokedAt, m.StatusAt = fromMS(edited), fromMS(revoked), fromMS(statusAt)
	if code.Valid || title != "" {
		m.Error = &MessageError{Code: int(code.Int64), Title: title, Detail: detail} // no code: sendbox's own note
	}
	m.Timestamp, m.CreatedAt = time.UnixMilli(sentAt).UTC(), time.UnixMilli(createdAt).UTC()
	if payload != "" {
		m.Payload = jsonText(payload)
	}
	if raw != "" {
		m.Raw = jsonText(raw)
	}
	return &m, nil
}

func (s *Store) messageWhere(ctx context.Context, q querier, where string, args ...any) (*Message, error) {
	query := "SELECT " + messageCols + " FROM messages m WHERE " + where
	var row *sql.Row
	if q == querier(s.r) {
		row = s.cachedRow(ctx, query, args...)
	} else {
		row = q.QueryRowContext(ctx, query, args...)
	}
	m, err := scanMessage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return m, err
}

// MessageByID returns one message.
func (s *Store) MessageByID(ctx context.Context, id int64) (*Message, error) {
	return s.messageWhere(ctx, s.r, "m.id = ?", id)
}

// MessageByWAMID returns one message by Meta's id.
func (s *Store) MessageByWAMID(ctx context.Context, wamid string) (*Message, error) {
	return s.messageWhere(ctx, s.r, "m.wamid = ?", wamid)
}

// MessageFilter selects messages. Zero fields do not filter.
type MessageFilter struct {
	Direction      string
	ContactID      int64
	ConversationID int64
	Since          time.Time // sent at or after
	Ascending      bool      // oldest first (default newest first)
	After          int64     // cursor: the last id of the previous page
	Limit          int
}

// ListMessages returns one page of messages, the total matching the filter
// (ignoring the cursor), and the cursor of the next page (0 at the end).
func (s *Store) ListMessages(ctx context.Context, f MessageFilter) ([]Message, int, int64, error) {
	var where []string
	var args []any
	if f.Direction != "" {
		where, args = append(where, "m.direction = ?"), append(args, f.Direction)
	}
	if f.ContactID != 0 {
		where, args = append(where, "m.contact_id = ?"), append(args, f.ContactID)
	}
	if f.ConversationID != 0 {
		where, args = append(where, "m.conversation_id = ?"), append(args, f.ConversationID)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "m.sent_at >= ?"), append(args, f.Since.UnixMilli())
	}
	cond := "1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages m WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, 0, fmt.Errorf("count messages: %w", err)
	}
	order, cmp := "DESC", "<"
	if f.Ascending {
		order, cmp = "ASC", ">"
	}
	if f.After != 0 {
		cond += " AND m.id " + cmp + " ?"
		args = append(args, f.After)
	}
	limit := clampLimit(f.Limit)
	rows, err := s.r.QueryContext(ctx, "SELECT "+messageCols+" FROM messages m WHERE "+cond+
		" ORDER BY m.id "+order+" LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("list messages: %w", err)
	}
	out, next, err := collect(rows, limit, scanMessage, func(m *Message) int64 { return m.ID })
	return out, total, next, err
}

// collect scans up to limit+1 rows; the extra row only tells that there is
// a next page, whose cursor is the id of the last row kept (0 at the end).
func collect[T any](rows *sql.Rows, limit int, scan func(scanner) (*T, error), id func(*T) int64) ([]T, int64, error) {
	defer rows.Close()
	out := make([]T, 0, min(limit, 64))
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = id(&out[limit-1])
	}
	return out, next, nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

const contactCols = `c.id, COALESCE(c.wa_id, ''), COALESCE(c.user_id, ''), COALESCE(c.parent_user_id, ''), c.name, c.username,
	c.last_inbound_at, c.created_at, c.updated_at, c.email, c.notes, c.attributes, c.consent, c.consent_at, c.consent_source,
	c.marketing_hold_until`

func scanContact(sc scanner) (*Contact, error) {
	var c Contact
	dest, finish := contactDest(&c)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return &c, nil
}

// contactDest returns scan destinations for contactCols into c, and the
// function that converts them once scanned.
func contactDest(c *Contact) ([]any, func()) {
	var last, created, updated, consentAt, hold sql.NullInt64
	var attrs string
	dest := []any{&c.ID, &c.WaID, &c.UserID, &c.ParentUserID, &c.Name, &c.Username, &last, &created, &updated,
		&c.Email, &c.Notes, &attrs, &c.Consent, &consentAt, &c.ConsentSource, &hold}
	return dest, func() {
		c.LastInboundAt, c.ConsentAt, c.MarketingHoldUntil = fromMS(last), fromMS(consentAt), fromMS(hold)
		c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
		if attrs != "" && attrs != "{}" {
			json.Unmarshal([]byte(attrs), &c.Attributes)
		}
	}
}

// ContactByID returns one contact.
func (s *Store) ContactByID(ctx context.Context, id int64) (*Contact, error) {
	c, err := scanContact(s.cachedRow(ctx, "SELECT "+contactCols+" FROM contacts c WHERE c.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// ContactsByID returns the contacts with these ids, by id, in one query
// (a campaign's batch: one read instead of one per recipient).
func (s *Store) ContactsByID(ctx context.Context, ids []int64) (map[int64]*Contact, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.cachedQuery(ctx, "SELECT "+contactCols+" FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?))", string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]*Contact, len(ids))
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out[c.ID] = c
	}
	return out, rows.Err()
}

// ContactByRecipient finds a contact by phone digits or, failing that, BSUID.
func (s *Store) ContactByRecipient(ctx context.Context, waID, userID string) (*Contact, error) {
	if waID != "" {
		c, err := scanContact(s.cachedRow(ctx, "SELECT "+contactCols+" FROM contacts c WHERE c.wa_id = ?", waID))
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return c, err
		}
	}
	if userID != "" {
		c, err := scanContact(s.cachedRow(ctx, "SELECT "+contactCols+" FROM contacts c WHERE c.user_id = ?", userID))
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return c, err
		}
	}
	return nil, ErrNotFound
}

// ContactFilter selects contacts.
type ContactFilter struct {
	Query   string // matches the start of the name, phone or username
	Tag     string
	Consent string
	After   int64 // cursor: last id of the previous page
	Limit   int
}

// ListContacts returns one page of contacts, newest first, with the total.
func (s *Store) ListContacts(ctx context.Context, f ContactFilter) ([]Contact, int, int64, error) {
	conds, args := []string{"1"}, []any{}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := escapeLike(strings.TrimPrefix(q, "+")) + "%"
		conds = append(conds, `(c.name LIKE ? ESCAPE '\' OR c.wa_id LIKE ? ESCAPE '\' OR c.username LIKE ? ESCAPE '\'
			OR c.name LIKE ? ESCAPE '\' OR c.email LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like, "% "+like, like)
	}
	if f.Tag != "" {
		conds, args = append(conds, "c.id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)"), append(args, f.Tag)
	}
	if f.Consent != "" {
		conds, args = append(conds, "c.consent = ?"), append(args, f.Consent)
	}
	cond := strings.Join(conds, " AND ")
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts c WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, 0, fmt.Errorf("count contacts: %w", err)
	}
	if f.After != 0 {
		cond += " AND c.id < ?"
		args = append(args, f.After)
	}
	limit := clampLimit(f.Limit)
	rows, err := s.r.QueryContext(ctx, "SELECT "+contactCols+" FROM contacts c WHERE "+cond+
		" ORDER BY c.id DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("list contacts: %w", err)
	}
	out, next, err := collect(rows, limit, scanContact, func(c *Contact) int64 { return c.ID })
	if err == nil {
		err = s.attachTags(ctx, out)
	}
	return out, total, next, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

const conversationCols = `v.id, v.contact_id, v.phone_number_id, v.status, v.last_message_at, v.last_inbound_at, v.preview, v.unread,
	v.created_at, v.updated_at, COALESCE(v.assignee_id, 0), COALESCE(u.name, ''), COALESCE(v.team_id, 0), COALESCE(t.name, ''),
	v.snoozed_until, v.bot, v.urgent, v.escalation, v.escalated_at, v.language_detected, v.language_chosen,
	v.routed_to, v.routed_reason, v.routed_detail, v.routed_at, ` + contactCols

// conversationFrom joins what a conversation row shows.
const conversationFrom = ` FROM conversations v JOIN contacts c ON c.id = v.contact_id
	LEFT JOIN users u ON u.id = v.assignee_id LEFT JOIN teams t ON t.id = v.team_id`

func scanConversation(sc scanner) (*Conversation, error) {
	var v Conversation
	var c Contact
	var lastMsg, created, updated int64
	var lastIn, snoozed, escalated, routedAt sql.NullInt64
	var route Routing
	cdest, finish := contactDest(&c)
	dest := []any{&v.ID, &v.ContactID, &v.PhoneNumberID, &v.Status, &lastMsg, &lastIn, &v.Preview, &v.Unread,
		&created, &updated, &v.AssigneeID, &v.AssigneeName, &v.TeamID, &v.TeamName, &snoozed,
		&v.Bot, &v.Urgent, &v.Escalation, &escalated, &v.LanguageDetected, &v.LanguageChosen,
		&route.To, &route.Reason, &route.Detail, &routedAt}
	if err := sc.Scan(append(dest, cdest...)...); err != nil {
		return nil, err
	}
	finish()
	v.LastMessageAt, v.LastInboundAt, v.SnoozedUntil = time.UnixMilli(lastMsg).UTC(), fromMS(lastIn), fromMS(snoozed)
	v.EscalatedAt = fromMS(escalated)
	if route.To != "" {
		route.At = fromMS(routedAt)
		v.Routing = &route
	}
	v.Language, v.LanguageSource = language.Resolve(v.LanguageChosen, v.LanguageDetected, c.WaID)
	v.CreatedAt, v.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	v.Contact = &c
	return &v, nil
}

// ConversationByID returns one conversation with its contact.
func (s *Store) ConversationByID(ctx context.Context, id int64) (*Conversation, error) {
	v, err := scanConversation(s.cachedRow(ctx, "SELECT "+conversationCols+conversationFrom+" WHERE v.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := s.attachLabels(ctx, []*Conversation{v}); err != nil {
		return nil, err
	}
	return v, nil
}

// ConversationFilter selects conversations.
type ConversationFilter struct {
	Status    string
	ContactID int64
	After     string // cursor from the previous page
	Limit     int
}

// ErrBadCursor is returned for a cursor this store did not make.
var ErrBadCursor = errors.New("bad cursor")

// ListConversations returns one page of conversations, most recent activity
// first, with the total matching the filter and the next page's cursor ("" at the end).
func (s *Store) ListConversations(ctx context.Context, f ConversationFilter) ([]Conversation, int, string, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "v.status = ?"), append(args, f.Status)
	}
	if f.ContactID != 0 {
		where, args = append(where, "v.contact_id = ?"), append(args, f.ContactID)
	}
	cond := "1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	return s.conversationPage(ctx, cond, args, f.After, f.Limit, "conversations")
}

// conversationPage returns one page of the conversations matching cond,
// most recent activity first, with the total and the next cursor; what
// names the list in errors.
func (s *Store) conversationPage(ctx context.Context, cond string, args []any, after string, limit int, what string) ([]Conversation, int, string, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM conversations v WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, "", fmt.Errorf("count %s: %w", what, err)
	}
	if after != "" {
		at, id, err := decodeCursor(after)
		if err != nil {
			return nil, 0, "", err
		}
		cond += " AND (v.last_message_at < ? OR (v.last_message_at = ? AND v.id < ?))"
		args = append(args, at, at, id)
	}
	limit = clampLimit(limit)
	rows, err := s.r.QueryContext(ctx, "SELECT "+conversationCols+conversationFrom+" WHERE "+cond+
		" ORDER BY v.last_message_at DESC, v.id DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, 0, "", fmt.Errorf("%s: %w", what, err)
	}
	out, more, err := collect(rows, limit, scanConversation, func(*Conversation) int64 { return 1 })
	if err != nil {
		return nil, 0, "", err
	}
	next := ""
	if more != 0 {
		last := out[len(out)-1]
		next = encodeCursor(last.LastMessageAt.UnixMilli(), last.ID)
	}
	return out, total, next, nil
}

func encodeCursor(at, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + ":" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, ErrBadCursor
	}
	a, i, ok := strings.Cut(string(b), ":")
	if !ok {
		return 0, 0, ErrBadCursor
	}
	at, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(i, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, ErrBadCursor
	}
	return at, id, nil
}

// Counts are totals for dashboards and tests.
type Counts struct {
	Contacts, Conversations, Messages, Inbound, Outbound, Statuses, Events int
}

// Count returns row totals.
func (s *Store) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM conversations),
		(SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM messages WHERE direction = 'inbound'),
		(SELECT COUNT(*) FROM messages WHERE direction = 'outbound'),
		(SELECT COUNT(*) FROM statuses), (SELECT COUNT(*) FROM webhook_events)`).
		Scan(&c.Contacts, &c.Conversations, &c.Messages, &c.Inbound, &c.Outbound, &c.Statuses, &c.Events)
	return c, err
}

// MarkConversationRead clears a conversation's unread count.
func (s *Store) MarkConversationRead(ctx context.Context, convID int64) error {
	return s.update(ctx, func(t *wtx) error {
		var contact int64
		err := t.tx.QueryRowContext(ctx, `UPDATE conversations SET unread = 0, updated_at = ? WHERE id = ?
			RETURNING contact_id`, t.now.UnixMilli(), convID).Scan(&contact)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return t.emit(events.Event{Type: events.ConversationUpdated, ConversationID: convID, ContactID: contact, Status: events.ChangeRead})
	})
}
