package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"sendbox/events"
)

// A group commit: writes that arrive while another group commits are
// written together, in one transaction, each in a savepoint of its own, so
// that one's error rolls back only its own part. At a thousand writes a
// second, a transaction each spent a quarter of a millisecond committing,
// most of it writing the same leaf pages to the WAL again and again. The
// hot writes of many concurrent callers go through it: queued messages
// (QueueOutbound) and the router's decisions (SetRouting).
//
// One caller at a time leads: it writes the calls pending when it starts,
// answers them, and hands the lead to the oldest call left, or gives it up
// when none is left (so pending is empty whenever no one leads).
type group struct {
	mu      sync.Mutex // guards pending and leading
	pending []*groupCall
	leading bool
}

type groupCall struct {
	ctx  context.Context
	fn   func(t *wtx) error
	done chan groupResult // buffered: a leader never waits on it
}

type groupResult struct {
	err  error
	lead bool // not a result: the caller leads the next group
}

// maxGroup bounds one group commit, so that its callers' wait stays short.
const maxGroup = 256

// grouped runs fn in the next group commit and returns its error, or the
// group's. fn runs in the leader's goroutine, with ctx's actor, and must
// not keep t.
func (s *Store) grouped(ctx context.Context, fn func(t *wtx) error) error {
	c := &groupCall{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	for {
		if lead {
			s.leadGroup()
		}
		r := <-c.done
		if r.lead {
			lead = true
			continue
		}
		return r.err
	}
}

// leadGroup writes one group of pending calls and answers them.
func (s *Store) leadGroup() {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.pending), maxGroup)
	batch := append([]*groupCall(nil), g.pending[:n]...)
	g.pending = append(g.pending[:0], g.pending[n:]...)
	g.mu.Unlock()

	results := make([]groupResult, len(batch))
	// Not a caller's context: the group is theirs together. A caller gone
	// meanwhile is skipped (an API client retries with its idempotency key).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := s.update(ctx, func(t *wtx) error {
		for i, c := range batch {
			if err := c.ctx.Err(); err != nil {
				results[i].err = err
				continue
			}
			// The group's transaction is the leader's; each write is its caller's.
			t.actor = events.ActorFrom(c.ctx)
			if _, err := t.exec("SAVEPOINT group_one"); err != nil {
				return err
			}
			if err := c.fn(t); err != nil {
				// One call's error is its own; the others still commit.
				if _, rerr := t.exec("ROLLBACK TO group_one"); rerr != nil {
					return errors.Join(err, rerr)
				}
				t.ledgerHead = nil // a ledger record appended since the savepoint is gone
				results[i].err = err
			}
			if _, err := t.exec("RELEASE group_one"); err != nil {
				return err
			}
		}
		return nil
	})
	cancel()
	for i, c := range batch {
		if err != nil {
			results[i] = groupResult{err: err}
		}
		c.done <- results[i]
	}
	g.mu.Lock()
	if len(g.pending) == 0 {
		g.leading = false
		g.mu.Unlock()
		return
	}
	next := g.pending[0]
	g.mu.Unlock()
	next.done <- groupResult{lead: true}
}
