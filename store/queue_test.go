package store

import (
	"context"
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
