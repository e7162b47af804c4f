package inbox_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/inbox"
	"sendbox/sendboxtest"
	"sendbox/store"
	tl "sendbox/timeline"
)

// fake is an answerer that takes what its predicate says and counts asks.
type fake struct {
	name   string
	take   func(m *store.Message) inbox.Verdict
	err    error
	asked  int
	taking int
}

func (f *fake) Name() string { return f.name }

func (f *fake) Wants(_ context.Context, _ *store.Conversation, m *store.Message) (inbox.Verdict, error) {
	f.asked++
	if f.err != nil {
		return inbox.Verdict{}, f.err
	}
	return f.take(m), nil
}

func (f *fake) Answer(context.Context, *store.Conversation, *store.Message) error {
	f.taking++
	return nil
}

// The router asks its answerers in order and the first that takes the
// message answers it, for the reason the one before declined; when none
// takes it, people answer, for the last one's reason. A decision is
// written (with one timeline line) only when who answers changes.
func TestRouterOrderAndRecord(t *testing.T) {
	a := sendboxtest.New(t) // the assistant stopped: this test routes by hand
	ctx := context.Background()
	code, resp := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{
		"from": "393401112200", "name": "Giulia", "type": "text", "text": map[string]string{"body": "ciao"}})
	if code != http.StatusCreated {
		t.Fatalf("sandbox inbound: %d %s", code, resp)
	}
	wamid := sendboxtest.JSON[struct{ Data struct{ WAMID string } }](t, resp).Data.WAMID
	var m *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the message stored", func() bool {
		var err error
		m, err = a.Store.MessageByWAMID(ctx, wamid)
		return err == nil
	})
	conv := func() *store.Conversation {
		t.Helper()
		c, err := a.Store.ConversationByID(ctx, m.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	lines := func() int {
		t.Helper()
		timeline, err := a.Store.ConversationEvents(ctx, m.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range timeline {
			if e.Kind == events.ChangeRouted {
				n++
			}
		}
		return n
	}

	flowTakes := false
	flow := &fake{name: store.RouteFlow, take: func(*store.Message) inbox.Verdict {
		if flowTakes {
			return inbox.Verdict{Taken: true, Reason: inbox.ReasonFlowTriggered, Detail: "booking"}
		}
		return inbox.Verdict{Reason: inbox.ReasonNoFlowMatched}
	}}
	botOn := true
	bot := &fake{name: store.RouteAssistant, take: func(*store.Message) inbox.Verdict {
		if botOn {
			return inbox.Verdict{Taken: true, Reason: inbox.ReasonAssistantOn}
		}
		return inbox.Verdict{Reason: inbox.ReasonAssistantOff}
	}}
	r := &inbox.Router{Store: a.Store, Answerers: []inbox.Answerer{flow, bot}}
	route := func(to, reason, detail string) {
		t.Helper()
		d, err := r.Route(ctx, conv(), m)
		if err != nil {
			t.Fatal(err)
		}
		if d.To != to || d.Reason != reason || d.Detail != detail {
			t.Fatalf("routed to %s (%s, %q), want %s (%s, %q)", d.To, d.Reason, d.Detail, to, reason, detail)
		}
		if got := conv().Routing; got == nil || got.To != to {
			t.Fatalf("the conversation records %+v, want %s", got, to)
		}
	}

	route(store.RouteAssistant, inbox.ReasonNoFlowMatched, "") // why the assistant answers: no flow matched
	route(store.RouteAssistant, inbox.ReasonNoFlowMatched, "")
	if n := lines(); n != 1 {
		t.Errorf("%d routing lines after the same decision twice, want 1", n)
	}
	flowTakes = true
	route(store.RouteFlow, inbox.ReasonFlowTriggered, "booking")
	if bot.asked != 2 || bot.taking != 2 || flow.taking != 1 {
		t.Errorf("the assistant was asked %d times and answered %d, the flow answered %d; want 2, 2, 1: a flow that takes the message comes first",
			bot.asked, bot.taking, flow.taking)
	}
	flowTakes, botOn = false, false
	route(store.RoutePerson, inbox.ReasonAssistantOff, "")
	if n := lines(); n != 3 {
		t.Errorf("%d routing lines, want 3", n)
	}
	if got := conv().Routing; got.Reason != inbox.ReasonAssistantOff || got.At.IsZero() {
		t.Errorf("recorded %+v", got)
	}

	// No answerer at all: people, because nothing answers automatically.
	none := &inbox.Router{Store: a.Store}
	if d, err := none.Route(ctx, conv(), m); err != nil || d.To != store.RoutePerson || d.Reason != inbox.ReasonNobody {
		t.Errorf("with no answerers: %+v %v", d, err)
	}

	// An answerer that fails fails the routing (it is retried), and records nothing.
	bot.err = errors.New("queue down")
	botOn = true
	if _, err := r.Route(ctx, conv(), m); err == nil {
		t.Error("a failing answerer routed the message")
	}
	if got := conv().Routing; got.To != store.RoutePerson {
		t.Errorf("a failed routing recorded %+v", got)
	}

	// The timeline says who answers and why.
	timeline, err := a.Store.ConversationEvents(ctx, m.ConversationID)
	if err != nil || len(timeline) == 0 {
		t.Fatal(timeline, err)
	}
	last := timeline[len(timeline)-1]
	if got := tl.Text(tl.Row{Kind: last.Kind, Actor: last.Actor, Data: last.Data}, nil); got !=
		"Answered by a person · reason: the assistant is switched off in its settings" {
		t.Errorf("the timeline says %q", got)
	}
}
