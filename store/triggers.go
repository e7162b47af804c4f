package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"sendbox/events"
)

// What the flows' schedule, silence and contact-change triggers need from
// the store, kept apart from flows.go to ease merging.

// Timer kinds of the flows' triggers.
const (
	// TimerFlowSchedule is the next occurrence of a flow's schedule
	// trigger (owner: the flow; token: the trigger's key). Firing it queues
	// the occurrence's job (events.SubjectFlowSchedule) and the timer of
	// the occurrence after it, in the same commit.
	TimerFlowSchedule = "flow.schedule"
	// TimerFlowSilence is a period of silence ending (owner: the
	// conversation; token: the customer's last message when it was set;
	// payload: the flow and the trigger's key). A newer customer message
	// cancels it.
	TimerFlowSilence = "flow.silence"
)

// contactState is what a contact-change trigger compares: the attributes
// and the tags.
type contactState struct {
	attrs map[string]string
	tags  []string
}

// contactState reads a contact's attributes and tags in the transaction
// (empty for a contact that does not exist).
func (t *wtx) contactState(id int64) (contactState, error) {
	var st contactState
	var attrs string
	err := t.queryRow("SELECT attributes FROM contacts WHERE id = ?", id).Scan(&attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(attrs), &st.attrs); err != nil {
		st.attrs = nil // an attribute column that does not read changes nothing here
	}
	rows, err := t.query("SELECT tag FROM contact_tags WHERE contact_id = ?", id)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var tag string
		if err := rows.Scan(&tag); err != nil {
			return st, err
		}
		st.tags = append(st.tags, tag)
	}
	return st, rows.Err()
}

// changeData is what changed from before to after, as a contact.updated
// event's data (DataTagsAdded, DataTagsRemoved, DataAttributes); nil when
// neither tags nor attributes changed. Tags compare without regard to case.
func changeData(before, after contactState) map[string]any {
	has := func(list []string, tag string) bool {
		return slices.ContainsFunc(list, func(t string) bool { return strings.EqualFold(t, tag) })
	}
	data := map[string]any{}
	var added, removed []string
	for _, tag := range after.tags {
		if !has(before.tags, tag) {
			added = append(added, tag)
		}
	}
	for _, tag := range before.tags {
		if !has(after.tags, tag) {
			removed = append(removed, tag)
		}
	}
	attrs := map[string]string{}
	for k, v := range after.attrs {
		if before.attrs[k] != v {
			attrs[k] = v
		}
	}
	for k := range before.attrs {
		if _, ok := after.attrs[k]; !ok {
			attrs[k] = ""
		}
	}
	if len(added) > 0 {
		data[events.DataTagsAdded] = added
	}
	if len(removed) > 0 {
		data[events.DataTagsRemoved] = removed
	}
	if len(attrs) > 0 {
		data[events.DataAttributes] = attrs
	}
	if len(data) == 0 {
		return nil
	}
	return data
}

// emitContactChange emits a contact's event (contact.updated or
// contact.created) with what changed since before.
func (t *wtx) emitContactChange(typ string, id int64, before contactState) error {
	after, err := t.contactState(id)
	if err != nil {
		return err
	}
	return t.emit(events.Event{Type: typ, ContactID: id, Data: changeData(before, after)})
}

// AudienceMember is one contact of a schedule trigger's audience, with the
// value of the date attribute asked for.
type AudienceMember struct {
	ContactID int64
	Value     string
}

// Audience lists, by id after afterID, up to limit contacts that have the
// tag (every contact when tag is "") and the attribute set (any when attr
// is ""), leaving out those who opted out of marketing. The schedule
// triggers page through it.
func (s *Store) Audience(ctx context.Context, tag, attr string, afterID int64, limit int) ([]AudienceMember, error) {
	value := "''"
	if attr != "" {
		value = `COALESCE(json_extract(c.attributes, '$."' || ?1 || '"'), '')`
	}
	var q string
	if tag != "" {
		q = `SELECT c.id, ` + value + ` FROM contact_tags t JOIN contacts c ON c.id = t.contact_id
			WHERE t.tag = ?2 AND t.contact_id > ?3 AND c.consent != 'opted_out'`
	} else {
		q = `SELECT c.id, ` + value + ` FROM contacts c WHERE c.id > ?3 AND c.consent != 'opted_out'`
	}
	if attr != "" {
		q += ` AND json_extract(c.attributes, '$."' || ?1 || '"') IS NOT NULL`
	}
	q += ` ORDER BY c.id LIMIT ?4`
	rows, err := s.r.QueryContext(ctx, q, attr, tag, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AudienceMember
	for rows.Next() {
		var m AudienceMember
		var v any
		if err := rows.Scan(&m.ContactID, &v); err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case string:
			m.Value = v
		case []byte:
			m.Value = string(v)
		case int64:
			m.Value = strconv.FormatInt(v, 10)
		case float64:
			m.Value = strconv.FormatFloat(v, 'f', -1, 64)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SyncTimers makes the pending timers of a kind those of want, by owner
// and token: it cancels the pending ones not wanted, and adds the wanted
// ones not pending (at their DueAt). A pending timer that is wanted keeps
// its due time: an occurrence missed while sendbox was down still fires.
// For kinds with few timers (the schedule triggers').
func (s *Store) SyncTimers(ctx context.Context, kind string, want []TimerSpec) (added, cancelled int, err error) {
	type key struct {
		owner int64
		token string
	}
	err = s.update(ctx, func(t *wtx) error {
		added, cancelled = 0, 0
		rows, err := t.query(`SELECT id, owner, token FROM timers WHERE kind = ? AND state = 'pending'`, kind)
		if err != nil {
			return err
		}
		pending := map[key][]int64{}
		for rows.Next() {
			var id int64
			var k key
			if err := rows.Scan(&id, &k.owner, &k.token); err != nil {
				rows.Close()
				return err
			}
			pending[k] = append(pending[k], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		wanted := map[key]bool{}
		for _, sp := range want {
			k := key{sp.Owner, sp.Token}
			if wanted[k] {
				continue
			}
			wanted[k] = true
			if len(pending[k]) > 0 {
				continue
			}
			sp.Kind = kind
			if _, err := t.addTimer(sp); err != nil {
				return err
			}
			added++
		}
		for k, ids := range pending {
			for i, id := range ids {
				if wanted[k] && i == 0 {
					continue
				}
				if _, err := t.exec(`UPDATE timers SET state = 'cancelled', fired_at = ? WHERE id = ? AND state = 'pending'`,
					t.now.UnixMilli(), id); err != nil {
					return err
				}
				cancelled++
			}
		}
		return nil
	})
	return added, cancelled, err
}

// RescheduleTimer moves a pending timer's due time. Only tests call it
// (a schedule's occurrence made due now, across restarts of the app); no
// command does yet. A timer no longer pending is ErrNotFound.
func (s *Store) RescheduleTimer(ctx context.Context, id int64, due time.Time) error {
	return s.update(ctx, func(t *wtx) error {
		r, err := t.exec(`UPDATE timers SET due_at = ? WHERE id = ? AND state = 'pending'`, due.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if d := due.UnixMilli(); t.timerDue == 0 || d < t.timerDue {
			t.timerDue = d
		}
		return nil
	})
}

// ArmSilence sets the silence timers of a conversation whose customer
// just wrote msgID: the conversation's earlier ones are cancelled (the
// silence they measured is broken) and specs added (owner: the
// conversation; token: the message). It does nothing, and reports false,
// when a newer customer message is in the conversation already: a late or
// redelivered event must not undo the newer one's timers.
func (s *Store) ArmSilence(ctx context.Context, convID, msgID int64, specs []TimerSpec) (bool, error) {
	var armed bool
	err := s.update(ctx, func(t *wtx) error {
		armed = false
		var last int64
		if err := t.queryRow(`SELECT COALESCE(MAX(id), 0) FROM messages WHERE conversation_id = ? AND direction = 'inbound'`,
			convID).Scan(&last); err != nil {
			return err
		}
		if last > msgID {
			return nil
		}
		if err := t.cancelTimers(TimerFlowSilence, convID); err != nil {
			return err
		}
		token := strconv.FormatInt(msgID, 10)
		for _, sp := range specs {
			sp.Kind, sp.Owner, sp.Token = TimerFlowSilence, convID, token
			if _, err := t.addTimer(sp); err != nil {
				return err
			}
		}
		armed = true
		return nil
	})
	return armed, err
}

// StillSilent reports whether a conversation is still silent since the
// customer's message msgID: open or pending (not resolved or snoozed), no
// newer customer message, no person has it (routed to a person, or the
// assistant paused for one), and no flow run of the contact waits for the
// customer's answer. It returns the conversation's contact.
func (x *TimerTx) StillSilent(convID, msgID int64) (contactID int64, ok bool, err error) {
	t := x.t
	var status, routed, bot string
	err = t.queryRow(`SELECT contact_id, status, routed_to, bot FROM conversations WHERE id = ?`, convID).Scan(&contactID, &status,
		&routed, &bot)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if (status != "open" && status != "pending") || routed == RoutePerson || bot == BotPaused {
		return contactID, false, nil
	}
	var last int64
	var waiting bool
	if err := t.queryRow(`SELECT COALESCE((SELECT MAX(id) FROM messages WHERE conversation_id = ?1 AND direction = 'inbound'), 0),
		EXISTS (SELECT 1 FROM flow_runs WHERE contact_id = ?2 AND state = 'active' AND waiting = 'reply')`,
		convID, contactID).Scan(&last, &waiting); err != nil {
		return 0, false, err
	}
	return contactID, last == msgID && !waiting, nil
}

// StartRun starts a run in the timer's transaction; see Store.StartRun.
func (x *TimerTx) StartRun(rs RunStart, move func(x *RunTx, r *FlowRun) error) (*FlowRun, bool, error) {
	return x.t.startRun(rs, move)
}

// Job queues a job in the timer's transaction: published once the timer's
// commit is made, never if it is not.
func (x *TimerTx) Job(subject, msgID string, payload []byte) error {
	return x.t.job(subject, msgID, payload)
}

// AddTimer adds a timer in the timer's transaction (the next occurrence
// of a schedule).
func (x *TimerTx) AddTimer(sp TimerSpec) error {
	_, err := x.t.addTimer(sp)
	return err
}
