package assistant

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"sendbox/inbox"
	"sendbox/policy"
	"sendbox/store"
)

// CategoryNames are the policy categories in words.
var CategoryNames = map[string]string{
	policy.Medical:   "medical urgency",
	policy.Complaint: "complaint",
	policy.Refund:    "refund request",
	policy.Legal:     "legal threat",
	policy.Human:     "asked for a person",
}

// urgency is how fast a category needs a person.
var urgency = map[string]string{
	policy.Medical:   "high: answer now",
	policy.Legal:     "high: answer now",
	policy.Complaint: "medium: answer within the hour",
	policy.Refund:    "medium: answer within the hour",
	policy.Human:     "normal: answer when you can",
}

// escalate hands the conversation to a person at once: the customer gets
// the holding message (only if the assistant was the one talking), the
// assistant stops, the conversation is flagged urgent and given to the
// escalation team, and a summary is posted as a private note. The inbox
// shows it live from the conversation's event.
func (a *Assistant) escalate(ctx context.Context, conv *store.Conversation, m *store.Message, res policy.Result, mode string, start time.Time) error {
	s := a.settings.Load()
	category := ""
	if res.Category != nil {
		category = *res.Category
	}
	var sent *store.Message
	if conv.Bot == store.BotOn && s.Enabled {
		var err error
		sent, err = a.send(ctx, conv, "ai:"+strconv.FormatInt(m.ID, 10)+":holding",
			s.Message(conv.Language, func(x Messages) string { return x.Holding }))
		if err != nil {
			a.Log.Warn("assistant: send the holding message", slog.Any("err", err))
		}
	}
	err := a.Store.Escalate(ctx, conv.ID, store.Escalation{Category: category, Urgent: true, TeamID: s.TeamID,
		Detail: matchedText(res), Summary: a.summary(ctx, conv, m, res, sent != nil),
		Routing: &store.Routing{To: store.RoutePerson, Reason: inbox.ReasonEscalated, Detail: category}})
	if err != nil {
		return err
	}
	a.m.escal.With(category).Inc()
	return a.record(ctx, &store.AIReply{ConversationID: conv.ID, InboundID: m.ID, MessageID: msgID(sent),
		Outcome: store.AIEscalated, Mode: mode, Detail: res.Describe()}, start, 0)
}

// handoff asks a person to take over without an urgency: the knowledge had
// no answer, the model was too slow, or the message is one the assistant
// cannot read. The customer is told so in their language.
func (a *Assistant) handoff(ctx context.Context, t *turn, outcome, why string, pick func(Messages) string) error {
	s := a.settings.Load()
	sent, err := a.send(ctx, t.conv, "ai:"+strconv.FormatInt(t.msg.ID, 10)+":"+outcome, s.Message(t.lang, pick))
	if err != nil {
		a.Log.Warn("assistant: tell the customer a person will answer", slog.Any("err", err))
	}
	if err := a.Store.Escalate(ctx, t.conv.ID, store.Escalation{TeamID: s.TeamID,
		Detail:  why,
		Routing: &store.Routing{To: store.RoutePerson, Reason: inbox.ReasonHandoff, Detail: why}}); err != nil {
		return err
	}
	t.reply.MessageID, t.reply.Outcome, t.reply.Detail = msgID(sent), outcome, why
	return a.record(ctx, &t.reply, t.start, t.modelTime)
}

// failHandoff is the last resort after a turn failed again and again.
func (a *Assistant) failHandoff(ctx context.Context, msgID int64, cause error) error {
	m, err := a.Store.MessageByID(ctx, msgID)
	if err != nil {
		return err
	}
	conv, err := a.Store.ConversationByID(ctx, m.ConversationID)
	if err != nil {
		return err
	}
	t := &turn{msg: m, conv: conv, lang: conv.Language, start: a.now(),
		reply: store.AIReply{ConversationID: conv.ID, InboundID: m.ID, Mode: "model"}}
	return a.handoff(ctx, t, store.AIHandoff, "the assistant failed: "+cause.Error(), func(x Messages) string { return x.Holding })
}

// summary is the private note of an escalation: who, what, how urgent and
// what is known, so the person taking over need not scroll.
func (a *Assistant) summary(ctx context.Context, conv *store.Conversation, m *store.Message, res policy.Result, held bool) string {
	c := conv.Contact
	category := ""
	if res.Category != nil {
		category = *res.Category
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Escalation: %s\n", CategoryNames[category])
	who := strings.TrimSpace(c.Name)
	if who == "" {
		who = "(no name)"
	}
	if c.WaID != "" {
		who += ", +" + c.WaID
	} else if c.Username != "" {
		who += ", @" + c.Username
	}
	fmt.Fprintf(&b, "Who: %s\n", who)
	fmt.Fprintf(&b, "What: %q\n", clip(m.Text, 300))
	fmt.Fprintf(&b, "How urgent: %s\n", urgency[category])
	var why []string
	for _, mt := range res.Matched {
		if !mt.Negated && mt.Category == category {
			why = append(why, fmt.Sprintf("%q (%s, %s)", mt.Text, mt.Source, mt.Lang))
		}
	}
	if len(why) > 0 {
		fmt.Fprintf(&b, "Why: %s\n", strings.Join(why, "; "))
	}
	var known []string
	if c.Email != "" {
		known = append(known, "e-mail "+c.Email)
	}
	if tags, err := a.Store.ContactTags(ctx, c.ID); err == nil && len(tags) > 0 {
		known = append(known, "tags "+strings.Join(tags, ", "))
	}
	keys := make([]string, 0, len(c.Attributes))
	for k := range c.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		known = append(known, k+" "+c.Attributes[k])
	}
	if len(known) > 0 {
		fmt.Fprintf(&b, "Known: %s\n", strings.Join(known, "; "))
	}
	if earlier := a.earlier(ctx, conv.ID, m.ID, 3); len(earlier) > 0 {
		fmt.Fprintf(&b, "Earlier in this conversation: %s\n", strings.Join(earlier, " / "))
	}
	if held {
		b.WriteString("The assistant is paused and told the customer a person will answer.")
	} else {
		b.WriteString("The assistant is paused.")
	}
	return b.String()
}

// earlier quotes the customer's last n messages before msgID, oldest first.
func (a *Assistant) earlier(ctx context.Context, convID, msgID int64, n int) []string {
	msgs, err := a.Store.RecentMessages(ctx, convID, msgID, 10)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range msgs {
		if m.ID != msgID && m.Direction == "inbound" && m.Text != "" {
			out = append(out, strconv.Quote(clip(m.Text, 120)))
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// record stores the turn and counts it.
func (a *Assistant) record(ctx context.Context, r *store.AIReply, start time.Time, modelTime time.Duration) error {
	r.Latency, r.ModelTime = a.now().Sub(start), modelTime
	if _, err := a.Store.RecordAIReply(ctx, r); err != nil {
		return err
	}
	a.m.turns.With(r.Outcome).Inc()
	a.m.overhead.Observe((r.Latency - modelTime).Seconds())
	if modelTime > 0 {
		a.m.model.Observe(modelTime.Seconds())
	}
	return nil
}

func clip(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}
