package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/campaigns"
	"sendbox/config"
	"sendbox/outbound"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
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

// tagSegment returns the segment of the contacts with a tag (the rule
// "tag has ..."), made through the API the first time.
func tagSegment(t *testing.T, a *sendboxtest.App, tag string) int64 {
	t.Helper()
	return segmentOf(t, a, "Tag "+tag, map[string]any{"group": "and", "rules": []any{map[string]any{"field": "tag", "op": "has", "value": tag}}})
}

// segmentOf returns the segment of this name, made with rule through the
// API the first time.
func segmentOf(t *testing.T, a *sendboxtest.App, name string, rule map[string]any) int64 {
	t.Helper()
	code, b := a.Do("POST", "/api/v1/segments", map[string]any{"name": name, "rule": rule})
	if code == http.StatusCreated {
		return sendboxtest.JSON[struct{ Data store.Segment }](t, b).Data.ID
	}
	if code != http.StatusConflict {
		t.Fatalf("segment %s: %d %s", name, code, b)
	}
	code, b = a.Do("GET", "/api/v1/segments", nil)
	for _, g := range sendboxtest.JSON[struct{ Data []store.Segment }](t, b).Data {
		if g.Name == name {
			return g.ID
		}
	}
	t.Fatalf("segment %s: taken but not listed (%d)", name, code)
	return 0
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
	anna := addTagged(t, a, "+393331110001", "Anna Rossi", "opted_in", "vip")
	bruno := addTagged(t, a, "+393331110002", "Bruno Bianchi", "opted_in", "vip")
	addTagged(t, a, "+393331110003", "Carla", "opted_out", "vip")
	addTagged(t, a, "+12125550199", "Dave", "opted_in", "vip")
	addTagged(t, a, "+393331110005", "", "opted_in", "vip")
	addTagged(t, a, "+393331110006", "Elsa", "opted_in") // not in the audience

	in := map[string]any{"name": "Spring offer", "template": "seasonal_offer", "language": "en_US",
		"params": map[string]any{"first_name": map[string]string{"source": "first_name"},
			"code": map[string]string{"source": "text", "value": "SPRING15"}},
		"segment_id": tagSegment(t, a, "vip"), "settings": map[string]any{"quiet_hours": false}}
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
	// The customer's opt-out within 72 hours of the send (Meta's
	// preferences) is the campaign's; one set through the API is not.
	if code, b := a.PostWebhook(preferenceStop("393331110002")); code != http.StatusOK {
		t.Fatalf("opt out: %d %s", code, b)
	}
	drained(t, a)
	if code, b := a.Do("PATCH", fmt.Sprintf("/api/v1/contacts/%d", anna), map[string]any{"consent": "opted_out"}); code != http.StatusOK {
		t.Fatalf("opt out: %d %s", code, b)
	}
	f := campaignProgress(t, a, c.ID)
	if f.OptedOut != 1 {
		t.Errorf("opted out: %d", f.OptedOut)
	}
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

	// Erasing a recipient erases their row and their marketing count.
	if code, b := a.Do("DELETE", fmt.Sprintf("/api/v1/contacts/%d", bruno), nil); code != http.StatusNoContent {
		t.Fatalf("erase: %d %s", code, b)
	}
	if _, ok := recipientsOf(t, a, c.ID)["393331110002"]; ok {
		t.Error("the erased contact is still a recipient")
	}
	if n, err := a.Store.MarketingSendsSince(context.Background(), bruno, time.Time{}); err != nil || n != 0 {
		t.Errorf("marketing sends of an erased contact: %d %v", n, err)
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
		{map[string]any{"template": "seasonal_offer", "language": "en_US", "segment_id": tagSegment(t, a, "x")}, "name_required"},
		{map[string]any{"name": "x", "segment_id": tagSegment(t, a, "x")}, "template_required"},
		{map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US"}, "audience_required"},
		{map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US", "segment_id": 999}, "unknown_segment"},
		{map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US", "audience": map[string]any{"segment_id": 998}}, "unknown_segment"},
		{map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US", "segment_id": tagSegment(t, a, "x"),
			"settings": map[string]any{"cap_count": 1}}, "invalid_cap"},
		{map[string]any{"name": "x", "variants": []any{
			map[string]any{"template": "seasonal_offer", "language": "en_US", "share": 60},
			map[string]any{"template": "seasonal_offer", "language": "en_US", "share": 50}}, "segment_id": tagSegment(t, a, "x")}, "shares_over_100"},
		{map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US", "segment_id": tagSegment(t, a, "x"),
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
	// A tag is no audience of its own any more: it is a segment's rule.
	if code, b := a.Do("POST", "/api/v1/campaigns", map[string]any{"name": "x", "template": "seasonal_offer", "language": "en_US",
		"audience": map[string]any{"tag": "vip"}}); code != http.StatusBadRequest || !strings.Contains(string(b), "tag") {
		t.Errorf("audience by tag: %d %s", code, b)
	}
	// A segment deleted after the campaign was made (a draft's segment
	// cannot be deleted through sendbox: behind its back here, as a race
	// with the draft's creation could): the check and the launch say so.
	gone := tagSegment(t, a, "gone")
	goneID := createCampaign(t, a, map[string]any{"name": "Gone", "template": "seasonal_offer", "language": "en_US", "segment_id": gone})
	if code, b := a.Do("DELETE", fmt.Sprintf("/api/v1/segments/%d", gone), nil); code != http.StatusConflict {
		t.Fatalf("delete the segment of a draft: %d %s", code, b)
	}
	db, err := sql.Open("sqlite", "file:"+a.Store.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM segments WHERE id = ?`, gone); err != nil {
		t.Fatal(err)
	}
	if code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", goneID), nil); code != http.StatusOK ||
		!strings.Contains(string(b), `"segment_deleted"`) || !strings.Contains(string(b), `"segment":null`) {
		t.Errorf("check with a deleted segment: %d %s", code, b)
	}
	if code, b := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", goneID), nil); code != http.StatusUnprocessableEntity ||
		!strings.Contains(string(b), `"segment_deleted"`) {
		t.Errorf("launch with a deleted segment: %d %s", code, b)
	}
	// An empty audience and an unmapped variable: the launch says both.
	code, b := a.Do("POST", "/api/v1/campaigns", map[string]any{"name": "Nobody", "template": "seasonal_offer", "language": "en_US",
		"segment_id": tagSegment(t, a, "nobody")})
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

func createCampaign(t *testing.T, a *sendboxtest.App, in map[string]any) int64 {
	t.Helper()
	code, b := a.Do("POST", "/api/v1/campaigns", in)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	return sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data.ID
}

func campaignAction(t *testing.T, a *sendboxtest.App, id int64, action string, body any) store.Campaign {
	t.Helper()
	code, b := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/%s", id, action), body)
	if code != http.StatusOK {
		t.Fatalf("%s: %d %s", action, code, b)
	}
	return sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data
}

func campaignState(t *testing.T, a *sendboxtest.App, id int64) store.Campaign {
	t.Helper()
	code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d", id), nil)
	if code != http.StatusOK {
		t.Fatalf("get: %d %s", code, b)
	}
	return sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data
}

func offer(code string) map[string]any {
	return map[string]any{"first_name": map[string]string{"source": "first_name", "fallback": "there"},
		"code": map[string]string{"source": "text", "value": code}}
}

// TestCampaignABTest: two variants of a quarter each and a tenth held
// out; only the test groups get a message; replies favour B; deciding
// gives B (labelled not significant at this size) to everyone else, and
// the hold-out gets nothing.
func TestCampaignABTest(t *testing.T) {
	a := sendboxtest.New(t)
	const n = 60
	for i := range n {
		addTagged(t, a, fmt.Sprintf("+3933322%05d", i), fmt.Sprintf("P%d", i), "opted_in", "ab")
	}
	id := createCampaign(t, a, map[string]any{"name": "AB", "variants": []any{
		map[string]any{"name": "A", "template": "seasonal_offer", "language": "en_US", "share": 25, "params": offer("AAA")},
		map[string]any{"name": "B", "template": "seasonal_offer", "language": "en_US", "share": 25, "params": offer("BBB")}},
		"segment_id": tagSegment(t, a, "ab"),
		"settings":   map[string]any{"quiet_hours": false, "holdout_share": 10, "ab_hours": 24, "ab_min_sample": 5}})
	campaignAction(t, a, id, "launch", nil)
	var rs map[string]store.Recipient
	sendboxtest.Eventually(t, 30*time.Second, "the test groups to be sent", func() bool {
		rs = recipientsOf(t, a, id)
		waiting, sent := 0, 0
		for _, r := range rs {
			switch {
			case r.State == store.RecipientPending && r.Variant == "":
				waiting++
			case r.Variant == "A" || r.Variant == "B":
				if r.State == store.RecipientDelivered || r.State == store.RecipientRead {
					sent++
				}
			}
		}
		return len(rs) == n && waiting > 0 && sent > 0 && waiting+sent+countState(rs, store.RecipientSkipped) == n
	})
	holdout := 0
	for wa, r := range rs {
		if r.Variant == store.HoldoutVariant {
			holdout++
			if r.State != store.RecipientSkipped || r.Reason != "holdout" {
				t.Errorf("hold-out %s: %+v", wa, r)
			}
		}
		if r.Variant == "B" {
			tap(t, a, wa, "book", "Book now")
		}
	}
	if holdout == 0 {
		t.Fatal("nobody held out")
	}
	sendboxtest.Eventually(t, 10*time.Second, "the replies to count", func() bool {
		f := campaignProgress(t, a, id)
		return f.Variants["B"] != nil && f.Variants["B"].Replied == f.Variants["B"].Sent
	})
	c := campaignAction(t, a, id, "decide", nil)
	if c.Winner != "B" || c.WinnerNote == "" {
		t.Fatalf("winner %q (%s)", c.Winner, c.WinnerNote)
	}
	sendboxtest.Eventually(t, 30*time.Second, "the rest to get B", func() bool {
		f := campaignProgress(t, a, id)
		return campaignState(t, a, id).State == store.CampaignDone && f.ByState[store.RecipientQueued] == 0 &&
			f.Delivered == f.Sent && f.Sent+f.ByState[store.RecipientSkipped] == n
	})
	for wa, r := range recipientsOf(t, a, id) {
		if r.Variant == store.HoldoutVariant {
			for _, m := range a.Sim.Phone(wa, false) {
				if m.Direction == "out" {
					t.Errorf("hold-out %s got %q", wa, m.Text)
				}
			}
			continue
		}
		if r.Variant != "A" && r.Variant != "B" {
			t.Errorf("%s ended in variant %q", wa, r.Variant)
		}
		want := "code " + strings.Repeat(r.Variant, 3)
		n := 0
		for _, m := range a.Sim.Phone(wa, false) {
			if m.Direction == "out" {
				n++
				if !strings.Contains(m.Text, want) {
					t.Errorf("%s (variant %s) got %q", wa, r.Variant, m.Text)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s got %d messages", wa, n)
		}
	}
	if code, _ := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/decide", id), nil); code != http.StatusUnprocessableEntity {
		t.Errorf("second decision: %d", code)
	}
}

func countState(rs map[string]store.Recipient, state string) int {
	n := 0
	for _, r := range rs {
		if r.State == state {
			n++
		}
	}
	return n
}

// TestCampaignHeldPausedCancelled: during the quiet hours every recipient
// is held, not sent; pause and resume change the campaign's state only;
// cancel cancels every pending recipient, and nothing is ever sent.
func TestCampaignHeldPausedCancelled(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Now().In(rome)
	q := outbound.QuietHours{On: true, From: now.Add(-time.Hour).Format("15:04"), To: now.Add(2 * time.Hour).Format("15:04"), Business: rome}
	if err := outbound.SaveQuietHours(ctx, a.Store, q); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		addTagged(t, a, fmt.Sprintf("+3933344%05d", i), "Q", "opted_in", "night")
	}
	id := createCampaign(t, a, map[string]any{"name": "Night", "template": "seasonal_offer", "language": "en_US",
		"params": offer("ZZZ"), "segment_id": tagSegment(t, a, "night")})
	campaignAction(t, a, id, "launch", nil)
	sendboxtest.Eventually(t, 10*time.Second, "everyone held", func() bool {
		rs := recipientsOf(t, a, id)
		for _, r := range rs {
			if r.State != store.RecipientPending || r.DueAt.IsZero() {
				return false
			}
		}
		return len(rs) == 5
	})
	if c := campaignAction(t, a, id, "pause", nil); c.State != store.CampaignPaused {
		t.Fatalf("pause: %s", c.State)
	}
	if code, _ := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/pause", id), nil); code != http.StatusUnprocessableEntity {
		t.Errorf("pause twice: %d", code)
	}
	if c := campaignAction(t, a, id, "resume", nil); c.State != store.CampaignRunning {
		t.Fatalf("resume: %s", c.State)
	}
	if c := campaignAction(t, a, id, "cancel", nil); c.State != store.CampaignCancelled {
		t.Fatalf("cancel: %s", c.State)
	}
	if f := campaignProgress(t, a, id); f.ByState[store.RecipientCancelled] != 5 {
		t.Errorf("after cancel: %+v", f.ByState)
	}
	time.Sleep(500 * time.Millisecond)
	for i := range 5 {
		for _, m := range a.Sim.Phone(fmt.Sprintf("3933344%05d", i), false) {
			if m.Direction == "out" {
				t.Errorf("sent during the quiet hours: %q", m.Text)
			}
		}
	}
}

// TestCampaignPausedWithItsTemplate: Meta pauses the template while the
// campaign runs (its recipients held by the quiet hours): the campaign
// pauses itself and says why.
func TestCampaignPausedWithItsTemplate(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	q := outbound.QuietHours{On: true, From: now.Add(-time.Hour).Format("15:04"), To: now.Add(2 * time.Hour).Format("15:04"), Business: time.UTC}
	if err := outbound.SaveQuietHours(ctx, a.Store, q); err != nil {
		t.Fatal(err)
	}
	addTagged(t, a, "+447700900123", "Ann", "opted_in", "uk")
	id := createCampaign(t, a, map[string]any{"name": "UK", "template": "seasonal_offer", "language": "en_US",
		"params": offer("UK"), "segment_id": tagSegment(t, a, "uk")})
	campaignAction(t, a, id, "launch", nil)
	sendboxtest.Eventually(t, 10*time.Second, "the recipient held", func() bool {
		r := recipientsOf(t, a, id)["447700900123"]
		return !r.DueAt.IsZero()
	})
	tps, err := a.Store.ListTemplates(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tps {
		if tps[i].Name == "seasonal_offer" {
			tps[i].Status = "PAUSED"
		}
	}
	if err := a.Store.ReplaceTemplates(ctx, tps); err != nil {
		t.Fatal(err)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the campaign to pause", func() bool {
		c := campaignState(t, a, id)
		return c.State == store.CampaignPaused && strings.Contains(c.PausedReason, "paused the template seasonal_offer")
	})
}

// TestCampaignScheduled: a campaign scheduled two seconds ahead launches
// on its timer and sends; one scheduled and then cancelled sends nothing.
func TestCampaignScheduled(t *testing.T) {
	a := sendboxtest.New(t)
	addTagged(t, a, "+393335550001", "Gio", "opted_in", "later")
	id := createCampaign(t, a, map[string]any{"name": "Later", "template": "seasonal_offer", "language": "en_US",
		"params": offer("LATER"), "segment_id": tagSegment(t, a, "later"), "settings": map[string]any{"quiet_hours": false}})
	at := time.Now().Add(2 * time.Second)
	if c := campaignAction(t, a, id, "schedule", map[string]any{"scheduled_at": at}); c.State != store.CampaignScheduled {
		t.Fatalf("schedule: %s", c.State)
	}
	id2 := createCampaign(t, a, map[string]any{"name": "Never", "template": "seasonal_offer", "language": "en_US",
		"params": offer("NEVER"), "segment_id": tagSegment(t, a, "later"), "settings": map[string]any{"quiet_hours": false}})
	campaignAction(t, a, id2, "schedule", map[string]any{"scheduled_at": at})
	campaignAction(t, a, id2, "cancel", nil)
	if c := campaignState(t, a, id); c.State != store.CampaignScheduled {
		t.Fatalf("launched early: %s", c.State)
	}
	phoneGot(t, a, "393335550001", "code LATER")
	tms, err := a.Store.TimersOf(context.Background(), store.TimerCampaignLaunch, id)
	if err != nil || len(tms) != 1 || tms[0].State != store.TimerFired {
		t.Errorf("launch timers %+v %v", tms, err)
	}
	if tms, _ := a.Store.TimersOf(context.Background(), store.TimerCampaignLaunch, id2); len(tms) != 1 || tms[0].State != store.TimerCancelled {
		t.Errorf("the cancelled campaign's timer: %+v", tms)
	}
	if c := campaignState(t, a, id); c.StartedAt.Before(at.Add(-time.Second)) {
		t.Errorf("started at %s, scheduled for %s", c.StartedAt, at)
	}
	time.Sleep(time.Second)
	for _, m := range a.Sim.Phone("393335550001", false) {
		if strings.Contains(m.Text, "NEVER") {
			t.Error("the cancelled campaign sent")
		}
	}
}

// TestCampaignStartsAFlow: the cosmetics shop's ready-made flow started
// for every contact of the audience by a campaign (with the data its
// steps read); a reply to a campaign whose replies go to a flow starts
// that flow; an order event converts the recipient it comes from.
func TestCampaignStartsAFlow(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	code, b := a.Do("POST", "/api/v1/ready-flows/cosmetics_after_purchase", nil)
	if code != http.StatusCreated {
		t.Fatalf("ready flow: %d %s", code, b)
	}
	cosmetics := sendboxtest.JSON[struct{ Data store.Flow }](t, b).Data.ID
	publishFlow(t, a, cosmetics)
	desk := createFlow(t, a, "Reply desk", map[string]any{"steps": []any{
		map[string]any{"id": "thanks", "type": "send", "text": "Thanks for your answer, {{contact.name}}!"},
		map[string]any{"id": "done", "type": "end", "outcome": "answered"}}})
	publishFlow(t, a, desk)
	for i := range 3 {
		addTagged(t, a, fmt.Sprintf("+3933366%05d", i), fmt.Sprintf("Client%d", i), "opted_in", "buyers")
	}
	id := createCampaign(t, a, map[string]any{"name": "Buyers", "flow_id": cosmetics, "segment_id": tagSegment(t, a, "buyers"),
		"settings": map[string]any{"flow_data": map[string]string{"order_id": "SPRING", "product": "Rose serum", "tip": "at night",
			"reorder_days": "30", "reorder_url": "https://shop.example/r", "cross_sell": "Rose cream"}}})
	campaignAction(t, a, id, "launch", nil)
	for i := range 3 {
		phoneGot(t, a, fmt.Sprintf("3933366%05d", i), "SPRING")
	}
	sendboxtest.Eventually(t, 10*time.Second, "every recipient sent", func() bool {
		f := campaignProgress(t, a, id)
		return f.ByState[store.RecipientSent] == 3
	})
	for _, r := range recipientsOf(t, a, id) {
		if r.RunID == 0 || r.Reason != "flow_started" {
			t.Errorf("recipient %+v", r)
		}
	}

	// Replies to a template campaign go to the reply desk flow.
	addTagged(t, a, "+393336699999", "Zoe", "opted_in", "desk")
	id2 := createCampaign(t, a, map[string]any{"name": "Desk", "template": "seasonal_offer", "language": "en_US", "params": offer("DESK"),
		"segment_id": tagSegment(t, a, "desk"), "settings": map[string]any{"quiet_hours": false, "reply_routing": "flow",
			"reply_flow_id": desk, "conversion_event": "order.created", "conversion_hours": 24}})
	campaignAction(t, a, id2, "launch", nil)
	phoneGot(t, a, "393336699999", "code DESK")
	sendboxtest.Eventually(t, 10*time.Second, "the message delivered", func() bool {
		return campaignProgress(t, a, id2).Delivered == 1
	})
	if code, b := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": "393336699999", "type": "text",
		"text": map[string]string{"body": "Tell me more"}}); code != http.StatusCreated {
		t.Fatalf("reply: %d %s", code, b)
	}
	phoneGot(t, a, "393336699999", "Thanks for your answer, Zoe!")
	if code, b := a.Do("POST", "/api/v1/events", map[string]any{"name": "order.created", "contact": "+393336699999", "key": "Z-1",
		"data": map[string]string{"order_id": "Z-1"}}); code != http.StatusAccepted {
		t.Fatalf("event: %d %s", code, b)
	}
	f := campaignProgress(t, a, id2)
	if f.Replied != 1 || f.Converted != 1 || f.ByState[store.RecipientConverted] != 1 {
		t.Errorf("funnel %+v", f)
	}
	// The event converts nobody of the flow campaign, which does not count it.
	if f := campaignProgress(t, a, id); f.Converted != 0 {
		t.Errorf("flow campaign converted %d", f.Converted)
	}
}

// TestCampaignFailuresAndRetry: Meta refuses one recipient's message for
// good (131026) and caps another's marketing (131049): the first fails
// with the code, the second is skipped as capped by Meta, not retried;
// retry sends the failed one again, once.
func TestCampaignFailuresAndRetry(t *testing.T) {
	a := sendboxtest.New(t)
	addTagged(t, a, "+393338880001", "Ugo", "opted_in", "retry")
	addTagged(t, a, "+393338880002", "Vea", "opted_in", "retry")
	addTagged(t, a, "+393338880003", "Wim", "opted_in", "retry")
	a.Sim.InjectFault(sim.Fault{To: "393338880001", Code: 131026})
	a.Sim.InjectFault(sim.Fault{To: "393338880002", Code: 131049})
	id := createCampaign(t, a, map[string]any{"name": "Retry", "template": "seasonal_offer", "language": "en_US",
		"params": offer("R"), "segment_id": tagSegment(t, a, "retry"), "settings": map[string]any{"quiet_hours": false}})
	campaignAction(t, a, id, "launch", nil)
	sendboxtest.Eventually(t, 30*time.Second, "one failed, one capped, one delivered", func() bool {
		f := campaignProgress(t, a, id)
		return f.Failed["131026"] == 1 && f.Skipped["capped_by_meta"] == 1 && f.Delivered == 1
	})
	code, b := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/retry", id), nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"retried":1`) {
		t.Fatalf("retry: %d %s", code, b)
	}
	phoneGot(t, a, "393338880001", "code R")
	sendboxtest.Eventually(t, 30*time.Second, "the retried one delivered", func() bool {
		f := campaignProgress(t, a, id)
		return f.Delivered == 2 && len(f.Failed) == 0 && campaignState(t, a, id).State == store.CampaignDone
	})
	for _, wa := range []string{"393338880001", "393338880002"} {
		n := 0
		for _, m := range a.Sim.Phone(wa, false) {
			if m.Direction == "out" {
				n++
			}
		}
		if want := map[string]int{"393338880001": 1, "393338880002": 0}[wa]; n != want {
			t.Errorf("%s got %d messages, want %d", wa, n, want)
		}
	}
}

// TestCampaignFeedsNoFasterThanItDrains: at 10 msgs/s with half for
// campaigns, a campaign of 80 never has more than three seconds of its
// share (the floor of 20) queued ahead of the sender, and an integration's
// transactional message queued in the middle of it leaves within a second
// or two, not behind the campaign.
func TestCampaignFeedsNoFasterThanItDrains(t *testing.T) {
	const mps, n = 10, 80
	a := sendboxtest.New(t, sendboxtest.WithGraph(func() sim.Options { o := simOptions(); o.MPS = mps; return o }()),
		sendboxtest.WithConfig(func(c *config.Config) { c.WA.MPS = mps; c.WA.BulkShare = 50 }))
	for i := range n {
		addTagged(t, a, fmt.Sprintf("+3933399%05d", i), "R", "opted_in", "slow")
	}
	id := createCampaign(t, a, map[string]any{"name": "Slow", "template": "seasonal_offer", "language": "en_US",
		"params": offer("S"), "segment_id": tagSegment(t, a, "slow"), "settings": map[string]any{"quiet_hours": false}})
	campaignAction(t, a, id, "launch", nil)
	most := 0
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		most = max(most, campaignProgress(t, a, id).ByState[store.RecipientQueued])
	}
	const to = "393339899999"
	queued := time.Now()
	if code, b := a.Do("POST", "/api/v1/messages", template("+"+to)); code != http.StatusAccepted {
		t.Fatalf("send: %d %s", code, b)
	}
	var sentAt time.Time
	sendboxtest.Eventually(t, 30*time.Second, "the message to leave", func() bool {
		for _, r := range a.Sim.Stats().Recent {
			if r.To == to && r.Code == 0 {
				sentAt = r.Time
				return true
			}
		}
		return false
	})
	f := campaignProgress(t, a, id)
	t.Logf("at most %d queued ahead of the sender; a transactional message left %s after it was queued, with %d recipients still pending",
		most, sentAt.Sub(queued).Round(time.Millisecond), f.ByState[store.RecipientPending])
	if most > 20 || most == 0 {
		t.Errorf("%d queued at once", most)
	}
	if sentAt.Sub(queued) > 2*time.Second || f.ByState[store.RecipientPending] == 0 {
		t.Error("the message waited behind the campaign")
	}
	campaignAction(t, a, id, "cancel", nil)
}

// TestCampaignABDecidesOnTime: when the test's time is up the dispatcher
// decides by itself (here the owner's fallback, the figures being too
// few) and the rest of the audience gets the winner.
func TestCampaignABDecidesOnTime(t *testing.T) {
	a := sendboxtest.New(t)
	var ahead atomic.Int64 // how far the campaigns' clock is ahead
	a.Campaigns.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	for i := range 20 {
		addTagged(t, a, fmt.Sprintf("+3933355%05d", i), "T", "opted_in", "timed")
	}
	id := createCampaign(t, a, map[string]any{"name": "Timed", "variants": []any{
		map[string]any{"name": "A", "template": "seasonal_offer", "language": "en_US", "share": 30, "params": offer("AAA")},
		map[string]any{"name": "B", "template": "seasonal_offer", "language": "en_US", "share": 30, "params": offer("BBB")}},
		"segment_id": tagSegment(t, a, "timed"), "settings": map[string]any{"quiet_hours": false, "ab_hours": 2, "ab_fallback": "B"}})
	c := campaignAction(t, a, id, "launch", nil)
	if c.TestUntil.Sub(c.StartedAt).Round(time.Minute) != 2*time.Hour {
		t.Fatalf("test until %s, started %s", c.TestUntil, c.StartedAt)
	}
	time.Sleep(time.Second)
	if c := campaignState(t, a, id); c.Winner != "" {
		t.Fatalf("decided before its time: %s", c.Winner)
	}
	ahead.Store(int64(2*time.Hour + time.Minute))
	sendboxtest.Eventually(t, 30*time.Second, "the winner to reach everyone", func() bool {
		f := campaignProgress(t, a, id)
		return f.Targeted == 20 && f.Sent == 20 && f.ByState[store.RecipientQueued] == 0
	})
	c = campaignState(t, a, id)
	if c.Winner != "B" || !strings.Contains(c.WinnerNote, "fallback") {
		t.Errorf("winner %q (%s)", c.Winner, c.WinnerNote)
	}
	for wa, r := range recipientsOf(t, a, id) {
		if r.Variant != "A" && r.Variant != "B" {
			t.Errorf("%s in variant %q", wa, r.Variant)
		}
	}
}

// TestFrequencyCapAcrossSenders: with the business's cap at one marketing
// template in seven days, a customer who got one through the API is
// refused a second (422 capped), and a campaign skips them as capped
// while it sends to the others; a utility template still goes.
func TestFrequencyCapAcrossSenders(t *testing.T) {
	a := sendboxtest.New(t)
	if err := outbound.SaveFrequencyCap(context.Background(), a.Store, outbound.FrequencyCap{Count: 1, Days: 7}); err != nil {
		t.Fatal(err)
	}
	addTagged(t, a, "+393337770001", "Olga", "opted_in", "capped")
	addTagged(t, a, "+393337770002", "Pia", "opted_in", "capped")
	offerTo := func(to string) map[string]any {
		return map[string]any{"to": to, "type": "template", "template": map[string]any{"name": "seasonal_offer",
			"language": map[string]string{"code": "en_US"}, "components": []any{map[string]any{"type": "body", "parameters": []any{
				map[string]string{"type": "text", "parameter_name": "first_name", "text": "Olga"},
				map[string]string{"type": "text", "parameter_name": "code", "text": "API"}}}}}}
	}
	if code, b := a.Do("POST", "/api/v1/messages", offerTo("+393337770001")); code != http.StatusAccepted {
		t.Fatalf("first: %d %s", code, b)
	}
	if code, b := a.Do("POST", "/api/v1/messages", offerTo("+393337770001")); code != http.StatusUnprocessableEntity ||
		!strings.Contains(string(b), `"code":"capped"`) {
		t.Fatalf("second: %d %s", code, b)
	}
	if code, b := a.Do("POST", "/api/v1/messages", template("+393337770001")); code != http.StatusAccepted {
		t.Fatalf("utility: %d %s", code, b)
	}
	id := createCampaign(t, a, map[string]any{"name": "Capped", "template": "seasonal_offer", "language": "en_US",
		"params": offer("C"), "segment_id": tagSegment(t, a, "capped"), "settings": map[string]any{"quiet_hours": false}})
	code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", id), nil)
	if ck := sendboxtest.JSON[struct{ Data campaigns.Check }](t, b).Data; code != 200 || ck.Counts["capped"] != 1 {
		t.Errorf("check: %d %+v", code, ck)
	}
	campaignAction(t, a, id, "launch", nil)
	sendboxtest.Eventually(t, 30*time.Second, "one capped, one sent", func() bool {
		rs := recipientsOf(t, a, id)
		return rs["393337770001"].State == store.RecipientSkipped && rs["393337770001"].Reason == "capped" &&
			rs["393337770002"].State == store.RecipientDelivered
	})
}

// TestCampaignUsesTheTemplatesMapping: a campaign that maps none of its
// template's variables uses the mapping set on the template, and its own
// where it has one.
func TestCampaignUsesTheTemplatesMapping(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	// After the templates' first sync from the simulator, which writes them.
	sendboxtest.Eventually(t, 10*time.Second, "the templates synced", func() bool {
		_, err := a.Store.TemplateByName(ctx, "seasonal_offer", "en_US")
		return err == nil
	})
	tp, _ := a.Store.TemplateByName(ctx, "seasonal_offer", "en_US")
	if err := a.Store.SetTemplateVariables(ctx, tp.ID, store.VariableMap{"first_name": {From: "first_name", Fallback: "friend"},
		"code": {From: "text", Value: "DEFAULT"}}); err != nil {
		t.Fatal(err)
	}
	if tp, _ := a.Store.TemplateByName(ctx, "seasonal_offer", "en_US"); len(tp.VariableMap) != 2 {
		t.Fatalf("the mapping did not stick: %+v", tp)
	}
	addTagged(t, a, "+393337766001", "Rita Blu", "opted_in", "mapped")
	id := createCampaign(t, a, map[string]any{"name": "Mapped", "template": "seasonal_offer", "language": "en_US",
		"segment_id": tagSegment(t, a, "mapped"), "settings": map[string]any{"quiet_hours": false}})
	code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", id), nil)
	if ck := sendboxtest.JSON[struct{ Data campaigns.Check }](t, b).Data; code != 200 || len(ck.Problems) != 0 {
		t.Fatalf("check: %d %+v", code, ck)
	}
	campaignAction(t, a, id, "launch", nil)
	phoneGot(t, a, "393337766001", "Hi Rita, enjoy 15% off your next visit with code DEFAULT.")
	id2 := createCampaign(t, a, map[string]any{"name": "Own code", "template": "seasonal_offer", "language": "en_US",
		"params":     map[string]any{"code": map[string]string{"source": "text", "value": "OWN"}},
		"segment_id": tagSegment(t, a, "mapped"), "settings": map[string]any{"quiet_hours": false}})
	campaignAction(t, a, id2, "launch", nil)
	phoneGot(t, a, "393337766001", "Hi Rita, enjoy 15% off your next visit with code OWN.")
}
