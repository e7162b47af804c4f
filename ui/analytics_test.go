package ui_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// TestCampaignAnalyticsPanel: the draft's pre-launch check shows the
// estimate (two Italians, one Brazilian without a rate); once launched,
// the page's analytics section has the funnel and the timeline as SVG
// (well-formed, labelled), the cost estimated and actual side by side,
// the messages Meta held, and the opt-outs.
func TestCampaignAnalyticsPanel(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	for _, phone := range []string{"+393331110001", "+393331110002", "+5511987654321"} {
		code, body := a.Do("POST", "/api/v1/contacts", map[string]any{"phone": phone, "name": "Lia Verdi", "consent": "opted_in"})
		if code != http.StatusCreated {
			t.Fatalf("contact: %d %s", code, body)
		}
		id := sendboxtest.JSON[struct{ Data store.Contact }](t, body).Data.ID
		if code, body := a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/tags", id), map[string]any{"add": []string{"club"}}); code != 200 {
			t.Fatalf("tag: %d %s", code, body)
		}
	}
	code, body := a.Do("POST", "/api/v1/campaigns", map[string]any{"name": "Club", "template": "seasonal_offer", "language": "en_US",
		"params":   map[string]any{"code": map[string]string{"source": "text", "value": "X1"}, "first_name": map[string]string{"source": "first_name"}},
		"audience": map[string]any{"tag": "club"}, "settings": map[string]any{"quiet_hours": false}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	id := sendboxtest.JSON[struct{ Data store.Campaign }](t, body).Data.ID
	_, page := b.get(fmt.Sprintf("/campaigns/%d", id))
	for _, want := range []string{"Estimated cost: 0.1382 USD for 2 charged messages", "1 recipients in countries without a rate (BR)", `href="/settings/rate-card"`} {
		if !strings.Contains(page, want) {
			t.Errorf("draft page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="campaign-analytics"`) {
		t.Error("a draft shows analytics")
	}
	a.Sim.InjectPacing(sim.Pacing{Template: "seasonal_offer", Status: "paused"})
	if resp, _ := b.post(fmt.Sprintf("/campaigns/%d/launch", id), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("launch: %d", resp.StatusCode)
	}
	sendboxtest.Eventually(t, 30*time.Second, "the actual cost on the page", func() bool {
		_, page = b.get(fmt.Sprintf("/campaigns/%d", id))
		return strings.Contains(page, `<td id="cost-actual">0.1382 USD</td>`)
	})
	for _, want := range []string{`id="campaign-analytics"`, `<td id="cost-estimated">0.1382 USD</td>`, "Paused: 1",
		"0 recipients opted out within 72 hours", `aria-labelledby="funnel-1-t funnel-1-d"`, `aria-labelledby="series-1-t series-1-d"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1) {
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("SVG not well-formed: %v\n%s", err, svg)
		}
	}
}

// TestRateCardPanel: Settings → Rate card shows the defaults with their
// source, date and Meta's page; an admin changes a rate and adds a
// country; a rate that is not a number is refused with the row; only
// admins see the page.
func TestRateCardPanel(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	resp, page := b.get("/settings/rate-card")
	if resp.StatusCode != 200 {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	for _, want := range []string{"Meta&#39;s USD rate card as copied on 2026-12-05, verify on Meta&#39;s pricing page",
		`href="https://developers.facebook.com/docs/whatsapp/pricing"`, `value="0.0691"`, `value="0.1432"`, `value="other"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	form := formValues(t, page, "ratecard-form")
	// The rows are DE, ES, FR, GB, IT, other, then the empty new row.
	if form.Get("country.2") != "FR" || form.Get("country.6") != "" {
		t.Fatalf("form rows: %v", form)
	}
	form.Set("marketing.2", "0,1")
	form.Set("country.6", "pt")
	form.Set("marketing.6", "0.0685")
	if resp, page := b.post("/settings/rate-card", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, page)
	}
	code, body := a.Do("GET", "/api/v1/rate-card", nil)
	card := sendboxtest.JSON[struct{ Data store.RateCard }](t, body).Data
	got := map[string]store.Rate{}
	for _, r := range card.Rates {
		got[r.Country] = r
	}
	if code != 200 || len(card.Rates) != 7 || *got["FR"].Marketing != 0.1 || *got["PT"].Marketing != 0.0685 ||
		got["FR"].Source != "edited by Owner" || !strings.Contains(got["IT"].Source, "copied on") {
		t.Fatalf("card after the form: %+v", card)
	}
	form.Set("utility.0", "cheap")
	if resp, page := b.post("/settings/rate-card", form); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "&#34;cheap&#34; is not a rate (DE)") {
		t.Fatalf("bad number: %d", resp.StatusCode)
	}
	form.Set("utility.0", "")
	form.Set("country.6", "ZZ")
	if resp, page := b.post("/settings/rate-card", form); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "is not a country sendbox knows") {
		t.Fatalf("bad country: %d", resp.StatusCode)
	}
	v := userBrowser(t, a, "viewer")
	if resp, _ := v.get("/settings/rate-card"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer: %d", resp.StatusCode)
	}
}
