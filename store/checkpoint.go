package store

import (
	"context"
	"database/sql"
	"log/slog"
	"time"
)

// SQLite's own checkpoint runs inside the COMMIT that takes the WAL past
// its threshold: that one write, whichever it is, waits while megabytes are
// copied into the database file and both files are synced (8–10 ms on this
// VM, where a flow step's whole transaction takes 0.5 ms: it was the p99 of
// BenchmarkStepTransition). So a checkpointer does the bulk of that work
// beside the writer, on a connection of its own, with PASSIVE checkpoints,
// which never wait for the writer or the readers and never make them wait.
//
// A PASSIVE checkpoint copies the WAL as it was when it began, and the
// writer goes on appending meanwhile; SQLite starts the WAL over from its
// beginning (instead of growing it) only when a write begins after the
// whole WAL was copied. So once the WAL holds walRewindFrames (32 MB),
// the checkpointer copies, beside the writer, until only a tail is left
// (what a few commits added during its last copy), then copies that tail
// on the writer's own connection, between two writes, which wait for that
// short copy (2–4 ms, mostly its two syncs) instead of the whole; the next
// write rewinds the file. A large WAL between rewinds is cheaper, not
// dearer: the same hot pages (a run's row, its indexes) are copied once
// per rewind however often they changed. The writer's own automatic
// checkpoint stays, at twice that (wal_autocheckpoint in the DSN, 64 MB),
// for writes that outrun the checkpointer; a reader that never lets go
// keeps the WAL from rewinding, as it did before.
const (
	walCheckpointEvery = 50 * time.Millisecond // at most this often, after a commit
	walRewindFrames    = 8192
	walTailFrames      = 64 // left for the writer's connection to copy
	walMaxRounds       = 6
)

type checkpointer struct {
	db  *sql.DB
	log *slog.Logger
	// writer runs fn on the writer's connection, between two writes.
	writer func(fn func(*sql.Conn) error) error
	// warned is when the last failure was logged: a full disk fails
	// every round, and says so once a minute, not twenty times a second.
	warned time.Time
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func startCheckpointer(path string, log *slog.Logger, writer func(fn func(*sql.Conn) error) error) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, log: log, writer: writer, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// committed tells the checkpointer a write committed; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	pause := time.NewTimer(0)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		// Copy beside the writer, again while it added more than a tail
		// during the last copy: each round is shorter than the one before.
		frames, err := walCheckpoint(c.db)
		for prev, rounds := 0, 1; err == nil && frames >= walRewindFrames && frames-prev > walTailFrames && rounds < walMaxRounds; rounds++ {
			prev = frames
			frames, err = walCheckpoint(c.db)
		}
		if err == nil && frames >= walRewindFrames {
			err = c.writer(func(conn *sql.Conn) error { _, err := walCheckpoint(conn); return err })
		}
		if err != nil {
			c.warn(err)
		}
		pause.Reset(walCheckpointEvery)
		select {
		case <-c.stop:
			return
		case <-pause.C:
		}
	}
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// walCheckpoint runs a PASSIVE checkpoint on q and returns the frames
// the WAL holds.
func walCheckpoint(q queryRower) (frames int, err error) {
	var busy, copied int
	err = q.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, err
}

func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}

func (c *checkpointer) warn(err error) {
	if time.Since(c.warned) < time.Minute {
		return
	}
	c.warned = time.Now()
	c.log.Warn("wal checkpoint failed; the next commits retry it", slog.Any("err", err))
}
