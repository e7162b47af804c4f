package ui

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sendbox/assistant"
	"sendbox/events"
	"sendbox/inbox"
	"sendbox/store"
)

// The assistant in a conversation: its state, the urgent flag, and the
// copilot that drafts, summarises and translates for the agent.

// handleBot switches the assistant on or off in a conversation.
func (p *Panel) handleBot(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	if err := inbox.SetBot(r.Context(), p.Store, id, r.PostFormValue("state")); err != nil {
		p.commandError(w, r, err)
		return
	}
	done(w)
}

// handleLanguage records an agent's choice of the language the
// conversation speaks, or ("") gives it back to detection.
func (p *Panel) handleLanguage(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	lang := r.PostFormValue("language")
	if err := inbox.SetLanguage(r.Context(), p.Store, id, lang); err != nil {
		if errors.Is(err, inbox.ErrInvalidLanguage) {
			p.fail(w, r, http.StatusUnprocessableEntity, p.T("error.bad_request"))
			return
		}
		p.notFoundOr(w, r, err)
		return
	}
	done(w)
}

// handleClearUrgent takes the urgent flag off: someone has it in hand.
func (p *Panel) handleClearUrgent(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	if err := inbox.ClearUrgent(r.Context(), p.Store, id); err != nil {
		p.commandError(w, r, err)
		return
	}
	done(w)
}

// copilotView is what the copilot panel shows.
type copilotView struct {
	Kind       string // suggest, summary, translate-draft, translate-message
	Suggestion *assistant.Suggestion
	Text       string // the summary or the translation
	Original   string // what was translated
	Lang       string // the language translated into
	From       string // the language translated from
	Error      string
}

func (p *Panel) copilot(w http.ResponseWriter, r *http.Request, v *copilotView) {
	p.fragment(w, r, "inbox", "copilot", v)
}

// copilotError says why the copilot could not help, in plain words.
func (p *Panel) copilotError(err error) string {
	if errors.Is(err, assistant.ErrGenerationOff) {
		_, why := p.Assistant.Generation()
		if why == "" {
			why = p.T("copilot.off_unknown")
		}
		return p.T("copilot.off", why)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return p.T("copilot.slow")
	}
	return p.T("copilot.failed", err.Error())
}

// copilotConv checks the conversation exists.
func (p *Panel) copilotConv(w http.ResponseWriter, r *http.Request) (*store.Conversation, bool) {
	id, ok := p.convID(w, r)
	if !ok {
		return nil, false
	}
	conv, err := p.Store.ConversationByID(r.Context(), id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return nil, false
	}
	return conv, true
}

// handleSuggest drafts a reply to the customer's last message, for the
// agent to edit: the page puts it in the reply box.
func (p *Panel) handleSuggest(w http.ResponseWriter, r *http.Request) {
	conv, ok := p.copilotConv(w, r)
	if !ok {
		return
	}
	v := &copilotView{Kind: "suggest"}
	s, err := p.Assistant.Suggest(r.Context(), conv.ID)
	if err != nil {
		v.Error = p.copilotError(err)
	}
	v.Suggestion = s
	p.copilot(w, r, v)
}

// handleSummarise writes who the customer is and what is pending.
func (p *Panel) handleSummarise(w http.ResponseWriter, r *http.Request) {
	conv, ok := p.copilotConv(w, r)
	if !ok {
		return
	}
	v := &copilotView{Kind: "summary"}
	text, err := p.Assistant.Summarise(r.Context(), conv.ID)
	if err != nil {
		v.Error = p.copilotError(err)
	}
	v.Text = text
	p.copilot(w, r, v)
}

// handleTranslate translates the agent's draft into the customer's
// language, or a customer's message (message=<id>) into English.
func (p *Panel) handleTranslate(w http.ResponseWriter, r *http.Request) {
	conv, ok := p.copilotConv(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v := &copilotView{Kind: "translate-draft"}
	var text string
	if mid := r.PostFormValue("message"); mid != "" {
		id, _ := strconv.ParseInt(mid, 10, 64)
		m, err := p.Store.MessageByID(ctx, id)
		if err != nil || m.ConversationID != conv.ID {
			p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
			return
		}
		v.Kind, v.Lang, text = "translate-message", "en", m.Text
		v.From = p.lang(m.Text)
	} else {
		text = strings.TrimSpace(r.PostFormValue("body"))
		v.Lang = conv.Language
	}
	v.Original = text
	if strings.TrimSpace(text) == "" {
		v.Error = p.T("copilot.nothing_to_translate")
		p.copilot(w, r, v)
		return
	}
	out, err := p.Assistant.Translate(ctx, text, v.Lang)
	if err != nil {
		v.Error = p.copilotError(err)
	}
	v.Text = out
	p.copilot(w, r, v)
}

// lang is the language of a text as search detects it (it, fr, en, es, de).
func (p *Panel) lang(text string) string {
	if p.Search == nil || strings.TrimSpace(text) == "" {
		return "en"
	}
	return p.Search.Lang(text)
}

// urgentAlert renders the alert every open panel shows when the policy
// makes a conversation urgent: who, and why.
func (p *Panel) urgentAlert(ev events.Event) (string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conv, err := p.Store.ConversationByID(ctx, ev.ConversationID)
	if err != nil || !conv.Urgent {
		return "", ""
	}
	// What the customer wrote: the conversation's preview is by now the
	// holding message the assistant sent.
	v := alertView{Conversation: conv}
	if msgs, _, _, err := p.Store.ListMessages(ctx, store.MessageFilter{ConversationID: conv.ID, Direction: store.Inbound, Limit: 1}); err == nil && len(msgs) > 0 {
		v.Said = msgs[0].Text
	}
	var buf bytes.Buffer
	if err := p.pages["inbox"].ExecuteTemplate(&buf, "urgent_alert", v); err != nil {
		p.Log.Error("render the urgent alert", slog.Any("err", err))
		return "", ""
	}
	return "urgent", buf.String()
}

// alertView is an urgent conversation and what the customer wrote.
type alertView struct {
	*store.Conversation
	Said string
}

// categoryName is a policy category in words ("" for none).
func (p *Panel) categoryName(c string) string {
	if c == "" {
		return ""
	}
	if s, ok := p.strings["category."+c]; ok {
		return s
	}
	return c
}

// routingReason words why a conversation is answered as it is: the reason,
// and its detail in brackets (a policy category in words, why the
// assistant handed over).
func (p *Panel) routingReason(r *store.Routing) string {
	why := p.T("routing.reason." + r.Reason)
	switch {
	case r.Detail == "":
		return why
	case r.Reason == inbox.ReasonEscalated:
		return why + " (" + p.categoryName(r.Detail) + ")"
	default:
		return why + " (" + r.Detail + ")"
	}
}
