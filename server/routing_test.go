package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/timeline"
)

// Who answers a conversation, and why, is decided for every customer
// message and shown by GET /api/v1/conversations/{id}: the assistant while
// it is on (until it hands over), sendbox itself for a confirmed opt-out, a
// person once the assistant is switched off here or the policy escalates.
// A change of answerer is one timeline line.
func TestRoutingDecisionInAPI(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	const from = "393401112299"
	m, err := a.Store.MessageByWAMID(ctx, inbound(t, a, from, "Buongiorno, quanto costa una pulizia dei denti?"))
	if err != nil {
		t.Fatal(err)
	}
	id := m.ConversationID
	get := func() *store.Routing {
		t.Helper()
		code, body := a.Do("GET", fmt.Sprintf("/api/v1/conversations/%d", id), nil)
		if code != http.StatusOK {
			t.Fatalf("get conversation: %d %s", code, body)
		}
		return sendboxtest.JSON[struct {
			Data struct{ Routing *store.Routing }
		}](t, body).Data.Routing
	}
	routed := func(to, reason, detail string) {
		t.Helper()
		var got *store.Routing
		ok := false
		deadline := time.Now().Add(20 * time.Second)
		for !ok && time.Now().Before(deadline) {
			got = get()
			ok = got != nil && got.To == to && got.Reason == reason && got.Detail == detail
			if !ok {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !ok {
			t.Fatalf("the conversation is routed %+v, want to %s (%s, %q)", got, to, reason, detail)
		}
		if got.At.IsZero() {
			t.Errorf("no time on the decision: %+v", got)
		}
	}
	routedBodies := func() []string {
		t.Helper()
		rows, err := a.Store.ConversationEvents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range rows {
			if e.Kind == events.ChangeRouted {
				out = append(out, timeline.Text(timeline.Row{Kind: e.Kind, Actor: e.Actor, Data: e.Data}, nil))
			}
		}
		return out
	}

	// The assistant took the message; with no passage to quote it handed
	// over, and says why.
	routed(store.RoutePerson, "handoff", "no passage matches the question well enough to quote it")
	if lines := routedBodies(); len(lines) != 1 || lines[0] != "Answered by the assistant · reason: the assistant is on" {
		t.Errorf("routing lines %q, want the assistant's", lines)
	}
	bot := func(state string) {
		t.Helper()
		if code, body := a.Do("PUT", fmt.Sprintf("/api/v1/conversations/%d/bot", id), map[string]string{"state": state}); code != http.StatusOK {
			t.Fatalf("switch the assistant %s: %d %s", state, code, body)
		}
	}

	// Screening runs whoever answers: an opt-out is confirmed by sendbox...
	bot("on")
	inbound(t, a, from, "STOP")
	routed(store.RouteSystem, "opted_out", "")
	// ...switched off here, people answer...
	bot("off")
	inbound(t, a, from, "Avete posto giovedì pomeriggio?")
	routed(store.RoutePerson, "bot_off", "")
	// ...and an urgent message goes to a person at once, with its category.
	bot("on")
	inbound(t, a, from, "Ho un dolore fortissimo al dente e la guancia è gonfia, è urgente")
	routed(store.RoutePerson, "escalated", "medical_urgency")
	if lines := routedBodies(); len(lines) != 3 {
		t.Errorf("routing lines %q, want 3 (the assistant, sendbox, a person; the handoff and the escalation have their own)", lines)
	}
}
