package flows

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"sendbox/outbound"
	"sendbox/store"
)

// TestValidateAIAndEventSteps: publishing checks the ai step, the wait for
// an event and exit_on, and counts them in the loop and window guards.
func TestValidateAIAndEventSteps(t *testing.T) {
	msg := Trigger{Type: TriggerKeyword, Keywords: []string{"hi"}}
	order := Trigger{Type: TriggerEvent, Event: "order.created"}
	for _, c := range []struct {
		name string
		d    Definition
		want []string // every problem, as step:code
	}{
		{"an ai step answering an ask's answer", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "q", Type: StepAsk, Input: InputText, Var: "question", Text: "Your question?"},
			{ID: "a", Type: StepAI, Question: "{{vars.question}}", Var: "answer", OnUnanswered: "h"},
			{ID: "s", Type: StepSend, Text: "{{vars.answer}}"},
			{ID: "h", Type: StepHandoff}}}, nil},
		{"an ai step's problems", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "a", Type: StepAI, Question: "{{vars.ghost}}", Var: "Bad", Text: "x", OnUnanswered: "nowhere"}}},
			[]string{"a:unknown_variable", "a:invalid_var", "a:unexpected", "a:unknown_step"}},
		{"a loop through an ai step waiting for the message is fine", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "a", Type: StepAI},
			{ID: "b", Type: StepJump, Next: "a"}}}, nil},
		{"a loop through an ai step with a question is not", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "a", Type: StepAI, Question: "opening hours"},
			{ID: "b", Type: StepJump, Next: "a"}}}, []string{"b:loop_without_wait"}},
		{"an ai answer a day after the customer wrote", Definition{Triggers: []Trigger{order}, Steps: []Step{
			{ID: "a", Type: StepAI, Question: "care of {{event.product}}"}}}, []string{"a:outside_window"}},
		{"an ai answer to the customer's message is in the window", Definition{Triggers: []Trigger{order}, Steps: []Step{
			{ID: "w", Type: StepWait, Duration: "3d"},
			{ID: "a", Type: StepAI},
			{ID: "s", Type: StepSend, Text: "Anything else?"}}}, nil},
		{"a wait for an event", Definition{Triggers: []Trigger{order}, ExitOn: []string{"order.cancelled"}, Steps: []Step{
			{ID: "w", Type: StepWait, UntilEvent: "order.delivered", Timeout: "14d", OnTimeout: "late"},
			{ID: "ok", Type: StepEnd, Outcome: "delivered"},
			{ID: "late", Type: StepEnd, Outcome: "late"}}}, nil},
		{"a wait for an event's problems", Definition{Triggers: []Trigger{order}, ExitOn: []string{"bad name!", "x", "x"}, Steps: []Step{
			{ID: "w", Type: StepWait, UntilEvent: "order delivered", Duration: "1d", UntilReply: true, Timeout: "10s", OnEvent: "nowhere"},
			{ID: "v", Type: StepWait, OnEvent: "w", OnTimeout: "w"},
			{ID: "u", Type: StepWait, UntilEvent: "order.delivered", UntilAttribute: "birthday"}}},
			[]string{":invalid", ":duplicate", "w:invalid", "w:unexpected", "w:unknown_step", "v:invalid", "v:unexpected", "u:unexpected"}},
		{"a text after a wait for an event is outside the window", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "q", Type: StepAsk, Input: InputText, Var: "x", Text: "Order number?"},
			{ID: "w", Type: StepWait, UntilEvent: "order.delivered"},
			{ID: "s", Type: StepSend, Text: "Delivered!"}}}, []string{"s:outside_window"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := codes(c.d.Validate())
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Fatalf("want %s in %v", w, got)
				}
			}
			if c.want == nil && len(got) > 0 {
				t.Fatalf("want no problem, got %v", got)
			}
		})
	}
}

// fakeAssistant answers every question with its answer, ok, counting.
type fakeAssistant struct {
	answer string
	ok     bool
	calls  int
}

func (f *fakeAssistant) Compose(ctx context.Context, question, lang string) (string, bool, error) {
	f.calls++
	return f.answer + " (" + question + ")", f.ok, nil
}

// TestAIJobMovesTheRunOnce: the ai step's job, delivered twice (a crash
// after the move, before the ack), composes and sends the answer once and
// moves the run once; with no grounded answer nothing is sent and the run
// goes to on_unanswered.
func TestAIJobMovesTheRunOnce(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const waID = "393471112233"
	if _, err := st.Ingest(ctx, &store.IngestBatch{Messages: []store.InboundMessage{{WAMID: "wamid.ai1", PhoneNumberID: "1",
		WaID: waID, Type: "text", Text: "hi", Timestamp: time.Now().Add(-time.Minute)}}}); err != nil {
		t.Fatal(err)
	}
	c, err := st.ContactByRecipient(ctx, waID, "")
	if err != nil {
		t.Fatal(err)
	}
	ai := &fakeAssistant{answer: "Free parking in the courtyard", ok: true}
	e := &Engine{Store: st, Outbound: &outbound.Service{Store: st, PhoneNumberID: "1"}, AI: ai}
	def := Definition{Triggers: []Trigger{{Type: TriggerKeyword, Keywords: []string{"go"}}}, Steps: []Step{
		{ID: "a", Type: StepAI, Question: "parking for {{contact.name}}?", Var: "answer", OnUnanswered: "human"},
		{ID: "done", Type: StepEnd, Outcome: "answered"},
		{ID: "human", Type: StepEnd, Outcome: "unanswered"},
	}}
	raw, _ := json.Marshal(def)
	f, err := e.Create(ctx, "ai", raw)
	if err != nil {
		t.Fatal(err)
	}
	outboundOf := func() []store.Message {
		ms, _, _, err := st.ListMessages(ctx, store.MessageFilter{ContactID: c.ID, Direction: "outbound", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	for _, grounded := range []bool{true, false} {
		ai.ok, ai.calls = grounded, 0
		r, err := e.Try(ctx, f.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Waiting != store.WaitJob || r.Step != "a" {
			t.Fatalf("the run at the ai step: %+v", r)
		}
		before := len(outboundOf())
		j := runJob{RunID: r.ID, Token: r.Token, Step: "a", Question: "parking?"}
		for range 2 {
			if err := e.runAI(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		r, _ = st.RunByID(ctx, r.ID)
		all := outboundOf()
		sent := all[:len(all)-before]
		switch {
		case ai.calls != 1:
			t.Fatalf("grounded %v: composed %d times", grounded, ai.calls)
		case grounded && (r.Outcome != "answered" || len(sent) != 1 || sent[0].Text != "Free parking in the courtyard (parking?)" ||
			r.Vars["answer"] != sent[0].Text):
			t.Fatalf("answered: %+v, sent %+v", r, sent)
		case !grounded && (r.Outcome != "unanswered" || len(sent) != 0 || r.Vars["answer"] != ""):
			t.Fatalf("unanswered: %+v, sent %+v", r, sent)
		}
	}
}
