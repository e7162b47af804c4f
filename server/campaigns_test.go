package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/campaigns"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// addTagged creates a contact with a tag through the API.
func addTagged(t *testing.T, a *sendboxtest.App, phone, name, consent string, tags ...string) int64 {
	t.Helper()
	body := map[string]any{"phone": phone, "name": name}
	if consent != "" {
		body["consent"] = consent
	}
	code, b := a.Do("POST", "/api/v1/contacts", body)
	if code != http.StatusCreated {
		t.Fatalf("contact %s: %d %s", phone, code, b)
	}
	c := sendboxtest.JSON[struct{ Data store.Contact }](t, b).Data
	if len(tags) > 0 {
		if code, b := a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/tags", c.ID), map[string]any{"add": tags}); code != http.StatusOK {
			t.Fatalf("tags: %d %s", code, b)
		}
	}
	return c.ID
}

func campaignProgress(t *testing.T, a *sendboxtest.App, id int64) store.CampaignFunnel {
	t.Helper()
	code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/progress", id), nil)
	if code != http.StatusOK {
		t.Fatalf("progress: %d %s", code, b)
	}
	return sendboxtest.JSON[struct{ Data store.CampaignFunnel }](t, b).Data
}

func recipientsOf(t *testing.T, a *sendboxtest.App, id int64) map[string]store.Recipient {
	t.Helper()
	code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/recipients?limit=1000", id), nil)
	if code != http.StatusOK {
		t.Fatalf("recipients: %d %s", code, b)
	}
	out := map[string]store.Recipient{}
	for _, r := range sendboxtest.JSON[struct{ Data []store.Recipient }](t, b).Data {
		out[r.WaID] = r
	}
	return out
}

// TestCampaignToTaggedAudience: a marketing template to the contacts
// tagged "vip": the pre-launch check says who cannot be reached and why;
// after the launch each recipient ends in one state (delivered for those
// who may get it, skipped with the reason for the others), each phone gets
// the message once with its own first name, a reply counts, and the
// recipient list exports as CSV.
func TestCampaignToTaggedAudience(t *testing.T) {
	a := sendboxtest.New(t)
	addTagged(t, a, "+393331110001", "Anna Rossi", "opted_in", "vip")
	addTagged(t, a, "+393331110002", "Bruno Bianchi", "opted_in", "vip")
	addTagged(t, a, "+393331110003", "Carla", "opted_out", "vip")
	addTagged(t, a, "+12125550199", "Dave", "opted_in", "vip")
	addTagged(t, a, "+393331110005", "", "opted_in", "vip")
	addTagged(t, a, "+393331110006", "Elsa", "opted_in") // not in the audience

	in := map[string]any{"name": "Spring offer", "template": "seasonal_offer", "language": "en_US",
		"params": map[string]any{"first_name": map[string]string{"source": "first_name"},
			"code": map[string]string{"source": "text", "value": "SPRING15"}},
		"audience": map[string]any{"tag": "vip"}, "settings": map[string]any{"quiet_hours": false}}
	code, b := a.Do("POST", "/api/v1/campaigns", in)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	c := sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data
	if c.State != store.CampaignDraft {
		t.Fatalf("state %s", c.State)
	}

	code, b = a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", c.ID), nil)
	if code != http.StatusOK {
		t.Fatalf("check: %d %s", code, b)
	}
	ck := sendboxtest.JSON[struct{ Data campaigns.Check }](t, b).Data
	if ck.Audience != 5 || len(ck.Problems) != 0 || ck.Counts["opted_out"] != 1 || ck.Counts["plus_one"] != 1 || ck.Counts["missing_variables"] != 1 {
		t.Fatalf("check: %+v", ck)
	}

	code, b = a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), nil)
	if code != http.StatusOK {
		t.Fatalf("launch: %d %s", code, b)
	}
	want := map[string]string{"393331110001": store.RecipientDelivered, "393331110002": store.RecipientDelivered,
		"393331110003": store.RecipientSkipped, "12125550199": store.RecipientSkipped, "393331110005": store.RecipientSkipped}
	reasons := map[string]string{"393331110003": "opted_out", "12125550199": "plus_one_blocked", "393331110005": "missing_variables"}
	var rs map[string]store.Recipient
	sendboxtest.Eventually(t, 30*time.Second, "every recipient in its state", func() bool {
		rs = recipientsOf(t, a, c.ID)
		for wa, st := range want {
			r := rs[wa]
			if r.State != st && !(st == store.RecipientDelivered && r.State == store.RecipientRead) {
				return false
			}
			if reasons[wa] != r.Reason {
				return false
			}
		}
		return len(rs) == 5
	})
	phoneGot(t, a, "393331110001", "Hi Anna, enjoy 15% off your next visit with code SPRING15.")
	phoneGot(t, a, "393331110002", "Hi Bruno,")
	for _, wa := range []string{"393331110003", "12125550199", "393331110005", "393331110006"} {
		for _, m := range a.Sim.Phone(wa, false) {
			if m.Direction == "out" {
				t.Errorf("%s got %q", wa, m.Text)
			}
		}
	}
	sendboxtest.Eventually(t, 10*time.Second, "the campaign to be done", func() bool {
		code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), nil)
		return code == 200 && sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data.State == store.CampaignDone
	})

	// A button reply within 72 hours: replied and clicked.
	tap(t, a, "393331110001", "book", "Book now")
	sendboxtest.Eventually(t, 10*time.Second, "the reply to count", func() bool {
		f := campaignProgress(t, a, c.ID)
		return f.Replied == 1 && f.Clicked == 1
	})
	f := campaignProgress(t, a, c.ID)
	if f.Targeted != 5 || f.Sent != 2 || f.Delivered != 2 || f.Skipped["opted_out"] != 1 || f.ByState[store.RecipientReplied] != 1 {
		t.Errorf("funnel %+v", f)
	}
	for _, wa := range []string{"393331110001", "393331110002"} {
		n := 0
		for _, m := range a.Sim.Phone(wa, false) {
			if m.Direction == "out" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s got %d messages", wa, n)
		}
	}

	req, _ := http.NewRequest("GET", a.URL()+fmt.Sprintf("/api/v1/campaigns/%d/recipients?format=csv", c.ID), nil)
	req.Header.Set("Authorization", "Bearer "+a.Key)
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	csv := sb.String()
	if !strings.HasPrefix(csv, "\xef\xbb\xbfrecipient_id,") || strings.Count(csv, "\n") != 6 || !strings.Contains(csv, "plus_one_blocked") {
		t.Errorf("csv:\n%s", csv)
	}

	// A launched campaign cannot be launched again or edited.
	if code, b := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), nil); code != http.StatusUnprocessableEntity {
		t.Errorf("second launch: %d %s", code, b)
	}
	if code, b := a.Do("PUT", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), in); code != http.StatusUnprocessableEntity {
		t.Errorf("edit after launch: %d %s", code, b)
	}
}

// TestCampaignBadInput: what cannot become a campaign is refused with a
// clear 422, and a campaign that cannot go says why before the launch.
func TestCampaignBadInput(t *testing.T) {
	a := sendboxtest.New(t)
	for _, tc := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"template": "seasonal_offer", "language": "en_US", "audience": map[string]any{"tag": "x"}}, "name_required"},
		{map[string]any{"name": "x", "audience": map[string]any{"tag": "x"}}, "template_required"},
		{map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US"}, "audience_required"},
		{map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US", "audience": map[string]any{"tag": "x"},
			"settings": map[string]any{"cap_count": 1}}, "invalid_cap"},
		{map[string]any{"name": "x", "variants": []any{
			map[string]any{"template": "seasonal_offer", "language": "en_US", "share": 60},
			map[string]any{"template": "seasonal_offer", "language": "en_US", "share": 50}}, "audience": map[string]any{"tag": "x"}}, "shares_over_100"},
		{map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US", "audience": map[string]any{"tag": "x"},
			"params": map[string]any{"code": map[string]string{"source": "sql"}}}, "invalid_source"},
	} {
		code, b := a.Do("POST", "/api/v1/campaigns", tc.body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"`+tc.code+`"`) {
			t.Errorf("%v: %d %s, want 422 %s", tc.body, code, b, tc.code)
		}
	}
	if code, _ := a.Do("POST", "/api/v1/campaigns", "not an object"); code != http.StatusBadRequest {
		t.Errorf("not JSON: %d", code)
	}
	// An empty audience and an unmapped variable: the launch says both.
	code, b := a.Do("POST", "/api/v1/campaigns", map[string]any{"name": "Nobody", "template": "seasonal_offer", "language": "en_US",
		"audience": map[string]any{"tag": "nobody"}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	id := sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data.ID
	code, b = a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", id), nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), "no contacts") || !strings.Contains(string(b), "{{first_name}}") {
		t.Errorf("launch of an empty campaign: %d %s", code, b)
	}
	code, b = a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/schedule", id), map[string]any{"scheduled_at": time.Now().Add(-time.Hour)})
	if code != http.StatusUnprocessableEntity {
		t.Errorf("schedule in the past: %d %s", code, b)
	}
	if code, _ := a.Do("GET", "/api/v1/campaigns/999/progress", nil); code != http.StatusNotFound {
		t.Errorf("unknown campaign: %d", code)
	}
}
