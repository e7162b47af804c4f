package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestImportMigrationTakesTheNumberOutOfReasons: a duplicate's reason
// written before version 23 named the number; the migration moves it to
// wa_id, where erasing the contact finds it.
func TestImportMigrationTakesTheNumberOutOfReasons(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	undoMigrations(t, s, 23)
	for _, q := range []string{
		`INSERT INTO import_jobs (id, file_name, path, size, sha256, state, created_at, updated_at, finished_at) VALUES (1, 'a.csv', '', 1, 'x', 'done', 1, 1, 1)`,
		`INSERT INTO import_rejects (job_id, line, kind, reason) VALUES (1, 4, 'duplicate', 'the same number (+393471110001) as line 2: only the first is imported')`,
		`INSERT INTO import_rejects (job_id, line, kind, reason) VALUES (1, 5, 'rejected', 'column 1 (phone): "x" is not a phone number')`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rj, err := s.ImportRejects(ctx, 1)
	if err != nil || len(rj) != 2 {
		t.Fatalf("%+v %v", rj, err)
	}
	if rj[0].Reason != "the same number as line 2: only the first is imported" || rj[0].WaID != "393471110001" || rj[0].Cells != nil {
		t.Errorf("duplicate after the migration: %+v", rj[0])
	}
	if rj[1].Reason != `column 1 (phone): "x" is not a phone number` || rj[1].WaID != "" {
		t.Errorf("rejected after the migration: %+v", rj[1])
	}
	if err := s.update(ctx, func(t *wtx) error { return t.eraseImportRows("393471110001") }); err != nil {
		t.Fatal(err)
	}
	if rj, _ := s.ImportRejects(ctx, 1); rj[0].Reason != "the contact of this row was erased" || rj[0].WaID != "" {
		t.Errorf("after the erasure: %+v", rj[0])
	}
}
