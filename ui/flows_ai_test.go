package ui_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sendbox/flows"
	"sendbox/sendboxtest"
)

// TestFlowEditorAIAndEventWait builds, through the editor's form, a flow
// with an ai step (a question from a variable, the answer kept, a
// hand-off when unanswered), a wait for an event with a timeout, and exit
// events; a bad event name is reported on its step; a save that changes
// nothing keeps every field.
func TestFlowEditorAIAndEventWait(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	b := setupOwner(t, a)
	id := createFlowInPanel(t, b, "Help desk")
	_, page := b.get("/flows/" + itoa(id))
	_, page = b.edit(page, id, "add:end", map[string]string{"t0.keywords": "info", "add": "ask"})
	_, page = b.edit(page, id, "add:0", map[string]string{"s0.text": "What would you like to know?", "s0.add": "ai"})
	if card := stepCard(t, page, "ai"); !strings.Contains(card, `name="s1.question"`) || !strings.Contains(card, `name="s1.on_unanswered"`) {
		t.Fatalf("the ai step's card:\n%s", card)
	}
	_, page = b.edit(page, id, "add:1", map[string]string{"s1.question": "{{vars.answer}}", "s1.var": "reply", "s1.add": "wait"})
	_, page = b.edit(page, id, "add:2", map[string]string{"s2.wait_kind": "event", "s2.until_event": "order delivered", "s2.add": "handoff"})
	if card := stepCard(t, page, "wait"); !strings.Contains(card, "event to wait for is 1 to 64") {
		t.Fatalf("the bad event name is not reported on the wait:\n%s", card)
	}
	_, page = b.edit(page, id, "save", map[string]string{"s2.until_event": "order.delivered", "s1.on_unanswered": "handoff"})
	if card := stepCard(t, page, "wait"); !strings.Contains(card, `name="s2.timeout"`) || !strings.Contains(card, `name="s2.on_event"`) {
		t.Fatalf("the wait for an event's card:\n%s", card)
	}
	resp, page := b.edit(page, id, "save", map[string]string{"s2.timeout": "14d", "s2.on_timeout": "handoff",
		"exit_on": "order.cancelled, order.refunded"})
	if resp.StatusCode != 200 {
		t.Fatalf("save: %d\n%s", resp.StatusCode, page)
	}
	f, err := a.Flows.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"info"}}},
		ExitOn:   []string{"order.cancelled", "order.refunded"},
		Steps: []flows.Step{
			{ID: "ask", Type: flows.StepAsk, Input: flows.InputText, Var: "answer", Text: "What would you like to know?"},
			{ID: "ai", Type: flows.StepAI, Question: "{{vars.answer}}", Var: "reply", OnUnanswered: "handoff"},
			{ID: "wait", Type: flows.StepWait, UntilEvent: "order.delivered", Timeout: "14d", OnTimeout: "handoff"},
			{ID: "handoff", Type: flows.StepHandoff},
		},
	}
	if !reflect.DeepEqual(*f.DraftDef, want) || len(f.Problems) != 0 {
		g, _ := json.MarshalIndent(f.DraftDef, "", " ")
		t.Fatalf("the draft: %s\nproblems: %v", g, f.Problems)
	}
	if !strings.Contains(page, `value="order.cancelled, order.refunded"`) {
		t.Fatalf("the exit events are not shown:\n%s", page)
	}
	// Saved again as shown, nothing changes.
	if resp, body := b.edit(page, id, "save", nil); resp.StatusCode != 200 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	if f, _ := a.Flows.Get(ctx, id); !reflect.DeepEqual(*f.DraftDef, want) {
		g, _ := json.MarshalIndent(f.DraftDef, "", " ")
		t.Fatalf("after a save as shown: %s", g)
	}
	// No longer waiting for an event: its timeout goes with it.
	_, _ = b.edit(page, id, "save", map[string]string{"s2.wait_kind": "duration", "s2.duration": "1h"})
	if f, _ := a.Flows.Get(ctx, id); !reflect.DeepEqual(f.DraftDef.Steps[2], flows.Step{ID: "wait", Type: flows.StepWait, Duration: "1h"}) {
		t.Fatalf("the wait made a timed one: %+v", f.DraftDef.Steps[2])
	}
}
