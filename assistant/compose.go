package assistant

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sendbox/store"
)

// Compose answers a question from the knowledge base as a turn would,
// and sends nothing: a flow's ai step sends the answer itself, in its
// run's transaction. With a chat model the model answers from the
// passages retrieved (and may decline); without one, the passage that
// matches the question strongly is quoted. ok is false when the knowledge
// base holds no grounded answer. The escalation policy has screened the
// customer's messages before any flow saw them; the assistant's settings
// (on, hours) are the live bot's and do not apply to a flow that asks.
// It takes at most the assistant's time limit.
func (a *Assistant) Compose(ctx context.Context, question, lang string) (answer string, ok bool, err error) {
	limit := a.Timeout
	if limit <= 0 {
		limit = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	question = strings.TrimSpace(question)
	if question == "" {
		return "", false, nil
	}
	r, err := a.KB.RetrieveIn(ctx, withoutSalutes(question), lang, passagesPerAnswer)
	if err != nil {
		return "", false, err
	}
	relevant := r.Relevant()
	model := a.ChatModel()
	if model == "" {
		best := bestQuote(relevant)
		if best == nil {
			return "", false, nil
		}
		return quoteText(best.Chunk), true, nil
	}
	if len(relevant) == 0 {
		return "", false, nil
	}
	history := []store.Message{{Direction: "inbound", Text: question}}
	req := buildAnswer(model, a.settings.Load(), a.profile(ctx), relevant, history, lang, a.now())
	res, err := a.Model.Chat(ctx, req, nil)
	if err != nil {
		return "", false, fmt.Errorf("ask %s: %w", model, err)
	}
	ans, err := parseAnswer(res.Content)
	if err != nil {
		return "", false, fmt.Errorf("read the model's answer: %w", err)
	}
	text := strings.TrimSpace(ans.Answer)
	if !ans.Supported || text == "" {
		return "", false, nil
	}
	return text, true, nil
}
