package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"sendbox/events"
)

// outboxEvents decodes the domain events waiting in the outbox, by subject.
func outboxEvents(t *testing.T, s *Store) []events.Event {
	t.Helper()
	items, err := s.PendingOutbox(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Event
	for _, it := range items {
		if it.Subject != events.Subject(events.ConversationUpdated) && it.Subject != events.Subject(events.MessageQueued) &&
			it.Subject != events.Subject(events.ContactUpdated) {
			continue
		}
		var ev events.Event
		if err := json.Unmarshal(it.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// TestEventsCarryTheirActor: every event names who made the change, from
// the caller's context (sendbox itself when it names no one), and says what
// changed; calls written together in one group commit keep each its own actor.
func TestEventsCarryTheirActor(t *testing.T) {
	s := openTest(t)
	bg := context.Background()
	m := queue(t, s, "391", "hello") // no actor: sendbox's own
	u, err := s.CreateUser(bg, "maria@example.com", "Maria", "agent", "hash")
	if err != nil {
		t.Fatal(err)
	}
	maria := events.User(u.ID, u.Name)
	if err := s.Assign(events.WithActor(bg, maria), m.ConversationID, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConsent(events.WithActor(bg, events.APIKey(3, "crm")), m.ContactID, ConsentOptedIn, "api", m.CreatedAt); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := events.WithActor(bg, events.APIKey(int64(100+i), "key"))
			if _, _, err := s.QueueOutbound(ctx, OutboundInput{PhoneNumberID: "pn1", WaID: fmt.Sprint(500 + i), Type: "text",
				Text: "x", Payload: []byte(`{}`), IdempotencyKey: fmt.Sprint("k", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	queued := map[int64]int64{} // message id: the actor's key id
	var assigned, consent *events.Event
	for _, ev := range outboxEvents(t, s) {
		switch {
		case ev.Type == events.MessageQueued && ev.MessageID == m.ID:
			if ev.Actor != events.System("") {
				t.Errorf("queued without an actor: %+v", ev.Actor)
			}
		case ev.Type == events.MessageQueued:
			if ev.Actor.Kind != events.ActorAPIKey {
				t.Errorf("queued by an API key: %+v", ev.Actor)
			}
			queued[ev.MessageID] = ev.Actor.ID
		case ev.Status == events.ChangeAssigned:
			assigned = &ev
		case ev.Status == events.ChangeConsent:
			consent = &ev
		}
	}
	if assigned == nil || assigned.Actor != maria || assigned.Data[events.DataAssignee] != float64(u.ID) {
		t.Fatalf("assigned: %+v", assigned)
	}
	if consent == nil || consent.Actor != events.APIKey(3, "crm") || consent.Data[events.DataConsent] != ConsentOptedIn {
		t.Fatalf("consent: %+v", consent)
	}
	if len(queued) != 20 {
		t.Fatalf("%d messages queued by keys, want 20", len(queued))
	}
	for id, key := range queued {
		msg, err := s.MessageByID(bg, id)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.ContactByID(bg, msg.ContactID)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint(500 + key - 100); c.WaID != want {
			t.Errorf("message %d to %s carries key %d's actor", id, c.WaID, key)
		}
	}
}

// TestAgentReplyPauseIsAnEvent: an agent's reply pauses the assistant in
// its conversation, and says so in an event like any other switch (it
// wrote only a timeline row); a second reply, the assistant already
// paused, says nothing.
func TestAgentReplyPauseIsAnEvent(t *testing.T) {
	s := openTest(t)
	bg := context.Background()
	m := queue(t, s, "391", "hello")
	u, err := s.CreateUser(bg, "maria@example.com", "Maria", "agent", "hash")
	if err != nil {
		t.Fatal(err)
	}
	ctx := events.WithActor(bg, events.User(u.ID, u.Name))
	for i := range 2 {
		if _, _, err := s.QueueOutbound(ctx, OutboundInput{PhoneNumberID: "pn1", WaID: "391", Type: "text", Text: "reply",
			Payload: []byte(`{}`), AuthorID: u.ID, Lane: events.LanePerson, IdempotencyKey: fmt.Sprint("reply", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var paused []events.Event
	for _, ev := range outboxEvents(t, s) {
		if ev.Type == events.ConversationUpdated && ev.Status == events.ChangeBot {
			paused = append(paused, ev)
		}
	}
	if len(paused) != 1 || paused[0].ConversationID != m.ConversationID || paused[0].Data[events.DataBot] != "paused" ||
		paused[0].Actor.ID != u.ID {
		t.Fatalf("pause events: %+v", paused)
	}
}
