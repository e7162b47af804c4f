package assistant

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"sendbox/events"
	"sendbox/guard"
	"sendbox/knowledge"
	"sendbox/store"
)

// PromptVersion names the prompt and the answer schema; it is recorded with
// every AI reply, so a change of wording can be traced in what was sent.
const PromptVersion = "answer-2026-11"

// passagesPerAnswer is how many passages the model reads.
const passagesPerAnswer = 4

// turn is one customer message being answered.
type turn struct {
	msg       *store.Message
	conv      *store.Conversation
	lang      string // the conversation's: what the customer is written to in
	start     time.Time
	modelTime time.Duration
	reply     store.AIReply
}

// Turn answers one customer message: the second stage, run from the work
// queue (and by tests and benchmarks directly). It does nothing for a
// message already answered, a conversation a person has taken over, or a
// message the customer has already followed with another (that one's turn
// answers both).
func (a *Assistant) Turn(ctx context.Context, msgID int64) error {
	ctx = events.WithActor(ctx, events.Assistant()) // what the turn changes, the assistant did
	start := a.now()
	m, conv, err := a.pending(ctx, msgID)
	if m == nil || err != nil {
		return err
	}
	s := a.settings.Load()
	if !s.Enabled || conv.Bot != store.BotOn {
		return nil
	}
	if newer, err := a.Store.NewerInbound(ctx, conv.ID, m.ID); err != nil || newer {
		return err
	}
	t := &turn{msg: m, conv: conv, lang: conv.Language, start: start,
		reply: store.AIReply{ConversationID: conv.ID, InboundID: m.ID, PromptVersion: PromptVersion}}

	if s.Hours != HoursAlways {
		open := a.profile(ctx).OpenAt(a.now())
		switch {
		case s.Hours == HoursClosedOnly && open:
			return nil // people answer while the business is open
		case s.Hours == HoursAway && !open:
			return a.away(ctx, t)
		}
	}
	if kind, langs := smallTalk(m.Text); kind != "" {
		// In the language of the words; the conversation's if they are
		// in several ("Merci, bye!") and it is one of them.
		lang := langs[0]
		if slices.Contains(langs, t.lang) {
			lang = t.lang
		}
		return a.smallTalk(ctx, t, kind, lang)
	}
	if strings.TrimSpace(m.Text) == "" {
		t.reply.Mode = "rules"
		return a.handoff(ctx, t, store.AIHandoff, "a "+m.Type+" message the assistant cannot read",
			func(x Messages) string { return x.Holding })
	}
	if a.Typing != nil && m.WAMID != "" {
		go guard.Do(a.Log, "typing indicator", func() {
			tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := a.Typing(tctx, m.WAMID); err != nil {
				a.Log.Debug("assistant: typing indicator", slog.Any("err", err))
			}
		})
	}
	tctx, cancel := context.WithTimeout(ctx, a.Timeout)
	defer cancel()
	err = a.answer(tctx, t)
	if err != nil && tctx.Err() != nil && ctx.Err() == nil {
		// The turn ran out of time: a person takes over, and the customer
		// is told so rather than left waiting.
		t.reply.Mode = "model"
		return a.handoff(ctx, t, store.AITimeout, fmt.Sprintf("the assistant took longer than %s", a.Timeout),
			func(x Messages) string { return x.Holding })
	}
	return err
}

// answer retrieves, checks the policy with the model, and answers or hands off.
func (a *Assistant) answer(ctx context.Context, t *turn) error {
	r, err := a.KB.RetrieveIn(ctx, withoutSalutes(t.msg.Text), t.lang, passagesPerAnswer)
	if err != nil {
		return err
	}
	t.modelTime += r.EmbedTime
	relevant := r.Relevant()
	model := a.ChatModel()
	if model == "" {
		return a.quote(ctx, t, relevant)
	}
	t.reply.Mode, t.reply.Model = "model", model

	if cl := a.classifier(); cl != nil {
		c := cl.(*classifier)
		res := a.matcher.Load().Evaluate(ctx, t.msg.Text, c)
		t.modelTime += c.took
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if res.Escalate {
			return a.escalate(ctx, t.conv, t.msg, res, "model", t.start)
		}
	}
	if len(relevant) == 0 {
		return a.handoff(ctx, t, store.AIHandoff, "the knowledge base has nothing on this question",
			func(x Messages) string { return x.Unsupported })
	}
	history, err := a.Store.RecentMessages(ctx, t.conv.ID, t.msg.ID, 8)
	if err != nil {
		return err
	}
	s := a.settings.Load()
	req := buildAnswer(model, s, a.profile(ctx), relevant, history, t.lang, a.now())
	t0 := time.Now()
	res, err := a.Model.Chat(ctx, req, nil)
	t.modelTime += time.Since(t0)
	if err != nil {
		return fmt.Errorf("ask %s: %w", model, err)
	}
	ans, err := parseAnswer(res.Content)
	if err != nil || !ans.Supported || strings.TrimSpace(ans.Answer) == "" {
		why := "the model found no answer in the knowledge base"
		if err != nil {
			why = "the model's answer could not be read: " + err.Error()
		}
		return a.handoff(ctx, t, store.AIHandoff, why, func(x Messages) string { return x.Unsupported })
	}
	t.reply.Passages = used(relevant, ans.Sources)
	sent, err := a.send(ctx, t.conv, "ai:"+strconv.FormatInt(t.msg.ID, 10)+":answer", strings.TrimSpace(ans.Answer))
	if err != nil {
		return err
	}
	t.reply.MessageID, t.reply.Outcome = msgID(sent), store.AIAnswered
	return a.record(ctx, &t.reply, t.start, t.modelTime)
}

// quote answers without a model: the best FAQ or passage, word for word,
// when it matches the question strongly; otherwise a person is asked.
func (a *Assistant) quote(ctx context.Context, t *turn, hits []knowledge.Hit) error {
	t.reply.Mode = "quote"
	best := bestQuote(hits)
	if best == nil {
		return a.handoff(ctx, t, store.AIHandoff, "no passage matches the question well enough to quote it",
			func(x Messages) string { return x.Unsupported })
	}
	t.reply.Passages = used([]knowledge.Hit{*best}, nil)
	sent, err := a.send(ctx, t.conv, "ai:"+strconv.FormatInt(t.msg.ID, 10)+":answer", quoteText(best.Chunk))
	if err != nil {
		return err
	}
	t.reply.MessageID, t.reply.Outcome = msgID(sent), store.AIQuoted
	return a.record(ctx, &t.reply, t.start, t.modelTime)
}

// bestQuote is the passage to quote word for word: the one that matches
// the question best, strongly; nil if none does.
func bestQuote(hits []knowledge.Hit) *knowledge.Hit {
	var best *knowledge.Hit
	for i := range hits {
		h := &hits[i]
		if !h.Strong() {
			continue
		}
		// A FAQ answers a question by design: prefer it to a passage that
		// matches as well.
		if best == nil || (h.Chunk.Kind == "faq" && best.Chunk.Kind != "faq" && h.Coverage() >= best.Coverage()) ||
			h.Coverage() > best.Coverage() {
			best = h
		}
	}
	return best
}

// quoteText is what a quoted passage says to the customer: a FAQ's answer,
// or the passage under its heading, cut at a sentence near 700 characters.
func quoteText(c store.KBChunk) string {
	text := strings.TrimSpace(c.Text)
	if r := []rune(text); len(r) > knowledge.ChunkTarget {
		cut := string(r[:knowledge.ChunkTarget])
		if i := strings.LastIndexAny(cut, ".!?"); i > knowledge.ChunkTarget/2 {
			cut = cut[:i+1]
		} else {
			cut += "…"
		}
		text = cut
	}
	if c.Kind != store.KBFAQ && c.Heading != "" && c.Heading != c.Title {
		text = c.Heading + ": " + text
	}
	return text
}

// smallTalk answers a greeting, thanks or a goodbye in kind, and changes
// nothing else: the conversation stays as it is.
func (a *Assistant) smallTalk(ctx context.Context, t *turn, kind, lang string) error {
	t.reply.Mode = "rules"
	pick := func(x Messages) string { return x.Greeting }
	switch kind {
	case talkThanks:
		pick = func(x Messages) string { return x.Thanks }
	case talkGoodbye:
		pick = func(x Messages) string { return x.Goodbye }
	}
	sent, err := a.send(ctx, t.conv, "ai:"+strconv.FormatInt(t.msg.ID, 10)+":"+kind, a.settings.Load().Message(lang, pick))
	if err != nil {
		return err
	}
	t.reply.MessageID, t.reply.Outcome, t.reply.Detail = msgID(sent), store.AIGreeted, kind
	return a.record(ctx, &t.reply, t.start, 0)
}

// away sends the away message once per conversation and closing time.
func (a *Assistant) away(ctx context.Context, t *turn) error {
	t.reply.Mode = "rules"
	replies, err := a.Store.AIReplies(ctx, t.conv.ID)
	if err != nil {
		return err
	}
	for _, r := range replies {
		if r.Outcome == store.AIAway && a.now().Sub(r.CreatedAt) < 12*time.Hour && r.MessageID != 0 {
			t.reply.Outcome = store.AISkipped
			t.reply.Detail = "away message already sent"
			return a.record(ctx, &t.reply, t.start, 0)
		}
	}
	sent, err := a.send(ctx, t.conv, "ai:"+strconv.FormatInt(t.msg.ID, 10)+":away",
		a.settings.Load().Message(t.lang, func(x Messages) string { return x.Away }))
	if err != nil {
		return err
	}
	t.reply.MessageID, t.reply.Outcome = msgID(sent), store.AIAway
	return a.record(ctx, &t.reply, t.start, 0)
}

// used turns the passages the model cited (1-based; none cited: all it
// read) into the record of the reply.
func used(hits []knowledge.Hit, cited []int) []store.AIPassage {
	pick := hits
	if len(cited) > 0 {
		pick = nil
		seen := map[int]bool{}
		for _, n := range cited {
			if n >= 1 && n <= len(hits) && !seen[n] {
				seen[n] = true
				pick = append(pick, hits[n-1])
			}
		}
		if len(pick) == 0 {
			pick = hits
		}
	}
	out := make([]store.AIPassage, len(pick))
	for i, h := range pick {
		out[i] = store.AIPassage{ChunkID: h.Chunk.ID, DocID: h.Chunk.DocID, Kind: h.Chunk.Kind, Title: h.Chunk.Title,
			Heading: h.Chunk.Heading, Text: clip(h.Chunk.Text, 400), Score: h.Score, Via: h.Via}
	}
	return out
}
