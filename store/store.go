// Package store is sendbox's SQLite database: schema, migrations and every
// query. It is the only package that speaks SQL; the others ask it for what
// they need by name.
//
// One writer connection serialises all writes (BEGIN IMMEDIATE, so a
// transaction takes the write lock up front and never fails half-way on
// SQLITE_BUSY); a pool of read-only connections serves queries concurrently
// thanks to WAL mode.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Store is the open database.
type Store struct {
	path string
	w    *sql.DB // the only writer: SetMaxOpenConns(1)
	r    *sql.DB // read-only pool
	log  *slog.Logger

	ingest    *ingestStmts
	stmts     stmtCache
	templates templateCache
	// group gathers concurrent hot writes (QueueOutbound, SetRouting)
	// into one transaction.
	group group
	// ckpt copies the WAL into the database file beside the writer.
	ckpt *checkpointer
	// anchor keeps the consent ledger's last record in a file beside the
	// database (ledgeranchor.go).
	anchor *anchorer
	// Notify, if set, is called after every commit that added rows to the
	// event outbox, so the relay publishes them at once.
	Notify func()
	// TimerAdded, if set, is called after every commit that added timers,
	// with the earliest due time among them, so the scheduler wakes
	// before it if it sleeps longer.
	TimerAdded func(due time.Time)
	// Location, if set, is the business's time zone: segment rules count
	// their days ("within 7 days", "today") in it. Nil: UTC.
	Location func() *time.Location
}

// location is the business's zone, UTC when none is set.
func (s *Store) location() *time.Location {
	if s.Location != nil {
		if l := s.Location(); l != nil {
			return l
		}
	}
	return time.UTC
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)") // first: the WAL switch must wait, not fail
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "cache_size(-32000)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
		q.Add("_pragma", "wal_autocheckpoint(16384)") // the checkpointer (checkpoint.go) comes first
	}
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path, snapshots it if
// migrations are pending, and migrates it. It refuses a database written by
// a newer sendbox.
func Open(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database folder: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{path: path, w: w, log: log}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database readers: %w", err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if s.ckpt, err = startCheckpointer(path, log, s.onWriter); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database checkpointer: %w", err)
	}
	if s.ingest, err = prepareIngest(ctx, w); err != nil {
		s.Close()
		return nil, err
	}
	s.anchor = startAnchorer(s)
	return s, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	if s.ingest != nil {
		s.ingest.close()
	}
	s.stmts.close()
	if s.anchor != nil {
		s.anchor.close()
	}
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		// A clean checkpoint keeps the WAL file from growing across restarts.
		if _, err := s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			s.log.Warn("wal checkpoint at close", slog.Any("err", err))
		}
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// onWriter runs fn on the writer's connection, while no write runs.
func (s *Store) onWriter(fn func(*sql.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(conn)
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Snapshot writes a consistent, compacted copy of the database to dst
// (VACUUM INTO), safe while sendbox runs.
func (s *Store) Snapshot(ctx context.Context, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("snapshot to %s: %w", dst, err)
	}
	return nil
}

// tx runs fn in one write transaction and commits it, or rolls back on error.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if s.ckpt != nil {
		s.ckpt.committed()
	}
	return nil
}

// jsonText returns a stored JSON text for a json.RawMessage field.
// Webhooks stored before ingest replaced invalid UTF-8 may hold some, and
// encoding/json writes raw JSON out byte for byte: the API's answer would
// not be UTF-8, so not JSON.
func jsonText(s string) []byte {
	if utf8.ValidString(s) {
		return []byte(s)
	}
	return []byte(strings.ToValidUTF8(s, "\uFFFD"))
}

// ms is the storage form of a time: unix milliseconds, NULL for the zero time.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS turns a nullable unix-millisecond column back into a time.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// nullStr stores "" as NULL, for columns with partial unique indexes.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// now is the clock; tests may replace it.
var now = func() time.Time { return time.Now().UTC() }
