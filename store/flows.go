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

// Flow is an automation flow: the draft being edited and the version new
// runs start on.
type Flow struct {
	ID      int64           `json:"id"`
	Name    string          `json:"name"`
	Draft   json.RawMessage `json:"draft"`
	Version int             `json:"version"` // the published version new runs start on; 0 if never published
	Active  bool            `json:"active"`  // its triggers start runs
	// Definition is the published version's (nil if never published).
	Definition json.RawMessage `json:"definition,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// FlowVersion is one publish of a flow, immutable.
type FlowVersion struct {
	FlowID     int64           `json:"flow_id"`
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
	Note       string          `json:"note,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

// Run states.
const (
	RunActive = "active" // at a step, or waiting
	RunEnded  = "ended"  // with an outcome
)

// What an active run waits for.
const (
	WaitNone  = ""      // nothing: it is moving
	WaitReply = "reply" // the customer's answer to an ask step
	WaitTimer = "timer" // a wait step, or an ask's timeout only
	WaitJob   = "job"   // a job outside the transaction: an HTTP request, an AI answer
)

// RunTakenOver is the outcome of runs a person's message ended.
const RunTakenOver = "taken_over"

// TimerFlowRun moves a flow run on when a wait ends or an answer does not
// come (owner: the run; token: the run's token when it was set).
const TimerFlowRun = "flow.run"

// FlowRun is one contact going through one version of a flow.
type FlowRun struct {
	ID             int64             `json:"id"`
	FlowID         int64             `json:"flow_id"`
	FlowName       string            `json:"flow_name"`
	Version        int               `json:"version"`
	ContactID      int64             `json:"contact_id"`
	ConversationID int64             `json:"conversation_id,omitempty"`
	State          string            `json:"state"`
	Step           string            `json:"step"`
	Waiting        string            `json:"waiting,omitempty"`
	WaitEvent      string            `json:"wait_event,omitempty"` // the event a run waiting "event" waits for
	Token          int64             `json:"token"`
	Tries          int               `json:"tries,omitempty"`
	Vars           map[string]string `json:"vars"`
	Event          map[string]string `json:"event,omitempty"`
	Outcome        string            `json:"outcome,omitempty"`
	LastInput      int64             `json:"-"`
	StartedAt      time.Time         `json:"started_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	EndedAt        time.Time         `json:"ended_at,omitzero"`
}

const schemaV13 = `
-- Flows: the draft a business edits, and the version its triggers start.
CREATE TABLE flows (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	draft      TEXT NOT NULL DEFAULT '{}',
	version    INTEGER NOT NULL DEFAULT 0,
	active     INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX flows_name ON flows(name COLLATE NOCASE);

-- Every publish, immutable: runs stay on the version they started on.
CREATE TABLE flow_versions (
	flow_id    INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
	version    INTEGER NOT NULL,
	definition TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	PRIMARY KEY (flow_id, version)
);

-- A contact going through a flow. token changes with every move: a timer
-- or an answer meant for an earlier step finds another token and does
-- nothing. last_input is the last customer message the run consumed, so a
-- redelivered message is not consumed twice.
CREATE TABLE flow_runs (
	id              INTEGER PRIMARY KEY,
	flow_id         INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
	version         INTEGER NOT NULL,
	contact_id      INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
	conversation_id INTEGER,
	state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','ended')),
	step            TEXT NOT NULL DEFAULT '',
	waiting         TEXT NOT NULL DEFAULT '' CHECK (waiting IN ('','reply','timer','job')),
	token           INTEGER NOT NULL DEFAULT 0,
	tries           INTEGER NOT NULL DEFAULT 0,
	vars            TEXT NOT NULL DEFAULT '{}',
	event           TEXT NOT NULL DEFAULT '{}',
	outcome         TEXT NOT NULL DEFAULT '',
	start_ref       TEXT NOT NULL,             -- what started it (msg:ID, event:KEY): a redelivery starts nothing more
	last_input      INTEGER NOT NULL DEFAULT 0,
	started_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	ended_at        INTEGER
);
-- One active run per flow and contact.
CREATE UNIQUE INDEX flow_runs_active ON flow_runs(flow_id, contact_id) WHERE state = 'active';
CREATE UNIQUE INDEX flow_runs_start ON flow_runs(flow_id, start_ref);
CREATE INDEX flow_runs_contact ON flow_runs(contact_id, state);
CREATE INDEX flow_runs_flow ON flow_runs(flow_id, version, state);

-- Each step a run entered, and when it left: starts, drop-off and time per step.
CREATE TABLE flow_steps (
	run_id     INTEGER NOT NULL REFERENCES flow_runs(id) ON DELETE CASCADE,
	flow_id    INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	step       TEXT NOT NULL,
	entered_at INTEGER NOT NULL,
	left_at    INTEGER
);
CREATE INDEX flow_steps_run ON flow_steps(run_id, entered_at);
CREATE INDEX flow_steps_flow ON flow_steps(flow_id, version, step);
`

// ErrFlowExists is returned for a flow name already taken.
var ErrFlowExists = errors.New("a flow with this name exists")

// CreateFlow adds a flow with its draft.
func (s *Store) CreateFlow(ctx context.Context, name string, draft json.RawMessage) (*Flow, error) {
	var id int64
	err := s.update(ctx, func(t *wtx) error {
		err := t.queryRow(`INSERT INTO flows (name, draft, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
			name, string(draft), t.now.UnixMilli(), t.now.UnixMilli()).Scan(&id)
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return ErrFlowExists
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FlowByID(ctx, id)
}

// SaveFlowDraft replaces a flow's name and draft.
func (s *Store) SaveFlowDraft(ctx context.Context, id int64, name string, draft json.RawMessage) error {
	return s.update(ctx, func(t *wtx) error {
		r, err := t.exec(`UPDATE flows SET name = ?, draft = ?, updated_at = ? WHERE id = ?`, name, string(draft), t.now.UnixMilli(), id)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return ErrFlowExists
			}
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// PublishFlow freezes def as the flow's next version, which new runs start
// on, and activates the flow.
func (s *Store) PublishFlow(ctx context.Context, id int64, def json.RawMessage, note string) (int, error) {
	var version int
	err := s.update(ctx, func(t *wtx) error {
		if err := t.queryRow(`SELECT version + 1 FROM flows WHERE id = ?`, id).Scan(&version); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if _, err := t.exec(`INSERT INTO flow_versions (flow_id, version, definition, note, created_at) VALUES (?, ?, ?, ?, ?)`,
			id, version, string(def), note, t.now.UnixMilli()); err != nil {
			return err
		}
		_, err := t.exec(`UPDATE flows SET version = ?, active = 1, updated_at = ? WHERE id = ?`, version, t.now.UnixMilli(), id)
		return err
	})
	return version, err
}

// TrySnapshot freezes a draft as a trial version of the flow, numbered
// -1, -2…: "Try it" runs follow it without publishing, and analytics leave
// trial versions out.
func (s *Store) TrySnapshot(ctx context.Context, id int64, def json.RawMessage) (int, error) {
	var version int
	err := s.update(ctx, func(t *wtx) error {
		if err := t.queryRow(`SELECT MIN(COALESCE((SELECT MIN(version) FROM flow_versions WHERE flow_id = ?1), 0), 0) - 1
			FROM flows WHERE id = ?1`, id).Scan(&version); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		_, err := t.exec(`INSERT INTO flow_versions (flow_id, version, definition, note, created_at) VALUES (?, ?, ?, 'try', ?)`,
			id, version, string(def), t.now.UnixMilli())
		return err
	})
	return version, err
}

// SetFlowActive switches a published flow's triggers on or off. Runs in
// progress go on either way.
func (s *Store) SetFlowActive(ctx context.Context, id int64, active bool) error {
	return s.update(ctx, func(t *wtx) error {
		r, err := t.exec(`UPDATE flows SET active = ?, updated_at = ? WHERE id = ? AND version > 0`, active, t.now.UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// DeleteFlow removes a flow, its versions and its runs' records; its
// pending timers do nothing when due (their run is gone).
func (s *Store) DeleteFlow(ctx context.Context, id int64) error {
	return s.update(ctx, func(t *wtx) error {
		if _, err := t.exec(`DELETE FROM flow_steps WHERE flow_id = ?`, id); err != nil {
			return err
		}
		r, err := t.exec(`DELETE FROM flows WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

const flowCols = `f.id, f.name, f.draft, f.version, f.active, f.created_at, f.updated_at, v.definition`
const flowFrom = ` FROM flows f LEFT JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.version`

func scanFlow(sc interface{ Scan(...any) error }) (*Flow, error) {
	var f Flow
	var draft string
	var def sql.NullString
	var created, updated int64
	if err := sc.Scan(&f.ID, &f.Name, &draft, &f.Version, &f.Active, &created, &updated, &def); err != nil {
		return nil, err
	}
	f.Draft = json.RawMessage(draft)
	if def.Valid {
		f.Definition = json.RawMessage(def.String)
	}
	f.CreatedAt, f.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &f, nil
}

// FlowByID returns a flow with its published definition.
func (s *Store) FlowByID(ctx context.Context, id int64) (*Flow, error) {
	f, err := scanFlow(s.r.QueryRowContext(ctx, "SELECT "+flowCols+flowFrom+" WHERE f.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return f, err
}

// Flows lists every flow by name.
func (s *Store) Flows(ctx context.Context) ([]Flow, error) {
	return s.flowsWhere(ctx, "")
}

// ActiveFlows lists the flows whose triggers start runs, with their
// published definitions.
func (s *Store) ActiveFlows(ctx context.Context) ([]Flow, error) {
	return s.flowsWhere(ctx, " WHERE f.active = 1 AND f.version > 0")
}

func (s *Store) flowsWhere(ctx context.Context, where string) ([]Flow, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+flowCols+flowFrom+where+" ORDER BY f.name COLLATE NOCASE")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Flow
	for rows.Next() {
		f, err := scanFlow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *f)
	}
	return out, rows.Err()
}

// FlowVersionOf returns one version of a flow.
func (s *Store) FlowVersionOf(ctx context.Context, flowID int64, version int) (*FlowVersion, error) {
	var v FlowVersion
	var def string
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT flow_id, version, definition, note, created_at FROM flow_versions
		WHERE flow_id = ? AND version = ?`, flowID, version).Scan(&v.FlowID, &v.Version, &def, &v.Note, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v.Definition, v.CreatedAt = json.RawMessage(def), time.UnixMilli(created).UTC()
	return &v, nil
}

// FlowVersions lists a flow's versions, newest first.
func (s *Store) FlowVersions(ctx context.Context, flowID int64) ([]FlowVersion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT flow_id, version, note, created_at FROM flow_versions WHERE flow_id = ?
		AND version > 0 ORDER BY version DESC`, flowID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FlowVersion
	for rows.Next() {
		var v FlowVersion
		var created int64
		if err := rows.Scan(&v.FlowID, &v.Version, &v.Note, &created); err != nil {
			return nil, err
		}
		v.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

const runCols = `r.id, r.flow_id, f.name, r.version, r.contact_id, COALESCE(r.conversation_id, 0), r.state, r.step, r.waiting,
	r.wait_event, r.token, r.tries, r.vars, r.event, r.outcome, r.last_input, r.started_at, r.updated_at, r.ended_at`
const runFrom = ` FROM flow_runs r JOIN flows f ON f.id = r.flow_id`

func scanRun(sc interface{ Scan(...any) error }) (*FlowRun, error) {
	var r FlowRun
	var vars, ev string
	var started, updated int64
	var ended sql.NullInt64
	if err := sc.Scan(&r.ID, &r.FlowID, &r.FlowName, &r.Version, &r.ContactID, &r.ConversationID, &r.State, &r.Step, &r.Waiting,
		&r.WaitEvent, &r.Token, &r.Tries, &vars, &ev, &r.Outcome, &r.LastInput, &started, &updated, &ended); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(vars), &r.Vars); err != nil {
		return nil, fmt.Errorf("run %d vars: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(ev), &r.Event); err != nil {
		return nil, fmt.Errorf("run %d event: %w", r.ID, err)
	}
	if r.Vars == nil {
		r.Vars = map[string]string{}
	}
	r.StartedAt, r.UpdatedAt, r.EndedAt = time.UnixMilli(started).UTC(), time.UnixMilli(updated).UTC(), fromMS(ended)
	return &r, nil
}

// RunByID returns one run.
func (s *Store) RunByID(ctx context.Context, id int64) (*FlowRun, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, "SELECT "+runCols+runFrom+" WHERE r.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// ActiveRunsOf lists a contact's active runs, oldest first.
func (s *Store) ActiveRunsOf(ctx context.Context, contactID int64) ([]FlowRun, error) {
	return s.runsWhere(ctx, " WHERE r.contact_id = ? AND r.state = 'active' ORDER BY r.id", contactID)
}

// RunsOfContact lists a contact's runs, newest first.
func (s *Store) RunsOfContact(ctx context.Context, contactID int64, limit int) ([]FlowRun, error) {
	return s.runsWhere(ctx, " WHERE r.contact_id = ? ORDER BY r.id DESC LIMIT ?", contactID, limit)
}

// RunsOfFlow lists a flow's runs, newest first.
func (s *Store) RunsOfFlow(ctx context.Context, flowID int64, limit int) ([]FlowRun, error) {
	return s.runsWhere(ctx, " WHERE r.flow_id = ? ORDER BY r.id DESC LIMIT ?", flowID, limit)
}

func (s *Store) runsWhere(ctx context.Context, where string, args ...any) ([]FlowRun, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+runCols+runFrom+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FlowRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// RunStart is a run to start.
type RunStart struct {
	FlowID         int64
	Version        int
	ContactID      int64
	ConversationID int64
	Reentry        string // flows.Reentry*: once, one_at_a_time, every_time
	Ref            string // what starts it, unique per flow: msg:ID, event:KEY
	Event          map[string]string
}

// Why a run did not start.
var (
	ErrRunActive = errors.New("the contact is in this flow already")
	ErrRunOnce   = errors.New("the contact has been through this flow, which runs once per contact")
)

// RunTx is the transaction a run moves in: what the step does (sends,
// timers, attributes, tags, a hand-off) commits with the run's new state,
// or not at all.
type RunTx struct {
	t   *wtx
	run *FlowRun
	// entered is the step the run was at when loaded, to record the step
	// log when it moves.
	entered string
}

// Now is the transaction's clock.
func (x *RunTx) Now() time.Time { return x.t.now }

// RunID is the run's id.
func (x *RunTx) RunID() int64 { return x.run.ID }

// StartRun starts a run and, in the same transaction, its first steps
// (move). It returns the run and whether it started: a start already made
// for the same Ref (a redelivered message or event) returns that run and
// false. A contact already in the flow gets ErrRunActive (ReentryEveryTime
// ends that run instead), one who has been through a once-only flow
// ErrRunOnce.
func (s *Store) StartRun(ctx context.Context, rs RunStart, move func(x *RunTx, r *FlowRun) error) (*FlowRun, bool, error) {
	var out *FlowRun
	var started bool
	err := s.grouped(ctx, func(t *wtx) error {
		var err error
		out, started, err = t.startRun(rs, move)
		return err
	})
	return out, started, err
}

// startRun is StartRun in the current transaction.
func (t *wtx) startRun(rs RunStart, move func(x *RunTx, r *FlowRun) error) (out *FlowRun, started bool, _ error) {
	err := func() error {
		r, err := scanRun(t.queryRow("SELECT "+runCols+runFrom+" WHERE r.flow_id = ? AND r.start_ref = ?", rs.FlowID, rs.Ref))
		if err == nil {
			out = r
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var active, ever int64
		if err := t.queryRow(`SELECT COALESCE(MAX(CASE WHEN state = 'active' THEN id END), 0), COUNT(*) FROM flow_runs
			WHERE flow_id = ? AND contact_id = ?`, rs.FlowID, rs.ContactID).Scan(&active, &ever); err != nil {
			return err
		}
		switch {
		case rs.Reentry == "once" && ever > 0:
			return ErrRunOnce
		case active != 0 && rs.Reentry == "every_time":
			if err := t.endRun(active, "restarted"); err != nil {
				return err
			}
		case active != 0:
			return ErrRunActive
		}
		ev, _ := json.Marshal(rs.Event)
		if rs.Event == nil {
			ev = []byte("{}")
		}
		var id int64
		if err := t.queryRow(`INSERT INTO flow_runs (flow_id, version, contact_id, conversation_id, start_ref, event, started_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, rs.FlowID, rs.Version, rs.ContactID, nullID(rs.ConversationID), rs.Ref,
			string(ev), t.now.UnixMilli(), t.now.UnixMilli()).Scan(&id); err != nil {
			return err
		}
		r, err = scanRun(t.queryRow("SELECT "+runCols+runFrom+" WHERE r.id = ?", id))
		if err != nil {
			return err
		}
		x := &RunTx{t: t, run: r}
		if err := move(x, r); err != nil {
			return err
		}
		if err := x.save(); err != nil {
			return err
		}
		out, started = r, true
		return nil
	}()
	if err != nil {
		return nil, false, err
	}
	return out, started, nil
}

// MoveRun loads a run in a write transaction and lets move change it;
// the run is saved with whatever move did, in the same commit. Moves of
// many runs at once (a thousand answers a second) share a group commit,
// each in a savepoint of its own.
func (s *Store) MoveRun(ctx context.Context, runID int64, move func(x *RunTx, r *FlowRun) error) error {
	return s.grouped(ctx, func(t *wtx) error {
		x, r, err := t.loadRun(runID)
		if err != nil {
			return err
		}
		if err := move(x, r); err != nil {
			return err
		}
		return x.save()
	})
}

// Run loads a run in a timer's transaction; see MoveRun. Save it with
// SaveRun after moving it.
func (x *TimerTx) Run(runID int64) (*RunTx, *FlowRun, error) {
	return x.t.loadRun(runID)
}

// SaveRun writes the run's new state in the timer's transaction.
func (x *TimerTx) SaveRun(rt *RunTx) error { return rt.save() }

func (t *wtx) loadRun(runID int64) (*RunTx, *FlowRun, error) {
	r, err := scanRun(t.queryRow("SELECT "+runCols+runFrom+" WHERE r.id = ?", runID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return &RunTx{t: t, run: r, entered: r.Step}, r, nil
}

// save writes the run as move left it, with its step log.
func (x *RunTx) save() error {
	r, t := x.run, x.t
	vars, err := json.Marshal(r.Vars)
	if err != nil {
		return err
	}
	nowMS := t.now.UnixMilli()
	if r.Waiting != WaitEvent {
		r.WaitEvent = ""
	}
	var ended any
	if r.State == RunEnded {
		ended = nowMS
		r.EndedAt = t.now
	}
	if _, err := t.exec(`UPDATE flow_runs SET state = ?, step = ?, waiting = ?, wait_event = ?, token = ?, tries = ?, vars = ?, outcome = ?,
		last_input = ?, conversation_id = ?, updated_at = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?`,
		r.State, r.Step, r.Waiting, r.WaitEvent, r.Token, r.Tries, string(vars), r.Outcome, r.LastInput, nullID(r.ConversationID), nowMS, ended, r.ID); err != nil {
		return err
	}
	r.UpdatedAt = t.now
	return nil
}

// Enter records that the run entered a step (and left the one it was at).
func (x *RunTx) Enter(step string) error {
	t, r := x.t, x.run
	nowMS := t.now.UnixMilli()
	if _, err := t.exec(`UPDATE flow_steps SET left_at = ? WHERE run_id = ? AND left_at IS NULL`, nowMS, r.ID); err != nil {
		return err
	}
	if _, err := t.exec(`INSERT INTO flow_steps (run_id, flow_id, version, step, entered_at) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.FlowID, r.Version, step, nowMS); err != nil {
		return err
	}
	r.Step = step
	return nil
}

// End ends the run with an outcome, cancels its timers and closes its step
// log; the run's flow.run event says so.
func (x *RunTx) End(outcome string) error {
	r := x.run
	if r.State == RunEnded {
		return nil
	}
	if _, err := x.t.exec(`UPDATE flow_steps SET left_at = ? WHERE run_id = ? AND left_at IS NULL`, x.t.now.UnixMilli(), r.ID); err != nil {
		return err
	}
	if err := x.t.cancelTimers(TimerFlowRun, r.ID); err != nil {
		return err
	}
	r.State, r.Outcome, r.Waiting = RunEnded, outcome, WaitNone
	r.Token++
	return x.t.emit(events.Event{Type: events.FlowRunEnded, ContactID: r.ContactID, ConversationID: r.ConversationID,
		Status: outcome, Data: map[string]any{events.DataFlow: r.FlowID, events.DataRun: r.ID, events.DataVersion: r.Version}})
}

// endRun ends another run of the transaction (a restart), by id.
func (t *wtx) endRun(runID int64, outcome string) error {
	x, _, err := t.loadRun(runID)
	if err != nil {
		return err
	}
	if err := x.End(outcome); err != nil {
		return err
	}
	return x.save()
}

// StopRuns ends a contact's active runs (all flows if flowID is 0) with
// the outcome given: a person stopped them, the customer opted out, the
// policy escalated. It returns how many it stopped.
func (s *Store) StopRuns(ctx context.Context, contactID, flowID int64, outcome string) (int, error) {
	var n int
	err := s.update(ctx, func(t *wtx) error {
		var err error
		n, err = t.stopRuns(contactID, flowID, outcome)
		return err
	})
	return n, err
}

// stopRuns ends a contact's active runs (of one flow, or all when flowID
// is 0) in the current transaction.
func (t *wtx) stopRuns(contactID, flowID int64, outcome string) (int, error) {
	rows, err := t.query(`SELECT id FROM flow_runs WHERE contact_id = ? AND state = 'active' AND (? = 0 OR flow_id = ?)`,
		contactID, flowID, flowID)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := t.endRun(id, outcome); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// WaitUntil has the run wait for its timer, due at due, carrying its
// current token; an earlier timer of the run is cancelled.
func (x *RunTx) WaitUntil(due time.Time) error {
	r := x.run
	if err := x.t.cancelTimers(TimerFlowRun, r.ID); err != nil {
		return err
	}
	_, err := x.t.addTimer(TimerSpec{Kind: TimerFlowRun, Owner: r.ID, Token: strconv.FormatInt(r.Token, 10), DueAt: due})
	return err
}

// Job queues a job for the run in its transaction: it is published once
// the move commits, and never if it does not.
func (x *RunTx) Job(subject, msgID string, payload []byte) error {
	return x.t.job(subject, msgID, payload)
}

// CancelTimers cancels the run's pending timers.
func (x *RunTx) CancelTimers() error { return x.t.cancelTimers(TimerFlowRun, x.run.ID) }

// Contact reads the run's contact in the transaction.
func (x *RunTx) Contact() (*Contact, error) {
	c, err := scanContact(x.t.queryRow("SELECT "+contactCols+" FROM contacts c WHERE c.id = ?", x.run.ContactID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := x.t.query("SELECT tag FROM contact_tags WHERE contact_id = ? ORDER BY tag", c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tag string
		if err := rows.Scan(&tag); err != nil {
			return nil, err
		}
		c.Tags = append(c.Tags, tag)
	}
	return c, rows.Err()
}

// Queue queues a message to the run's contact, in the run's transaction:
// it is sent if and only if the step commits. The conversation it lands in
// becomes the run's.
func (x *RunTx) Queue(in OutboundInput) (*Message, error) {
	if in.Lane == "" {
		in.Lane = events.LaneTransactional
	}
	in.Origin = OriginFlow
	m, _, err := x.t.queueOne(in)
	if err != nil {
		return nil, err
	}
	x.run.ConversationID = m.ConversationID // saved with the run
	return m, nil
}

// SetAttribute sets one of the contact's attributes ("" removes it).
func (x *RunTx) SetAttribute(key, value string) error {
	var old string
	if err := x.t.queryRow(`SELECT COALESCE(json_extract(attributes, '$."' || ? || '"'), '') FROM contacts WHERE id = ?`,
		key, x.run.ContactID).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var err error
	if value == "" {
		_, err = x.t.exec(`UPDATE contacts SET attributes = json_remove(attributes, '$."' || ? || '"'), updated_at = ? WHERE id = ?`,
			key, x.t.now.UnixMilli(), x.run.ContactID)
	} else {
		_, err = x.t.exec(`UPDATE contacts SET attributes = json_set(attributes, '$."' || ? || '"', ?), updated_at = ? WHERE id = ?`,
			key, value, x.t.now.UnixMilli(), x.run.ContactID)
	}
	if err != nil {
		return err
	}
	var data map[string]any
	if old != value {
		data = map[string]any{events.DataAttributes: map[string]string{key: value}}
	}
	return x.emitChange(data)
}

// Tag adds (or, with add false, removes) one of the contact's tags.
func (x *RunTx) Tag(tag string, add bool) error {
	var r sql.Result
	var err error
	if add {
		r, err = x.t.exec("INSERT OR IGNORE INTO contact_tags (contact_id, tag) VALUES (?, ?)", x.run.ContactID, tag)
	} else {
		r, err = x.t.exec("DELETE FROM contact_tags WHERE contact_id = ? AND tag = ?", x.run.ContactID, tag)
	}
	if err != nil {
		return err
	}
	var data map[string]any
	if n, _ := r.RowsAffected(); n > 0 && add {
		data = map[string]any{events.DataTagsAdded: []string{tag}}
	} else if n > 0 {
		data = map[string]any{events.DataTagsRemoved: []string{tag}}
	}
	return x.emitChange(data)
}

// emitChange emits the contact.updated event of a change the run made:
// what changed (nil if nothing did), the run and its flow, so that the
// contact-change triggers do not start a flow from its own change.
func (x *RunTx) emitChange(data map[string]any) error {
	if data != nil {
		data[events.DataRun], data[events.DataFlow] = x.run.ID, x.run.FlowID
	}
	return x.t.emit(events.Event{Type: events.ContactUpdated, ContactID: x.run.ContactID, Data: data})
}

// Label puts a label, by name, on the run's conversation (with add false,
// takes it off), recorded as a person's change of labels is: on the
// timeline and in the conversation's event. A run without a conversation
// yet (started by an event, nothing sent), a label no longer there
// (deleted since the flow was published) or a change that changes nothing
// does nothing.
func (x *RunTx) Label(name string, add bool) error {
	convID := x.run.ConversationID
	if convID == 0 {
		return nil
	}
	var labelID int64
	err := x.t.queryRow("SELECT id FROM labels WHERE name = ?", name).Scan(&labelID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var res sql.Result
	if add {
		res, err = x.t.exec("INSERT OR IGNORE INTO conversation_labels (conversation_id, label_id) VALUES (?, ?)", convID, labelID)
	} else {
		res, err = x.t.exec("DELETE FROM conversation_labels WHERE conversation_id = ? AND label_id = ?", convID, labelID)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	data := map[string]any{}
	return x.t.conversationChange(convID, events.ChangeLabels, data, "", func(t *wtx) error { return t.labelsData(convID, data) })
}

// HandOff gives the run's conversation to a person, as the assistant's
// hand-over does (Store.Escalate, without a category): the assistant
// pauses, the conversation opens (urgent if asked) with the team given,
// the router's decision says the flow handed it over, and the summary is a
// private note. Without a conversation (a run started by an event that
// sent nothing yet), it does nothing.
func (x *RunTx) HandOff(teamID int64, urgent bool, summary string) error {
	if x.run.ConversationID == 0 {
		return nil
	}
	name := x.run.FlowName
	return x.t.escalate(x.run.ConversationID, Escalation{TeamID: teamID, Urgent: urgent, Summary: summary, Detail: name,
		Routing: &Routing{To: RoutePerson, Reason: "flow_handoff", Detail: name}})
}

// TeamByName finds a team's id by its name, 0 if there is none.
func (x *RunTx) TeamByName(name string) (int64, error) {
	var id int64
	err := x.t.queryRow("SELECT id FROM teams WHERE name = ? COLLATE NOCASE", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// Started emits the run's flow.run started event.
func (x *RunTx) Started() error {
	r := x.run
	return x.t.emit(events.Event{Type: events.FlowRunStarted, ContactID: r.ContactID, ConversationID: r.ConversationID,
		Data: map[string]any{events.DataFlow: r.FlowID, events.DataRun: r.ID, events.DataVersion: r.Version}})
}

// FlowStepCount is how many runs entered a step, and how many of them are
// still there.
type FlowStepCount struct {
	Step    string `json:"step"`
	Entered int    `json:"entered"`
	Waiting int    `json:"waiting"` // runs at this step now
	// MedianMS is the median time runs spent at the step before leaving it.
	MedianMS int64 `json:"median_ms"`
	// EndedHere are the runs that ended at the step without reaching an
	// outcome (gave up, stopped, broken…), and StuckHere the active runs
	// waiting there for a reply for longer than the stuck threshold: where
	// customers stop answering. FlowStepDropOff counts them.
	EndedHere int `json:"ended_here"`
	StuckHere int `json:"stuck_here"`
}

// StepDropOff is where runs stopped at a step: ended there without an
// outcome, or stuck there waiting for a reply.
type StepDropOff struct{ Ended, Stuck int }

// FlowStepDropOff counts, per step of a version (every version when 0),
// the runs that ended there with one of the lost outcomes, and the active
// runs waiting there for a reply since before stuckBefore (by when they
// entered the step). One read for every step, by the runs' index.
func (s *Store) FlowStepDropOff(ctx context.Context, flowID int64, version int, lost []string, stuckBefore time.Time) (map[string]StepDropOff, error) {
	outcomes, err := json.Marshal(lost)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT r.step,
		COUNT(CASE WHEN r.state = 'ended' AND r.outcome IN (SELECT value FROM json_each(?)) THEN 1 END),
		COUNT(CASE WHEN r.state = 'active' AND r.waiting = 'reply' AND s.entered_at < ? THEN 1 END)
		FROM flow_runs r LEFT JOIN flow_steps s ON r.state = 'active' AND s.run_id = r.id AND s.left_at IS NULL
		WHERE r.flow_id = ? AND (? = 0 AND r.version > 0 OR r.version = ?) GROUP BY r.step`,
		string(outcomes), stuckBefore.UnixMilli(), flowID, version, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]StepDropOff{}
	for rows.Next() {
		var step string
		var d StepDropOff
		if err := rows.Scan(&step, &d.Ended, &d.Stuck); err != nil {
			return nil, err
		}
		if d.Ended > 0 || d.Stuck > 0 {
			out[step] = d
		}
	}
	return out, rows.Err()
}

// FlowRunCounts counts a version's runs (every version when version is 0)
// by state and outcome.
func (s *Store) FlowRunCounts(ctx context.Context, flowID int64, version int) (active int, outcomes map[string]int, err error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, outcome, COUNT(*) FROM flow_runs WHERE flow_id = ?
		AND (? = 0 AND version > 0 OR version = ?) GROUP BY state, outcome`, flowID, version, version)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	outcomes = map[string]int{}
	for rows.Next() {
		var state, outcome string
		var n int
		if err := rows.Scan(&state, &outcome, &n); err != nil {
			return 0, nil, err
		}
		if state == RunActive {
			active += n
		} else {
			outcomes[outcome] += n
		}
	}
	return active, outcomes, rows.Err()
}

// FlowStepCounts counts, per step of a version (every version when 0),
// the runs that entered it, those still there, and the median time spent.
func (s *Store) FlowStepCounts(ctx context.Context, flowID int64, version int) ([]FlowStepCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT s.step, COUNT(DISTINCT s.run_id),
		COUNT(DISTINCT CASE WHEN s.left_at IS NULL AND r.state = 'active' THEN s.run_id END)
		FROM flow_steps s JOIN flow_runs r ON r.id = s.run_id
		WHERE s.flow_id = ? AND (? = 0 AND s.version > 0 OR s.version = ?) GROUP BY s.step`, flowID, version, version)
	if err != nil {
		return nil, err
	}
	var out []FlowStepCount
	for rows.Next() {
		var c FlowStepCount
		if err := rows.Scan(&c.Step, &c.Entered, &c.Waiting); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The median time at each step, from one read of the times (the same
	// element, (n-1)/2 of the sorted times, as before).
	trows, err := s.r.QueryContext(ctx, `SELECT step, left_at - entered_at FROM flow_steps WHERE flow_id = ?
		AND (? = 0 AND version > 0 OR version = ?) AND left_at IS NOT NULL ORDER BY step, left_at - entered_at`, flowID, version, version)
	if err != nil {
		return nil, err
	}
	defer trows.Close()
	times := map[string][]int64{}
	for trows.Next() {
		var step string
		var ms int64
		if err := trows.Scan(&step, &ms); err != nil {
			return nil, err
		}
		times[step] = append(times[step], ms)
	}
	if err := trows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if ts := times[out[i].Step]; len(ts) > 0 {
			out[i].MedianMS = ts[(len(ts)-1)/2]
		}
	}
	return out, nil
}

// FirstInbound reports whether msgID is the contact's first message.
func (s *Store) FirstInbound(ctx context.Context, contactID, msgID int64) (bool, error) {
	var earlier bool
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE contact_id = ? AND direction = 'inbound' AND id < ?)`,
		contactID, msgID).Scan(&earlier)
	return !earlier, err
}

// MoveRunsToVersion moves the active runs of a flow's version that are at
// a step onto another version, at the step of the same id. Their token
// stays: what they wait for (an answer, a timer) still reaches them. It
// returns how many moved.
func (s *Store) MoveRunsToVersion(ctx context.Context, flowID int64, from int, step string, to int) (int, error) {
	var n int
	err := s.update(ctx, func(t *wtx) error {
		r, err := t.exec(`UPDATE flow_runs SET version = ?, updated_at = ? WHERE flow_id = ? AND version = ? AND step = ? AND state = 'active'`,
			to, t.now.UnixMilli(), flowID, from, step)
		if err != nil {
			return err
		}
		c, _ := r.RowsAffected()
		n = int(c)
		_, err = t.exec(`UPDATE flow_steps SET version = ? WHERE left_at IS NULL AND step = ? AND run_id IN
			(SELECT id FROM flow_runs WHERE flow_id = ? AND version = ? AND step = ? AND state = 'active')`, to, step, flowID, to, step)
		return err
	})
	return n, err
}

// ActiveRunCount counts the active runs of every flow.
func (s *Store) ActiveRunCount(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM flow_runs WHERE state = 'active'`).Scan(&n)
	return n, err
}
