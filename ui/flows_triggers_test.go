package ui_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"sendbox/flows"
	"sendbox/sendboxtest"
)

// TestFlowEditorNewTriggers: the editor shows and saves the schedule,
// silence, contact-change and ad triggers, field by field, with their
// problems next to them and their variables in the list.
func TestFlowEditorNewTriggers(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	b := setupOwner(t, a)
	id := createFlowInPanel(t, b, "Mornings")
	_, page := b.get("/flows/" + itoa(id))
	_, page = b.edit(page, id, "add:end", map[string]string{"t0.type": "schedule", "add": "end"})
	if !strings.Contains(page, `name="t0.at"`) || !strings.Contains(page, `name="t0.days"`) {
		t.Fatalf("the schedule's fields are not shown:\n%s", page)
	}
	if !strings.Contains(page, "schedule needs its time of day") {
		t.Fatalf("the schedule's problem is not shown:\n%s", page)
	}
	vals := formValues(t, page, "flow-form")
	vals.Set("t0.at", "09:00")
	vals.Set("t0.tag", "vip")
	vals["t0.days"] = []string{"mon", "wed"}
	vals.Set("op", "save")
	req, _ := http.NewRequest("POST", a.URL()+"/flows/"+itoa(id), strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, page := b.do(req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("save: %d %s", resp.StatusCode, page)
	}
	f, err := a.Flows.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := f.DraftDef.Triggers[0]
	if got.Type != flows.TriggerSchedule || got.At != "09:00" || got.Tag != "vip" || !slices.Equal(got.Days, []string{"mon", "wed"}) || len(f.Problems) != 0 {
		t.Fatalf("saved %+v, problems %+v", got, f.Problems)
	}
	if !strings.Contains(page, `value="wed" checked`) || !strings.Contains(page, "event.date") {
		t.Fatalf("the saved schedule is not shown back:\n%s", page)
	}

	for _, c := range []struct {
		typ   string
		set   map[string]string
		check func(flows.Trigger) bool
	}{
		{"silence", map[string]string{"t0.after": "2d"}, func(t flows.Trigger) bool { return t.After == "2d" }},
		{"tag_added", map[string]string{"t0.tag": "lead"}, func(t flows.Trigger) bool { return t.Tag == "lead" }},
		{"attribute_changed", map[string]string{"t0.attribute": "status", "t0.value": "paid"},
			func(t flows.Trigger) bool { return t.Attribute == "status" && t.Value == "paid" }},
		{"ad", map[string]string{"t0.ad_ids": "120211, 120212"},
			func(t flows.Trigger) bool { return slices.Equal(t.AdIDs, []string{"120211", "120212"}) }},
	} {
		_, page = b.edit(page, id, "save", map[string]string{"t0.type": c.typ})
		if !strings.Contains(page, `<option value="`+c.typ+`" selected>`) {
			t.Fatalf("%s: not selected:\n%s", c.typ, page)
		}
		_, page = b.edit(page, id, "save", c.set)
		f, err := a.Flows.Get(ctx, id)
		if err != nil || !c.check(f.DraftDef.Triggers[0]) || len(f.Problems) != 0 {
			t.Fatalf("%s: saved %+v, problems %+v (%v)", c.typ, f.DraftDef.Triggers[0], f.Problems, err)
		}
	}
	if !strings.Contains(page, "referral.headline") {
		t.Fatalf("the ad's variables are not listed:\n%s", page)
	}
}
