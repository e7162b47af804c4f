package flows

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"sendbox/store"
)

// Events from the business's own system (POST /api/v1/events) do three
// things to a contact's runs, in this order: they end the runs of flows
// that exit on them (exit_on), resume the runs waiting for them (a wait
// step's until_event), and start the flows they trigger. Each move is one
// run transaction that records the event's key on the run: the same event
// sent again moves nothing twice.

// maxExitOn bounds a flow's exit events.
const maxExitOn = 20

func (d *Definition) validateExitOn() []Problem {
	var ps []Problem
	if len(d.ExitOn) > maxExitOn {
		ps = append(ps, Problem{Field: "exit_on", Code: "too_many", Message: fmt.Sprintf("at most %d exit events", maxExitOn)})
	}
	seen := map[string]bool{}
	for _, name := range d.ExitOn {
		switch {
		case !ValidEventName(name):
			ps = append(ps, Problem{Field: "exit_on", Code: "invalid", Message: fmt.Sprintf("%q: an event name is 1 to 64 letters, digits, '.', '_' or '-' (order.cancelled)", name)})
		case seen[name]:
			ps = append(ps, Problem{Field: "exit_on", Code: "duplicate", Message: fmt.Sprintf("%q is listed twice", name)})
		}
		seen[name] = true
	}
	return ps
}

// validateEventWait checks a wait for an event: the event's name, and an
// optional timeout; the duration, time of day and reply fields of a timed
// wait do not apply.
func (s *Step) validateEventWait() []Problem {
	var ps []Problem
	bad := func(field, code, msg string) { ps = append(ps, Problem{Field: field, Code: code, Message: msg}) }
	if !ValidEventName(s.UntilEvent) {
		bad("until_event", "invalid", "the event to wait for is 1 to 64 letters, digits, '.', '_' or '-' (order.delivered)")
	}
	if s.Duration != "" || s.At != "" {
		bad("duration", "unexpected", "a wait for an event has no duration or time of day: give it a timeout")
	}
	if s.UntilAttribute != "" || s.Offset != "" || s.Yearly || s.OnMissing != "" {
		bad("until_attribute", "unexpected", "a wait is for an event or until a date, not both")
	}
	if s.UntilReply || s.OnReply != "" {
		bad("until_reply", "unexpected", "a wait is for an event or for a reply, not both")
	}
	if s.Var != "" {
		bad("var", "unexpected", "the event's data is {{event.NAME}} after the wait")
	}
	if s.Timeout != "" {
		if d, err := ParseDuration(s.Timeout); err != nil || d < time.Minute || d > 366*24*time.Hour {
			bad("timeout", "invalid", "a timeout is a duration of a minute to a year: 30m, 2h, 14d")
		}
	} else if s.OnTimeout != "" {
		bad("on_timeout", "unexpected", "on_timeout needs a timeout")
	}
	return ps
}

// eventWaitBranches: the event goes to OnEvent (Next when empty), the
// timeout to OnTimeout (Next when empty). The event may come at any time.
func (s *Step) eventWaitBranches() []branch {
	ev := branch{field: "on_event", to: s.OnEvent, after: Window}
	if s.OnEvent == "" {
		ev = branch{field: "next", to: s.Next, after: Window}
	}
	out := []branch{ev}
	if s.Timeout != "" {
		b := eventTimeoutBranch(s)
		b.after, _ = ParseDuration(s.Timeout)
		out = append(out, b)
	}
	return out
}

func eventTimeoutBranch(s *Step) branch {
	if s.OnTimeout == "" {
		return branch{field: "next", to: s.Next}
	}
	return branch{field: "on_timeout", to: s.OnTimeout}
}

// waitForEvent makes the run wait for the step's event, and for its
// timeout if it has one.
func (e *Engine) waitForEvent(x *store.RunTx, r *store.FlowRun, s *Step) error {
	r.Waiting, r.WaitEvent = store.WaitEvent, s.UntilEvent
	r.Token++
	if s.Timeout == "" {
		return x.CancelTimers()
	}
	d, err := ParseDuration(s.Timeout)
	if err != nil {
		return errBroken
	}
	return x.WaitUntil(x.Now().Add(d))
}

// EventResult is what an event did to a contact's runs.
type EventResult struct {
	Started []int64 `json:"runs_started"`
	Resumed []int64 `json:"runs_resumed"`
	Exited  []int64 `json:"runs_exited"`
	// Recorded: the event was kept for its contact (false: an event of
	// this key was kept already).
	Recorded bool `json:"recorded"`
}

// Deliver gives an event to a contact's runs: it ends those of flows
// that exit on it, resumes those waiting for it (its data becomes their
// {{event.*}}, over the data they had), then starts the flows it triggers
// (Event). key makes it idempotent: a run consumes an event's key once,
// and a start is keyed by it. The event is kept for the contact first
// (store.RecordContactEvent, once per key), for segments and campaign
// conversions: kept even if a flow fails on it, so sending it again
// completes the flows and keeps nothing twice.
func (e *Engine) Deliver(ctx context.Context, name string, contactID int64, key string, data map[string]string) (*EventResult, error) {
	res := &EventResult{Started: []int64{}, Resumed: []int64{}, Exited: []int64{}}
	var err error
	if res.Recorded, err = e.Store.RecordContactEvent(ctx, store.ContactEvent{ContactID: contactID, Name: name, Key: key, Data: data}); err != nil {
		return nil, err
	}
	if e.mayHaveRuns.Load() {
		runs, err := e.Store.ActiveRunsOf(ctx, contactID)
		if err != nil {
			return nil, err
		}
		for i := range runs {
			d, err := e.definition(ctx, &runs[i])
			if err != nil {
				return nil, err
			}
			if !slices.Contains(d.ExitOn, name) {
				continue
			}
			ended, err := e.exitOn(ctx, runs[i].ID, key)
			if err != nil {
				return nil, err
			}
			if ended {
				res.Exited = append(res.Exited, runs[i].ID)
			}
		}
		// The runs waiting for this event are among those read above: the
		// resume checks their state again in its own transaction.
		for _, r := range runs {
			if r.Waiting != store.WaitEvent || r.WaitEvent != name {
				continue
			}
			resumed, err := e.resume(ctx, r.ID, name, key, data)
			if err != nil {
				return nil, err
			}
			if resumed {
				res.Resumed = append(res.Resumed, r.ID)
			}
		}
	}
	started, err := e.Event(ctx, name, contactID, key, data)
	if started != nil {
		res.Started = started
	}
	return res, err
}

// exitOn ends a run with outcome "exited", unless it consumed the event
// already (it started on it, or this is the event sent again).
func (e *Engine) exitOn(ctx context.Context, runID int64, key string) (bool, error) {
	ended := false
	err := e.Store.MoveRun(ctx, runID, func(x *store.RunTx, r *store.FlowRun) error {
		ended = false // a retried transaction starts over
		if r.State != store.RunActive {
			return nil
		}
		if ok, err := x.ConsumeEvent(key); err != nil || !ok {
			return err
		}
		ended = true
		return x.End(OutcomeExited)
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return ended, err
}

// resume moves a run waiting for the event name on, to the wait's
// on_event (next when empty), with the event's data.
func (e *Engine) resume(ctx context.Context, runID int64, name, key string, data map[string]string) (bool, error) {
	resumed := false
	err := e.move(ctx, runID, func(x *store.RunTx, r *store.FlowRun, d *Definition) error {
		resumed = false // a retried transaction starts over
		if r.State != store.RunActive || r.Waiting != store.WaitEvent || r.WaitEvent != name {
			return nil
		}
		i := d.index(r.Step)
		if i < 0 || d.Steps[i].Type != StepWait || d.Steps[i].UntilEvent != name {
			return nil
		}
		s := &d.Steps[i]
		if ok, err := x.ConsumeEvent(key); err != nil || !ok {
			return err
		}
		ev := maps.Clone(r.Event)
		if ev == nil {
			ev = map[string]string{}
		}
		maps.Copy(ev, data)
		if err := x.SetEvent(ev); err != nil {
			return err
		}
		if err := x.CancelTimers(); err != nil {
			return err
		}
		b := branch{field: "on_event", to: s.OnEvent}
		if s.OnEvent == "" {
			b = branch{field: "next", to: s.Next}
		}
		if err := e.goTo(x, r, d, d.target(i, b)); err != nil {
			return err
		}
		resumed = true
		return e.advance(ctx, x, r, d, nil)
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return resumed, err
}
