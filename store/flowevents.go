package store

import (
	"encoding/json"
)

// schemaV15 lets a run wait for an event from the business's own system
// (a flow's wait step with until_event): waiting gains the value 'event',
// and wait_event names the event (an event reads the contact's active runs,
// a handful, and picks those waiting for it). SQLite cannot
// change a CHECK constraint in place, so flow_runs is rebuilt; dropping
// the old table would delete the step log with it (ON DELETE CASCADE, with
// foreign keys on, which cannot be switched off inside the migration's
// transaction), so the log is set aside and put back.
//
// flow_run_events records the events a run consumed (resumed by, exited
// on), so that an event sent again with the same key moves nothing twice.
const schemaV15 = `
CREATE TABLE flow_runs_v15 (
	id              INTEGER PRIMARY KEY,
	flow_id         INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
	version         INTEGER NOT NULL,
	contact_id      INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
	conversation_id INTEGER,
	state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','ended')),
	step            TEXT NOT NULL DEFAULT '',
	waiting         TEXT NOT NULL DEFAULT '' CHECK (waiting IN ('','reply','timer','job','event')),
	wait_event      TEXT NOT NULL DEFAULT '',  -- the event a run waiting 'event' waits for
	token           INTEGER NOT NULL DEFAULT 0,
	tries           INTEGER NOT NULL DEFAULT 0,
	vars            TEXT NOT NULL DEFAULT '{}',
	event           TEXT NOT NULL DEFAULT '{}',
	outcome         TEXT NOT NULL DEFAULT '',
	start_ref       TEXT NOT NULL,
	last_input      INTEGER NOT NULL DEFAULT 0,
	started_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	ended_at        INTEGER
);
INSERT INTO flow_runs_v15 (id, flow_id, version, contact_id, conversation_id, state, step, waiting, token, tries, vars, event,
	outcome, start_ref, last_input, started_at, updated_at, ended_at)
	SELECT id, flow_id, version, contact_id, conversation_id, state, step, waiting, token, tries, vars, event,
	outcome, start_ref, last_input, started_at, updated_at, ended_at FROM flow_runs;
CREATE TEMP TABLE flow_steps_v15 AS SELECT * FROM flow_steps;
DROP TABLE flow_runs;
ALTER TABLE flow_runs_v15 RENAME TO flow_runs;
INSERT INTO flow_steps SELECT * FROM temp.flow_steps_v15;
DROP TABLE temp.flow_steps_v15;
CREATE UNIQUE INDEX flow_runs_active ON flow_runs(flow_id, contact_id) WHERE state = 'active';
CREATE UNIQUE INDEX flow_runs_start ON flow_runs(flow_id, start_ref);
CREATE INDEX flow_runs_contact ON flow_runs(contact_id, state);
CREATE INDEX flow_runs_flow ON flow_runs(flow_id, version, state);

CREATE TABLE flow_run_events (
	run_id INTEGER NOT NULL REFERENCES flow_runs(id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	at     INTEGER NOT NULL,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID
`

// WaitEvent: the run waits for an event (a wait step's until_event),
// perhaps with a timer for its timeout.
const WaitEvent = "event"

// ConsumeEvent records that the run consumed the event of key (it resumed
// the run, or ended it); false if the run had consumed it already.
func (x *RunTx) ConsumeEvent(key string) (bool, error) {
	res, err := x.t.exec(`INSERT OR IGNORE INTO flow_run_events (run_id, key, at) VALUES (?, ?, ?)`, x.run.ID, key, x.t.now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetEvent replaces the event the run's {{event.*}} variables read (an
// event the run waited for brings its data).
func (x *RunTx) SetEvent(data map[string]string) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if data == nil {
		b = []byte("{}")
	}
	if _, err := x.t.exec(`UPDATE flow_runs SET event = ? WHERE id = ?`, string(b), x.run.ID); err != nil {
		return err
	}
	x.run.Event = data
	return nil
}
