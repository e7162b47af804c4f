package flows

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"sendbox/events"
	"sendbox/inbox"
	"sendbox/language"
	"sendbox/outbound"
	"sendbox/store"
	"sendbox/whatsapp"
)

// Engine runs flows: it is the router's first answerer (a contact waiting
// in a run gets their message before anything else; then the active flows'
// triggers), fires the runs' timers and starts runs from events.
//
// Every move of a run is one store transaction (store.StartRun, MoveRun,
// or the timer's own): the run's new step, its token, the messages it
// sends, its timers, attributes, tags and hand-off commit together or not
// at all, so a crash repeats a step whole or not at all, and a timer or an
// answer meant for an earlier step finds another token and does nothing.
type Engine struct {
	Store *store.Store
	// Outbound checks and builds every message a flow sends, as it does
	// for every other sender (window, consent, templates, Meta's limits).
	Outbound *outbound.Service
	// Location is the business's time zone, for conditions on the time.
	Location func() *time.Location
	// HTTP makes the http steps' calls (a client that refuses private
	// addresses); Secret reveals a secret for their headers.
	HTTP   *http.Client
	Secret func(ctx context.Context, name string) (string, error)
	// CatalogueURL is the sandbox's demo catalogue, which ready-made flows
	// call out of the box ("" with Meta credentials).
	CatalogueURL string
	// AI composes the ai steps' answers (the assistant); nil: they have
	// none, and go to their on_unanswered.
	AI  Answerer
	Log *slog.Logger

	mu     sync.RWMutex
	active []compiled // the active flows, by name
	// mayHaveRuns is false while no run can be active (none was at the
	// last Reload and none started since): a customer message then costs
	// the flows no query.
	mayHaveRuns atomic.Bool
	// decided hands Wants' decision to the Answer that follows it, by
	// message id, so that a message costs the lookups once.
	decided sync.Map
}

type compiled struct {
	flow store.Flow
	def  Definition
}

// Reasons the router records when a flow takes a message (see inbox).
const (
	reasonWaiting   = inbox.ReasonFlowWaiting
	reasonTriggered = inbox.ReasonFlowTriggered
)

// maxMoves bounds the steps one transaction goes through; publishing
// refuses loops without a wait, so only a very long flow reaches it.
const maxMoves = 256

// Reload reads the active flows again: after a publish, a switch, a delete.
func (e *Engine) Reload(ctx context.Context) error {
	fs, err := e.Store.ActiveFlows(ctx)
	if err != nil {
		return err
	}
	if !e.mayHaveRuns.Load() {
		n, err := e.Store.ActiveRunCount(ctx)
		if err != nil {
			return err
		}
		e.mayHaveRuns.Store(n > 0)
	}
	out := make([]compiled, 0, len(fs))
	for _, f := range fs {
		var d Definition
		if err := json.Unmarshal(f.Definition, &d); err != nil {
			e.log().Error("a published flow does not read", slog.Int64("flow", f.ID), slog.Any("err", err))
			continue
		}
		out = append(out, compiled{flow: f, def: d})
	}
	e.mu.Lock()
	e.active = out
	e.mu.Unlock()
	return e.syncSchedules(ctx, out)
}

func (e *Engine) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

// Name is the router's name for flows.
func (e *Engine) Name() string { return store.RouteFlow }

// Wants takes m when a run of the contact waits for an answer, or when an
// active flow's trigger matches it. With no flow at all it declines
// without a reason, so the next answerer's reason stands.
func (e *Engine) Wants(ctx context.Context, conv *store.Conversation, m *store.Message) (inbox.Verdict, error) {
	d, err := e.decide(ctx, conv, m)
	switch {
	case err != nil:
		return inbox.Verdict{}, err
	case d.run != nil:
		e.decided.Store(m.ID, d)
		return inbox.Verdict{Taken: true, Reason: reasonWaiting, Detail: d.run.FlowName}, nil
	case d.flow != nil:
		e.decided.Store(m.ID, d)
		return inbox.Verdict{Taken: true, Reason: reasonTriggered, Detail: d.flow.flow.Name + ": " + d.why}, nil
	}
	e.mu.RLock()
	none := len(e.active) == 0
	e.mu.RUnlock()
	if none {
		return inbox.Verdict{}, nil
	}
	return inbox.Verdict{Reason: inbox.ReasonNoFlowMatched}, nil
}

// decision is what the flows do with a customer message: give it to the
// run waiting for it, or start the flow whose trigger it matches (why).
type decision struct {
	run  *store.FlowRun
	flow *compiled
	why  string
	// event is the data the run starts with (an ad's referral).
	event map[string]string
}

// decide looks up the contact's waiting run, then the triggers.
func (e *Engine) decide(ctx context.Context, conv *store.Conversation, m *store.Message) (decision, error) {
	run, err := e.waitingRun(ctx, conv.ContactID)
	if err != nil || run != nil {
		return decision{run: run}, err
	}
	if c, why, ev := e.matchAd(conv, m); c != nil {
		return decision{flow: c, why: why, event: ev}, nil
	}
	c, why, err := e.match(ctx, conv, m)
	return decision{flow: c, why: why}, err
}

// Answer gives m to the run waiting for it, or starts the flow whose
// trigger matched, as Wants decided a moment before (decided again when
// Answer comes alone: a redelivery). Redelivered, it changes nothing: a
// run consumes a message once (its last input), and a start is keyed by
// the message.
func (e *Engine) Answer(ctx context.Context, conv *store.Conversation, m *store.Message) error {
	v, ok := e.decided.LoadAndDelete(m.ID)
	d, _ := v.(decision)
	if !ok {
		var err error
		if d, err = e.decide(ctx, conv, m); err != nil {
			return err
		}
	}
	return e.carryOut(ctx, conv, m, d)
}

func (e *Engine) carryOut(ctx context.Context, conv *store.Conversation, m *store.Message, d decision) error {
	if d.run != nil {
		return e.input(ctx, d.run.ID, m)
	}
	if d.flow == nil {
		return nil
	}
	_, _, err := e.start(ctx, d.flow, conv.ContactID, conv.ID, "msg:"+strconv.FormatInt(m.ID, 10), d.event)
	if errors.Is(err, store.ErrRunActive) {
		// Another message of the contact started it a moment ago: this
		// one is that run's input, if it waits for one.
		if run, err := e.waitingRun(ctx, conv.ContactID); err != nil || run == nil {
			return err
		} else {
			return e.input(ctx, run.ID, m)
		}
	}
	if errors.Is(err, store.ErrRunOnce) {
		return nil
	}
	return err
}

// waitingRun is the contact's run waiting for an answer, if any.
func (e *Engine) waitingRun(ctx context.Context, contactID int64) (*store.FlowRun, error) {
	if !e.mayHaveRuns.Load() {
		return nil, nil
	}
	runs, err := e.Store.ActiveRunsOf(ctx, contactID)
	if err != nil {
		return nil, err
	}
	for i := range runs {
		if runs[i].Waiting == store.WaitReply {
			return &runs[i], nil
		}
	}
	return nil, nil
}

// match finds the first active flow (by name) with a trigger that matches
// m, and says which.
func (e *Engine) match(ctx context.Context, conv *store.Conversation, m *store.Message) (*compiled, string, error) {
	e.mu.RLock()
	active := e.active
	e.mu.RUnlock()
	if len(active) == 0 || personHas(conv) {
		return nil, "", nil
	}
	text := foldText(m.Text)
	replyID := replyIDOf(m)
	var first *bool
	for i := range active {
		c := &active[i]
		for _, t := range c.def.Triggers {
			switch t.Type {
			case TriggerKeyword:
				for _, k := range t.Keywords {
					k := foldText(k)
					if k == "" {
						continue
					}
					if text == k || t.Match == "contains" && containsWords(text, k) {
						return c, "keyword " + strconv.Quote(k), nil
					}
				}
			case TriggerButton:
				if replyID != "" && replyID == t.Payload {
					return c, "button " + strconv.Quote(t.Payload), nil
				}
			case TriggerFirstMessage:
				if first == nil {
					f, err := e.Store.FirstInbound(ctx, conv.ContactID, m.ID)
					if err != nil {
						return nil, "", err
					}
					first = &f
				}
				if *first {
					return c, "first message", nil
				}
			}
		}
	}
	return nil, "", nil
}

// Event starts the runs of the active flows an event triggers for a
// contact. key makes it idempotent: the same key starts nothing twice.
// It returns the runs started.
func (e *Engine) Event(ctx context.Context, name string, contactID int64, key string, data map[string]string) ([]int64, error) {
	e.mu.RLock()
	active := e.active
	e.mu.RUnlock()
	var started []int64
	for i := range active {
		c := &active[i]
		for _, t := range c.def.Triggers {
			if t.Type != TriggerEvent || t.Event != name {
				continue
			}
			r, ok, err := e.start(ctx, c, contactID, 0, "event:"+key, data)
			switch {
			case errors.Is(err, store.ErrRunActive), errors.Is(err, store.ErrRunOnce):
				continue
			case err != nil:
				return started, fmt.Errorf("flow %s: %w", c.flow.Name, err)
			case ok:
				started = append(started, r.ID)
			}
			break
		}
	}
	return started, nil
}

func (e *Engine) start(ctx context.Context, c *compiled, contactID, convID int64, ref string, event map[string]string, also ...func(x *store.RunTx) error) (*store.FlowRun, bool, error) {
	e.mayHaveRuns.Store(true) // before the run exists: a message racing the start looks for it
	ctx = events.WithActor(ctx, events.Flow(c.flow.ID, c.flow.Name))
	return e.Store.StartRun(ctx, store.RunStart{FlowID: c.flow.ID, Version: c.flow.Version, ContactID: contactID,
		ConversationID: convID, Reentry: c.def.Reentry, Ref: ref, Event: event},
		func(x *store.RunTx, r *store.FlowRun) error {
			if err := x.Started(); err != nil {
				return err
			}
			for _, fn := range also {
				if err := fn(x); err != nil {
					return err
				}
			}
			if k, ok := strings.CutPrefix(ref, "event:"); ok {
				// The event that started the run is one it consumed: sent
				// again, it neither ends nor resumes it (see Deliver).
				if _, err := x.ConsumeEvent(k); err != nil {
					return err
				}
			}
			if err := x.Enter(c.def.Steps[0].ID); err != nil {
				return err
			}
			return e.advance(ctx, x, r, &c.def, nil)
		})
}

// input gives a customer message to a run waiting for an answer.
func (e *Engine) input(ctx context.Context, runID int64, m *store.Message) error {
	return e.move(ctx, runID, func(x *store.RunTx, r *store.FlowRun, d *Definition) error {
		if r.State != store.RunActive || r.Waiting != store.WaitReply || m.ID <= r.LastInput {
			return nil // ended, moved on, or this message was consumed already
		}
		r.LastInput = m.ID
		return e.advance(ctx, x, r, d, answerOf(m))
	})
}

// move runs fn on a run, in its flow version, in one transaction.
func (e *Engine) move(ctx context.Context, runID int64, fn func(x *store.RunTx, r *store.FlowRun, d *Definition) error) error {
	return e.Store.MoveRun(ctx, runID, func(x *store.RunTx, r *store.FlowRun) error {
		d, err := e.definition(ctx, r)
		if err != nil {
			return err
		}
		return fn(x, r, d)
	})
}

// definition is the version a run follows.
func (e *Engine) definition(ctx context.Context, r *store.FlowRun) (*Definition, error) {
	e.mu.RLock()
	for i := range e.active {
		if c := &e.active[i]; c.flow.ID == r.FlowID && c.flow.Version == r.Version {
			e.mu.RUnlock()
			return &c.def, nil
		}
	}
	e.mu.RUnlock()
	v, err := e.Store.FlowVersionOf(ctx, r.FlowID, r.Version)
	if err != nil {
		return nil, err
	}
	var d Definition
	if err := json.Unmarshal(v.Definition, &d); err != nil {
		return nil, fmt.Errorf("flow %d version %d: %w", r.FlowID, r.Version, err)
	}
	return &d, nil
}

// FireTimer is the handler of store.TimerFlowRun: a wait ended, an
// answer did not come in time, or the quiet hours that held a marketing
// send ended. A timer whose run moved on since it was set
// (another token) does nothing.
func (e *Engine) FireTimer(ctx context.Context, tx *store.TimerTx, tm *store.Timer) (bool, error) {
	x, r, err := tx.Run(tm.Owner)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if r.State != store.RunActive || strconv.FormatInt(r.Token, 10) != tm.Token {
		return false, nil
	}
	d, err := e.definition(ctx, r)
	if err != nil {
		return false, err
	}
	i := d.index(r.Step)
	if i < 0 {
		return false, fmt.Errorf("run %d is at step %q, which its version does not have", r.ID, r.Step)
	}
	s := &d.Steps[i]
	var next int
	switch {
	case s.Type == StepWait && s.UntilEvent != "":
		next = d.target(i, eventTimeoutBranch(s))
	case s.Type == StepWait:
		next = d.target(i, branch{field: "next", to: s.Next})
	case s.Type == StepAsk:
		next = d.target(i, branch{field: "on_timeout", to: s.OnTimeout})
		if next < 0 {
			if err := x.End(OutcomeNoAnswer); err != nil {
				return false, err
			}
			return true, tx.SaveRun(x)
		}
	case s.Type == StepSend:
		// A marketing template held for the quiet hours: the step again,
		// not the next one (the send is this transaction's, once).
		r.Waiting = store.WaitNone
		r.Token++
		if err := e.advance(ctx, x, r, d, nil); err != nil {
			return false, err
		}
		return true, tx.SaveRun(x)
	default:
		return false, nil
	}
	if err := e.goTo(x, r, d, next); err != nil {
		return false, err
	}
	if err := e.advance(ctx, x, r, d, nil); err != nil {
		return false, err
	}
	return true, tx.SaveRun(x)
}

// goTo moves the run to step index i (the end of the flow when i < 0).
func (e *Engine) goTo(x *store.RunTx, r *store.FlowRun, d *Definition, i int) error {
	r.Waiting, r.Tries = store.WaitNone, 0
	r.Token++
	if i < 0 {
		return x.End(OutcomeCompleted)
	}
	return x.Enter(d.Steps[i].ID)
}

// advance runs the run from its current step until it waits or ends. With
// an answer, the current step is the ask it answers.
func (e *Engine) advance(ctx context.Context, x *store.RunTx, r *store.FlowRun, d *Definition, ans *Answer) error {
	err := e.steps(ctx, x, r, d, ans)
	if errors.Is(err, errBroken) {
		return x.End(OutcomeBroken)
	}
	return err
}

func (e *Engine) steps(ctx context.Context, x *store.RunTx, r *store.FlowRun, d *Definition, ans *Answer) error {
	env, err := e.env(x, r)
	if err != nil {
		return err
	}
	for n := 0; r.State == store.RunActive; n++ {
		if n >= maxMoves {
			return fmt.Errorf("run %d went through %d steps without waiting", r.ID, maxMoves)
		}
		i := d.index(r.Step)
		if i < 0 {
			return x.End(OutcomeBroken)
		}
		s := &d.Steps[i]
		next := -2 // -2: stay (waiting); -1: end of flow
		switch s.Type {
		case StepSend:
			if held, err := e.holdForQuietHours(ctx, x, r, env, s); err != nil || held {
				return err
			}
			if _, err := e.send(ctx, x, env, s, false); err != nil {
				return err
			}
			next = d.target(i, branch{field: "next", to: s.Next})
		case StepAsk:
			if ans == nil {
				if _, err := e.send(ctx, x, env, s, false); err != nil {
					return err
				}
				r.Waiting, r.Tries = store.WaitReply, 0
				r.Token++
				if s.Timeout != "" {
					dur, _ := ParseDuration(s.Timeout)
					if err := x.WaitUntil(x.Now().Add(dur)); err != nil {
						return err
					}
				}
				return nil
			}
			value, choice, ok := s.accept(*ans)
			if !ok && s.Optional && isSkip(ans.Text) {
				value, ok = "", true
			}
			ans = nil
			if !ok {
				r.Tries++
				retries := s.Retries
				if retries == 0 {
					retries = 2
				}
				if r.Tries > retries {
					next = d.target(i, branch{field: "on_fail", to: s.OnFail})
					if next < 0 {
						return x.End(OutcomeNoAnswer)
					}
					break
				}
				if _, err := e.send(ctx, x, env, s, true); err != nil {
					return err
				}
				return nil // still waiting, same token: the timeout still holds
			}
			if err := x.CancelTimers(); err != nil {
				return err
			}
			r.Vars[s.Var] = value
			if s.Input == InputVehicle {
				plate, vin := value, ""
				if len(value) == 17 {
					plate, vin = "", value
				}
				r.Vars[s.Var+"_plate"], r.Vars[s.Var+"_vin"] = plate, vin
			}
			env.Vars = r.Vars
			to := s.Next
			if choice != nil && choice.Next != "" {
				to = choice.Next
			}
			next = d.target(i, branch{field: "next", to: to})
		case StepCondition:
			to := s.Else
			if env.Holds(s.If) {
				to = s.Then
			}
			next = d.target(i, branch{field: "else", to: to})
		case StepSet:
			if s.Attribute != "" {
				v := env.Render(s.Value)
				if err := x.SetAttribute(s.Attribute, v); err != nil {
					return err
				}
				if env.Attributes == nil {
					env.Attributes = map[string]string{}
				}
				env.Attributes[s.Attribute] = v
			}
			if s.AddTag != "" {
				if err := x.Tag(s.AddTag, true); err != nil {
					return err
				}
				env.Tags = append(env.Tags, s.AddTag)
			}
			if s.RemoveTag != "" {
				if err := x.Tag(s.RemoveTag, false); err != nil {
					return err
				}
			}
			if s.AddLabel != "" {
				if err := x.Label(s.AddLabel, true); err != nil {
					return err
				}
			}
			if s.RemoveLabel != "" {
				if err := x.Label(s.RemoveLabel, false); err != nil {
					return err
				}
			}
			next = d.target(i, branch{field: "next", to: s.Next})
		case StepWait:
			if s.UntilEvent != "" {
				return e.waitForEvent(x, r, s)
			}
			if ans != nil { // a reply while waiting for one (UntilReply)
				if s.Var != "" {
					r.Vars[s.Var] = ans.Text
					env.Vars = r.Vars
				}
				ans = nil
				if err := x.CancelTimers(); err != nil {
					return err
				}
				next = d.target(i, branch{field: "on_reply", to: s.OnReply})
				break
			}
			clock := env
			if s.CustomerTime {
				clock = env.onCustomerClock()
			}
			if s.UntilAttribute != "" {
				due, ok := s.untilDate(clock)
				if !ok {
					if s.OnMissing == "" {
						return x.End(OutcomeNoDate)
					}
					next = d.target(i, branch{field: "on_missing", to: s.OnMissing})
					break
				}
				if !due.After(env.Now) {
					next = d.target(i, branch{field: "next", to: s.Next}) // already past: on at once
					break
				}
				r.Waiting = store.WaitTimer
				if s.UntilReply {
					r.Waiting = store.WaitReply
				}
				r.Token++
				return x.WaitUntil(due)
			}
			due, err := e.waitUntil(s, clock)
			if err != nil {
				e.log().Warn("a flow's wait cannot be worked out; the run ends", slog.Int64("run", r.ID), slog.String("step", s.ID),
					slog.Any("err", err))
				return errBroken
			}
			r.Waiting = store.WaitTimer
			if s.UntilReply {
				r.Waiting = store.WaitReply
			}
			r.Token++
			return x.WaitUntil(due)
		case StepHandoff:
			if s.Text != "" {
				if _, err := e.send(ctx, x, env, s, false); err != nil {
					return err
				}
			}
			team := int64(0)
			if s.Team != "" {
				if team, err = x.TeamByName(s.Team); err != nil {
					return err
				}
			}
			if err := x.HandOff(team, s.Urgent, summary(r, d)); err != nil {
				return err
			}
			outcome := s.Outcome
			if outcome == "" {
				outcome = OutcomeHandedOff
			}
			return x.End(outcome)
		case StepSplit:
			b := pickSplit(s, r.ContactID)
			r.Vars["split_"+s.ID] = b.Name
			next = d.target(i, branch{field: "split", to: b.Next})
		case StepJump:
			next = d.target(i, branch{field: "next", to: s.Next})
		case StepHTTP:
			return e.queueHTTP(x, r, s)
		case StepAI:
			if next, err = e.stepAI(x, r, d, i, env, ans); err != nil || next == -2 {
				return err
			}
			ans = nil
		case StepEnd:
			outcome := s.Outcome
			if outcome == "" {
				outcome = OutcomeCompleted
			}
			return x.End(outcome)
		default:
			return x.End(OutcomeBroken)
		}
		if err := e.goTo(x, r, d, next); err != nil {
			return err
		}
	}
	return nil
}

// env is what the run's variables read.
func (e *Engine) env(x *store.RunTx, r *store.FlowRun) (*Env, error) {
	c, err := x.Contact()
	if err != nil {
		return nil, err
	}
	return e.envOf(c, r, x.Now()), nil
}

func (e *Engine) envOf(c *store.Contact, r *store.FlowRun, now time.Time) *Env {
	loc := time.UTC
	if e.Location != nil {
		loc = e.Location()
	}
	return &Env{ContactName: c.Name, Phone: c.Recipient(), Language: language.FromNumber(c.WaID), Tags: c.Tags,
		Attributes: c.Attributes, Vars: r.Vars, Event: r.Event, Now: now.In(loc), OpenAt: e.openAt,
		Consent: cmp.Or(c.Consent, store.ConsentUnknown), Country: language.Country(c.WaID)}
}

// send queues a step's message: its text, with its buttons or list, or
// its template. A re-ask says the step's re-ask text (or a default) before
// the question. The message goes through the same checks as every other
// sender (outbound.Service.Prepare): a marketing template to a contact
// without consent, or a text outside the 24-hour window, is not sent, and
// the run goes on (sent reports it); a message WhatsApp would refuse as
// written (a text too long once its variables are filled in) is an
// *whatsapp.ValidationError.
func (e *Engine) send(ctx context.Context, x *store.RunTx, env *Env, s *Step, reask bool) (sent bool, err error) {
	body := strings.TrimSpace(env.Render(s.Text))
	if reask {
		again := s.Reask
		if again == "" {
			again = defaultReask(s.Input)
		}
		body = strings.TrimSpace(env.Render(again) + "\n\n" + body)
	}
	choices := s.Buttons
	if s.Type == StepAsk {
		choices = s.Choices
	}
	m := whatsapp.OutboundMessage{To: env.Phone, Type: "text", Text: &whatsapp.Text{Body: body}}
	switch {
	case s.Media != nil && s.Type == StepSend:
		m = mediaMessage(env, s.Media)
	case s.CTA != nil && s.Type == StepSend:
		m = ctaMessage(env, body, s.CTA)
	case s.Template != nil && s.Type == StepSend:
		tp := &whatsapp.Template{Name: s.Template.Name, Language: whatsapp.TemplateLanguage{Code: s.Template.Language}}
		if len(s.Template.Params) > 0 {
			c := whatsapp.TemplateComponent{Type: "body"}
			for _, p := range s.Template.Params {
				c.Parameters = append(c.Parameters, whatsapp.TemplateParameter{Type: "text", Text: env.Render(p)})
			}
			tp.Components = []whatsapp.TemplateComponent{c}
		}
		m = whatsapp.OutboundMessage{To: env.Phone, Type: "template", Template: tp}
	case len(choices) > 0 && len(choices) <= maxButtons:
		btns := make([]whatsapp.ReplyButton, len(choices))
		for i, c := range choices {
			btns[i] = whatsapp.ReplyButton{Type: "reply", Reply: whatsapp.ReplyTitle{ID: c.ID, Title: env.Render(c.Title)}}
		}
		m = whatsapp.OutboundMessage{To: env.Phone, Type: "interactive", Interactive: &whatsapp.Interactive{
			Type: "button", Body: &whatsapp.InteractiveText{Text: body}, Action: whatsapp.InteractiveAction{Buttons: btns}}}
	case len(choices) > maxButtons:
		rows := make([]whatsapp.ListRow, len(choices))
		for i, c := range choices {
			rows[i] = whatsapp.ListRow{ID: c.ID, Title: env.Render(c.Title)}
		}
		m = whatsapp.OutboundMessage{To: env.Phone, Type: "interactive", Interactive: &whatsapp.Interactive{
			Type: "list", Body: &whatsapp.InteractiveText{Text: body},
			Action: whatsapp.InteractiveAction{Button: "Choose", Sections: []whatsapp.ListSection{{Rows: rows}}}}}
	}
	in, err := e.Outbound.Prepare(ctx, outbound.Request{Message: m, Lane: events.LaneTransactional})
	var we *outbound.WindowError
	var ce *outbound.ConsentError
	if errors.As(err, &we) || errors.As(err, &ce) {
		e.log().Info("flow message not sent", slog.Int64("run", x.RunID()), slog.String("step", s.ID), slog.Any("why", err))
		return false, nil
	}
	var ve *whatsapp.ValidationError
	if errors.As(err, &ve) {
		e.log().Warn("a flow step's message is not valid as written; the run ends", slog.Int64("run", x.RunID()),
			slog.String("step", s.ID), slog.Any("err", err))
		return false, errBroken
	}
	if err != nil {
		return false, fmt.Errorf("step %s: %w", s.ID, err)
	}
	_, err = x.Queue(in)
	return err == nil, err
}

// errBroken: a step cannot be carried out as written; the run ends "broken".
var errBroken = errors.New("the step cannot be carried out")

func defaultReask(input string) string {
	switch input {
	case InputNumber:
		return "Please answer with a number."
	case InputEmail:
		return "That does not look like an e-mail address."
	case InputDate:
		return "Please write a date, like 24/12/2026."
	case InputChoice:
		return "Please pick one of the options."
	case InputPhone:
		return "Please write a phone number."
	case InputPhoto:
		return "Please send a photo."
	case InputLocation:
		return "Please share a location (📎 → Location)."
	case InputVehicle:
		return "Please write the number plate (like AB123CD) or the 17-character VIN."
	}
	return "Sorry, I did not get that."
}

// summary is the private note of a hand-off: the flow and its answers.
func summary(r *store.FlowRun, d *Definition) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Flow %q handed this conversation over.", r.FlowName)
	for _, s := range d.Steps {
		if s.Type != StepAsk {
			continue
		}
		v, ok := r.Vars[s.Var]
		if !ok {
			continue
		}
		for _, c := range s.Choices {
			if c.ID == v {
				v = c.Title
			}
		}
		fmt.Fprintf(&b, "\n• %s: %s", firstLine(s.Text), v)
	}
	return b.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return s
}

// replyIDOf is the id of the button or list row a message taps, if any.
func replyIDOf(m *store.Message) string {
	if m.ReplyID != "" {
		return m.ReplyID
	}
	return ""
}

var spaceRE = regexp.MustCompile(`\s+`)

// foldText lowercases, strips accents and punctuation at the ends, and
// collapses spaces: "  Ciao! " and "ciao" match.
func foldText(s string) string {
	s = language.Fold(s)
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r) })
	return spaceRE.ReplaceAllString(s, " ")
}

// containsWords reports whether k appears in text as whole words.
func containsWords(text, k string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], k)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isWordRune(text[j-1])
		end := j + len(k)
		after := end == len(text) || !isWordRune(text[end])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isWordRune(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

// answerOf is a customer message as an answer.
func answerOf(m *store.Message) *Answer {
	a := &Answer{Text: m.Text, ReplyID: replyIDOf(m), Type: m.Type, MessageID: m.ID}
	if m.Latitude != nil && m.Longitude != nil {
		a.Location = strconv.FormatFloat(*m.Latitude, 'f', -1, 64) + "," + strconv.FormatFloat(*m.Longitude, 'f', -1, 64)
	}
	return a
}

// waitUntil is when a wait step ends: its duration (variables filled in)
// from now, then the next At in the business's time zone.
func (e *Engine) waitUntil(s *Step, env *Env) (time.Time, error) {
	raw := env.Render(s.Duration)
	if strings.TrimSpace(raw) == "" && s.At != "" {
		raw = "0s"
	}
	dur, err := ParseDuration(raw)
	if err != nil || dur < 0 || dur > 366*24*time.Hour {
		return time.Time{}, fmt.Errorf("duration %q (from %q) is not one", raw, s.Duration)
	}
	due := env.Now.Add(dur)
	if s.At != "" {
		at, err := time.Parse("15:04", s.At)
		if err != nil {
			return time.Time{}, err
		}
		local := due.In(env.Now.Location())
		next := time.Date(local.Year(), local.Month(), local.Day(), at.Hour(), at.Minute(), 0, 0, local.Location())
		if next.Before(local) {
			next = time.Date(local.Year(), local.Month(), local.Day()+1, at.Hour(), at.Minute(), 0, 0, local.Location())
		}
		due = next
	}
	return due, nil
}

var skipWords = map[string]bool{"skip": true, "no": true, "none": true, "salta": true, "passa": true, "nessuna": true,
	"passer": true, "non": true, "aucune": true, "überspringen": true, "nein": true, "saltar": true, "ninguna": true}

func isSkip(text string) bool { return skipWords[foldText(text)] }

// pickSplit is the branch of a split a contact takes: always the same for
// the same contact and step, spread by the weights.
func pickSplit(s *Step, contactID int64) SplitBranch {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%s", contactID, s.ID)
	total := 0
	for _, b := range s.Split {
		total += b.Weight
	}
	n := int(h.Sum32() % uint32(total))
	for _, b := range s.Split {
		if n < b.Weight {
			return b
		}
		n -= b.Weight
	}
	return s.Split[len(s.Split)-1]
}

// personHas reports whether a person has the conversation: handed over by a
// flow, the assistant or the policy, or a person wrote in it. No trigger
// starts a flow there until it is resolved (the customer's next
// conversation starts afresh).
func personHas(conv *store.Conversation) bool {
	return conv.Routing != nil && conv.Routing.To == store.RoutePerson || conv.Bot == store.BotPaused
}
