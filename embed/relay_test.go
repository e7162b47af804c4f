package embed

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/metrics"
)

// memOutbox is an outbox in memory, enough to drive the relay without SQLite.
type memOutbox struct {
	mu    sync.Mutex
	items []events.Publication
}

func (o *memOutbox) PendingOutbox(_ context.Context, limit int) ([]events.Publication, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.items[:min(limit, len(o.items))]), nil
}

func (o *memOutbox) DeleteOutbox(_ context.Context, upTo int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.items = slices.DeleteFunc(o.items, func(p events.Publication) bool { return p.ID <= upTo })
	return nil
}

func (o *memOutbox) OutboxLen(context.Context) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items), nil
}

// TestRelayPublishesInOrderOnce: the relay empties the outbox onto the
// streams in order, holds while told to, and an item published again (a
// crash between the broker's acknowledgement and the outbox's trim) is
// dropped by the broker's dedup window.
func TestRelayPublishesInOrderOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := Start(ctx, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	out := &memOutbox{}
	for i := range int64(700) { // more than one batch
		ev := events.ConversationUpdated
		out.items = append(out.items, events.Publication{ID: i + 1, Subject: events.Subject(ev),
			MsgID: fmt.Sprint(ev, ".", i), Payload: []byte(fmt.Sprint(i))})
	}
	var held sync.Mutex
	hold := true
	r := NewRelay(out, b, metrics.NewRegistry(), slog.New(slog.DiscardHandler))
	r.Hold = func() bool { held.Lock(); defer held.Unlock(); return hold }
	go r.Run(ctx)
	time.Sleep(300 * time.Millisecond)
	if n, _ := out.OutboxLen(ctx); n != 700 {
		t.Fatalf("held, the relay published %d items", 700-n)
	}
	held.Lock()
	hold = false
	held.Unlock()
	r.Notify()
	waitFor(t, func() bool { n, _ := out.OutboxLen(ctx); return n == 0 })

	// The last item again, as after a crash before the trim.
	out.mu.Lock()
	out.items = append(out.items, events.Publication{ID: 701, Subject: events.Subject(events.ConversationUpdated),
		MsgID: fmt.Sprint(events.ConversationUpdated, ".", 699), Payload: []byte("699")})
	out.mu.Unlock()
	r.Notify()
	waitFor(t, func() bool { n, _ := out.OutboxLen(ctx); return n == 0 })

	if d := b.StreamDepths(ctx)[events.StreamEvents]; d != 700 {
		t.Fatalf("EVENTS holds %d messages, want 700", d)
	}
	s, err := b.JS.Stream(ctx, events.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{1, 513, 700} {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != fmt.Sprint(seq-1) {
			t.Fatalf("message %d is %q, want %d", seq, m.Data, seq-1)
		}
	}
	cancel()
	<-r.Done()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
