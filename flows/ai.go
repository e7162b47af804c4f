package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/embed"
	"sendbox/events"
	"sendbox/language"
	"sendbox/outbound"
	"sendbox/store"
	"sendbox/whatsapp"
)

// The ai step: the assistant answers a question within the flow, from the
// knowledge base, and the flow goes on.
//
// Composing an answer can take seconds (a local model), so, as the http
// step does, the step queues a job with the run's token in the run's
// transaction and the run waits ("job"); a worker composes the answer
// outside any transaction, then moves the run on (sending the answer) in a
// transaction of its own, if the run still holds that token. A redelivered
// job finds another token and does nothing: the answer is sent once.

// Answerer composes the assistant's answer to a question from the
// knowledge base, sending nothing; *assistant.Assistant is one (with a
// chat model, or quoting the knowledge base without one). ok is false when
// the knowledge base holds no grounded answer.
type Answerer interface {
	Compose(ctx context.Context, question, lang string) (answer string, ok bool, err error)
}

// maxQuestionRunes bounds an ai step's question as written.
const maxQuestionRunes = 1000

// aiAckWait is how long a composing worker holds its job before the
// broker hands it out again: the assistant's own time limit (30 s by
// default) with room to spare.
const aiAckWait = 3 * time.Minute

// aiWaitsForMessage reports whether an ai step asks the customer's next
// message (no question written).
func (s *Step) aiWaitsForMessage() bool {
	return s.Type == StepAI && strings.TrimSpace(s.Question) == ""
}

func (s *Step) validateAI(vars map[string]bool) []Problem {
	var ps []Problem
	bad := func(field, code, msg string) { ps = append(ps, Problem{Field: field, Code: code, Message: msg}) }
	if n := utf8.RuneCountInString(s.Question); n > maxQuestionRunes {
		bad("question", "too_long", fmt.Sprintf("%d characters; a question is at most %d", n, maxQuestionRunes))
	}
	for _, p := range unknownVars(s.Question, vars) {
		bad("question", "unknown_variable", p)
	}
	if s.Var != "" && !varRE.MatchString(s.Var) {
		bad("var", "invalid_var", "a variable name is lowercase letters, digits and _, starting with a letter")
	}
	if s.Text != "" {
		bad("text", "unexpected", "the assistant writes the answer: an ai step has a question, not a text")
	}
	return ps
}

// aiBranches: the answer goes to Next, no answer to OnUnanswered (Next
// when empty). Both follow the customer's message when the step waits
// for it.
func (s *Step) aiBranches() []branch {
	replied := s.aiWaitsForMessage()
	out := []branch{{field: "next", to: s.Next, replied: replied}}
	if s.OnUnanswered != "" {
		out = append(out, branch{field: "on_unanswered", to: s.OnUnanswered, replied: replied})
	}
	return out
}

// stepAI carries out an ai step, in the run's transaction: it waits for
// the customer's message (no question written), or queues the job that
// composes the answer to the question (the customer's message, or the
// step's question with its variables filled in). next is where the run
// goes at once (an empty question has no answer), -2 when it waits.
func (e *Engine) stepAI(x *store.RunTx, r *store.FlowRun, d *Definition, i int, env *Env, ans *Answer) (next int, err error) {
	s := &d.Steps[i]
	if ans == nil && s.aiWaitsForMessage() {
		r.Waiting, r.Tries = store.WaitReply, 0
		r.Token++
		return -2, nil
	}
	q := env.Render(s.Question)
	if ans != nil {
		q = ans.Text
	}
	q = strings.TrimSpace(q)
	if q == "" { // a photo, a location, an empty variable: nothing to answer
		if s.Var != "" {
			r.Vars[s.Var] = ""
			env.Vars = r.Vars
		}
		return d.target(i, unansweredBranch(s)), nil
	}
	return -2, e.queueJob(x, r, events.SubjectFlowAI, "ai", runJob{Step: s.ID, Question: q})
}

func unansweredBranch(s *Step) branch {
	if s.OnUnanswered == "" {
		return branch{field: "next", to: s.Next}
	}
	return branch{field: "on_unanswered", to: s.OnUnanswered}
}

// StartAIWorker consumes the ai steps' jobs until ctx ends; workers is how
// many answers are composed at once (a local model on a CPU serves one).
func (e *Engine) StartAIWorker(ctx context.Context, br *embed.Broker, workers int) error {
	return e.startJobs(ctx, br, jobWorker{durable: "flow-ai", subject: events.SubjectFlowAI, what: "flow ai step",
		ackWait: aiAckWait, workers: max(workers, 1), run: e.runAI})
}

// runAI composes the answer of a job whose run still waits for it, then
// moves the run on: the answer sent and to Next, or nothing sent and to
// OnUnanswered. An assistant that fails (a model gone, its time limit) is
// no answer; only the store's errors and a shutdown make the job retry.
func (e *Engine) runAI(ctx context.Context, j runJob) error {
	r, err := e.jobRun(ctx, j)
	if r == nil || err != nil {
		return err
	}
	lang, err := e.runLanguage(ctx, r)
	if err != nil {
		return err
	}
	answer, ok := "", false
	if e.AI != nil {
		answer, ok, err = e.AI.Compose(ctx, j.Question, lang)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.log().Warn("flow ai step: the assistant could not answer", slog.Int64("run", r.ID), slog.String("step", j.Step),
				slog.Any("err", err))
			answer, ok = "", false
		}
	}
	answer = clipRunes(strings.TrimSpace(answer), maxTextRunes)
	ok = ok && answer != ""
	return e.move(ctx, j.RunID, func(x *store.RunTx, r *store.FlowRun, d *Definition) error {
		if !j.current(r) {
			return nil
		}
		i := d.index(j.Step)
		if i < 0 || d.Steps[i].Type != StepAI {
			return x.End(OutcomeBroken)
		}
		s := &d.Steps[i]
		b := unansweredBranch(s)
		if ok {
			b = branch{field: "next", to: s.Next}
			c, err := x.Contact()
			if err != nil {
				return err
			}
			if err := e.sendAnswer(ctx, x, c.Recipient(), s.ID, answer); errors.Is(err, errBroken) {
				return x.End(OutcomeBroken)
			} else if err != nil {
				return err
			}
		}
		if s.Var != "" {
			r.Vars[s.Var] = answer
			if !ok {
				r.Vars[s.Var] = ""
			}
		}
		if err := e.goTo(x, r, d, d.target(i, b)); err != nil {
			return err
		}
		return e.advance(ctx, x, r, d, nil)
	})
}

// runLanguage is the language to answer a run's contact in: their
// conversation's (detected, or chosen by an agent), else their number's.
func (e *Engine) runLanguage(ctx context.Context, r *store.FlowRun) (string, error) {
	if r.ConversationID != 0 {
		conv, err := e.Store.ConversationByID(ctx, r.ConversationID)
		if err == nil && conv.Language != "" {
			return conv.Language, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	c, err := e.Store.ContactWithTags(ctx, r.ContactID)
	if err != nil {
		return "", err
	}
	return language.FromNumber(c.WaID), nil
}

// sendAnswer queues the assistant's answer as a text, in the run's
// transaction, through the checks every flow message goes through (see
// send): outside the 24-hour window or without consent it is not sent
// and the run goes on; a message WhatsApp would refuse is errBroken.
func (e *Engine) sendAnswer(ctx context.Context, x *store.RunTx, to, stepID, body string) error {
	m := whatsapp.OutboundMessage{To: to, Type: "text", Text: &whatsapp.Text{Body: body}}
	in, err := e.Outbound.Prepare(ctx, outbound.Request{Message: m, Lane: events.LaneTransactional})
	var we *outbound.WindowError
	var ce *outbound.ConsentError
	if errors.As(err, &we) || errors.As(err, &ce) {
		e.log().Info("flow message not sent", slog.Int64("run", x.RunID()), slog.String("step", stepID), slog.Any("why", err))
		return nil
	}
	var ve *whatsapp.ValidationError
	if errors.As(err, &ve) {
		e.log().Warn("a flow's AI answer is not a valid message; the run ends", slog.Int64("run", x.RunID()),
			slog.String("step", stepID), slog.Any("err", err))
		return errBroken
	}
	if err != nil {
		return fmt.Errorf("step %s: %w", stepID, err)
	}
	_, err = x.Queue(in)
	return err
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
