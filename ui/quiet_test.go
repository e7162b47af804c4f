package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sendbox/flows"
	"sendbox/outbound"
	"sendbox/sendboxtest"
)

// TestQuietHoursSetting: an admin sets the marketing quiet hours on the
// templates page; a wrong time is refused with a message and changes
// nothing; an agent cannot change them; the profile's opening hours say
// flows branch on them.
func TestQuietHoursSetting(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	setupOwner(t, a)
	admin := userBrowser(t, a, "admin")

	_, body := admin.get("/settings/templates")
	if !strings.Contains(body, "Quiet hours") || !strings.Contains(body, `name="from" type="time" required value="20:00"`) ||
		!strings.Contains(body, `name="to" type="time" required value="09:00"`) {
		t.Fatalf("the quiet hours are not on the templates page with their defaults: %s", body)
	}
	form := url.Values{"on": {"on"}, "from": {"21:30"}, "to": {"08:00"}, "sundays": {"on"}}
	if resp, body := admin.post("/settings/templates/quiet", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	q, err := outbound.LoadQuietHours(ctx, a.Store, nil)
	if err != nil || !q.On || q.From != "21:30" || q.To != "08:00" || !q.Sundays {
		t.Fatalf("stored: %+v %v", q, err)
	}
	if _, body := admin.get("/settings/templates"); !strings.Contains(body, `name="from" type="time" required value="21:30"`) ||
		!strings.Contains(body, `name="sundays" aria-describedby="quiet-hint" checked`) {
		t.Fatal("the saved quiet hours do not show")
	}

	bad := url.Values{"on": {"on"}, "from": {"21:30"}, "to": {"21:30"}}
	resp, body := admin.post("/settings/templates/quiet", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "the start and the end are the same time") {
		t.Fatalf("the same start and end: %d %s", resp.StatusCode, body)
	}
	if q, _ := outbound.LoadQuietHours(ctx, a.Store, nil); q.To != "08:00" {
		t.Fatalf("a refused form changed them: %+v", q)
	}

	agent := userBrowser(t, a, "agent")
	if resp, _ := agent.post("/settings/templates/quiet", url.Values{"from": {"20:00"}, "to": {"09:00"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent changed them: %d", resp.StatusCode)
	}
	if q, _ := outbound.LoadQuietHours(ctx, a.Store, nil); !q.On {
		t.Fatal("switched off by an agent")
	}

	// Off again: the box unticked.
	admin.post("/settings/templates/quiet", url.Values{"from": {"21:30"}, "to": {"08:00"}})
	if q, _ := outbound.LoadQuietHours(ctx, a.Store, nil); q.On {
		t.Fatal("still on")
	}

	if _, body := admin.get("/settings/profile"); !strings.Contains(body, "time.open") {
		t.Fatal("the opening hours do not say flows use them")
	}
}

// TestFlowEditorTellsQuietHours: the editor says, on a marketing template
// step and not on a utility one, that it waits for the end of the quiet
// hours (or that they are off); time.open is among the names to pick.
func TestFlowEditorTellsQuietHours(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	b := setupOwner(t, a)
	synced(t, a)
	def := flows.Definition{Triggers: []flows.Trigger{{Type: flows.TriggerEvent, Event: "order.created"}}, Steps: []flows.Step{
		{ID: "confirm", Type: flows.StepSend, Template: &flows.TemplateRef{Name: "order_confirmation", Language: "en", Params: []string{"{{event.order_id}}"}}},
		{ID: "remind", Type: flows.StepSend, Template: &flows.TemplateRef{Name: "reorder_reminder", Language: "en",
			Params: []string{"{{contact.name}}", "{{event.product}}", "{{event.url}}"}}},
	}}
	raw, _ := json.Marshal(def)
	f, err := a.Flows.Create(ctx, "Reorder", raw)
	if err != nil {
		t.Fatal(err)
	}
	_, page := b.get("/flows/" + itoa(f.ID))
	if card := stepCard(t, page, "remind"); !strings.Contains(card, "Quiet hours are off") {
		t.Fatalf("the marketing step does not tell the quiet hours are off:\n%s", card)
	}
	if card := stepCard(t, page, "confirm"); strings.Contains(card, "quiet-note") {
		t.Fatalf("the utility step tells about quiet hours:\n%s", card)
	}
	if !strings.Contains(page, `<option value="time.open">`) {
		t.Fatal("time.open is not among the names to pick")
	}
	if err := outbound.SaveQuietHours(ctx, a.Store, outbound.QuietHours{On: true, From: "20:30", To: "08:30", Sundays: true}); err != nil {
		t.Fatal(err)
	}
	_, page = b.get("/flows/" + itoa(f.ID))
	if card := stepCard(t, page, "remind"); !strings.Contains(card, "20:30 to 08:30") || !strings.Contains(card, "Nor on Sundays") {
		t.Fatalf("the marketing step does not tell the quiet hours:\n%s", card)
	}
}
