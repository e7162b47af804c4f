package flows

import (
	"slices"
	"testing"
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
			{ID: "v", Type: StepWait, OnEvent: "w", OnTimeout: "w"}}},
			[]string{":invalid", ":duplicate", "w:invalid", "w:unexpected", "w:unknown_step", "v:invalid", "v:unexpected"}},
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
