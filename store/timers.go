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

// Timer kinds. The scheduler (package schedule) fires each through the
// handler registered for its kind.
const (
	// TimerSnoozeWake reopens a snoozed conversation (owner: the
	// conversation; token: its snoozed_until in unix ms).
	TimerSnoozeWake = "snooze.wake"
)

// Timer states. A timer is pending until it fires (its effect applied),
// is found obsolete when due (its owner no longer expects it), is
// cancelled by its owner beforehand, or fails MaxTimerAttempts times.
const (
	TimerPending   = "pending"
	TimerFired     = "fired"
	TimerObsolete  = "obsolete"
	TimerCancelled = "cancelled"
	TimerFailed    = "failed"
)

// MaxTimerAttempts bounds the attempts of a timer whose handler fails.
const MaxTimerAttempts = 8

// Timer is one durable timer.
type Timer struct {
	ID    int64  `json:"id"`
	Kind  string `json:"kind"`
	Owner int64  `json:"owner"` // what it belongs to, by kind
	// Token is what the owner must still hold when the timer is due for
	// it to act: a reschedule or a reply changes it, and the old timer
	// then does nothing.
	Token     string          `json:"token,omitempty"`
	DueAt     time.Time       `json:"due_at"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	State     string          `json:"state"`
	Attempts  int             `json:"attempts,omitempty"`
	LastError string          `json:"last_error,omitempty"`
	FiredAt   time.Time       `json:"fired_at,omitzero"`
	Lateness  time.Duration   `json:"lateness"` // between due and fired (or found obsolete)
}

// TimerSpec is a timer to add.
type TimerSpec struct {
	Kind    string
	Owner   int64
	Token   string
	DueAt   time.Time
	Payload json.RawMessage
}

const schemaV9 = `
-- Durable timers: the source of truth of everything that happens at a time.
-- Only pending timers are indexed, so fired ones cost the index nothing.
CREATE TABLE timers (
	id          INTEGER PRIMARY KEY,
	kind        TEXT NOT NULL,               -- snooze.wake, later reminder, drip, campaign.start, retention
	owner       INTEGER NOT NULL,            -- what it belongs to, by kind (snooze.wake: a conversation)
	token       TEXT NOT NULL DEFAULT '',    -- what the owner must still hold for the timer to act
	due_at      INTEGER NOT NULL,            -- UTC unix ms
	payload     TEXT NOT NULL DEFAULT '{}',
	state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','fired','obsolete','cancelled','failed')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	fired_at    INTEGER,                     -- when it fired, was found obsolete, was cancelled or failed
	lateness_ms INTEGER                      -- fired_at - due_at (after a retry, the retry's due_at)
);
CREATE INDEX timers_due ON timers(due_at, id) WHERE state = 'pending';
-- An owner's timers in any state: cancelling, and what happened to them.
CREATE INDEX timers_owner ON timers(kind, owner);
-- Purging ended timers reads this, not the pending ones.
CREATE INDEX timers_ended ON timers(fired_at) WHERE state != 'pending';

-- Snoozes wake through timers now; nothing looks conversations up by snoozed_until.
DROP INDEX IF EXISTS conversations_snoozed;
`

// migrateV9 adds the timers and gives every conversation snoozed at
// migration time its wake-up timer, so that the 15-second poll they relied
// on can go.
func migrateV9(ctx context.Context, tx *sql.Tx) error {
	if err := execAll(schemaV9)(ctx, tx); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO timers (kind, owner, token, due_at, created_at)
		SELECT ?, id, CAST(snoozed_until AS TEXT), snoozed_until, ? FROM conversations
		WHERE status = 'snoozed' AND snoozed_until IS NOT NULL ORDER BY snoozed_until, id`,
		TimerSnoozeWake, time.Now().UnixMilli())
	return err
}

// addTimer writes a timer in the current transaction; the scheduler hears
// of it after the commit.
func (t *wtx) addTimer(sp TimerSpec) (int64, error) {
	if sp.Kind == "" || sp.DueAt.IsZero() {
		return 0, errors.New("a timer needs a kind and a due time")
	}
	payload := "{}"
	if len(sp.Payload) > 0 {
		payload = string(sp.Payload)
	}
	var id int64
	due := sp.DueAt.UnixMilli()
	if err := t.queryRow(`INSERT INTO timers (kind, owner, token, due_at, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)
		RETURNING id`, sp.Kind, sp.Owner, sp.Token, due, payload, t.now.UnixMilli()).Scan(&id); err != nil {
		return 0, fmt.Errorf("add timer: %w", err)
	}
	if t.timerDue == 0 || due < t.timerDue {
		t.timerDue = due
	}
	return id, nil
}

// cancelTimers cancels an owner's pending timers of a kind.
func (t *wtx) cancelTimers(kind string, owner int64) error {
	_, err := t.exec(`UPDATE timers SET state = 'cancelled', fired_at = ? WHERE kind = ? AND owner = ? AND state = 'pending'`,
		t.now.UnixMilli(), kind, owner)
	return err
}

// AddTimers writes timers in one transaction and returns their ids.
func (s *Store) AddTimers(ctx context.Context, specs []TimerSpec) ([]int64, error) {
	ids := make([]int64, 0, len(specs))
	err := s.update(ctx, func(t *wtx) error {
		ids = ids[:0]
		for _, sp := range specs {
			id, err := t.addTimer(sp)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// CancelTimers cancels an owner's pending timers of a kind.
func (s *Store) CancelTimers(ctx context.Context, kind string, owner int64) error {
	return s.update(ctx, func(t *wtx) error { return t.cancelTimers(kind, owner) })
}

// NextTimerDue returns the due time of the earliest pending timer, and
// false when none is pending. It reads one entry of the partial index.
func (s *Store) NextTimerDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	if err := s.r.QueryRowContext(ctx, "SELECT MIN(due_at) FROM timers WHERE state = 'pending'").Scan(&due); err != nil {
		return time.Time{}, false, err
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(due.Int64).UTC(), true, nil
}

const timerCols = `id, kind, owner, token, due_at, payload, state, attempts, last_error, fired_at, lateness_ms`

func scanTimer(sc interface{ Scan(...any) error }) (*Timer, error) {
	var tm Timer
	var due int64
	var payload string
	var fired, late sql.NullInt64
	if err := sc.Scan(&tm.ID, &tm.Kind, &tm.Owner, &tm.Token, &due, &payload, &tm.State, &tm.Attempts, &tm.LastError,
		&fired, &late); err != nil {
		return nil, err
	}
	tm.DueAt, tm.FiredAt = time.UnixMilli(due).UTC(), fromMS(fired)
	tm.Payload, tm.Lateness = json.RawMessage(payload), time.Duration(late.Int64)*time.Millisecond
	return &tm, nil
}

// TimersOf returns an owner's timers of a kind, oldest first.
func (s *Store) TimersOf(ctx context.Context, kind string, owner int64) ([]Timer, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+timerCols+" FROM timers WHERE kind = ? AND owner = ? ORDER BY id", kind, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Timer
	for rows.Next() {
		tm, err := scanTimer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *tm)
	}
	return out, rows.Err()
}

// TimerByID returns one timer.
func (s *Store) TimerByID(ctx context.Context, id int64) (*Timer, error) {
	tm, err := scanTimer(s.r.QueryRowContext(ctx, "SELECT "+timerCols+" FROM timers WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return tm, err
}

// TimerCounts counts timers by state. It reads every timer: for tests,
// benchmarks and the command line, not for a gauge.
func (s *Store) TimerCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT state, COUNT(*) FROM timers GROUP BY state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// PurgeTimers deletes timers that ended (fired, obsolete, cancelled,
// failed) before the given time, and returns how many. It deletes in
// transactions of 5,000, so that the single writer is never held long.
func (s *Store) PurgeTimers(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		r, err := s.w.ExecContext(ctx, `DELETE FROM timers WHERE id IN (SELECT id FROM timers
			WHERE state != 'pending' AND fired_at < ? LIMIT 5000)`, before.UnixMilli())
		if err != nil {
			return total, err
		}
		n, _ := r.RowsAffected()
		if total += n; n < 5000 {
			return total, nil
		}
	}
}

// TimerTx is the transaction a timer fires in. Its handler checks through
// it that the owner still expects the timer and applies the effect; the
// timer's claim, the effect and the events it emits commit together.
type TimerTx struct {
	t *wtx
}

// Now is the transaction's clock.
func (x *TimerTx) Now() time.Time { return x.t.now }

// TimerHandler applies a due timer's effect in tx. It reports false when
// the owner no longer expects the timer (obsolete: nothing changed); an
// error rolls back whatever it did, and the timer is tried again later.
type TimerHandler func(ctx context.Context, tx *TimerTx, tm *Timer) (applied bool, err error)

// FireResult says what one FireDue did.
type FireResult struct {
	Claimed  int             // timers taken from the pending ones
	Fired    int             // effect applied
	Obsolete int             // the owner no longer expected them
	Retried  int             // the handler failed; pending again, later
	Failed   int             // the handler failed for the last time
	Lateness []time.Duration // of the fired and obsolete ones, in due order
	Errors   []error         // the handlers' errors, by timer
}

// FireDue fires up to limit pending timers due at or before at, earliest
// first, in one transaction. Each timer is claimed (pending → fired or
// obsolete), checked and applied by handle in its own savepoint, so that
// one failing handler undoes only its own work. A crash before the commit
// leaves every one of them pending, to fire at the next start; after it,
// none can fire again.
func (s *Store) FireDue(ctx context.Context, at time.Time, limit int, handle TimerHandler) (FireResult, error) {
	var res FireResult
	err := s.update(ctx, func(t *wtx) error {
		res = FireResult{}
		rows, err := t.query("SELECT "+timerCols+" FROM timers WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
			at.UnixMilli(), limit)
		if err != nil {
			return err
		}
		var due []*Timer
		for rows.Next() {
			tm, err := scanTimer(rows)
			if err != nil {
				rows.Close()
				return err
			}
			due = append(due, tm)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		res.Claimed = len(due)
		x := &TimerTx{t: t}
		nowMS := t.now.UnixMilli()
		for _, tm := range due {
			if _, err := t.exec("SAVEPOINT timer_one"); err != nil {
				return err
			}
			applied, herr := handle(t.ctx, x, tm)
			if herr != nil {
				if _, err := t.exec("ROLLBACK TO timer_one"); err != nil {
					return errors.Join(herr, err)
				}
				t.ledgerHead = nil // a ledger record appended since the savepoint is gone
				res.Errors = append(res.Errors, fmt.Errorf("timer %d (%s): %w", tm.ID, tm.Kind, herr))
				state, retryAt := TimerPending, nowMS+retryDelay(tm.Attempts+1).Milliseconds()
				if tm.Attempts+1 >= MaxTimerAttempts {
					state, res.Failed = TimerFailed, res.Failed+1
				} else {
					res.Retried++
				}
				if _, err := t.exec(`UPDATE timers SET attempts = attempts + 1, last_error = ?, state = ?, due_at = ?,
					fired_at = CASE WHEN ? = 'failed' THEN ? END WHERE id = ?`,
					truncate(herr.Error(), 500), state, retryAt, state, nowMS, tm.ID); err != nil {
					return err
				}
			} else {
				state := TimerFired
				if applied {
					res.Fired++
				} else {
					state, res.Obsolete = TimerObsolete, res.Obsolete+1
				}
				late := max(0, nowMS-tm.DueAt.UnixMilli())
				res.Lateness = append(res.Lateness, time.Duration(late)*time.Millisecond)
				if _, err := t.exec(`UPDATE timers SET state = ?, fired_at = ?, lateness_ms = ? WHERE id = ? AND state = 'pending'`,
					state, nowMS, late, tm.ID); err != nil {
					return err
				}
			}
			if _, err := t.exec("RELEASE timer_one"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return FireResult{}, err
	}
	return res, nil
}

// retryDelay is how long a failed timer waits before its attempt n+1:
// 2, 4, 8 … seconds, at most five minutes.
func retryDelay(n int) time.Duration {
	return min(time.Duration(1<<min(n, 16))*time.Second, 5*time.Minute)
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// WakeSnoozed reopens a conversation snoozed until the timer's token (its
// snoozed_until in unix ms), with its timeline line and event. It reports
// false, changing nothing, when the conversation is no longer snoozed until
// then: reopened, resolved, answered by the customer or snoozed again.
func (x *TimerTx) WakeSnoozed(convID int64, token string) (bool, error) {
	until, err := strconv.ParseInt(token, 10, 64)
	if err != nil {
		return false, nil // not a token a snooze ever wrote: nothing expects it
	}
	t := x.t
	var contact int64
	err = t.queryRow(`UPDATE conversations SET status = 'open', snoozed_until = NULL, updated_at = ?
		WHERE id = ? AND status = 'snoozed' AND snoozed_until = ? RETURNING contact_id`, t.now.UnixMilli(), convID, until).Scan(&contact)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	data := map[string]any{events.DataStatus: "open"}
	if err := t.addTimeline(convID, events.ChangeWoke, data, ""); err != nil {
		return false, err
	}
	return true, t.emit(events.Event{Type: events.ConversationUpdated, ConversationID: convID, ContactID: contact, Status: events.ChangeWoke,
		Data: data})
}
