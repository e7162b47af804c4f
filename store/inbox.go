package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sendbox/events"
)

// attachLabels loads the labels of the given conversations in one query.
func (s *Store) attachLabels(ctx context.Context, convs []*Conversation) error {
	if len(convs) == 0 {
		return nil
	}
	byID := make(map[int64]*Conversation, len(convs))
	args := make([]any, 0, len(convs))
	for _, c := range convs {
		byID[c.ID] = c
		args = append(args, c.ID)
	}
	rows, err := s.cachedQuery(ctx, `SELECT cl.conversation_id, l.id, l.name, l.color FROM conversation_labels cl
		JOIN labels l ON l.id = cl.label_id WHERE cl.conversation_id IN (?`+strings.Repeat(",?", len(args)-1)+`)
		ORDER BY l.name COLLATE NOCASE`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var l Label
		if err := rows.Scan(&cid, &l.ID, &l.Name, &l.Color); err != nil {
			return err
		}
		byID[cid].Labels = append(byID[cid].Labels, l)
	}
	return rows.Err()
}

// InboxFilter selects the conversations of the inbox list.
type InboxFilter struct {
	Status   string // open, pending, snoozed, resolved; "" for all
	Assignee string // "mine", "unassigned" or "" (all)
	UserID   int64  // who "mine" is
	TeamID   int64
	LabelID  int64
	Urgent   bool   // only urgent conversations not yet resolved
	Query    string // matches the start of the contact's name, number or username
	After    string // cursor
	Limit    int
}

func (f *InboxFilter) where(withStatus bool) (string, []any) {
	var where []string
	var args []any
	if withStatus && f.Status != "" {
		where, args = append(where, "v.status = ?"), append(args, f.Status)
	}
	switch f.Assignee {
	case "mine":
		where, args = append(where, "v.assignee_id = ?"), append(args, f.UserID)
	case "unassigned":
		where = append(where, "v.assignee_id IS NULL")
	}
	if f.TeamID != 0 {
		where, args = append(where, "v.team_id = ?"), append(args, f.TeamID)
	}
	if f.LabelID != 0 {
		where, args = append(where, "v.id IN (SELECT conversation_id FROM conversation_labels WHERE label_id = ?)"), append(args, f.LabelID)
	}
	if f.Urgent {
		where = append(where, "v.urgent = 1 AND v.status != 'resolved'")
	}
	if q := strings.TrimPrefix(strings.TrimSpace(f.Query), "+"); q != "" {
		like := escapeLike(q) + "%"
		where = append(where, `v.contact_id IN (SELECT id FROM contacts WHERE name LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\'
			OR wa_id LIKE ? ESCAPE '\' OR username LIKE ? ESCAPE '\')`)
		args = append(args, like, "% "+like, like, like)
	}
	if len(where) == 0 {
		return "1", nil
	}
	return strings.Join(where, " AND "), args
}

// Inbox returns one page of the inbox list, most recent activity first, with
// labels attached, the total and the next cursor.
func (s *Store) Inbox(ctx context.Context, f InboxFilter) ([]Conversation, int, string, error) {
	cond, args := f.where(true)
	out, total, next, err := s.conversationPage(ctx, cond, args, f.After, f.Limit, "inbox")
	if err != nil {
		return nil, 0, "", err
	}
	ptrs := make([]*Conversation, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := s.attachLabels(ctx, ptrs); err != nil {
		return nil, 0, "", err
	}
	return out, total, next, nil
}

// InboxCounts counts conversations by status under the filter's other
// criteria, and their unread messages, for the filter tabs.
type InboxCounts struct {
	ByStatus map[string]int
	Unread   map[string]int
}

// InboxCounts counts the inbox by status for the filter (its Status ignored).
func (s *Store) InboxCounts(ctx context.Context, f InboxFilter) (InboxCounts, error) {
	cond, args := f.where(false)
	out := InboxCounts{ByStatus: map[string]int{}, Unread: map[string]int{}}
	rows, err := s.r.QueryContext(ctx, "SELECT v.status, COUNT(*), COALESCE(SUM(v.unread > 0), 0) FROM conversations v WHERE "+
		cond+" GROUP BY v.status", args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n, unread int
		if err := rows.Scan(&st, &n, &unread); err != nil {
			return out, err
		}
		out.ByStatus[st], out.Unread[st] = n, unread
	}
	return out, rows.Err()
}

// ConversationEvent is one line of a conversation's timeline: what
// happened, by whom, and what changed, worded when read (timeline.Text).
type ConversationEvent struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Kind           string `json:"kind"` // an events.Change* kind, or events.ChangeLegacy
	// Actor is who made the change: a user's current name (the name at the
	// time if they are gone), an API key's or flow's name at the time.
	// Kind "" on legacy rows that recorded no one.
	Actor events.Actor   `json:"actor,omitzero"`
	Data  map[string]any `json:"data"` // events.Data* keys
	// Body is a note's text, or the sentence a legacy row was stored as.
	Body      string    `json:"body,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ConversationEvents returns a conversation's timeline, oldest first.
func (s *Store) ConversationEvents(ctx context.Context, convID int64) ([]ConversationEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT e.id, e.conversation_id, e.kind, e.actor_kind, COALESCE(e.actor_id, e.actor_ref, 0),
		CASE WHEN e.actor_kind = 'user' THEN COALESCE(u.name, e.actor_name) ELSE e.actor_name END,
		e.data, e.body, e.created_at FROM conversation_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.conversation_id = ? ORDER BY e.id`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ConversationEvent
	for rows.Next() {
		var e ConversationEvent
		var data string
		var at int64
		if err := rows.Scan(&e.ID, &e.ConversationID, &e.Kind, &e.Actor.Kind, &e.Actor.ID, &e.Actor.Name, &data, &e.Body,
			&at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return nil, fmt.Errorf("timeline row %d: data: %w", e.ID, err)
		}
		e.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// addTimeline writes a line of a conversation's timeline: kind and data
// as the domain event of the change says them, by the transaction's actor.
// body is only a note's text. A user's id is kept while the user exists
// (the foreign key); the name is kept as it was, for those who are gone.
func (t *wtx) addTimeline(convID int64, kind string, data map[string]any, body string) error {
	a := t.actor
	var user, ref any
	switch a.Kind {
	case events.ActorUser:
		user = a.ID
	case events.ActorAPIKey, events.ActorFlow:
		ref = a.ID
	}
	js := "{}"
	if len(data) > 0 {
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("timeline data: %w", err)
		}
		js = string(b)
	}
	_, err := t.exec(`INSERT INTO conversation_events (conversation_id, kind, actor_kind, actor_id, actor_ref, actor_name,
		data, body, created_at) VALUES (?, ?, ?, (SELECT id FROM users WHERE id = ?), ?, ?, ?, ?, ?)`,
		convID, kind, a.Kind, user, ref, a.Name, js, body, t.now.UnixMilli())
	return err
}

// conversationChange runs change on a conversation and records the timeline
// line and the domain event, of the same kind and data, in the same
// transaction. change may complete data (the names of what it set).
func (s *Store) conversationChange(ctx context.Context, convID int64, kind string, data map[string]any, body string,
	change func(t *wtx) error) error {
	return s.update(ctx, func(t *wtx) error { return t.conversationChange(convID, kind, data, body, change) })
}

// conversationChange is Store.conversationChange in a transaction.
func (t *wtx) conversationChange(convID int64, kind string, data map[string]any, body string, change func(t *wtx) error) error {
	var contact int64
	// Statements prepared once (t.queryRow, t.exec): parsed each time,
	// they cost more than running, and every new conversation records
	// the router's decision through here.
	err := t.queryRow("SELECT contact_id FROM conversations WHERE id = ?", convID).Scan(&contact)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if change != nil {
		if err := change(t); err != nil {
			return err
		}
	}
	if err := t.addTimeline(convID, kind, data, body); err != nil {
		return err
	}
	if _, err := t.exec("UPDATE conversations SET updated_at = ? WHERE id = ?", t.now.UnixMilli(), convID); err != nil {
		return err
	}
	return t.emit(events.Event{Type: events.ConversationUpdated, ConversationID: convID, ContactID: contact, Status: kind,
		Data: data})
}

// SetRouting records who answers a conversation now and why. The router
// calls it only when the decision changed: on every new conversation,
// from several screening workers at once, so it is written in a group
// commit.
func (s *Store) SetRouting(ctx context.Context, convID int64, r Routing) error {
	return s.grouped(ctx, func(t *wtx) error {
		// conversationChange's three statements on the conversation in one.
		var contact int64
		err := t.queryRow(`UPDATE conversations SET routed_to = ?1, routed_reason = ?2, routed_detail = ?3, routed_at = ?4,
			updated_at = ?4 WHERE id = ?5 RETURNING contact_id`, r.To, r.Reason, r.Detail, t.now.UnixMilli(), convID).Scan(&contact)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		data := routingData(r)
		if err := t.addTimeline(convID, events.ChangeRouted, data, ""); err != nil {
			return err
		}
		return t.emit(events.Event{Type: events.ConversationUpdated, ConversationID: convID, ContactID: contact,
			Status: events.ChangeRouted, Data: data})
	})
}

func routingData(r Routing) map[string]any {
	data := map[string]any{events.DataRoutedTo: r.To, events.DataReason: r.Reason}
	if r.Detail != "" {
		data[events.DataDetail] = r.Detail
	}
	return data
}

func (t *wtx) setRouting(convID int64, r Routing) error {
	_, err := t.exec(`UPDATE conversations SET routed_to = ?, routed_reason = ?, routed_detail = ?, routed_at = ?
		WHERE id = ?`, r.To, r.Reason, r.Detail, t.now.UnixMilli(), convID)
	return err
}

// AddNote adds a private note to a conversation, by the context's actor.
func (s *Store) AddNote(ctx context.Context, convID int64, body string) error {
	return s.conversationChange(ctx, convID, events.ChangeNote, nil, body, nil)
}

// Assign gives a conversation to a user (0 unassigns).
func (s *Store) Assign(ctx context.Context, convID, userID int64) error {
	data := map[string]any{events.DataAssignee: userID}
	return s.conversationChange(ctx, convID, events.ChangeAssigned, data, "", func(t *wtx) error {
		if userID == 0 {
			_, err := t.exec("UPDATE conversations SET assignee_id = NULL WHERE id = ?", convID)
			return err
		}
		var name string
		err := t.queryRow("SELECT name FROM users WHERE id = ?", userID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		data[events.DataAssigneeName] = name
		_, err = t.exec("UPDATE conversations SET assignee_id = ? WHERE id = ?", userID, convID)
		return err
	})
}

// SetTeam gives a conversation to a team (0 for none).
func (s *Store) SetTeam(ctx context.Context, convID, teamID int64) error {
	data := map[string]any{events.DataTeam: teamID}
	return s.conversationChange(ctx, convID, events.ChangeTeam, data, "", func(t *wtx) error {
		if teamID == 0 {
			_, err := t.exec("UPDATE conversations SET team_id = NULL WHERE id = ?", convID)
			return err
		}
		var name string
		err := t.queryRow("SELECT name FROM teams WHERE id = ?", teamID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("team %d: %w", teamID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		data[events.DataTeamName] = name
		_, err = t.exec("UPDATE conversations SET team_id = ? WHERE id = ?", teamID, convID)
		return err
	})
}

// SetStatus opens, resolves, marks pending or snoozes a conversation. A
// snooze is a timer (TimerSnoozeWake) whose token is the time it wakes at:
// any change of status cancels the conversation's pending one, and a
// customer's reply, which reopens the conversation without a status
// change here, leaves it obsolete.
func (s *Store) SetStatus(ctx context.Context, convID int64, status string, snoozeUntil time.Time) error {
	if status == "snoozed" && snoozeUntil.IsZero() {
		return errors.New("snoozing needs a time to wake up")
	}
	if status != "snoozed" {
		snoozeUntil = time.Time{}
	}
	data := map[string]any{events.DataStatus: status}
	if status == "snoozed" {
		data[events.DataSnoozedUntil] = snoozeUntil.UTC()
	}
	return s.conversationChange(ctx, convID, events.ChangeStatus, data, "", func(t *wtx) error {
		// Resolving takes the urgent flag off: the matter is settled.
		if _, err := t.exec(`UPDATE conversations SET status = ?, snoozed_until = ?,
			urgent = CASE WHEN ? = 'resolved' THEN 0 ELSE urgent END WHERE id = ?`,
			status, ms(snoozeUntil), status, convID); err != nil {
			return err
		}
		if err := t.cancelTimers(TimerSnoozeWake, convID); err != nil {
			return err
		}
		if status != "snoozed" {
			return nil
		}
		until := snoozeUntil.UnixMilli()
		_, err := t.addTimer(TimerSpec{Kind: TimerSnoozeWake, Owner: convID, Token: strconv.FormatInt(until, 10),
			DueAt: time.UnixMilli(until)})
		return err
	})
}

// SetConversationLanguage records an agent's choice of the language to
// write to the customer in; "" gives the choice back to detection. The
// choice is checked by inbox.SetLanguage, which the fronts call.
func (s *Store) SetConversationLanguage(ctx context.Context, convID int64, lang string) error {
	data := map[string]any{events.DataLanguage: lang}
	return s.conversationChange(ctx, convID, events.ChangeLanguage, data, "", func(t *wtx) error {
		_, err := t.exec("UPDATE conversations SET language_chosen = ? WHERE id = ?", lang, convID)
		return err
	})
}

// ListLabels returns every label by name.
func (s *Store) ListLabels(ctx context.Context) ([]Label, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, name, color FROM labels ORDER BY name COLLATE NOCASE")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Label
	for rows.Next() {
		var l Label
		if err := rows.Scan(&l.ID, &l.Name, &l.Color); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// CreateLabel adds a label.
func (s *Store) CreateLabel(ctx context.Context, name string, color int) (*Label, error) {
	var id int64
	err := s.w.QueryRowContext(ctx, "INSERT INTO labels (name, color, created_at) VALUES (?, ?, ?) RETURNING id",
		name, color, now().UnixMilli()).Scan(&id)
	if isUnique(err) {
		return nil, fmt.Errorf("a label named %s: %w", name, ErrConflict)
	}
	if err != nil {
		return nil, err
	}
	return &Label{ID: id, Name: name, Color: color}, nil
}

// DeleteLabel removes a label from everything.
func (s *Store) DeleteLabel(ctx context.Context, id int64) error {
	r, err := s.w.ExecContext(ctx, "DELETE FROM labels WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetConversationLabels replaces a conversation's labels. Ids of no label
// are left out, of the labels and of what the timeline and the event say.
func (s *Store) SetConversationLabels(ctx context.Context, convID int64, labelIDs []int64) error {
	data := map[string]any{}
	return s.conversationChange(ctx, convID, events.ChangeLabels, data, "", func(t *wtx) error {
		if _, err := t.exec("DELETE FROM conversation_labels WHERE conversation_id = ?", convID); err != nil {
			return err
		}
		for _, l := range labelIDs {
			if _, err := t.exec(`INSERT OR IGNORE INTO conversation_labels (conversation_id, label_id)
				SELECT ?, id FROM labels WHERE id = ?`, convID, l); err != nil {
				return err
			}
		}
		return t.labelsData(convID, data)
	})
}

// labelsData puts a conversation's labels, as they are now in the
// transaction, in a labels change's data: their ids and names, by name.
func (t *wtx) labelsData(convID int64, data map[string]any) error {
	rows, err := t.query(`SELECT l.id, l.name FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
		WHERE cl.conversation_id = ? ORDER BY l.name COLLATE NOCASE`, convID)
	if err != nil {
		return err
	}
	defer rows.Close()
	ids, names := []int64{}, []string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		ids, names = append(ids, id), append(names, name)
	}
	data[events.DataLabels], data[events.DataLabelNames] = ids, names
	return rows.Err()
}

// UnreadConversations counts open conversations with unread messages.
func (s *Store) UnreadConversations(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM conversations WHERE status != 'resolved' AND unread > 0").Scan(&n)
	return n, err
}
