package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/embed"
	"sendbox/events"
	"sendbox/guard"
)

// StartTriggerWorkers consumes, until ctx ends, what starts runs outside
// the router: the schedule triggers' occurrences (jobs.flow.schedule), and
// the domain events the silence and contact-change triggers follow (a
// customer message arms the silence timers; a contact's new tag or
// attribute starts flows).
func (e *Engine) StartTriggerWorkers(ctx context.Context, br *embed.Broker) error {
	sc, err := br.Consumer(ctx, events.StreamJobs, jetstream.ConsumerConfig{
		// A job cut short by a crash comes back after AckWait; each page of
		// the audience reports progress, so it stays short.
		Durable: "flow-schedule", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		MaxAckPending: 1, MaxDeliver: -1, FilterSubject: events.SubjectFlowSchedule,
	})
	if err != nil {
		return err
	}
	scc, err := sc.Consume(func(m jetstream.Msg) {
		if err := guard.Do(e.log(), "flow schedule", func() { e.handleScheduleJob(ctx, m) }); err != nil {
			m.NakWithDelay(5 * time.Second)
		}
	}, jetstream.PullMaxMessages(1), jetstream.PullExpiry(embed.PullExpiry))
	if err != nil {
		return err
	}
	ec, err := br.Consumer(ctx, events.StreamEvents, jetstream.ConsumerConfig{
		Durable: "flow-triggers", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute,
		MaxAckPending: 64, MaxDeliver: -1, DeliverPolicy: jetstream.DeliverNewPolicy,
		FilterSubjects: []string{events.Subject(events.MessageReceived), events.Subject(events.ContactUpdated),
			events.Subject(events.ContactCreated)},
	})
	if err != nil {
		scc.Stop()
		return err
	}
	ecc, err := ec.Consume(func(m jetstream.Msg) {
		if err := guard.Do(e.log(), "flow triggers", func() { e.handleTriggerEvent(ctx, m) }); err != nil {
			m.NakWithDelay(5 * time.Second)
		}
	}, jetstream.PullExpiry(embed.PullExpiry))
	if err != nil {
		scc.Stop()
		return err
	}
	go func() {
		<-ctx.Done()
		scc.Stop()
		ecc.Stop()
	}()
	return nil
}

func (e *Engine) handleScheduleJob(ctx context.Context, m jetstream.Msg) {
	var j scheduleJob
	if err := json.Unmarshal(m.Data(), &j); err != nil {
		m.Term()
		return
	}
	n, err := e.runSchedule(ctx, j, func() { m.InProgress() })
	if err != nil {
		e.log().Error("a scheduled flow's runs; will retry", slog.Int64("flow", j.FlowID), slog.Int("started", n), slog.Any("err", err))
		m.NakWithDelay(5 * time.Second)
		return
	}
	e.log().Info("scheduled flow started", slog.Int64("flow", j.FlowID), slog.String("date", j.Date), slog.Int("runs", n))
	m.Ack()
}

func (e *Engine) handleTriggerEvent(ctx context.Context, m jetstream.Msg) {
	var ev events.Event
	if err := json.Unmarshal(m.Data(), &ev); err != nil {
		m.Term()
		return
	}
	var err error
	switch ev.Type {
	case events.MessageReceived:
		if ev.ConversationID != 0 && ev.MessageID != 0 {
			err = e.armSilence(ctx, ev.ConversationID, ev.MessageID, ev.At)
		}
	case events.ContactUpdated, events.ContactCreated:
		key := m.Headers().Get(jetstream.MsgIDHeader)
		if key == "" {
			md, merr := m.Metadata()
			if merr != nil {
				m.Term()
				return
			}
			key = fmt.Sprintf("seq.%d", md.Sequence.Stream)
		}
		if ev.ContactID != 0 {
			_, err = e.ContactChanged(ctx, ev, key)
		}
	}
	if err != nil {
		e.log().Error("flow trigger; will retry", slog.String("event", ev.Type), slog.Any("err", err))
		m.NakWithDelay(5 * time.Second)
		return
	}
	m.Ack()
}
