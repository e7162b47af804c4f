package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/flows"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// visitReminder checks the contact's country and consent, sends a visit
// card (an image by link) and a link button, labels the conversation,
// asks when the visit is and waits until two seconds before it (asking
// again when the answer is no date), then takes the label off.
var visitReminder = map[string]any{
	"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{"promemoria"}}},
	"steps": []any{
		map[string]any{"id": "who", "type": "condition", "then": "card", "else": "elsewhere",
			"if": map[string]any{"all": []any{
				map[string]any{"left": "contact.country", "op": "eq", "right": "IT"},
				map[string]any{"left": "contact.consent", "op": "eq", "right": "opted_in"}}}},
		map[string]any{"id": "card", "type": "send", "media": map[string]any{"type": "image",
			"link": "https://clinic.example.com/cards/{{contact.phone}}.png", "caption": "Your visit card, {{contact.name}}"}},
		map[string]any{"id": "manage", "type": "send", "text": "Manage your visit online",
			"cta": map[string]any{"display_text": "Open", "url": "https://clinic.example.com/visit?n={{contact.phone}}"}},
		map[string]any{"id": "label", "type": "set", "add_label": "Reminder"},
		map[string]any{"id": "when", "type": "ask", "input": "text", "var": "when", "text": "When is the visit?"},
		map[string]any{"id": "wait", "type": "wait", "until_attribute": "vars.when", "offset": "-2s", "on_missing": "again"},
		map[string]any{"id": "done", "type": "set", "remove_label": "Reminder", "attribute": "reminded", "value": "yes"},
		map[string]any{"id": "end", "type": "end", "outcome": "reminded"},
		map[string]any{"id": "again", "type": "send", "text": "I could not read that date.", "next": "when"},
		map[string]any{"id": "elsewhere", "type": "end", "outcome": "elsewhere"},
	},
}

// TestFlowStepCapabilities: through the simulator, an Italian customer who
// opted in gets an image and a link button, their conversation is
// labelled, an answer that is no date goes to on_missing, and the wait
// until the date given fires at that moment less the offset, when the
// label comes off; a French customer and one without consent take the
// other branch.
func TestFlowStepCapabilities(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	if _, err := a.Store.CreateLabel(ctx, "Reminder", 2); err != nil {
		t.Fatal(err)
	}
	const it, fr, noConsent = "393471230001", "33612340002", "393471230003"
	for _, n := range []string{it, fr} {
		if _, err := a.Store.CreateContact(ctx, n, store.ContactUpdate{Name: "Giulia"}, store.ConsentOptedIn, "form", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	id := createFlow(t, a, "Visit reminder", visitReminder)
	publishFlow(t, a, id)

	customerWrites(t, a, "+"+it, "promemoria")
	phoneGot(t, a, it, "When is the visit?")
	var image, cta bool
	for _, m := range a.Sim.Phone(it, false) {
		if m.Direction != "out" {
			continue
		}
		var body struct {
			Image struct{ Link, Caption string }
		}
		json.Unmarshal(m.Body, &body)
		if m.Type == "image" && body.Image.Link == "https://clinic.example.com/cards/%2B393471230001.png" && m.Text == "Your visit card, Giulia" {
			image = true
		}
		for _, b := range m.Buttons {
			if b.Kind == "url" && b.Title == "Open" && b.URL == "https://clinic.example.com/visit?n=%2B393471230001" && m.Text == "Manage your visit online" {
				cta = true
			}
		}
	}
	if !image || !cta {
		t.Fatalf("the phone shows the image %v and the link button %v: %+v", image, cta, a.Sim.Phone(it, false))
	}
	run := runsOf(t, a, it)[0]
	conv, err := a.Store.ConversationByID(ctx, run.ConversationID)
	if err != nil || len(conv.Labels) != 1 || conv.Labels[0].Name != "Reminder" {
		t.Fatalf("the conversation's labels: %+v %v", conv, err)
	}

	customerWrites(t, a, "+"+it, "some day")
	phoneGot(t, a, it, "I could not read that date.")
	visit := time.Now().Add(6 * time.Second).Truncate(time.Second)
	customerWrites(t, a, "+"+it, visit.Format(time.RFC3339))
	var timer store.Timer
	sendboxtest.Eventually(t, 10*time.Second, "the run to wait until the visit less two seconds", func() bool {
		ts, _ := a.Store.TimersOf(ctx, store.TimerFlowRun, run.ID)
		for _, tm := range ts {
			if tm.DueAt.Equal(visit.Add(-2 * time.Second)) {
				timer = tm
				return true
			}
		}
		return false
	})
	if r, _ := a.Store.RunByID(ctx, run.ID); r.State != store.RunActive || r.Step != "wait" {
		t.Fatalf("before the moment, the run: %s at %s", r.State, r.Step)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the run to end after its wait", func() bool {
		r, err := a.Store.RunByID(ctx, run.ID)
		return err == nil && r.State == store.RunEnded && r.Outcome == "reminded"
	})
	ts, _ := a.Store.TimersOf(ctx, store.TimerFlowRun, run.ID)
	for _, tm := range ts {
		if tm.ID == timer.ID && (tm.FiredAt.Before(timer.DueAt) || tm.Lateness > 5*time.Second) {
			t.Fatalf("the timer fired at %v, due %v", tm.FiredAt, tm.DueAt)
		}
	}
	conv, _ = a.Store.ConversationByID(ctx, run.ConversationID)
	if len(conv.Labels) != 0 {
		t.Fatalf("the label is still on: %+v", conv.Labels)
	}
	tl, _ := a.Store.ConversationEvents(ctx, conv.ID)
	var labelChanges int
	for _, e := range tl {
		if e.Kind == events.ChangeLabels {
			labelChanges++
		}
	}
	if labelChanges != 2 {
		t.Fatalf("%d label changes on the timeline, want 2 (on, off)", labelChanges)
	}

	// Another country, or no consent: the other branch.
	for _, n := range []string{fr, noConsent} {
		customerWrites(t, a, "+"+n, "promemoria")
		sendboxtest.Eventually(t, 10*time.Second, n+"'s run to take the other branch", func() bool {
			runs := runsOf(t, a, n)
			return len(runs) == 1 && runs[0].State == store.RunEnded && runs[0].Outcome == "elsewhere"
		})
	}
}

// TestFlowWaitUntilMissingDate: a wait until an attribute the contact
// does not have, without on_missing, ends the run "no_date"; a date
// already past goes on at once.
func TestFlowWaitUntilMissingDate(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	def := map[string]any{
		"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{"birthday"}}},
		"steps": []any{
			map[string]any{"id": "wait", "type": "wait", "until_attribute": "last_visit", "offset": "+1d"},
			map[string]any{"id": "done", "type": "end", "outcome": "past"},
		},
	}
	id := createFlow(t, a, "Past visit", def)
	publishFlow(t, a, id)
	const none, past = "393471230011", "393471230012"
	if _, err := a.Store.CreateContact(ctx, past, store.ContactUpdate{Attributes: map[string]string{"last_visit": "2020-01-01"}},
		"", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]string{none: flows.OutcomeNoDate, past: "past"} {
		customerWrites(t, a, "+"+n, "birthday")
		sendboxtest.Eventually(t, 10*time.Second, n+"'s run to end "+want, func() bool {
			runs := runsOf(t, a, n)
			return len(runs) == 1 && runs[0].State == store.RunEnded && runs[0].Outcome == want
		})
	}
}

// TestFlowPublishChecksLabels: a set step's label must exist when the flow
// is published.
func TestFlowPublishChecksLabels(t *testing.T) {
	a := sendboxtest.New(t)
	def := map[string]any{
		"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{"vip"}}},
		"steps":    []any{map[string]any{"id": "l", "type": "set", "add_label": "VIP"}},
	}
	id := createFlow(t, a, "Label", def)
	code, body := a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/publish", id), map[string]any{})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "unknown_label") {
		t.Fatalf("publish with an unknown label: %d %s", code, body)
	}
	if _, err := a.Store.CreateLabel(context.Background(), "vip", 1); err != nil {
		t.Fatal(err)
	}
	publishFlow(t, a, id)
}
