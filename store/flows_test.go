package store

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

// TestRunStartsAndTokens: a start is keyed by what started it, one run per
// flow and contact is active, the re-entry rules hold, and a timer set for
// an earlier step finds another token.
func TestRunStartsAndTokens(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	contact, err := s.CreateContact(ctx, "393331112222", ContactUpdate{Name: "Ada"}, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.CreateFlow(ctx, "Test", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishFlow(ctx, f.ID, []byte(`{"steps":[{"id":"a","type":"wait","duration":"1h"}]}`), ""); err != nil {
		t.Fatal(err)
	}
	wait := func(x *RunTx, r *FlowRun) error {
		if err := x.Enter("a"); err != nil {
			return err
		}
		r.Waiting = WaitTimer
		r.Token++
		return x.WaitUntil(x.Now().Add(time.Hour))
	}
	start := func(ref, reentry string) (*FlowRun, bool, error) {
		return s.StartRun(ctx, RunStart{FlowID: f.ID, Version: 1, ContactID: contact, Ref: ref, Reentry: reentry}, wait)
	}
	r1, ok, err := start("msg:1", "")
	if err != nil || !ok {
		t.Fatalf("first start: %v %v", ok, err)
	}
	if again, ok, err := start("msg:1", ""); err != nil || ok || again.ID != r1.ID {
		t.Fatalf("the same start again: %+v %v %v", again, ok, err)
	}
	if _, _, err := start("msg:2", ""); !errors.Is(err, ErrRunActive) {
		t.Fatalf("a second active run: %v", err)
	}
	timers, err := s.TimersOf(ctx, TimerFlowRun, r1.ID)
	if err != nil || len(timers) != 1 || timers[0].Token != strconv.FormatInt(r1.Token, 10) {
		t.Fatalf("timers of the run: %+v %v", timers, err)
	}
	// Every time: a new trigger ends the run in progress and its timer.
	r2, ok, err := start("msg:3", "every_time")
	if err != nil || !ok || r2.ID == r1.ID {
		t.Fatalf("restart: %v %v", ok, err)
	}
	old, _ := s.RunByID(ctx, r1.ID)
	if old.State != RunEnded || old.Outcome != "restarted" || old.Token == r1.Token {
		t.Fatalf("the restarted run: %+v", old)
	}
	if ts, _ := s.TimersOf(ctx, TimerFlowRun, r1.ID); ts[0].State != TimerCancelled {
		t.Fatalf("the restarted run's timer: %+v", ts)
	}
	// A move changes the token: the timer set before it is obsolete.
	if err := s.MoveRun(ctx, r2.ID, func(x *RunTx, r *FlowRun) error {
		r.Token++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.RunByID(ctx, r2.ID)
	ts, _ := s.TimersOf(ctx, TimerFlowRun, r2.ID)
	if ts[0].Token == strconv.FormatInt(cur.Token, 10) {
		t.Fatalf("the timer still holds the token after a move")
	}
	// Once: a contact who has been through the flow cannot start it again.
	if n, err := s.StopRuns(ctx, contact, 0, "stopped"); err != nil || n != 1 {
		t.Fatalf("stop: %d %v", n, err)
	}
	if _, _, err := start("msg:4", "once"); !errors.Is(err, ErrRunOnce) {
		t.Fatalf("once: %v", err)
	}
	if _, ok, err := start("msg:5", "one_at_a_time"); err != nil || !ok {
		t.Fatalf("one at a time after the last ended: %v %v", ok, err)
	}
	// The step log: entered and left.
	steps, err := s.FlowStepCounts(ctx, f.ID, 0)
	if err != nil || len(steps) != 1 || steps[0].Entered != 3 || steps[0].Waiting != 1 {
		t.Fatalf("step counts: %+v %v", steps, err)
	}
}
