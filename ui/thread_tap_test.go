package ui_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"sendbox/flows"
	"sendbox/sendboxtest"
	"sendbox/whatsapp/sim"
)

// TestThreadShowsTapOnce: a flow asks with reply buttons and the customer
// taps one on the phone. The thread shows the business's question once
// with its buttons (not as a tap), and the customer's tap as a small
// "tapped the button" marker with the title once.
func TestThreadShowsTapOnce(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	def, _ := json.Marshal(flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"visita"}}},
		Steps: []flows.Step{
			{ID: "when", Type: flows.StepAsk, Input: flows.InputChoice, Var: "when", Text: "Which part of the day suits you?",
				Choices: []flows.Choice{{ID: "am", Title: "Morning"}, {ID: "pm", Title: "Evening"}}},
			{ID: "done", Type: flows.StepEnd, Outcome: "booked"},
		}})
	f, err := a.Flows.Create(ctx, "Visit", def)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Flows.Publish(ctx, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	first := say(t, a, "393401110009", "Anna", "visita")
	var tap sim.PhoneButton
	sendboxtest.Eventually(t, 30*time.Second, "the question's buttons on the phone", func() bool {
		for _, m := range a.Sim.Phone("393401110009", false) {
			if len(m.Buttons) > 0 {
				tap = m.Buttons[0]
				return true
			}
		}
		return false
	})
	if _, err := a.Sim.SendInbound(ctx, sim.Inbound{From: "393401110009", Message: tap.Reply}); err != nil {
		t.Fatal(err)
	}
	sendboxtest.Eventually(t, 30*time.Second, "the run to end", func() bool {
		rs, _ := a.Store.RunsOfFlow(ctx, f.ID, 10)
		return len(rs) == 1 && rs[0].Outcome == "booked"
	})

	b := setupOwner(t, a)
	_, page := b.get("/inbox/" + itoa(first.ConversationID))
	tags := regexp.MustCompile(`<[^>]+>`)
	msg := func(dir string) string {
		m := regexp.MustCompile(`(?s)<div class="msg `+dir+`[^"]*" id="m\d+">.*?<div class="meta">`).FindAllString(page, -1)
		if len(m) == 0 {
			t.Fatalf("no %s message in the thread:\n%s", dir, page)
		}
		return strings.Join(strings.Fields(tags.ReplaceAllString(m[len(m)-1], " ")), " ")
	}
	out, in := msg("out"), msg("in")
	if strings.Count(out, "Which part of the day suits you?") != 1 || strings.Contains(out, "Tapped") || !strings.Contains(out, "Morning Evening") {
		t.Errorf("the question reads %q", out)
	}
	if strings.Count(in, "Morning") != 1 || !strings.Contains(in, "Tapped the button Morning") {
		t.Errorf("the tap reads %q", in)
	}
}
