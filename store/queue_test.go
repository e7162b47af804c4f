package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"sendbox/events"
)

// TestQueueOutboundGroups: concurrent calls are written in shared
// transactions, yet each keeps its own outcome: an idempotency key used
// twice in one group gives one message, and a call that fails (an author
// who does not exist) fails alone.
func TestQueueOutboundGroups(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const n = 400
	type out struct {
		msg     *Message
		created bool
		err     error
	}
	outs := make([]out, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := OutboundInput{PhoneNumberID: "100", WaID: fmt.Sprintf("39333%06d", i%50), Type: "text",
				Text: fmt.Sprint("hello ", i), Payload: []byte(`{}`)}
			switch {
			case i%100 == 7:
				in.AuthorID = 424242 // no such user: the foreign key refuses it
			case i%10 == 3:
				in.IdempotencyKey = fmt.Sprint("key-", i%20) // each key used twice
			}
			m, created, err := s.QueueOutbound(ctx, in)
			outs[i] = out{m, created, err}
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	byKey := map[string]int64{}
	createdKeys := 0
	for i, o := range outs {
		switch {
		case i%100 == 7:
			if o.err == nil {
				t.Errorf("call %d with a missing author succeeded", i)
			}
			continue
		case o.err != nil:
			t.Fatalf("call %d: %v", i, o.err)
		}
		if want := fmt.Sprint("hello ", i); i%10 != 3 && (o.msg.Text != want || !o.created) {
			t.Errorf("call %d got message %q created=%v", i, o.msg.Text, o.created)
		}
		if i%10 == 3 {
			k := fmt.Sprint("key-", i%20)
			if id, ok := byKey[k]; ok && id != o.msg.ID {
				t.Errorf("key %s gave two messages: %d and %d", k, id, o.msg.ID)
			}
			byKey[k] = o.msg.ID
			if o.created {
				createdKeys++
			}
			continue
		}
		if seen[o.msg.ID] {
			t.Errorf("message %d returned twice", o.msg.ID)
		}
		seen[o.msg.ID] = true
	}
	if createdKeys != len(byKey) {
		t.Errorf("%d keyed calls said created for %d keys", createdKeys, len(byKey))
	}
	var stored, jobs int
	s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages WHERE direction = 'outbound'").Scan(&stored)
	s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE subject = ?", events.SubjectSend).Scan(&jobs)
	if want := len(seen) + len(byKey); stored != want || jobs != want {
		t.Errorf("stored %d messages and %d send jobs, want %d of each", stored, jobs, want)
	}
}

// TestGroupedRoutingAndSends: the router's decisions share the group
// commit with queued messages; each keeps its own outcome (a conversation
// that does not exist fails alone), its own actor, its timeline row and
// its event, written once.
func TestGroupedRoutingAndSends(t *testing.T) {
	s := openTest(t)
	bg := context.Background()
	var convs []int64
	for i := range 40 {
		m := queue(t, s, fmt.Sprintf("39344%06d", i), "hello")
		convs = append(convs, m.ConversationID)
	}
	const missing = 987654
	var wg sync.WaitGroup
	errs := make([]error, len(convs)+1)
	for i, id := range append(convs, missing) {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ctx := events.WithActor(bg, events.Flow(int64(i+1), fmt.Sprint("flow ", i)))
			errs[i] = s.SetRouting(ctx, id, Routing{To: RouteAssistant, Reason: "assistant_on"})
		}()
		go func() {
			defer wg.Done()
			if _, _, err := s.QueueOutbound(bg, OutboundInput{PhoneNumberID: "pn1", WaID: fmt.Sprintf("39355%06d", i),
				Type: "text", Text: "x", Payload: []byte(`{}`)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if !errors.Is(errs[len(convs)], ErrNotFound) {
		t.Fatalf("routing a missing conversation: %v", errs[len(convs)])
	}
	routed := map[int64]events.Event{}
	for _, ev := range outboxEvents(t, s) {
		if ev.Type == events.ConversationUpdated && ev.Status == events.ChangeRouted {
			if _, dup := routed[ev.ConversationID]; dup {
				t.Fatalf("conversation %d routed twice", ev.ConversationID)
			}
			routed[ev.ConversationID] = ev
		}
	}
	for i, id := range convs {
		if errs[i] != nil {
			t.Fatalf("routing %d: %v", id, errs[i])
		}
		c, err := s.ConversationByID(bg, id)
		if err != nil || c.Routing == nil || c.Routing.To != RouteAssistant {
			t.Fatalf("conversation %d routing %+v %v", id, c.Routing, err)
		}
		if ev := routed[id]; ev.Actor.Kind != events.ActorFlow || ev.Actor.ID != int64(i+1) {
			t.Errorf("conversation %d routed by %+v, want flow %d", id, ev.Actor, i+1)
		}
		rows, _ := s.ConversationEvents(bg, id)
		n := 0
		for _, r := range rows {
			if r.Kind == events.ChangeRouted {
				n++
			}
		}
		if n != 1 {
			t.Errorf("conversation %d has %d routing rows", id, n)
		}
	}
}
