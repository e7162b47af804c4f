package inbox

import (
	"context"
	"fmt"

	"sendbox/store"
)

// An Answerer is one of those who may answer a customer message: a flow
// (the next step), the assistant. The router asks them in its order.
type Answerer interface {
	// Name is who answers when this one takes a message: store.RouteFlow,
	// store.RouteAssistant.
	Name() string
	// Wants says whether m is this answerer's to answer (a flow run waiting
	// for the contact, the assistant switched on here), and why, or why
	// not, as a reason code with its detail. It changes nothing.
	Wants(ctx context.Context, conv *store.Conversation, m *store.Message) (Verdict, error)
	// Answer starts answering m, after the decision is recorded (so that
	// what the answer does, a handover say, comes after it). It is called
	// again if the message is redelivered: it must be idempotent.
	Answer(ctx context.Context, conv *store.Conversation, m *store.Message) error
}

// Verdict is an answerer's answer to the router.
type Verdict struct {
	Taken  bool
	Reason string // a reason code (Reasons), why it took the message or why not
	Detail string
}

// Reason codes: why a conversation is answered as it is. docs/api.md lists
// them for API users; timeline.Text words them for the timeline.
const (
	ReasonAssistantOn   = "assistant_on"    // the assistant is on here and nothing before it took the message
	ReasonAssistantOff  = "assistant_off"   // the assistant is switched off in its settings
	ReasonBotOff        = "bot_off"         // a person switched the assistant off in this conversation
	ReasonBotPaused     = "bot_paused"      // a person took over, or the assistant handed over
	ReasonNobody        = "no_answerer"     // nothing may answer automatically
	ReasonEscalated     = "escalated"       // the policy found a reason a person must answer; detail: its category
	ReasonHandoff       = "handoff"         // the assistant could not answer; detail: why
	ReasonOptedOut      = "opted_out"       // the customer stopped marketing; sendbox confirmed it
	ReasonOptedIn       = "opted_in"        // the customer asked for marketing again; sendbox confirmed it
	ReasonNoFlowMatched = "no_flow_matched" // no flow run waits for the contact and no trigger matched
	ReasonFlowWaiting   = "flow_waiting"    // a flow run was waiting for this contact's answer
	ReasonFlowTriggered = "flow_triggered"  // a flow's trigger matched the message
)

// Router decides, for each customer message, who answers it: the first of
// its answerers that takes it (a waiting flow run, a flow whose trigger
// matches, the assistant), else the people. The escalation and opt-out
// screening runs before it, on every message, whoever would answer: what
// it decides is recorded here too (Record).
type Router struct {
	Store     *store.Store
	Answerers []Answerer
}

// Route decides who answers m, records the decision on the conversation,
// then hands m to that answerer. The reason of an answerer that takes a
// message is the declining reason of the one asked before it, if any ("no
// flow matched"), since that is why it came to answer.
func (r *Router) Route(ctx context.Context, conv *store.Conversation, m *store.Message) (store.Routing, error) {
	prev := Verdict{}
	for _, a := range r.Answerers {
		v, err := a.Wants(ctx, conv, m)
		if err != nil {
			return store.Routing{}, fmt.Errorf("%s: %w", a.Name(), err)
		}
		if !v.Taken {
			prev = v
			continue
		}
		d := store.Routing{To: a.Name(), Reason: v.Reason, Detail: v.Detail}
		if prev.Reason != "" {
			d.Reason, d.Detail = prev.Reason, prev.Detail
		}
		if err := r.Record(ctx, conv, d); err != nil {
			return d, err
		}
		if err := a.Answer(ctx, conv, m); err != nil {
			return d, fmt.Errorf("%s: %w", a.Name(), err)
		}
		return d, nil
	}
	d := store.Routing{To: store.RoutePerson, Reason: prev.Reason, Detail: prev.Detail}
	if d.Reason == "" {
		d.Reason = ReasonNobody
	}
	return d, r.Record(ctx, conv, d)
}

// Record keeps a decision on the conversation, with a timeline line, when
// who answers changed; the same answerer message after message writes
// nothing, so routing costs no write on the hot path.
func (r *Router) Record(ctx context.Context, conv *store.Conversation, d store.Routing) error {
	if conv.Routing != nil && conv.Routing.To == d.To {
		return nil
	}
	if err := r.Store.SetRouting(ctx, conv.ID, d); err != nil {
		return err
	}
	conv.Routing = &d
	return nil
}
