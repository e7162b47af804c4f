package flows

import (
	"slices"
	"testing"
)

func codes(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Step+":"+p.Code)
	}
	return out
}

func TestValidateGuards(t *testing.T) {
	msg := Trigger{Type: TriggerKeyword, Keywords: []string{"hi"}}
	for _, c := range []struct {
		name string
		d    Definition
		want []string
	}{
		{"fine", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "a", Type: StepAsk, Input: InputText, Var: "x", Text: "Name?"},
			{ID: "b", Type: StepSend, Text: "Hi {{vars.x}}"}}}, nil},
		{"a day's wait before a text", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "w", Type: StepWait, Duration: "2d"},
			{ID: "late", Type: StepSend, Text: "Still there?"}}}, []string{"late:outside_window"}},
		{"an answer reopens the window", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "w", Type: StepWait, Duration: "2d"},
			{ID: "q", Type: StepAsk, Input: InputText, Var: "x", Text: "Still there?"},
			{ID: "ok", Type: StepSend, Text: "Thanks"}}}, []string{"q:outside_window"}},
		{"an ask's timeout branch counts its wait", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "q", Type: StepAsk, Input: InputText, Var: "x", Text: "Name?", Timeout: "25h", OnTimeout: "nudge"},
			{ID: "end", Type: StepEnd},
			{ID: "nudge", Type: StepSend, Text: "Hello?"}}}, []string{"nudge:outside_window"}},
		{"an event starts outside the window", Definition{Triggers: []Trigger{{Type: TriggerEvent, Event: "order.created"}}, Steps: []Step{
			{ID: "s", Type: StepSend, Text: "Thanks for your order"}}}, []string{"s:outside_window"}},
		{"a loop without a wait", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "a", Type: StepSet, AddTag: "x"},
			{ID: "b", Type: StepCondition, If: &Cond{Left: "contact.tags", Op: OpHas, Right: "x"}, Then: "a"}}}, []string{"b:loop_without_wait"}},
		{"a loop through an ask is fine", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "a", Type: StepAsk, Input: InputNumber, Var: "n", Text: "How many?"},
			{ID: "b", Type: StepCondition, If: &Cond{Left: "vars.n", Op: OpGt, Right: "10"}, Then: "a"}}}, nil},
		{"unknown variable, step and bad ids", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "a", Type: StepSend, Text: "Hi {{vars.ghost}}", Next: "nowhere"},
			{ID: "A b", Type: StepEnd},
			{ID: "c", Type: StepAsk, Input: InputChoice, Var: "pick", Text: "?", Choices: []Choice{{ID: "x", Title: "X"}}}}},
			[]string{"a:unknown_variable", "a:unknown_step", "A b:invalid_id", "c:required"}},
		{"four buttons become a list, eleven are too many", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "a", Type: StepAsk, Input: InputChoice, Var: "p", Text: "?", Choices: make11()}}},
			[]string{"a:too_many"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := codes(c.d.Validate())
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Fatalf("want %s in %v", w, got)
				}
			}
			if len(c.want) == 0 && len(got) > 0 {
				t.Fatalf("unexpected problems %v", got)
			}
		})
	}
}

func make11() []Choice {
	var cs []Choice
	for i := range 11 {
		cs = append(cs, Choice{ID: string(rune('a' + i)), Title: "Option " + string(rune('A'+i))})
	}
	return cs
}

func TestAccept(t *testing.T) {
	ask := func(input string) *Step {
		return &Step{Type: StepAsk, Input: input, Choices: []Choice{{ID: "pain", Title: "Pain"}, {ID: "clean", Title: "Cleaning"}}}
	}
	for _, c := range []struct {
		input, text, reply, want string
		ok                       bool
	}{
		{InputNumber, "1.200,50 €", "", "1200.5", true},
		{InputNumber, "about ten", "", "", false},
		{InputEmail, "Mario.Rossi@Example.com", "", "mario.rossi@example.com", true},
		{InputEmail, "mario at example", "", "", false},
		{InputDate, "24/12/2026", "", "2026-12-24", true},
		{InputDate, "2026-03-29", "", "2026-03-29", true},
		{InputDate, "tomorrow", "", "", false},
		{InputPhone, "+39 347 123 4567", "", "+393471234567", true},
		{InputPhone, "call me", "", "", false},
		{InputChoice, "Cleaning", "", "clean", true},
		{InputChoice, "2", "", "clean", true},
		{InputChoice, "whatever", "pain", "pain", true},
		{InputChoice, "maybe", "", "", false},
		{InputText, "  ", "", "", false},
	} {
		got, _, ok := ask(c.input).accept(Answer{Text: c.text, ReplyID: c.reply})
		if ok != c.ok || got != c.want {
			t.Errorf("%s %q: got %q %v, want %q %v", c.input, c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestKeywordMatching(t *testing.T) {
	if foldText("  Appuntamento! ") != "appuntamento" || foldText("Café") != "cafe" {
		t.Fatal(foldText("  Appuntamento! "), foldText("Café"))
	}
	if !containsWords("vorrei un appuntamento domani", "appuntamento") || containsWords("appuntamentone", "appuntamento") {
		t.Fatal("whole words")
	}
}

// Every ready-made flow is valid as shipped.
func TestReadyFlowsAreValid(t *testing.T) {
	all, err := Ready()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 4 {
		t.Fatalf("%d ready-made flows", len(all))
	}
	for _, r := range all {
		d, err := decode(r.definition(""))
		if err != nil {
			t.Fatalf("%s: %v", r.Key, err)
		}
		if ps := d.Validate(); len(ps) > 0 {
			t.Errorf("%s: %v", r.Key, codes(ps))
		}
	}
}

func TestSplitIsStableAndWeighted(t *testing.T) {
	s := &Step{ID: "ab", Type: StepSplit, Split: []SplitBranch{{Name: "A", Weight: 80, Next: "x"}, {Name: "B", Weight: 20, Next: "y"}}}
	count := map[string]int{}
	for c := int64(1); c <= 10000; c++ {
		b := pickSplit(s, c)
		if pickSplit(s, c).Name != b.Name {
			t.Fatal("a contact changed branch")
		}
		count[b.Name]++
	}
	if count["A"] < 7700 || count["A"] > 8300 {
		t.Fatalf("80/20 split gave %v", count)
	}
	d := Definition{Triggers: []Trigger{{Type: TriggerKeyword, Keywords: []string{"x"}}}, Steps: []Step{*s,
		{ID: "x", Type: StepJump, Next: "y"}, {ID: "y", Type: StepEnd}}}
	if ps := d.Validate(); len(ps) > 0 {
		t.Fatal(codes(ps))
	}
	d.Steps[1].Next = "ab"
	if got := codes(d.Validate()); !slices.Contains(got, "x:loop_without_wait") && !slices.Contains(got, "ab:loop_without_wait") {
		t.Fatalf("a jump back to the split: %v", got)
	}
}
