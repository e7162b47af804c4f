package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sendbox/outbound"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestCampaignPanel: an owner creates a campaign from the panel (a
// template to a segment, offered with its live count), maps its
// variables, sees the pre-launch check (the segment's count now, who is
// skipped and why), and
// launches it; the detail page follows it to the end, recipient by
// recipient, and exports them; a viewer sees it and cannot launch.
func TestCampaignPanel(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	for i, consent := range []string{"opted_in", "opted_in", "opted_out"} {
		code, body := a.Do("POST", "/api/v1/contacts", map[string]any{"phone": fmt.Sprintf("+3933377%05d", i),
			"name": fmt.Sprintf("Lia%d Verdi", i), "consent": consent})
		if code != http.StatusCreated {
			t.Fatalf("contact: %d %s", code, body)
		}
		id := sendboxtest.JSON[struct{ Data store.Contact }](t, []byte(body)).Data.ID
		if code, body := a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/tags", id), map[string]any{"add": []string{"club"}}); code != 200 {
			t.Fatalf("tag: %d %s", code, body)
		}
	}
	_, page := b.get("/campaigns")
	if !strings.Contains(page, `id="campaign-no-segments"`) {
		t.Errorf("no segment yet: the form says so")
	}
	club := tagSegment(t, a, "Club", "club")
	resp, page := b.get("/campaigns")
	if resp.StatusCode != 200 || !strings.Contains(page, "No campaigns yet") || !strings.Contains(page, `value="template:seasonal_offer|en_US"`) ||
		!strings.Contains(page, fmt.Sprintf(`<option value="%d" >Club: 3 contacts now</option>`, club)) {
		t.Fatalf("list: %d %s", resp.StatusCode, page)
	}
	if resp, page := b.post("/campaigns", url.Values{"name": {""}, "send": {"template:seasonal_offer|en_US"}, "segment_id": {fmt.Sprint(club)}}); resp.StatusCode != 422 ||
		!strings.Contains(page, "Give the campaign a name") {
		t.Fatalf("no name: %d %s", resp.StatusCode, page)
	}
	if resp, page := b.post("/campaigns", url.Values{"name": {"x"}, "send": {"template:seasonal_offer|en_US"}}); resp.StatusCode != 422 ||
		!strings.Contains(page, "Choose who the campaign goes to") {
		t.Fatalf("no segment: %d %s", resp.StatusCode, page)
	}
	resp, _ = b.post("/campaigns", url.Values{"name": {"Club night"}, "send": {"template:seasonal_offer|en_US"}, "segment_id": {fmt.Sprint(club)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/campaigns/1" {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = b.get("/campaigns/1")
	for _, want := range []string{"{{first_name}}", "{{code}}", "The segment Club has 3 contacts now", "1 opted out of marketing",
		"is not mapped to a value", `id="campaign-launch"`} {
		if !strings.Contains(page, want) {
			t.Errorf("draft page lacks %q", want)
		}
	}
	// Launching with unmapped variables is refused, with the reason.
	if resp, page := b.post("/campaigns/1/launch", nil); resp.StatusCode != 422 || !strings.Contains(page, "is not mapped") {
		t.Fatalf("launch unmapped: %d", resp.StatusCode)
	}
	form := formValues(t, page, "campaign-form")
	form.Set("source.first_name", "first_name")
	form.Set("fallback.first_name", "friend")
	form.Set("source.code", "text")
	form.Set("value.code", "CLUB10")
	form.Del("quiet_hours")
	if resp, body := b.post("/campaigns/1", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	viewer := userBrowser(t, a, "viewer")
	if resp, _ := viewer.post("/campaigns/1/launch", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer launched: %d", resp.StatusCode)
	}
	if resp, body := b.post("/campaigns/1/launch", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("launch: %d %s", resp.StatusCode, body)
	}
	sendboxtest.Eventually(t, 30*time.Second, "the campaign done and delivered", func() bool {
		_, page := b.get("/campaigns/1/progress")
		return strings.Contains(page, "Done") && strings.Contains(page, "<dt>Delivered</dt><dd>2</dd>")
	})
	_, page = b.get("/campaigns/1?state=skipped")
	if !strings.Contains(page, "Lia2 Verdi") || strings.Contains(page, "Lia0 Verdi") || !strings.Contains(page, "opted_out") {
		t.Errorf("skipped filter:\n%s", page)
	}
	resp, csv := b.get("/campaigns/1/recipients.csv")
	if resp.StatusCode != 200 || strings.Count(csv, "\n") != 4 || !strings.Contains(csv, "393337700000,Lia0 Verdi,") {
		t.Errorf("csv: %d\n%s", resp.StatusCode, csv)
	}
	_, page = viewer.get("/campaigns/1")
	if !strings.Contains(page, "Club night") || strings.Contains(page, `id="campaign-cancel"`) {
		t.Errorf("viewer's page")
	}
	_, page = b.get("/campaigns")
	if !strings.Contains(page, `href="/campaigns/1">Club night</a>`) {
		t.Errorf("list after launch")
	}
	for _, m := range a.Sim.Phone("393337700000", false) {
		if m.Direction == "out" && !strings.Contains(m.Text, "Hi Lia0, enjoy 15% off your next visit with code CLUB10.") {
			t.Errorf("got %q", m.Text)
		}
	}
}

// TestCampaignPanelStartsAFlow: the new campaign form offers the published
// flows; a campaign made from one starts it for each contact of the tag.
func TestCampaignPanelStartsAFlow(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	code, body := a.Do("POST", "/api/v1/flows", map[string]any{"name": "Welcome", "definition": map[string]any{"steps": []any{
		map[string]any{"id": "hi", "type": "send", "template": map[string]any{"name": "hello_world", "language": "en_US"}},
		map[string]any{"id": "done", "type": "end", "outcome": "welcomed"}}}})
	if code != http.StatusCreated {
		t.Fatalf("flow: %d %s", code, body)
	}
	if code, body := a.Do("POST", "/api/v1/flows/1/publish", map[string]any{}); code != http.StatusOK {
		t.Fatalf("publish: %d %s", code, body)
	}
	code, body = a.Do("POST", "/api/v1/contacts", map[string]any{"phone": "+393337788001", "name": "Nico"})
	if code != http.StatusCreated {
		t.Fatalf("contact: %d %s", code, body)
	}
	id := sendboxtest.JSON[struct{ Data store.Contact }](t, []byte(body)).Data.ID
	a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/tags", id), map[string]any{"add": []string{"new"}})
	seg := tagSegment(t, a, "New", "new")
	_, page := b.get("/campaigns")
	if !strings.Contains(page, `value="flow:1"`) {
		t.Fatal("the form does not offer the flow")
	}
	resp, _ := b.post("/campaigns", url.Values{"name": {"Welcome all"}, "send": {"flow:1"}, "segment_id": {fmt.Sprint(seg)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if resp, body := b.post("/campaigns/1/launch", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("launch: %d %s", resp.StatusCode, body)
	}
	sendboxtest.Eventually(t, 30*time.Second, "the flow's message", func() bool {
		for _, m := range a.Sim.Phone("393337788001", false) {
			if m.Direction == "out" && strings.Contains(m.Text, "Welcome and congratulations") {
				return true
			}
		}
		return false
	})
	_, page = b.get("/campaigns/1")
	if !strings.Contains(page, "Starts flow 1") || !strings.Contains(page, "<dt>Sent</dt><dd>1</dd>") {
		t.Errorf("detail page:\n%s", page)
	}
}

// tagSegment makes, through the API, a segment of the contacts with a tag.
func tagSegment(t *testing.T, a *sendboxtest.App, name, tag string) int64 {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/segments", map[string]any{"name": name,
		"rule": map[string]any{"group": "and", "rules": []any{map[string]any{"field": "tag", "op": "has", "value": tag}}}})
	if code != http.StatusCreated {
		t.Fatalf("segment: %d %s", code, body)
	}
	return sendboxtest.JSON[struct{ Data store.Segment }](t, []byte(body)).Data.ID
}

// TestCampaignPanelABVariants: the new campaign form makes an A/B test
// (a second template, the shares, the winner's metric, the decision time,
// the minimum sample, the fallback, a hold-out), the draft's form shows
// it and changes it, and removing the second template makes it a single
// message again; shares over 100 % are refused with the reason.
func TestCampaignPanelABVariants(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	seg := tagSegment(t, a, "Everyone tagged", "ab")
	form := url.Values{"name": {"Spring test"}, "send": {"template:seasonal_offer|en_US"}, "segment_id": {fmt.Sprint(seg)},
		"ab_share.0": {"40"}, "ab_template.1": {"order_update|en_US"}, "ab_share.1": {"40"}, "ab_metric": {"click"},
		"ab_hours": {"6"}, "ab_min_sample": {"50"}, "ab_fallback": {"B"}, "holdout_share": {"20"}}
	over := url.Values{}
	for k, v := range form {
		over[k] = v
	}
	over.Set("ab_share.1", "70")
	if resp, page := b.post("/campaigns", over); resp.StatusCode != 422 || !strings.Contains(page, "add up to more than 100") ||
		!strings.Contains(page, `value="order_update|en_US" selected`) {
		t.Fatalf("shares over 100: %d %s", resp.StatusCode, page)
	}
	resp, _ := b.post("/campaigns", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/campaigns/1" {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	c, err := a.Store.CampaignByID(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct {
		Name, Template, Language string
		Share                    int
	}
	var st map[string]any
	json.Unmarshal(c.Variants, &vs)
	json.Unmarshal(c.Settings, &st)
	if len(vs) != 2 || vs[0].Name != "A" || vs[0].Template != "seasonal_offer" || vs[0].Share != 40 || vs[1].Name != "B" ||
		vs[1].Template != "order_update" || vs[1].Share != 40 || st["ab_metric"] != "click" || st["ab_hours"] != 6.0 ||
		st["ab_min_sample"] != 50.0 || st["ab_fallback"] != "B" || st["holdout_share"] != 20.0 {
		t.Fatalf("stored %s %s", c.Variants, c.Settings)
	}
	_, page := b.get("/campaigns/1")
	for _, want := range []string{"A/B test of 2 variants", `value="order_update|en_US" selected`, `name="ab_share.1" type="number" min="0" max="100" value="40"`,
		`<option value="click" selected>`, `<option value="B" selected>`, `name="holdout_share" type="number" min="0" max="50" value="20"`} {
		if !strings.Contains(page, want) {
			t.Errorf("draft page lacks %q", want)
		}
	}
	edit := formValues(t, page, "campaign-form")
	edit.Set("ab_hours", "8")
	if resp, body := b.post("/campaigns/1", edit); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	c, _ = a.Store.CampaignByID(context.Background(), 1)
	if !strings.Contains(string(c.Settings), `"ab_hours":8`) || !strings.Contains(string(c.Variants), "order_update") {
		t.Errorf("after the edit: %s %s", c.Variants, c.Settings)
	}
	edit.Set("ab_template.1", "")
	if resp, body := b.post("/campaigns/1", edit); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	c, _ = a.Store.CampaignByID(context.Background(), 1)
	if json.Unmarshal(c.Variants, &vs); len(vs) != 1 || vs[0].Template != "seasonal_offer" {
		t.Errorf("one variant again: %s", c.Variants)
	}
}

// TestFrequencyCapSetting: an admin sets the business's marketing
// frequency cap on the templates page; a half-filled cap is refused with
// the reason; an agent cannot change it.
func TestFrequencyCapSetting(t *testing.T) {
	a := sendboxtest.New(t)
	setupOwner(t, a)
	admin := userBrowser(t, a, "admin")
	if _, body := admin.get("/settings/templates"); !strings.Contains(body, "Frequency cap") || !strings.Contains(body, `id="cap-count" name="count" type="number" min="0" max="100" value="0"`) {
		t.Fatal("the cap is not on the templates page")
	}
	if resp, body := admin.post("/settings/templates/cap", url.Values{"count": {"2"}, "days": {"7"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	if f, err := outbound.LoadFrequencyCap(context.Background(), a.Store); err != nil || f.Count != 2 || f.Days != 7 {
		t.Fatalf("stored %+v %v", f, err)
	}
	if resp, body := admin.post("/settings/templates/cap", url.Values{"count": {"2"}, "days": {"0"}}); resp.StatusCode != 422 ||
		!strings.Contains(body, "frequency cap: a number of marketing messages") {
		t.Fatalf("half a cap: %d", resp.StatusCode)
	}
	agent := userBrowser(t, a, "agent")
	if resp, _ := agent.post("/settings/templates/cap", url.Values{"count": {"0"}, "days": {"0"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent changed it: %d", resp.StatusCode)
	}
	if f, _ := outbound.LoadFrequencyCap(context.Background(), a.Store); f.Count != 2 {
		t.Fatalf("changed: %+v", f)
	}
}

// TestCampaignPanelTrackedLink: a template whose link button ends in
// sendbox's /r/{{1}} shows the button's row in the campaign form, with the
// link it needs; mapped to a tracked link, the draft's check is clean.
func TestCampaignPanelTrackedLink(t *testing.T) {
	a := sendboxtest.New(t)
	a.Sim.SetTemplateReviewDelay(50 * time.Millisecond)
	b := setupOwner(t, a)
	ctx := context.Background()
	code, body := a.Do("POST", "/api/v1/templates", map[string]any{"name": "serum_offer", "language": "en", "category": "MARKETING",
		"components": []any{
			map[string]any{"type": "BODY", "text": "Hi {{1}}, our new serum is in the shop today.",
				"example": map[string]any{"body_text": [][]string{{"Giulia"}}}},
			map[string]any{"type": "BUTTONS", "buttons": []any{map[string]any{"type": "URL", "text": "Shop now",
				"url": a.URL() + "/r/{{1}}", "example": []string{a.URL() + "/r/abc"}}}}}})
	if code != http.StatusCreated {
		t.Fatalf("template: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the template approved", func() bool {
		tp, err := a.Store.TemplateByName(ctx, "serum_offer", "en")
		return err == nil && tp.Status == "APPROVED"
	})
	code, body = a.Do("POST", "/api/v1/contacts", map[string]any{"phone": "+393337700001", "name": "Lia Verdi", "consent": "opted_in"})
	if code != http.StatusCreated {
		t.Fatalf("contact: %d %s", code, body)
	}
	id := sendboxtest.JSON[struct{ Data store.Contact }](t, []byte(body)).Data.ID
	a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/tags", id), map[string]any{"add": []string{"serum"}})
	seg := tagSegment(t, a, "Serum", "serum")
	resp, _ := b.post("/campaigns", url.Values{"name": {"Serum"}, "send": {"template:serum_offer|en"}, "segment_id": {fmt.Sprint(seg)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	where := resp.Header.Get("Location")
	_, page := b.get(where)
	for _, want := range []string{"End of the link of the button Shop now", `name="source.button_0"`, `value="tracked_link"`,
		html.EscapeString(a.URL() + "/r/{{1}}")} {
		if !strings.Contains(page, want) {
			t.Errorf("draft page lacks %q", want)
		}
	}
	form := formValues(t, page, "campaign-form")
	form.Set("source.1", "first_name")
	form.Set("fallback.1", "friend")
	form.Set("source.button_0", "tracked_link")
	form.Set("value.button_0", "https://shop.example/serum")
	if resp, page := b.post(where, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, page)
	}
	_, page = b.get(where)
	if strings.Contains(page, "is not mapped") || strings.Contains(page, "tracked link needs") || !strings.Contains(page, "https://shop.example/serum") {
		t.Fatalf("the draft after mapping the link: %s", page)
	}
}
