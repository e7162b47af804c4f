package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMigrationSchedulesSnoozedConversations: a database at version 8 with
// a snoozed conversation gets its wake-up timer from migration 9.
func TestMigrationSchedulesSnoozedConversations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{text("wamid.1", "391", "ciao", time.Now()),
		text("wamid.2", "392", "ciao", time.Now())}}); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour).UnixMilli()
	// Back to version 8, as an older sendbox left it: snoozed, no timers.
	undoMigrations(t, s, 9)
	if _, err := s.w.ExecContext(ctx, "UPDATE conversations SET status = 'snoozed', snoozed_until = ? WHERE id = 1", until); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	timers, err := s.TimersOf(ctx, TimerSnoozeWake, 1)
	if err != nil || len(timers) != 1 || timers[0].DueAt.UnixMilli() != until || timers[0].State != TimerPending {
		t.Fatalf("timers of the snoozed conversation: %+v %v", timers, err)
	}
	if others, _ := s.TimersOf(ctx, TimerSnoozeWake, 2); len(others) != 0 {
		t.Fatalf("an open conversation got a timer: %+v", others)
	}
	if next, ok, _ := s.NextTimerDue(ctx); !ok || next.UnixMilli() != until {
		t.Fatalf("next due %v %v", next, ok)
	}
}

// TestTimerQueriesUseThePartialIndex: the scheduler's queries read the
// pending timers' index, not the table, whatever the number of ended ones,
// and purging reads the ended ones' index, whatever the number pending.
func TestTimerQueriesUseThePartialIndex(t *testing.T) {
	s := openTest(t)
	for _, q := range []string{"SELECT MIN(due_at) FROM timers WHERE state = 'pending'",
		"SELECT " + timerCols + " FROM timers WHERE state = 'pending' AND due_at <= 1 ORDER BY due_at, id LIMIT 10",
		"SELECT id FROM timers WHERE state != 'pending' AND fired_at < 1 LIMIT 5000"} {
		rows, err := s.r.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "timers_due") && !strings.Contains(p, "timers_ended") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s", q, p)
		}
	}
}

// TestPurgeTimersKeepsPending: purging deletes ended timers older than the
// limit, in batches, and never a pending one.
func TestPurgeTimersKeepsPending(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	var specs []TimerSpec
	for i := range 12_000 {
		specs = append(specs, TimerSpec{Kind: "test.purge", Owner: int64(i), DueAt: now.Add(-time.Minute)})
	}
	specs = append(specs, TimerSpec{Kind: "test.purge", Owner: -1, DueAt: now.Add(time.Hour)})
	if _, err := s.AddTimers(ctx, specs); err != nil {
		t.Fatal(err)
	}
	for {
		res, err := s.FireDue(ctx, now, 1000, func(context.Context, *TimerTx, *Timer) (bool, error) { return true, nil })
		if err != nil {
			t.Fatal(err)
		}
		if res.Claimed == 0 {
			break
		}
	}
	if n, err := s.PurgeTimers(ctx, now.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("purged %d recent ones: %v", n, err)
	}
	if n, err := s.PurgeTimers(ctx, time.Now().Add(time.Second)); err != nil || n != 12_000 {
		t.Fatalf("purged %d of 12000: %v", n, err)
	}
	if c, _ := s.TimerCounts(ctx); len(c) != 1 || c[TimerPending] != 1 {
		t.Fatalf("left: %v", c)
	}
}

// undoMigrations takes a database back to the schema before migration
// from, as an older sendbox left it, so that a test can watch the
// migrations from there run on its data. Each migration since 8 says here
// how it is undone.
func undoMigrations(t *testing.T, s *Store, from int) {
	t.Helper()
	undo := map[int][]string{
		8: {"DROP TABLE user_notifications", "DROP TABLE escalation_mails"},
		9: {"DROP TABLE timers", "CREATE INDEX conversations_snoozed ON conversations(snoozed_until) WHERE status = 'snoozed'"},
		10: {"ALTER TABLE conversations DROP COLUMN routed_to", "ALTER TABLE conversations DROP COLUMN routed_reason",
			"ALTER TABLE conversations DROP COLUMN routed_detail", "ALTER TABLE conversations DROP COLUMN routed_at"},
		11: {"ALTER TABLE messages DROP COLUMN lane", "ALTER TABLE messages DROP COLUMN origin"},
		// Rows become sentences again, as the version before wrote them.
		12: {"DELETE FROM conversation_events WHERE kind != 'note' AND kind != 'legacy'",
			"UPDATE conversation_events SET kind = data ->> '$.kind' WHERE kind = 'legacy'",
			"ALTER TABLE conversation_events DROP COLUMN actor_kind", "ALTER TABLE conversation_events DROP COLUMN actor_ref",
			"ALTER TABLE conversation_events DROP COLUMN actor_name", "ALTER TABLE conversation_events DROP COLUMN data"},
		13: {"DROP TABLE flow_steps", "DROP TABLE flow_runs", "DROP TABLE flow_versions", "DROP TABLE flows"},
		14: {"DROP TABLE secrets"},
		// The CHECK on waiting keeps allowing 'event': nothing older writes it.
		15: {"DROP TABLE flow_run_events", "ALTER TABLE flow_runs DROP COLUMN wait_event"},
		16: {"DROP TABLE consent_ledger"},
		17: {"DROP TABLE import_rejects", "DROP TABLE import_jobs"},
		18: {"DROP TABLE segment_members", "DROP TABLE segments", "DROP INDEX conversations_language",
			"DROP TRIGGER contact_attributes_insert", "DROP TRIGGER contact_attributes_update",
			"DROP TABLE contact_attributes", "DROP TABLE contact_events"},
		19: {"DROP INDEX templates_meta_id", "ALTER TABLE templates DROP COLUMN meta_id", "ALTER TABLE templates DROP COLUMN parameter_format",
			"ALTER TABLE templates DROP COLUMN quality", "ALTER TABLE templates DROP COLUMN reason", "ALTER TABLE templates DROP COLUMN reason_detail",
			"ALTER TABLE templates DROP COLUMN status_at", "ALTER TABLE templates DROP COLUMN category_at", "ALTER TABLE templates DROP COLUMN quality_at",
			"ALTER TABLE templates DROP COLUMN variable_map", "ALTER TABLE templates DROP COLUMN updated_at"},
		20: {"DROP TABLE marketing_sends", "DROP TABLE campaign_recipients", "DROP TABLE campaigns"},
		21: {"DROP INDEX campaign_recipients_opted_out", "ALTER TABLE campaign_recipients DROP COLUMN opted_out_at"},
		22: {"DROP TABLE rate_card", "ALTER TABLE messages DROP COLUMN pricing_category", "ALTER TABLE messages DROP COLUMN pricing_type",
			"ALTER TABLE messages DROP COLUMN pricing_billable", "ALTER TABLE messages DROP COLUMN pricing_model", "ALTER TABLE messages DROP COLUMN pacing_status"},
		23: {"DROP INDEX import_rejects_wa_id", "ALTER TABLE import_rejects DROP COLUMN cells", "ALTER TABLE import_rejects DROP COLUMN wa_id",
			"ALTER TABLE import_jobs DROP COLUMN header", "ALTER TABLE import_jobs DROP COLUMN purged_at"},
		24: {"DROP INDEX contact_attributes_day"},
		25: {"DROP INDEX campaign_recipients_read", "DROP INDEX campaign_recipients_replied", "DROP INDEX campaign_recipients_clicked",
			"DROP INDEX campaign_recipients_converted"},
	}
	if from < 8 {
		t.Fatalf("undoMigrations knows migrations from 8 on, not %d", from)
	}
	for v := SchemaVersion(); v >= from; v-- {
		if !slices.ContainsFunc(migrations, func(m migration) bool { return m.version == v }) {
			continue // a gap in the numbers (parts merged one by one)
		}
		steps, ok := undo[v]
		if !ok {
			t.Fatalf("undoMigrations does not know how to undo migration %d: add it", v)
		}
		for _, q := range append(steps, fmt.Sprintf("DELETE FROM schema_migrations WHERE version = %d", v)) {
			if _, err := s.w.Exec(q); err != nil {
				t.Fatalf("undo migration %d: %s: %v", v, q, err)
			}
		}
	}
}
