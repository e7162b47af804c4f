package assistant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"sendbox/llm"
	"sendbox/store"
)

// ErrGenerationOff is what the copilot answers when no chat model is
// chosen or Ollama cannot be reached.
var ErrGenerationOff = errors.New("text generation is off: choose a chat model in Settings → Assistant, and check that Ollama is running")

// Suggestion is a draft reply for an agent to edit and send.
type Suggestion struct {
	Text     string            `json:"text"`
	Mode     string            `json:"mode"` // model or quote
	Model    string            `json:"model,omitempty"`
	Passages []store.AIPassage `json:"passages"`
	Note     string            `json:"note,omitempty"` // why there is no draft
}

// copilotTimeout bounds a copilot request: an agent is waiting.
const copilotTimeout = 60 * time.Second

// Suggest drafts a reply to the customer's last message from the
// knowledge, as the assistant would answer it; without a model, the best
// passage is offered to adapt. Nothing is sent.
func (a *Assistant) Suggest(ctx context.Context, convID int64) (*Suggestion, error) {
	ctx, cancel := context.WithTimeout(ctx, copilotTimeout)
	defer cancel()
	last, err := a.lastInbound(ctx, convID)
	if err != nil {
		return nil, err
	}
	if last == nil || strings.TrimSpace(last.Text) == "" {
		return &Suggestion{Note: "The customer has not written anything to answer yet."}, nil
	}
	conv, err := a.Store.ConversationByID(ctx, convID)
	if err != nil {
		return nil, err
	}
	r, err := a.KB.RetrieveIn(ctx, last.Text, conv.Language, passagesPerAnswer)
	if err != nil {
		return nil, err
	}
	hits := r.Relevant()
	model := a.ChatModel()
	if model == "" {
		if len(hits) == 0 {
			return &Suggestion{Mode: "quote", Note: "Nothing in the knowledge base matches the customer's last message."}, nil
		}
		return &Suggestion{Mode: "quote", Text: quoteText(hits[0].Chunk), Passages: used(hits[:1], nil)}, nil
	}
	if len(hits) == 0 {
		return &Suggestion{Mode: "model", Model: model, Note: "Nothing in the knowledge base matches the customer's last message."}, nil
	}
	history, err := a.Store.RecentMessages(ctx, convID, last.ID, 8)
	if err != nil {
		return nil, err
	}
	req := buildAnswer(model, a.settings.Load(), a.profile(ctx), hits, history, conv.Language, a.now())
	res, err := a.Model.Chat(ctx, req, nil)
	if err != nil {
		return nil, fmt.Errorf("ask %s: %w", model, err)
	}
	ans, err := parseAnswer(res.Content)
	if err != nil {
		return nil, fmt.Errorf("read the model's draft: %w", err)
	}
	s := &Suggestion{Mode: "model", Model: model, Text: strings.TrimSpace(ans.Answer), Passages: used(hits, ans.Sources)}
	if !ans.Supported || s.Text == "" {
		s.Note = "The model found no answer in the knowledge base."
	}
	return s, nil
}

// Summarise writes, for an agent, who the customer is, what they want,
// what was done and what is pending.
func (a *Assistant) Summarise(ctx context.Context, convID int64) (string, error) {
	model := a.ChatModel()
	if model == "" {
		return "", ErrGenerationOff
	}
	ctx, cancel := context.WithTimeout(ctx, copilotTimeout)
	defer cancel()
	conv, err := a.Store.ConversationByID(ctx, convID)
	if err != nil {
		return "", err
	}
	msgs, err := a.Store.RecentMessages(ctx, convID, 1<<62, 40)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, m := range msgs {
		if m.Text == "" {
			continue
		}
		who := "Customer"
		if m.Direction == "outbound" {
			who = "Business"
		}
		fmt.Fprintf(&b, "%s (%s): %s\n", who, m.Timestamp.Format("2 Jan 15:04"), clip(m.Text, 500))
	}
	if b.Len() == 0 {
		return "", errors.New("the conversation has no text to summarise")
	}
	name := conv.Contact.Name
	if name == "" {
		name = "the customer"
	}
	res, err := a.Model.Chat(ctx, llm.ChatRequest{Model: model, NumPredict: 300, KeepAlive: 30 * time.Minute,
		Messages: []llm.Message{
			{Role: "system", Content: "Summarise this WhatsApp conversation between " + name + " and a business for the agent taking it over, " +
				"in English, in at most five short lines: who the customer is, what they want, what was already answered or done, " +
				"what is still pending. Only facts from the conversation."},
			{Role: "user", Content: b.String()},
		}}, nil)
	if err != nil {
		return "", fmt.Errorf("ask %s: %w", model, err)
	}
	return strings.TrimSpace(res.Content), nil
}

// Translate puts text into the target language (it, fr, en, es, de).
func (a *Assistant) Translate(ctx context.Context, text, target string) (string, error) {
	name, ok := LangNames[target]
	if !ok {
		return "", fmt.Errorf("translate into one of it, fr, en, es, de, not %q", target)
	}
	if strings.TrimSpace(text) == "" {
		return "", errors.New("nothing to translate")
	}
	if len([]rune(text)) > 4096 {
		return "", errors.New("the text is longer than 4,096 characters")
	}
	model := a.ChatModel()
	if model == "" {
		return "", ErrGenerationOff
	}
	ctx, cancel := context.WithTimeout(ctx, copilotTimeout)
	defer cancel()
	res, err := a.Model.Chat(ctx, llm.ChatRequest{Model: model, NumPredict: 1000, KeepAlive: 30 * time.Minute,
		Messages: []llm.Message{
			{Role: "system", Content: "Translate the user's text into " + name + ". Answer with the translation only, keeping the meaning, tone and any numbers exactly."},
			{Role: "user", Content: text},
		}}, nil)
	if err != nil {
		return "", fmt.Errorf("ask %s: %w", model, err)
	}
	return strings.TrimSpace(res.Content), nil
}

// lastInbound is the customer's latest message in a conversation, or nil.
func (a *Assistant) lastInbound(ctx context.Context, convID int64) (*store.Message, error) {
	msgs, _, _, err := a.Store.ListMessages(ctx, store.MessageFilter{ConversationID: convID, Direction: "inbound", Limit: 1})
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	return &msgs[0], nil
}
