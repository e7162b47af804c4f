package embed

// The outbox relay lives beside the broker it feeds: it moves the store's
// transactional outbox onto the streams, so that every row written is
// followed by its event or job, even across a crash.

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/events"
	"sendbox/guard"
	"sendbox/metrics"
)

// Outbox is the store's transactional outbox, as the relay drains it. The
// relay takes this much rather than the store itself so that the broker's
// package stays free of SQL: store.Store satisfies it.
type Outbox interface {
	// PendingOutbox returns up to limit items, oldest first.
	PendingOutbox(ctx context.Context, limit int) ([]events.Publication, error)
	// DeleteOutbox deletes the items up to and including the id upTo.
	DeleteOutbox(ctx context.Context, upTo int64) error
	// OutboxLen counts the items waiting.
	OutboxLen(ctx context.Context) (int, error)
}

// Relay publishes outbox items in order and deletes them once the broker
// has acknowledged them. Items carry a deterministic message id, so a
// publish repeated after a crash is dropped by the broker's dedup window and,
// past it, by consumers that are idempotent anyway.
type Relay struct {
	// Hold, if set, holds publishing while it returns true: the disk is
	// about to be full, and a write the broker fails for want of space
	// leaves its stream refusing writes until it is reloaded. Held, the
	// items wait in the outbox, in SQLite.
	Hold func() bool

	outbox    Outbox
	broker    *Broker
	log       *slog.Logger
	wake      chan struct{}
	done      chan struct{}
	published *metrics.Counter
	failed    *metrics.Counter
}

// NewRelay builds the relay; call Run to start it.
func NewRelay(outbox Outbox, br *Broker, reg *metrics.Registry, log *slog.Logger) *Relay {
	c := reg.Counter("sendbox_outbox_published_total", "Outbox items relayed to the broker, by result.", "result")
	r := &Relay{outbox: outbox, broker: br, log: log, wake: make(chan struct{}, 1), done: make(chan struct{}),
		published: c.With("ok"), failed: c.With("error")}
	reg.GaugeFunc("sendbox_outbox_pending", "Outbox items not yet relayed to the broker.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, _ := outbox.OutboxLen(ctx)
		return float64(n)
	})
	return r
}

// Notify wakes the relay after a commit that wrote to the outbox. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends, then makes a last bounded attempt to flush.
func (r *Relay) Run(ctx context.Context) {
	defer close(r.done)
	tick := time.NewTicker(time.Second) // also picks up items left by a crash
	defer tick.Stop()
	for {
		r.guarded(ctx)
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			r.guarded(fctx)
			cancel()
			return
		case <-r.wake:
		case <-tick.C:
		}
	}
}

// Done is closed when Run has returned.
func (r *Relay) Done() <-chan struct{} { return r.done }

const relayBatch = 512

// guarded drains the outbox; after a panic the next tick tries again.
func (r *Relay) guarded(ctx context.Context) {
	_ = guard.Do(r.log, "relay the outbox", func() { r.drain(ctx) })
}

// drain publishes until the outbox is empty or an error stops it.
func (r *Relay) drain(ctx context.Context) {
	for ctx.Err() == nil && (r.Hold == nil || !r.Hold()) {
		items, err := r.outbox.PendingOutbox(ctx, relayBatch)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("read outbox", slog.Any("err", err))
			}
			return
		}
		if len(items) == 0 {
			return
		}
		last, err := r.publish(ctx, items)
		if last > 0 {
			if derr := r.outbox.DeleteOutbox(ctx, last); derr != nil {
				r.log.Error("trim outbox", slog.Any("err", derr))
				return
			}
		}
		if err != nil {
			r.log.Warn("relay outbox to broker; will retry", slog.Any("err", err))
			return
		}
		if len(items) < relayBatch {
			return
		}
	}
}

// publish sends items asynchronously and returns the id of the last item of
// the unbroken acknowledged prefix.
func (r *Relay) publish(ctx context.Context, items []events.Publication) (int64, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(items))
	var firstErr error
	for _, it := range items {
		f, err := r.broker.JS.PublishAsync(it.Subject, it.Payload, jetstream.WithMsgID(it.MsgID))
		if err != nil {
			firstErr = err
			break
		}
		futures = append(futures, f)
	}
	var last int64
	broken := false
	for i, f := range futures {
		select {
		case <-f.Ok():
			if !broken {
				last = items[i].ID
			}
			r.published.Inc()
		case err := <-f.Err():
			r.failed.Inc()
			if !broken && firstErr == nil {
				firstErr = err
			}
			broken = true
		case <-ctx.Done():
			return last, ctx.Err()
		}
	}
	return last, firstErr
}
