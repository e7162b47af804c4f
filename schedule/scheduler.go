// Package schedule is sendbox's durable scheduler: timers kept in SQLite
// (store's timers table is their only source of truth), fired exactly once
// each, in due order, through a handler registered for their kind.
//
// Pending timers cost no Go memory: the scheduler keeps only the time it
// sleeps until, reads the earliest due time from the partial index when it
// wakes, and fires what is due in batches ordered by due time. A commit
// that adds a timer sooner than that wakes it (store.Store.TimerAdded).
//
// Firing a batch is one store transaction: each timer is claimed, its
// handler checks that the owner still expects it (a token, such as the
// time a conversation is snoozed until) and applies the effect, and the
// effect's events go to the outbox, all in the same commit. A crash before
// the commit fires the batch again at the next start; after it, never. A
// timer whose owner moved on is marked obsolete and does nothing. After a
// downtime, late timers fire once each, earliest first, their lateness
// recorded on each row and in sendbox_timer_lateness_seconds.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"sendbox/guard"
	"sendbox/metrics"
	"sendbox/store"
)

// Handler applies a due timer's effect through tx; see store.TimerHandler.
type Handler = store.TimerHandler

const (
	// batch is how many timers one transaction fires: large enough that a
	// backlog after downtime drains at thousands a second, small enough that
	// the single writer is not held for long.
	batch = 256
	// coalesce lets timers due within a few milliseconds of one another fire
	// in one transaction rather than one each.
	coalesce = 5 * time.Millisecond
	// maxSleep bounds a sleep, so that a timer added by another process
	// on the same database (which cannot wake this one) fires in a minute.
	maxSleep = time.Minute
	// keepEnded is how long fired, obsolete and cancelled timers stay,
	// for whoever wants to know what happened and how late.
	keepEnded = 30 * 24 * time.Hour
)

// Scheduler fires due timers. Register handlers, then Run.
type Scheduler struct {
	store *store.Store
	log   *slog.Logger

	mu       sync.RWMutex
	handlers map[string]Handler

	wake chan struct{}
	// sleepUntil is the unix ms the loop sleeps until; 0 while it is
	// awake, so that a timer added meanwhile makes it look again.
	sleepUntil atomic.Int64
	done       chan struct{}

	fired    *metrics.CounterVec
	lateness *metrics.HistogramVec
}

// New builds a scheduler on st; reg may be nil.
func New(st *store.Store, reg *metrics.Registry, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	return &Scheduler{store: st, log: log, handlers: map[string]Handler{}, wake: make(chan struct{}, 1),
		done: make(chan struct{}),
		fired: reg.Counter("sendbox_timers_total", "Timers that came due, by kind and outcome (fired, obsolete, retried, failed).",
			"kind", "outcome"),
		lateness: reg.Histogram("sendbox_timer_lateness_seconds", "How late timers fired after their due time.",
			[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 60, 600, 3600}, "kind")}
}

// Handle registers the handler of a kind of timer.
func (s *Scheduler) Handle(kind string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[kind] = h
}

// Notify tells the scheduler a timer due at due was added; it wakes if it
// sleeps past it. It never blocks. Set it as the store's TimerAdded.
func (s *Scheduler) Notify(due time.Time) {
	if until := s.sleepUntil.Load(); until != 0 && due.UnixMilli() >= until {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Done is closed when Run has returned.
func (s *Scheduler) Done() <-chan struct{} { return s.done }

// Run fires due timers until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	defer close(s.done)
	purge := time.Now().Add(time.Minute) // hourly, from a minute after start: starting is busy enough
	sleep := time.NewTimer(0)
	defer sleep.Stop()
	for {
		s.sleepUntil.Store(0)
		if err := guard.Do(s.log, "fire due timers", func() { s.fireDue(ctx, time.Now()) }); err != nil {
			s.pause(ctx, time.Second)
		}
		if time.Since(purge) >= 0 {
			purge = time.Now().Add(time.Hour)
			s.purge(ctx)
		}
		wait := maxSleep
		next, ok, err := s.store.NextTimerDue(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			s.log.Error("read the next due timer; will retry", slog.Any("err", err))
			wait = time.Second
		case ok:
			wait = min(max(time.Until(next), 0)+coalesce, maxSleep)
		}
		s.sleepUntil.Store(time.Now().Add(wait).UnixMilli())
		sleep.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			sleep.Stop() // since Go 1.23 no stale tick is delivered after Stop or Reset
		case <-sleep.C:
		}
	}
}

func (s *Scheduler) pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// fireDue fires batches until none is left due at at, or an error.
func (s *Scheduler) fireDue(ctx context.Context, at time.Time) (int, error) {
	total := 0
	for ctx.Err() == nil {
		res, err := s.store.FireDue(ctx, at, batch, s.handle)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("fire due timers; will retry", slog.Any("err", err))
			}
			return total, err
		}
		for _, herr := range res.Errors {
			s.log.Warn("a timer's handler failed; it will be retried", slog.Any("err", herr))
		}
		if res.Claimed > 0 {
			s.log.Debug("timers fired", slog.Int("fired", res.Fired), slog.Int("obsolete", res.Obsolete),
				slog.Int("retried", res.Retried), slog.Int("failed", res.Failed))
		}
		total += res.Fired
		if res.Claimed < batch {
			return total, nil
		}
	}
	return total, ctx.Err()
}

// handle runs the handler of tm's kind; a panic in it becomes an error, so
// that the savepoint is rolled back and the transaction still ends.
func (s *Scheduler) handle(ctx context.Context, tx *store.TimerTx, tm *store.Timer) (applied bool, err error) {
	s.mu.RLock()
	h := s.handlers[tm.Kind]
	s.mu.RUnlock()
	defer func() {
		outcome := "obsolete"
		switch {
		case err != nil && tm.Attempts+1 >= store.MaxTimerAttempts:
			outcome = "failed"
		case err != nil:
			outcome = "retried"
		case applied:
			outcome = "fired"
		}
		s.fired.With(tm.Kind, outcome).Inc()
		if err == nil {
			s.lateness.With(tm.Kind).Observe(max(0, tx.Now().Sub(tm.DueAt).Seconds()))
		}
	}()
	if h == nil {
		return false, fmt.Errorf("no handler for timers of kind %q", tm.Kind)
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("recovered from a panic in a timer's handler", slog.String("kind", tm.Kind),
				slog.Int64("timer", tm.ID), slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
			applied, err = false, fmt.Errorf("panic: %v", r)
		}
	}()
	return h(ctx, tx, tm)
}

// FireDue fires every timer due at or before at now, as Run would when
// that time comes, and returns how many had their effect applied. Tests
// use it to reach a time without waiting for it.
func (s *Scheduler) FireDue(ctx context.Context, at time.Time) (int, error) {
	var n int
	var err error
	if perr := guard.Do(s.log, "fire due timers", func() { n, err = s.fireDue(ctx, at) }); perr != nil {
		return n, perr
	}
	return n, err
}

func (s *Scheduler) purge(ctx context.Context) {
	n, err := s.store.PurgeTimers(ctx, time.Now().Add(-keepEnded))
	if err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		s.log.Error("purge ended timers", slog.Any("err", err))
		return
	}
	if n > 0 {
		s.log.Info("ended timers purged", slog.Int64("count", n))
	}
}
