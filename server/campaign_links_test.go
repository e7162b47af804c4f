package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestTrackedLinkCampaign: a cosmetics shop's offer with a "Shop now"
// link button whose link is sendbox's /r/{{1}}. The campaign fills it with
// each recipient's tracked link; opening it redirects to the shop's page
// and marks that recipient clicked, once; a HEAD (a link checker) is not a
// click, a forged token is not known. The funnel counts the click.
func TestTrackedLinkCampaign(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	a.Sim.SetTemplateReviewDelay(50 * time.Millisecond)
	link := a.URL() + "/r/{{1}}"
	tp := createTemplate(t, a, map[string]any{"name": "serum_offer", "language": "en", "category": "MARKETING",
		"components": []any{orderBody("Hi {{1}}, our new serum is in the shop today.", "Giulia"),
			map[string]any{"type": "BUTTONS", "buttons": []any{map[string]any{"type": "URL", "text": "Shop now",
				"url": link, "example": []string{a.URL() + "/r/abc"}}}}}})
	waitTemplate(t, a, tp.ID, "approved", func(tp store.Template) bool { return tp.Status == "APPROVED" })
	addTagged(t, a, "+393331120001", "Anna Neri", "opted_in", "serum")
	addTagged(t, a, "+393331120002", "Bruno Neri", "opted_in", "serum")
	const dest = "https://shop.example/serum?utm_source=whatsapp"
	in := map[string]any{"name": "Serum", "template": "serum_offer", "language": "en", "segment_id": tagSegment(t, a, "serum"),
		"settings": map[string]any{"quiet_hours": false},
		"params": map[string]any{"1": map[string]string{"source": "first_name"},
			"button_0": map[string]string{"source": "tracked_link", "value": "ftp://shop.example"}}}
	if code, body := a.Do("POST", "/api/v1/campaigns", in); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "invalid_url") {
		t.Fatalf("a tracked link to no web address: %d %s", code, body)
	}
	in["params"].(map[string]any)["1"] = map[string]string{"source": "tracked_link", "value": dest}
	if code, body := a.Do("POST", "/api/v1/campaigns", in); code != http.StatusUnprocessableEntity {
		t.Fatalf("a body variable as a tracked link: %d %s", code, body)
	}
	in["params"] = map[string]any{"1": map[string]string{"source": "first_name"},
		"button_0": map[string]string{"source": "tracked_link", "value": dest}}
	code, body := a.Do("POST", "/api/v1/campaigns", in)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	c := sendboxtest.JSON[struct{ Data store.Campaign }](t, body).Data
	code, body = a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", c.ID), nil)
	if code != http.StatusOK || strings.Contains(string(body), `"code":"`) {
		t.Fatalf("check: %d %s", code, body)
	}
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), nil); code != http.StatusOK {
		t.Fatalf("launch: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 30*time.Second, "both sent", func() bool { return analyticsOf(t, a, c.ID).Funnel.Sent == 2 })

	// Each recipient's message carries their own token in the button.
	rs, err := a.Store.CampaignRecipients(ctx, c.ID, store.RecipientFilter{})
	if err != nil || len(rs) != 2 {
		t.Fatalf("recipients: %v %v", rs, err)
	}
	tokens := map[int64]string{}
	for _, r := range rs {
		m, err := a.Store.MessageByID(ctx, r.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Template struct {
				Components []struct {
					Type       string
					SubType    string `json:"sub_type"`
					Index      string
					Parameters []struct{ Text string }
				}
			}
		}
		json.Unmarshal(m.Payload, &p)
		for _, comp := range p.Template.Components {
			if comp.Type == "button" && comp.SubType == "url" && comp.Index == "0" && len(comp.Parameters) == 1 {
				tokens[r.ID] = comp.Parameters[0].Text
			}
		}
	}
	if len(tokens) != 2 || tokens[rs[0].ID] == tokens[rs[1].ID] {
		t.Fatalf("tokens: %v", tokens)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	open := func(method, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, a.URL()+"/r/"+token, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	for range 2 { // a second tap is not a second click
		if code, loc := open("GET", tokens[rs[0].ID]); code != http.StatusFound || loc != dest {
			t.Fatalf("open the link: %d %q", code, loc)
		}
	}
	if code, loc := open("HEAD", tokens[rs[1].ID]); code != http.StatusFound || loc != dest {
		t.Fatalf("HEAD: %d %q", code, loc)
	}
	forged, last := tokens[rs[1].ID], "A"
	if strings.HasSuffix(forged, "A") {
		last = "B"
	}
	forged = forged[:len(forged)-1] + last
	if code, _ := open("GET", forged); code != http.StatusNotFound {
		t.Fatalf("a forged token: %d", code)
	}
	if code, _ := open("GET", "nothing"); code != http.StatusNotFound {
		t.Fatalf("no token: %d", code)
	}
	an := analyticsOf(t, a, c.ID)
	if an.Funnel.Clicked != 1 {
		t.Fatalf("clicked: %d, want 1", an.Funnel.Clicked)
	}
	// A template whose link is the shop's own cannot count taps: the check
	// says so, and how to fix it.
	other := createTemplate(t, a, map[string]any{"name": "serum_direct", "language": "en", "category": "MARKETING",
		"components": []any{orderBody("Hi {{1}}, our new serum is in the shop today.", "Giulia"),
			map[string]any{"type": "BUTTONS", "buttons": []any{map[string]any{"type": "URL", "text": "Shop now",
				"url": "https://shop.example/{{1}}", "example": []string{"https://shop.example/serum"}}}}}})
	waitTemplate(t, a, other.ID, "approved", func(tp store.Template) bool { return tp.Status == "APPROVED" })
	in["template"], in["name"] = "serum_direct", "Serum direct"
	code, body = a.Do("POST", "/api/v1/campaigns", in)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	c2 := sendboxtest.JSON[struct{ Data store.Campaign }](t, body).Data
	code, body = a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", c2.ID), nil)
	if code != http.StatusOK || !strings.Contains(string(body), "invalid_tracked_link") || !strings.Contains(string(body), link) {
		t.Fatalf("check of a tracked link on the shop's own link: %d %s", code, body)
	}

	r0, _ := a.Store.RecipientByID(ctx, rs[0].ID)
	r1, _ := a.Store.RecipientByID(ctx, rs[1].ID)
	if r0.ClickedAt.IsZero() || !r1.ClickedAt.IsZero() {
		t.Fatalf("clicked at: %v and %v", r0.ClickedAt, r1.ClickedAt)
	}
}
