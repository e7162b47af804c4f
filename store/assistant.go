package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sendbox/events"
)

// Bot states of a conversation.
const (
	BotOn     = "on"
	BotOff    = "off"
	BotPaused = "paused"
)

// AI reply outcomes.
const (
	AIAnswered  = "answered"  // the model answered from the knowledge
	AIQuoted    = "quoted"    // without a model, a FAQ or passage was quoted
	AIHandoff   = "handoff"   // the knowledge did not support an answer: a person was asked
	AIEscalated = "escalated" // the policy fired
	AITimeout   = "timeout"   // the turn took too long: holding message and a person asked
	AIOptedOut  = "opted_out" // the customer opted out of marketing
	AIOptedIn   = "opted_in"  // the customer asked to receive marketing again
	AIAway      = "away"      // outside business hours: the away message
	AIGreeted   = "greeted"   // the customer only said hello or thanks
	AISkipped   = "skipped"   // nothing to do (bot off, a newer message will be answered…)
)

// AIPassage is a passage an AI reply was based on.
type AIPassage struct {
	ChunkID int64   `json:"chunk_id"`
	DocID   int64   `json:"doc_id"`
	Kind    string  `json:"kind"`
	Title   string  `json:"title"`
	Heading string  `json:"heading,omitempty"`
	Text    string  `json:"text"`
	Score   float64 `json:"score"`
	Via     string  `json:"via"` // words, meaning or both
}

// AIReply records one turn of the assistant.
type AIReply struct {
	ID             int64         `json:"id"`
	ConversationID int64         `json:"conversation_id"`
	InboundID      int64         `json:"inbound_id,omitempty"`
	MessageID      int64         `json:"message_id,omitempty"`
	Outcome        string        `json:"outcome"`
	Mode           string        `json:"mode"` // model, quote, rules
	Model          string        `json:"model,omitempty"`
	PromptVersion  string        `json:"prompt_version,omitempty"`
	Passages       []AIPassage   `json:"passages"`
	Detail         string        `json:"detail,omitempty"`
	Latency        time.Duration `json:"latency_ns"`
	ModelTime      time.Duration `json:"model_ns"`
	CreatedAt      time.Time     `json:"created_at"`
}

// RecordAIReply stores a turn once per customer message: a second record
// for the same inbound message changes nothing and returns false.
func (s *Store) RecordAIReply(ctx context.Context, r *AIReply) (bool, error) {
	passages, err := json.Marshal(r.Passages)
	if err != nil {
		return false, err
	}
	if r.Passages == nil {
		passages = []byte("[]")
	}
	inserted := false
	err = s.update(ctx, func(t *wtx) error {
		var id int64
		err := t.queryRow(`INSERT INTO ai_replies (conversation_id, inbound_id, message_id, outcome, mode, model,
			prompt_version, passages, detail, latency_ms, model_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (inbound_id) DO NOTHING RETURNING id`,
			r.ConversationID, nullID(r.InboundID), nullID(r.MessageID), r.Outcome, r.Mode, r.Model, r.PromptVersion,
			string(passages), r.Detail, r.Latency.Milliseconds(), r.ModelTime.Milliseconds(), t.now.UnixMilli()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("record AI reply: %w", err)
		}
		inserted, r.ID, r.CreatedAt = true, id, t.now
		return t.emit(events.Event{Type: events.ConversationUpdated, ConversationID: r.ConversationID, Status: events.ChangeAI})
	})
	return inserted, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// AIHandled reports whether the assistant already recorded a turn for this customer message.
func (s *Store) AIHandled(ctx context.Context, inboundID int64) (bool, error) {
	var n int
	err := s.cachedRow(ctx, "SELECT COUNT(*) FROM ai_replies WHERE inbound_id = ?", inboundID).Scan(&n)
	return n > 0, err
}

const aiReplyCols = `id, conversation_id, COALESCE(inbound_id, 0), COALESCE(message_id, 0), outcome, mode, model, prompt_version,
	passages, detail, latency_ms, model_ms, created_at`

func scanAIReply(sc scanner) (*AIReply, error) {
	var r AIReply
	var passages string
	var lat, mod, created int64
	if err := sc.Scan(&r.ID, &r.ConversationID, &r.InboundID, &r.MessageID, &r.Outcome, &r.Mode, &r.Model, &r.PromptVersion,
		&passages, &r.Detail, &lat, &mod, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(passages), &r.Passages); err != nil {
		return nil, fmt.Errorf("AI reply %d passages: %w", r.ID, err)
	}
	r.Latency, r.ModelTime = time.Duration(lat)*time.Millisecond, time.Duration(mod)*time.Millisecond
	r.CreatedAt = time.UnixMilli(created).UTC()
	return &r, nil
}

// AIReplies returns a conversation's AI turns, oldest first.
func (s *Store) AIReplies(ctx context.Context, convID int64) ([]AIReply, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+aiReplyCols+" FROM ai_replies WHERE conversation_id = ? ORDER BY id", convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AIReply
	for rows.Next() {
		r, err := scanAIReply(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// AIReplyFor returns the turn that answered a customer message, or ErrNotFound.
func (s *Store) AIReplyFor(ctx context.Context, inboundID int64) (*AIReply, error) {
	r, err := scanAIReply(s.r.QueryRowContext(ctx, "SELECT "+aiReplyCols+" FROM ai_replies WHERE inbound_id = ?", inboundID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// AIStats counts turns by outcome since a time, for the panel.
func (s *Store) AIStats(ctx context.Context, since time.Time) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT outcome, COUNT(*) FROM ai_replies WHERE created_at >= ? GROUP BY outcome", since.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return nil, err
		}
		out[o] = n
	}
	return out, rows.Err()
}

// SetBot switches the assistant on, off or paused in a conversation.
// reason is "" for a switch, or why it paused by itself (events.BotPaused*).
func (s *Store) SetBot(ctx context.Context, convID int64, state, reason string) error {
	if state != BotOn && state != BotOff && state != BotPaused {
		return fmt.Errorf("unknown bot state %q", state)
	}
	data := map[string]any{events.DataBot: state}
	if reason != "" {
		data[events.DataReason] = reason
	}
	return s.conversationChange(ctx, convID, events.ChangeBot, data, "", func(t *wtx) error {
		_, err := t.exec("UPDATE conversations SET bot = ? WHERE id = ?", state, convID)
		return err
	})
}

// Escalation hands a conversation to people.
type Escalation struct {
	Category string // a policy category, or "" for a plain handoff
	Urgent   bool
	TeamID   int64 // 0 leaves the team as it is
	// Detail is the words the policy matched, or why the assistant handed
	// over (its data's events.DataDetail).
	Detail  string
	Summary string // posted as a private note
	// Routing, when set, is recorded as the router's decision in the same
	// transaction (without a line of its own: the escalation's says it).
	Routing *Routing
}

// Escalate pauses the assistant, flags and routes the conversation and
// posts the summary note, in one transaction. A conversation already
// escalated keeps its first category and time.
func (s *Store) Escalate(ctx context.Context, convID int64, e Escalation) error {
	return s.update(ctx, func(t *wtx) error { return t.escalate(convID, e) })
}

// escalate is Escalate in a transaction (a flow's hand-off is one too).
func (t *wtx) escalate(convID int64, e Escalation) error {
	kind, data := events.ChangeEscalated, map[string]any{events.DataCategory: e.Category}
	if e.Category == "" {
		kind, data = events.ChangeHandoff, map[string]any{}
	}
	if e.Detail != "" {
		data[events.DataDetail] = e.Detail
	}
	return t.conversationChange(convID, kind, data, "", func(t *wtx) error {
		urgent := 0
		if e.Urgent {
			urgent = 1
		}
		if _, err := t.exec(`UPDATE conversations SET bot = CASE WHEN bot = 'off' THEN 'off' ELSE 'paused' END,
			urgent = MAX(urgent, ?), status = CASE WHEN status = 'resolved' THEN status ELSE 'open' END, snoozed_until = NULL,
			escalation = CASE WHEN escalation = '' THEN ? ELSE escalation END,
			escalated_at = CASE WHEN ? != '' THEN COALESCE(escalated_at, ?) ELSE escalated_at END,
			team_id = COALESCE(?, team_id) WHERE id = ?`,
			urgent, e.Category, e.Category, t.now.UnixMilli(), nullID(e.TeamID), convID); err != nil {
			return err
		}
		if e.Routing != nil {
			if err := t.setRouting(convID, *e.Routing); err != nil {
				return err
			}
		}
		if e.Summary == "" {
			return nil
		}
		return t.addTimeline(convID, events.ChangeNote, nil, e.Summary)
	})
}

// ClearUrgent takes the urgent flag off once a person has it in hand.
func (s *Store) ClearUrgent(ctx context.Context, convID int64) error {
	return s.conversationChange(ctx, convID, events.ChangeUnurgent, nil, "", func(t *wtx) error {
		_, err := t.exec("UPDATE conversations SET urgent = 0 WHERE id = ?", convID)
		return err
	})
}

// PreviousBot is the assistant's state in the contact's conversation
// before this one, or "" if there is none.
func (s *Store) PreviousBot(ctx context.Context, contactID, convID int64) (string, error) {
	var state string
	err := s.r.QueryRowContext(ctx, `SELECT bot FROM conversations WHERE contact_id = ? AND id < ? ORDER BY id DESC LIMIT 1`,
		contactID, convID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return state, err
}

// NewerInbound reports whether the customer wrote again in the
// conversation after this message.
func (s *Store) NewerInbound(ctx context.Context, convID, msgID int64) (bool, error) {
	// "+direction": without it SQLite picks messages_direction and walks
	// every inbound message since msgID, of every conversation.
	var newer bool
	err := s.cachedRow(ctx, `SELECT EXISTS(SELECT 1 FROM messages
		WHERE conversation_id = ? AND id > ? AND +direction = 'inbound')`, convID, msgID).Scan(&newer)
	return newer, err
}

// UrgentCount is how many open conversations are flagged urgent.
func (s *Store) UrgentCount(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM conversations WHERE urgent = 1 AND status != 'resolved'").Scan(&n)
	return n, err
}

// RecentMessages returns up to n messages of a conversation up to and
// including upToID, oldest first: what the assistant reads as the context
// of a turn.
func (s *Store) RecentMessages(ctx context.Context, convID, upToID int64, n int) ([]Message, error) {
	rows, err := s.cachedQuery(ctx, "SELECT * FROM (SELECT "+messageCols+
		" FROM messages m WHERE m.conversation_id = ? AND m.id <= ? ORDER BY m.id DESC LIMIT ?) ORDER BY id", convID, upToID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}
