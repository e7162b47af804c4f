package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/assistant"
	"sendbox/embed"
	"sendbox/events"
	"sendbox/guard"
	"sendbox/metrics"
	"sendbox/store"
)

// Urgent e-mails the people who asked for it when the assistant hands a
// conversation over as urgent: once per urgent spell of a conversation
// (store.EscalationSpell) and person, however often the assistant
// escalates it again meanwhile or the event is delivered. It runs on its
// own durable consumer of the domain events, so a slow or broken mail
// server delays no one but itself.
type Urgent struct {
	Store   *store.Store
	Broker  *embed.Broker
	Mailer  *Mailer
	BaseURL string // where the panel's links point
	Log     *slog.Logger
	Metrics *metrics.Registry

	cc     jetstream.ConsumeContext
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sent   *metrics.CounterVec
}

// retryDelays is how long a failed delivery waits before the next try; the
// last is repeated until maxAttempts.
var retryDelays = []time.Duration{15 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour}

// maxAttempts is how often one escalation is tried (about a day in all).
const maxAttempts = 28

// Start creates the durable consumer and handles escalations as they come.
func (u *Urgent) Start(ctx context.Context) error {
	if u.Log == nil {
		u.Log = slog.New(slog.DiscardHandler)
	}
	if u.Metrics == nil {
		u.Metrics = metrics.NewRegistry()
	}
	u.sent = u.Metrics.Counter("sendbox_urgent_emails_total", "E-mails about urgent conversations, by result.", "result")
	cons, err := u.Broker.Consumer(ctx, events.StreamEvents, jetstream.ConsumerConfig{
		Durable:        "notify-urgent",
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        2 * time.Minute,
		MaxDeliver:     -1,
		MaxAckPending:  64,
		DeliverPolicy:  jetstream.DeliverNewPolicy, // not the days of events an upgrade finds in the stream
		FilterSubjects: []string{events.Subject(events.ConversationUpdated)},
	})
	if err != nil {
		return err
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.cc, err = cons.Consume(func(m jetstream.Msg) {
		u.wg.Add(1)
		defer u.wg.Done()
		u.handle(m)
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		u.Log.Debug("urgent e-mail consumer", slog.Any("err", err))
	}))
	if err != nil {
		return fmt.Errorf("consume events for urgent e-mails: %w", err)
	}
	u.Log.Info("urgent conversations are e-mailed", slog.String("smtp", u.Mailer.String()))
	return nil
}

// Stop stops taking events and cuts a delivery in progress short: its
// event comes back after a restart.
func (u *Urgent) Stop() {
	if u.cc == nil {
		return
	}
	u.cc.Stop()
	u.cancel()
	u.wg.Wait()
}

func (u *Urgent) handle(m jetstream.Msg) {
	if err := guard.Do(u.Log, "urgent e-mail", func() { u.deliver(m) }); err != nil {
		m.NakWithDelay(time.Minute)
	}
}

func (u *Urgent) deliver(m jetstream.Msg) {
	var ev events.Event
	if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.Status != events.ChangeEscalated {
		m.Ack()
		return
	}
	err := u.escalated(u.ctx, ev.ConversationID)
	if err == nil {
		m.Ack()
		return
	}
	attempt := 1
	if md, merr := m.Metadata(); merr == nil {
		attempt = int(md.NumDelivered)
	}
	if attempt >= maxAttempts {
		u.Log.Error("urgent e-mail: giving up", slog.Int64("conversation", ev.ConversationID), slog.Int("attempts", attempt),
			slog.String("smtp", u.Mailer.String()), slog.Any("err", err))
		m.Term()
		return
	}
	delay := retryDelays[min(attempt-1, len(retryDelays)-1)]
	u.Log.Warn("urgent e-mail: will try again", slog.Int64("conversation", ev.ConversationID), slog.Int("attempt", attempt),
		slog.Duration("in", delay), slog.String("smtp", u.Mailer.String()), slog.Any("err", err))
	m.NakWithDelay(delay)
}

// escalated e-mails everyone who should hear about the conversation's
// urgent spell and has not yet; an error means some are left to try again.
func (u *Urgent) escalated(ctx context.Context, convID int64) error {
	conv, err := u.Store.ConversationByID(ctx, convID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil // erased since
		}
		return err
	}
	if !conv.Urgent || conv.Status == "resolved" {
		return nil // a person has it in hand already
	}
	spell, err := u.Store.EscalationSpell(ctx, convID)
	if err != nil || spell == 0 {
		return err
	}
	people, err := u.Store.UrgentMailRecipients(ctx, conv.TeamID)
	if err != nil {
		return err
	}
	said := ""
	if msgs, _, _, err := u.Store.ListMessages(ctx, store.MessageFilter{ConversationID: convID, Direction: store.Inbound, Limit: 1}); err == nil && len(msgs) > 0 {
		said = msgs[0].Text
	}
	var failed []string
	for _, p := range people {
		done, err := u.Store.EscalationMailSent(ctx, spell, p.ID)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		sendErr := u.Mailer.Send(ctx, u.message(conv, &p, said))
		if err := u.Store.RecordEscalationMail(context.WithoutCancel(ctx), spell, p.ID, sendErr); err != nil {
			return err
		}
		if sendErr != nil {
			u.sent.With("failed").Inc()
			failed = append(failed, fmt.Sprintf("%s: %v", p.Email, sendErr))
			continue
		}
		u.sent.With("sent").Inc()
		u.Log.Info("urgent conversation e-mailed", slog.Int64("conversation", convID), slog.String("to", p.Email))
	}
	if len(failed) > 0 {
		return fmt.Errorf("e-mail to %s", strings.Join(failed, "; "))
	}
	return nil
}

// message is the e-mail about an urgent conversation: who, why, what they
// wrote, and the link that opens it.
func (u *Urgent) message(conv *store.Conversation, to *store.User, said string) Message {
	who := "A customer"
	if c := conv.Contact; c != nil {
		switch {
		case strings.TrimSpace(c.Name) != "" && c.WaID != "":
			who = fmt.Sprintf("%s (+%s)", strings.TrimSpace(c.Name), c.WaID)
		case strings.TrimSpace(c.Name) != "":
			who = strings.TrimSpace(c.Name)
		case c.WaID != "":
			who = "+" + c.WaID
		}
	}
	why := assistant.CategoryNames[conv.Escalation]
	if why == "" {
		why = "needs a person"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s needs a person now: %s.\n\n", who, why)
	if said = strings.TrimSpace(said); said != "" {
		if r := []rune(said); len(r) > 300 {
			said = string(r[:299]) + "…"
		}
		fmt.Fprintf(&b, "They wrote: “%s”\n\n", said)
	}
	if conv.TeamName != "" {
		fmt.Fprintf(&b, "The conversation went to the team %s.\n\n", conv.TeamName)
	}
	fmt.Fprintf(&b, "Open the conversation: %s/inbox/%d\n\n", u.BaseURL, conv.ID)
	fmt.Fprintf(&b, "-- \nsendbox tells you about urgent conversations as you chose on My account: %s/settings/account\n", u.BaseURL)
	return Message{To: to.Email, Subject: fmt.Sprintf("Urgent: %s (%s)", who, why), Body: b.String()}
}
