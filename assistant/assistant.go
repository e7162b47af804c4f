// Package assistant is the AI assistant: it answers customers from the
// business's own knowledge on a local model, and knows when a person must
// take over.
//
// Every customer message goes through two stages. Screening runs at once,
// behind the event stream, and costs microseconds: the policy's phrase rules
// (an urgent message is handed to a person without waiting for any model),
// opt-outs, and whether the assistant is on here. What is left becomes a
// job on a JetStream work queue, where a bounded number of turns run at a
// time (Ollama on a CPU serves one request at a time) each within a time
// limit: retrieve passages, ask the model (or, without one, quote the best
// FAQ or passage), and reply or hand off. Ingest and the inbox never wait
// for a model.
package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/business"
	"sendbox/embed"
	"sendbox/events"
	"sendbox/guard"
	"sendbox/inbox"
	"sendbox/knowledge"
	"sendbox/llm"
	"sendbox/metrics"
	"sendbox/outbound"
	"sendbox/policy"
	"sendbox/store"
	"sendbox/whatsapp"
)

// Model is the local language model; *llm.Client is one.
type Model interface {
	Online() bool
	Chat(ctx context.Context, req llm.ChatRequest, onToken func(string)) (llm.ChatResult, error)
}

// Assistant answers customers and applies the escalation policy.
type Assistant struct {
	Store    *store.Store
	Broker   *embed.Broker
	Outbound *outbound.Service
	KB       *knowledge.Base
	// Model may be nil, or offline: the assistant then quotes the knowledge.
	Model Model
	// Typing marks a customer message read and shows the typing indicator
	// while the assistant works; nil skips it.
	Typing func(ctx context.Context, wamid string) error
	// Busy reports that ingest has a backlog: the assistant then waits, so
	// a burst of webhooks is stored first and answered after. nil: never.
	Busy func() bool
	// Timeout bounds one turn (default 30 s); Workers is how many run at once (default 1).
	Timeout time.Duration
	Workers int
	Metrics *metrics.Registry
	Log     *slog.Logger
	Now     func() time.Time
	// Router decides who answers what the screening leaves (flows, then
	// the assistant, then people); nil: the assistant, then people.
	Router *inbox.Router

	settings atomic.Pointer[Settings]
	rules    atomic.Pointer[policy.Rules]
	matcher  atomic.Pointer[policy.Matcher]

	screenCC, turnCC jetstream.ConsumeContext
	turnCons         jetstream.Consumer
	wg               sync.WaitGroup
	screenSem        chan struct{}
	order            turns // a contact's messages are screened one after the other, in order
	stopped          chan struct{}
	stopOnce         sync.Once
	m                assistantMetrics
}

type assistantMetrics struct {
	turns    *metrics.CounterVec
	overhead *metrics.Histogram
	model    *metrics.Histogram
	escal    *metrics.CounterVec
}

// screenWorkers is how many messages are screened at once. A message
// spends much of its screening waiting (reads, the group commit that
// carries its flow step), so more workers move more flow steps a second,
// but on two cores they also take the CPU webhooks need: at 1,000 answers
// a second (BenchmarkFlowsUnderLoad, 3 runs each) 8 workers stepped
// 570–1,000 a second with the webhooks' p99 at 21–26 ms; 16, 820–890 and
// 29–42 ms; 32, 910–990 and up to 85 ms. Webhooks come first.
const screenWorkers = 8

// Start loads the settings and begins consuming customer messages.
func (a *Assistant) Start(ctx context.Context) error {
	if a.Timeout <= 0 {
		a.Timeout = 30 * time.Second
	}
	if a.Workers <= 0 {
		a.Workers = 1
	}
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	if a.Metrics == nil {
		a.Metrics = metrics.NewRegistry()
	}
	a.m = assistantMetrics{
		turns: a.Metrics.Counter("sendbox_ai_turns_total", "Customer messages the assistant handled, by outcome.", "outcome"),
		overhead: a.Metrics.Histogram("sendbox_ai_turn_overhead_seconds", "Time of an assistant turn outside the model.",
			metrics.LatencyBuckets).With(),
		model: a.Metrics.Histogram("sendbox_ai_model_seconds", "Time the model took in an assistant turn.",
			[]float64{.1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60}).With(),
		escal: a.Metrics.Counter("sendbox_ai_escalations_total", "Conversations handed to a person by the policy, by category.", "category"),
	}
	if a.Router == nil {
		a.Router = &inbox.Router{Store: a.Store, Answerers: []inbox.Answerer{a}}
	}
	if err := a.Reload(ctx); err != nil {
		return err
	}
	a.stopped = make(chan struct{})
	a.screenSem = make(chan struct{}, screenWorkers)

	screen, err := a.consumer(ctx, events.StreamEvents, jetstream.ConsumerConfig{
		Durable:        "assistant",
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        time.Minute,
		MaxAckPending:  256,
		MaxDeliver:     -1,
		FilterSubjects: []string{events.Subject(events.MessageReceived), events.Subject(events.ContactUpdated)},
		// A new install, or an upgrade, does not answer the past.
		DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return err
	}
	a.turnCons, err = a.consumer(ctx, events.StreamJobs, jetstream.ConsumerConfig{
		Durable:       "ai",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       a.Timeout + time.Minute,
		MaxAckPending: a.Workers,
		MaxDeliver:    4,
		BackOff:       []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute},
		FilterSubject: events.SubjectAITurn,
	})
	if err != nil {
		return err
	}
	a.Metrics.GaugeFunc("sendbox_ai_queue", "Assistant turns waiting or running.", func() float64 { return float64(a.Queued()) })
	a.screenCC, err = screen.Consume(func(m jetstream.Msg) {
		a.waitIdle(m)
		// The callback runs in the stream's order: a contact's message
		// takes its turn now, behind the one before it.
		var ev events.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			m.Term()
			return
		}
		turn, done := a.order.take(contactOf(ev))
		a.screenSem <- struct{}{}
		a.wg.Add(1)
		go func() {
			defer func() { done(); <-a.screenSem; a.wg.Done() }()
			<-turn
			if err := guard.Do(a.Log, "screen a message", func() { a.handleScreen(m, ev) }); err != nil {
				m.NakWithDelay(5 * time.Second)
			}
		}()
	}, jetstream.PullMaxMessages(2*screenWorkers), jetstream.PullExpiry(embed.PullExpiry))
	if err != nil {
		return fmt.Errorf("consume messages for the assistant: %w", err)
	}
	turnSem := make(chan struct{}, a.Workers)
	a.turnCC, err = a.turnCons.Consume(func(m jetstream.Msg) {
		a.waitIdle(m)
		turnSem <- struct{}{}
		a.wg.Add(1)
		go func() {
			defer func() { <-turnSem; a.wg.Done() }()
			if err := guard.Do(a.Log, "assistant turn", func() { a.handleTurn(m) }); err != nil {
				m.NakWithDelay(5 * time.Second)
			}
		}()
	}, jetstream.PullMaxMessages(a.Workers), jetstream.PullExpiry(embed.PullExpiry))
	if err != nil {
		return fmt.Errorf("consume assistant turns: %w", err)
	}
	return nil
}

// waitIdle holds a message while ingest has a backlog: storing what Meta
// sends comes first, answering it second. The message's ack deadline is
// pushed back meanwhile, so it is not delivered twice.
func (a *Assistant) waitIdle(m jetstream.Msg) {
	if a.Busy == nil {
		return
	}
	for a.Busy() {
		m.InProgress()
		select {
		case <-a.stopped:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// consumer creates a durable consumer, or updates it keeping the delivery
// policy it was created with (JetStream refuses to change it).
func (a *Assistant) consumer(ctx context.Context, stream string, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	if c, err := a.Broker.JS.Consumer(ctx, stream, cfg.Durable); err == nil {
		info := c.CachedInfo()
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = info.Config.DeliverPolicy, info.Config.OptStartSeq, info.Config.OptStartTime
	}
	return a.Broker.Consumer(ctx, stream, cfg)
}

// Stop stops taking messages and waits for the turns under way (each is
// bounded by the turn timeout); a turn cut short is redelivered on restart.
func (a *Assistant) Stop() {
	if a.stopped == nil {
		return
	}
	a.stopOnce.Do(func() {
		close(a.stopped)
		for _, cc := range []jetstream.ConsumeContext{a.screenCC, a.turnCC} {
			if cc != nil {
				cc.Stop()
				<-cc.Closed()
			}
		}
		a.wg.Wait()
	})
}

// Queued is how many turns wait or run.
func (a *Assistant) Queued() uint64 {
	if a.turnCons == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := a.turnCons.Info(ctx)
	if err != nil {
		return 0
	}
	return info.NumPending + uint64(info.NumAckPending)
}

// Reload reads the settings and rules again after the panel saved them.
func (a *Assistant) Reload(ctx context.Context) error {
	s, err := LoadSettings(ctx, a.Store)
	if err != nil {
		return err
	}
	r, err := LoadRules(ctx, a.Store)
	if err != nil {
		return err
	}
	m, err := r.Compile()
	if err != nil {
		return fmt.Errorf("policy rules: %w", err)
	}
	a.settings.Store(s)
	a.rules.Store(r)
	a.matcher.Store(m)
	return nil
}

// Settings returns the settings in force (a copy the caller may change).
func (a *Assistant) Settings() *Settings {
	s := *a.settings.Load()
	s.Messages = make(map[string]Messages, len(a.settings.Load().Messages))
	for k, v := range a.settings.Load().Messages {
		s.Messages[k] = v
	}
	return &s
}

// SaveSettings checks, stores and applies new settings.
func (a *Assistant) SaveSettings(ctx context.Context, s *Settings) error {
	if err := s.Validate(); err != nil {
		return &SettingsError{err.Error()}
	}
	if s.TeamID != 0 {
		teams, err := a.Store.ListTeams(ctx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(teams, func(t store.Team) bool { return t.ID == s.TeamID }) {
			return &SettingsError{"The team escalations go to no longer exists: choose another."}
		}
	}
	b, _ := json.Marshal(s)
	if err := a.Store.SetSetting(ctx, settingsKey, string(b)); err != nil {
		return err
	}
	a.settings.Store(s)
	if a.KB != nil {
		a.KB.Wake() // a new embedding model: embed the knowledge with it
	}
	return nil
}

// Rules returns the policy rules in force.
func (a *Assistant) Rules() *policy.Rules { return a.rules.Load() }

// SaveRules checks, stores and applies the owner's policy rules.
func (a *Assistant) SaveRules(ctx context.Context, r *policy.Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	m, err := r.Compile()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(r)
	if err := a.Store.SetSetting(ctx, rulesKey, string(b)); err != nil {
		return err
	}
	a.rules.Store(r)
	a.matcher.Store(m)
	return nil
}

// ChatModel is the chat model to use now, or "" when generation is off
// (none chosen, or the model server unreachable).
func (a *Assistant) ChatModel() string {
	s := a.settings.Load()
	if s.ChatModel == "" || a.Model == nil || !a.Model.Online() {
		return ""
	}
	return s.ChatModel
}

// EmbedModel is the embedding model chosen in the settings.
func (a *Assistant) EmbedModel() string { return a.settings.Load().EmbedModel }

// Check decides about a text the way the live bot does in its turn: the
// phrase rules and, when a chat model is available and classification is
// on, the model's grounded judgement. POST /api/v1/policy/check and the
// policy page's "try it" box call it.
func (a *Assistant) Check(ctx context.Context, text string) policy.Result {
	return a.matcher.Load().Evaluate(ctx, text, a.classifier())
}

func (a *Assistant) classifier() policy.Classifier {
	model := a.ChatModel()
	if model == "" || !a.settings.Load().Classify {
		return nil
	}
	return &classifier{model: a.Model, name: model}
}

func (a *Assistant) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Assistant) handleScreen(m jetstream.Msg, ev events.Event) {
	ctx, cancel := context.WithTimeout(events.WithActor(context.Background(), events.Assistant()), 30*time.Second)
	defer cancel()
	var err error
	switch ev.Type {
	case events.MessageReceived:
		err = a.screen(ctx, ev.MessageID)
	case events.ContactUpdated:
		err = a.preferenceChanged(ctx, ev)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.Log.Error("assistant: screen a message; will retry", slog.Int64("message", ev.MessageID), slog.Any("err", err))
		m.NakWithDelay(5 * time.Second)
		return
	}
	m.Ack()
}

// turnJob is the payload of a turn.
type turnJob struct {
	MessageID int64     `json:"message_id"`
	At        time.Time `json:"at"`
}

func (a *Assistant) handleTurn(m jetstream.Msg) {
	var job turnJob
	if err := json.Unmarshal(m.Data(), &job); err != nil || job.MessageID == 0 {
		m.Term()
		return
	}
	meta, _ := m.Metadata()
	last := meta != nil && meta.NumDelivered >= 4
	ctx, cancel := context.WithCancel(events.WithActor(context.Background(), events.Assistant()))
	defer cancel()
	go func() {
		select {
		case <-a.stopped:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := a.Turn(ctx, job.MessageID)
	switch {
	case err == nil || errors.Is(err, store.ErrNotFound):
		m.Ack()
	case last:
		// The fourth failure: a person answers rather than nobody.
		a.Log.Error("assistant: turn failed for good; handing off", slog.Int64("message", job.MessageID), slog.Any("err", err))
		if herr := a.failHandoff(context.WithoutCancel(ctx), job.MessageID, err); herr != nil {
			a.Log.Error("assistant: hand off after failures", slog.Any("err", herr))
		}
		m.Ack()
	default:
		a.Log.Warn("assistant: turn failed; will retry", slog.Int64("message", job.MessageID), slog.Any("err", err))
		m.Nak()
	}
}

// enqueueTurn puts a customer message on the work queue, once.
func (a *Assistant) enqueueTurn(ctx context.Context, msgID int64) error {
	b, _ := json.Marshal(turnJob{MessageID: msgID, At: a.now()})
	_, err := a.Broker.JS.Publish(ctx, events.SubjectAITurn, b, jetstream.WithMsgID("ai.turn."+strconv.FormatInt(msgID, 10)))
	return err
}

// send queues a text to the customer of conv, once per key: a turn that
// is run again after a crash does not send twice.
func (a *Assistant) send(ctx context.Context, conv *store.Conversation, key, text string) (*store.Message, error) {
	if text == "" {
		return nil, nil
	}
	if len([]rune(text)) > 4096 {
		text = string([]rune(text)[:4093]) + "…"
	}
	msg, _, err := a.Outbound.Enqueue(ctx, outbound.Request{
		Message:        whatsapp.OutboundMessage{To: conv.Contact.Recipient(), Type: "text", Text: &whatsapp.Text{Body: text}},
		IdempotencyKey: key,
	})
	return msg, err
}

// profile is the business profile, or an empty one.
func (a *Assistant) profile(ctx context.Context) *business.Profile {
	p, err := business.Load(ctx, a.Store)
	if err != nil {
		a.Log.Warn("assistant: read the business profile", slog.Any("err", err))
		return &business.Profile{Timezone: "UTC"}
	}
	return p
}

// Generation tells the panel whether answers are generated by a model and,
// if not, why: then the assistant quotes the knowledge base.
func (a *Assistant) Generation() (on bool, why string) {
	s := a.settings.Load()
	switch {
	case s.ChatModel == "":
		return false, "no chat model is chosen"
	case a.Model == nil || !a.Model.Online():
		return false, "Ollama cannot be reached"
	}
	return true, ""
}
