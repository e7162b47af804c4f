package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointerCopiesTheWAL: a few writes, far fewer pages than the
// writer's own automatic checkpoint waits for, reach the database file
// itself soon after they commit: the checkpointer copied them, outside
// the writes. The test reads a copy of the database file alone, without
// its WAL.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec("CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := s.tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO probe (v) VALUES (?)", i)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func() int {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cp := filepath.Join(dir, "copy.db")
		os.Remove(cp + "-wal")
		if err := os.WriteFile(cp, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", "file:"+cp)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow("SELECT count(*) FROM probe").Scan(&n); err != nil {
			return -1 // the table itself is still only in the WAL
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for n := rows(); n != 20; n = rows() {
		if time.Now().After(deadline) {
			t.Fatalf("the database file has %d of the 20 rows 10 s after they committed: the WAL was not checkpointed", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
