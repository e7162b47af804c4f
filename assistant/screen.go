package assistant

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"sendbox/consent"
	"sendbox/events"
	"sendbox/inbox"
	"sendbox/outbound"
	"sendbox/policy"
	"sendbox/store"
)

// ignored message types carry nothing to answer: a reaction, a sticker, a
// notice from WhatsApp, an edit or a deletion of an earlier message.
var ignored = map[string]bool{"reaction": true, "sticker": true, "system": true, "revoke": true, "edit": true}

// pending loads a customer message the assistant has yet to handle, and
// its conversation; nil when there is nothing to do: not a customer's
// message, nothing to answer in it, or already handled.
func (a *Assistant) pending(ctx context.Context, msgID int64) (*store.Message, *store.Conversation, error) {
	m, err := a.Store.MessageByID(ctx, msgID)
	if err != nil {
		return nil, nil, err
	}
	if m.Direction != "inbound" || ignored[m.Type] {
		return nil, nil, nil
	}
	if done, err := a.Store.AIHandled(ctx, m.ID); err != nil || done {
		return nil, nil, err
	}
	conv, err := a.Store.ConversationByID(ctx, m.ConversationID)
	if err != nil {
		return nil, nil, err
	}
	return m, conv, nil
}

// screen is the first stage for a customer message: opt-outs and the
// phrase rules act at once; what is left goes to the work queue.
func (a *Assistant) screen(ctx context.Context, msgID int64) error {
	m, conv, err := a.pending(ctx, msgID)
	if m == nil || err != nil {
		return err
	}
	s := a.settings.Load()
	if err := a.carryPause(ctx, conv, s); err != nil {
		return err
	}
	return a.act(ctx, conv, m, a.matcher.Load().Check(m.Text))
}

// act does what the policy decided about a customer message: an opt-out or
// a re-subscription at once (an opt-out wins if a message asks for both),
// an escalation at once, whoever would answer otherwise; anything else goes
// to the router, which decides who answers it.
func (a *Assistant) act(ctx context.Context, conv *store.Conversation, m *store.Message, res policy.Result) error {
	// The consent settings are read only for what may be a keyword or a
	// double opt-in tap: short messages and button replies.
	var cs *consent.Settings
	linkLang, isLink := "", false
	if m.ReplyID != "" || utf8.RuneCountInString(m.Text) <= consent.MaxKeyword {
		var err error
		if cs, err = consent.Load(ctx, a.Store); err != nil {
			return err
		}
		if done, err := a.confirmTap(ctx, conv, m, cs); done || err != nil {
			return err
		}
		linkLang, isLink = cs.KeywordLang(m.Text)
	}
	// An opt-out or an escalation ends the contact's flow runs first:
	// the customer's choice and a person win over any process.
	switch {
	case res.OptOut:
		if _, err := a.Store.StopRuns(ctx, conv.ContactID, 0, "opted_out"); err != nil {
			return err
		}
		return a.consentChange(ctx, conv, m, res, optOutTurn, keywordEntry(m, store.ConsentOptedOut, store.ConsentSourceKeyword))
	case res.OptIn || isLink:
		source := store.ConsentSourceKeyword
		if isLink {
			source = store.ConsentSourceLink
		}
		e := keywordEntry(m, store.ConsentOptedIn, source)
		if cs != nil && cs.DoubleOptIn && conv.Contact != nil && conv.Contact.Consent != store.ConsentOptedIn {
			return a.askConfirmation(ctx, conv, m, res, cs, e, linkLang)
		}
		return a.consentChange(ctx, conv, m, res, optInTurn, e)
	case res.Escalate:
		if _, err := a.Store.StopRuns(ctx, conv.ContactID, 0, "escalated"); err != nil {
			return err
		}
		return a.escalate(ctx, conv, m, res, "rules", a.now())
	}
	_, err := a.Router.Route(ctx, conv, m)
	return err
}

// keywordEntry is the ledger record of a consent the customer wrote: the
// message is the proof, and records it once however often it is screened.
func keywordEntry(m *store.Message, status, source string) store.ConsentEntry {
	return store.ConsentEntry{ContactID: m.ContactID, Status: status, Source: source, Detail: "whatsapp message",
		Wording: clip(m.Text, 200), At: m.Timestamp, Key: "msg:" + strconv.FormatInt(m.ID, 10),
		Proof: map[string]any{"message_id": m.ID, "wamid": m.WAMID}, Actor: &sendboxItself}
}

var sendboxItself = events.System("assistant")

// askConfirmation answers an opt-in keyword when the owner wants double
// opt-in: the request is recorded as pending and the customer gets the
// wording with its button; the tap records the opt-in (confirmTap).
func (a *Assistant) askConfirmation(ctx context.Context, conv *store.Conversation, m *store.Message, res policy.Result,
	cs *consent.Settings, e store.ConsentEntry, lang string) error {
	start := a.now()
	if lang == "" {
		lang = conv.Language
	}
	e.Pending = true
	if _, err := a.Store.RecordConsent(ctx, e); err != nil {
		return err
	}
	sent, err := consent.RequestConfirmation(ctx, a.Store, a.Outbound, cs, conv.ContactID, lang, "msg:"+strconv.FormatInt(m.ID, 10))
	if err != nil {
		a.Log.Warn("assistant: ask for the double opt-in", slog.Any("err", err))
	}
	if err := a.Store.AddNote(ctx, conv.ID, "Marketing consent asked: the customer wrote "+strconv.Quote(clip(m.Text, 120))+
		"; it counts once they tap the confirmation button"); err != nil {
		return err
	}
	if err := a.record(ctx, &store.AIReply{ConversationID: conv.ID, InboundID: m.ID, MessageID: msgID(sent),
		Outcome: store.AIOptedIn, Mode: "rules", Detail: res.Describe()}, start, 0); err != nil {
		return err
	}
	return a.Router.Record(ctx, conv, store.Routing{To: store.RouteSystem, Reason: inbox.ReasonOptedIn})
}

// confirmTap records a tap on the double opt-in button and thanks the
// customer; done is false for any other message.
func (a *Assistant) confirmTap(ctx context.Context, conv *store.Conversation, m *store.Message, cs *consent.Settings) (bool, error) {
	if m.ReplyID == "" {
		return false, nil
	}
	start := a.now()
	rec, done, err := consent.Confirmed(ctx, a.Store, cs, m)
	if !done || err != nil {
		return done, err
	}
	sent, err := a.send(ctx, conv, "ai:"+strconv.FormatInt(m.ID, 10)+":optin", a.settings.Load().Message(conv.Language, optInTurn.pick))
	if err != nil {
		a.Log.Warn("assistant: confirm a double opt-in", slog.Any("err", err))
	}
	if err := a.Store.AddNote(ctx, conv.ID, "Marketing consent given: the customer confirmed with the button (double opt-in)"); err != nil {
		return true, err
	}
	if err := a.record(ctx, &store.AIReply{ConversationID: conv.ID, InboundID: m.ID, MessageID: msgID(sent),
		Outcome: store.AIOptedIn, Mode: "rules", Detail: "double opt-in: ledger record " + strconv.FormatInt(rec.ID, 10)}, start, 0); err != nil {
		return true, err
	}
	return true, a.Router.Record(ctx, conv, store.Routing{To: store.RouteSystem, Reason: inbox.ReasonOptedIn})
}

// Name is who answers when the assistant takes a message.
func (a *Assistant) Name() string { return store.RouteAssistant }

// Wants is the assistant as one of the router's answerers: it answers when
// it is switched on, and on in this conversation.
func (a *Assistant) Wants(ctx context.Context, conv *store.Conversation, m *store.Message) (inbox.Verdict, error) {
	switch {
	case !a.settings.Load().Enabled:
		return inbox.Verdict{Reason: inbox.ReasonAssistantOff}, nil
	case conv.Bot == store.BotOff:
		return inbox.Verdict{Reason: inbox.ReasonBotOff}, nil
	case conv.Bot != store.BotOn:
		return inbox.Verdict{Reason: inbox.ReasonBotPaused}, nil
	}
	return inbox.Verdict{Taken: true, Reason: inbox.ReasonAssistantOn}, nil
}

// Answer queues a turn for m, once however often it is asked.
func (a *Assistant) Answer(ctx context.Context, conv *store.Conversation, m *store.Message) error {
	return a.enqueueTurn(ctx, m.ID)
}

// carryPause keeps the assistant paused in a customer's new conversation
// when the owner chose that it does not resume after a resolve.
func (a *Assistant) carryPause(ctx context.Context, conv *store.Conversation, s *Settings) error {
	if s.ResumeAfterResolve || conv.Bot != store.BotOn {
		return nil
	}
	prev, err := a.Store.PreviousBot(ctx, conv.ContactID, conv.ID)
	if err != nil || prev != store.BotPaused {
		return err
	}
	if err := a.Store.SetBot(ctx, conv.ID, store.BotPaused, events.BotPausedBefore); err != nil {
		return err
	}
	conv.Bot = store.BotPaused
	return nil
}

// consentTurn is what a customer's stop or re-subscription does: opt-out
// and opt-in differ only in these.
type consentTurn struct {
	consent string                // the consent recorded
	key     string                // of the confirmation's idempotency key
	pick    func(Messages) string // the confirmation, in the customer's language
	what    string                // for the log
	note    string                // the private note, before the customer's words
	outcome string                // of the AI reply record
	reason  string                // why sendbox itself answered (inbox.Reason*)
	anyText bool                  // quote the message when no rule's words matched
}

var (
	optOutTurn = consentTurn{consent: store.ConsentOptedOut, key: "optout", pick: func(x Messages) string { return x.OptOut },
		what: "confirm an opt-out", note: "Marketing consent revoked", outcome: store.AIOptedOut, reason: inbox.ReasonOptedOut}
	// An opt-in by keyword also takes the number off the suppression list
	// of erased opt-outs, as Meta's "resume" does in the store's ingest.
	optInTurn = consentTurn{consent: store.ConsentOptedIn, key: "optin", pick: func(x Messages) string { return x.OptIn },
		what: "confirm a re-subscription", note: "Marketing consent given again", outcome: store.AIOptedIn,
		reason: inbox.ReasonOptedIn, anyText: true}
)

// consentChange records a stop ("STOP", "toglietemi") or a re-subscription
// ("START", "riattiva") at once and confirms it to the customer. It is not
// an escalation: the assistant goes on as before, and sendbox itself is
// recorded as the one that answered.
func (a *Assistant) consentChange(ctx context.Context, conv *store.Conversation, m *store.Message, res policy.Result, c consentTurn,
	e store.ConsentEntry) error {
	start := a.now()
	if _, err := a.Store.RecordConsent(ctx, e); err != nil {
		return err
	}
	sent, err := a.send(ctx, conv, "ai:"+strconv.FormatInt(m.ID, 10)+":"+c.key, a.settings.Load().Message(conv.Language, c.pick))
	if err != nil {
		a.Log.Warn("assistant: "+c.what, slog.Any("err", err))
	}
	said := matchedText(res)
	if said == "" && c.anyText {
		said = clip(m.Text, 120)
	}
	if err := a.Store.AddNote(ctx, conv.ID, c.note+": the customer wrote "+strconv.Quote(said)); err != nil {
		return err
	}
	if err := a.record(ctx, &store.AIReply{ConversationID: conv.ID, InboundID: m.ID, MessageID: msgID(sent),
		Outcome: c.outcome, Mode: "rules", Detail: res.Describe()}, start, 0); err != nil {
		return err
	}
	return a.Router.Record(ctx, conv, store.Routing{To: store.RouteSystem, Reason: c.reason})
}

// preferenceChanged confirms a marketing stop or resume the customer made
// in WhatsApp itself (Meta's user_preferences webhook), when the 24-hour
// window allows a message.
func (a *Assistant) preferenceChanged(ctx context.Context, ev events.Event) error {
	turn := optOutTurn
	switch ev.Status {
	case events.ConsentStopped:
	case events.ConsentResumed:
		turn = optInTurn
	default:
		return nil
	}
	c, err := a.Store.ContactByID(ctx, ev.ContactID)
	if err != nil {
		return err
	}
	// A later choice already replaced this one: confirm nothing.
	if c.Consent != turn.consent || !outbound.WindowOpen(c.LastInboundAt, a.now()) {
		return nil
	}
	convs, _, _, err := a.Store.ListConversations(ctx, store.ConversationFilter{ContactID: c.ID, Limit: 1})
	if err != nil || len(convs) == 0 {
		return err
	}
	conv := &convs[0]
	conv.Contact = c
	key := fmt.Sprintf("ai:%s:%d:%d", turn.key, c.ID, c.ConsentAt.UnixMilli())
	_, err = a.send(ctx, conv, key, a.settings.Load().Message(conv.Language, turn.pick))
	return err
}

func msgID(m *store.Message) int64 {
	if m == nil {
		return 0
	}
	return m.ID
}

func matchedText(r policy.Result) string {
	for _, m := range r.Matched {
		if !m.Negated {
			return m.Text
		}
	}
	return ""
}
