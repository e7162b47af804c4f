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
// BenchmarkStepTransition). So a checkpointer does that work beside the
// writer, on a connection of its own, with PASSIVE checkpoints, which
// never wait for the writer or the readers and never make them wait.
//
// A PASSIVE checkpoint copies the WAL as it was when it began; the writer
// goes on appending meanwhile. SQLite starts the WAL over from its
// beginning (instead of growing it) only when a write begins after the
// whole WAL was copied, so the checkpointer catches up again at once while
// frames were added during its copy: each round is shorter than the one
// before, until one finds nothing left. Writes that outrun it (a flood
// with no pause between commits) still meet the writer's own automatic
// checkpoint, kept at twice SQLite's default threshold (wal_autocheckpoint
// in the DSN): it then copies only what the checkpointer had not, and
// bounds the WAL to about 8 MB as before.
const (
	walCheckpointEvery = 50 * time.Millisecond // at most this often, after a commit
	walCatchUpRounds   = 8
)

type checkpointer struct {
	db  *sql.DB
	log *slog.Logger
	// warned is when the last failure was logged: a full disk fails
	// every round, and says so once a minute, not twenty times a second.
	warned time.Time
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func startCheckpointer(path string, log *slog.Logger) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, log: log, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
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
		for range walCatchUpRounds {
			log, copied, err := c.checkpoint("PASSIVE")
			if err != nil {
				c.warn(err)
				break
			}
			if copied >= log {
				break
			}
		}
		pause.Reset(walCheckpointEvery)
		select {
		case <-c.stop:
			return
		case <-pause.C:
		}
	}
}

// checkpoint runs one checkpoint; log is the WAL's frames, copied those
// now in the database file.
func (c *checkpointer) checkpoint(mode string) (log, copied int, err error) {
	var busy int
	err = c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &log, &copied)
	return log, copied, err
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
