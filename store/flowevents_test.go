package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrationKeepsRunsAndStepLog: migration 15 rebuilds flow_runs (to
// let runs wait for an event); the runs and their step log, which the old
// table's drop would cascade away, are all there after it, and a run can
// then wait for an event, found by its name.
func TestMigrationKeepsRunsAndStepLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	contact, err := s.CreateContact(ctx, "393331112222", ContactUpdate{Name: "Ada"}, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.CreateFlow(ctx, "Test", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishFlow(ctx, f.ID, []byte(`{"steps":[{"id":"a","type":"send","text":"x"},{"id":"b","type":"wait","duration":"1h"}]}`), ""); err != nil {
		t.Fatal(err)
	}
	undoMigrations(t, s, 15)
	// A run as version 14 wrote it, at step b after a, with its step log.
	for _, q := range []string{
		`INSERT INTO flow_runs (id, flow_id, version, contact_id, step, waiting, token, event, start_ref, started_at, updated_at)
			VALUES (1, 1, 1, 1, 'b', 'timer', 7, '{"order_id":"A1"}', 'msg:1', 1, 2)`,
		`INSERT INTO flow_steps (run_id, flow_id, version, step, entered_at, left_at) VALUES (1, 1, 1, 'a', 1, 2), (1, 1, 1, 'b', 2, NULL)`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	r := &FlowRun{ID: 1}
	_ = contact
	s.Close()
	if s, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.RunByID(ctx, r.ID)
	if err != nil || got.Step != "b" || got.Token != 7 || got.Waiting != WaitTimer || got.Event["order_id"] != "A1" {
		t.Fatalf("the run after the migration: %+v %v", got, err)
	}
	steps, err := s.FlowStepCounts(ctx, f.ID, 1)
	if err != nil || len(steps) != 2 {
		t.Fatalf("the step log after the migration: %+v %v", steps, err)
	}
	err = s.MoveRun(ctx, r.ID, func(x *RunTx, r *FlowRun) error {
		r.Waiting, r.WaitEvent = WaitEvent, "order.delivered"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	waiting := func() string {
		rs, err := s.ActiveRunsOf(ctx, contact)
		if err != nil || len(rs) != 1 || rs[0].ID != r.ID {
			t.Fatalf("active runs: %+v %v", rs, err)
		}
		return rs[0].Waiting + " " + rs[0].WaitEvent
	}
	if w := waiting(); w != "event order.delivered" {
		t.Fatalf("the run waits for %q", w)
	}
	// A run that moves on waits for no event any more.
	_ = s.MoveRun(ctx, r.ID, func(x *RunTx, r *FlowRun) error { r.Waiting = WaitTimer; return nil })
	if w := waiting(); w != "timer " {
		t.Fatalf("a run that moved on still waits: %q", w)
	}
}
