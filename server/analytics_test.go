package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"sendbox/campaigns"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

func analyticsOf(t *testing.T, a *sendboxtest.App, id int64) campaigns.Analytics {
	t.Helper()
	code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/analytics", id), nil)
	if code != http.StatusOK {
		t.Fatalf("analytics: %d %s", code, b)
	}
	return sendboxtest.JSON[struct{ Data campaigns.Analytics }](t, b).Data
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestCampaignCostAndHolds: a marketing template to two Italians, a
// Frenchman and a Brazilian. Before the launch the check prices it by the
// default card (2 × 0.0691 + 0.1432) and counts the Brazilian as without
// a rate; Meta (the simulator) holds two sends for quality assessment;
// after the status webhooks the actual cost, from their pricing objects,
// equals the estimate, the holds are counted and the timeline has the
// four sends and deliveries.
func TestCampaignCostAndHolds(t *testing.T) {
	a := sendboxtest.New(t)
	addTagged(t, a, "+393331110001", "Anna", "opted_in", "vip")
	addTagged(t, a, "+393331110002", "Bruno", "opted_in", "vip")
	addTagged(t, a, "+33612345678", "Chloé", "opted_in", "vip")
	addTagged(t, a, "+5511987654321", "Duda", "opted_in", "vip")
	addTagged(t, a, "+393331110009", "Out", "opted_out", "vip") // skipped: not in the estimate

	in := map[string]any{"name": "Promo", "template": "seasonal_offer", "language": "en_US",
		"params": map[string]any{"code": map[string]string{"source": "text", "value": "X1"},
			"first_name": map[string]string{"source": "first_name"}},
		"audience": map[string]any{"tag": "vip"}, "settings": map[string]any{"quiet_hours": false}}
	code, b := a.Do("POST", "/api/v1/campaigns", in)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	c := sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data
	code, b = a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", c.ID), nil)
	if code != http.StatusOK {
		t.Fatalf("check: %d %s", code, b)
	}
	ck := sendboxtest.JSON[struct{ Data campaigns.Check }](t, b).Data
	if ck.Cost == nil || ck.Cost.Currency != "USD" || ck.Cost.Billable != 3 || !near(ck.Cost.Amount, 0.2814) ||
		ck.Cost.NoRate != 1 || strings.Join(ck.Cost.NoRateCountries, ",") != "BR" {
		t.Fatalf("estimate: %+v", ck.Cost)
	}

	a.Sim.InjectPacing(sim.Pacing{Template: "seasonal_offer", Count: 2})
	if code, b := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), nil); code != http.StatusOK {
		t.Fatalf("launch: %d %s", code, b)
	}
	var an campaigns.Analytics
	sendboxtest.Eventually(t, 30*time.Second, "four deliveries priced", func() bool {
		an = analyticsOf(t, a, c.ID)
		return an.Funnel.Delivered == 4 && an.Actual.Billable == 3 && an.Actual.Pending == 0
	})
	if !near(an.Actual.Amount, 0.2814) || an.Actual.NoRate != 1 || an.Actual.Unpriced != 0 || an.Actual.Currency != "USD" {
		t.Errorf("actual: %+v", an.Actual)
	}
	if an.Held["held_for_quality_assessment"] != 2 || len(an.Held) != 1 {
		t.Errorf("held: %v", an.Held)
	}
	// After the launch the estimate is over the recipients sent to.
	if an.Estimated.Billable != 3 || !near(an.Estimated.Amount, 0.2814) {
		t.Errorf("estimate after launch: %+v", an.Estimated)
	}
	sent, deliv := 0, 0
	for _, p := range an.Series.Points {
		sent += p.Sent
		deliv += p.Delivered
	}
	if an.Series.Bucket != "minute" || sent != 4 || deliv != 4 {
		t.Errorf("series: %+v", an.Series)
	}
	if an.Funnel.Skipped["opted_out"] != 1 {
		t.Errorf("funnel: %+v", an.Funnel)
	}
	// An opt-out after the send is listed with the campaign.
	anna, err := a.Store.ContactByRecipient(context.Background(), "393331110001", "")
	if err != nil {
		t.Fatal(err)
	}
	if code, b := a.Do("PATCH", fmt.Sprintf("/api/v1/contacts/%d", anna.ID), map[string]any{"consent": "opted_out"}); code != http.StatusOK {
		t.Fatalf("opt out: %d %s", code, b)
	}
	if an = analyticsOf(t, a, c.ID); an.Funnel.OptedOut != 1 || len(an.OptOuts) != 1 || an.OptOuts[0].ContactID != anna.ID || an.OptOuts[0].WaID != "393331110001" {
		t.Errorf("opt-outs: %d %+v", an.Funnel.OptedOut, an.OptOuts)
	}
}

// TestCampaignUtilityFreeInWindow: a utility template is free for the
// customer who wrote within 24 hours, both in the estimate and in what
// Meta's webhooks say after.
func TestCampaignUtilityFreeInWindow(t *testing.T) {
	a := sendboxtest.New(t)
	addTagged(t, a, "+393331110001", "Anna", "opted_in", "orders")
	addTagged(t, a, "+393331110002", "Bruno", "opted_in", "orders")
	if code, b := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": "393331110001", "type": "text",
		"text": map[string]any{"body": "where is my order?"}}); code != http.StatusCreated {
		t.Fatalf("inbound: %d %s", code, b)
	}
	in := map[string]any{"name": "Shipped", "template": "order_update", "language": "en_US",
		"params":   map[string]any{"1": map[string]string{"source": "text", "value": "A-1"}},
		"audience": map[string]any{"tag": "orders"}, "settings": map[string]any{"quiet_hours": false}}
	code, b := a.Do("POST", "/api/v1/campaigns", in)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	c := sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data
	var ck campaigns.Check
	sendboxtest.Eventually(t, 10*time.Second, "the inbound to open the window", func() bool {
		_, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", c.ID), nil)
		ck = sendboxtest.JSON[struct{ Data campaigns.Check }](t, b).Data
		return ck.Cost != nil && ck.Cost.Free == 1
	})
	if ck.Cost.Billable != 1 || !near(ck.Cost.Amount, 0.03) {
		t.Fatalf("estimate: %+v", ck.Cost)
	}
	if code, b := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), nil); code != http.StatusOK {
		t.Fatalf("launch: %d %s", code, b)
	}
	var an campaigns.Analytics
	sendboxtest.Eventually(t, 30*time.Second, "both delivered and priced", func() bool {
		an = analyticsOf(t, a, c.ID)
		return an.Funnel.Delivered == 2 && an.Actual.Billable+an.Actual.Free == 2
	})
	if an.Actual.Free != 1 || an.Actual.Billable != 1 || !near(an.Actual.Amount, 0.03) {
		t.Errorf("actual: %+v", an.Actual)
	}
}

// TestCampaignCostFromFixtureWebhooks: the pricing objects of real-shaped
// status webhooks (pywa's fixtures: a PMP regular marketing delivery, a
// CBP service sent) land on the campaign's message and price it.
func TestCampaignCostFromFixtureWebhooks(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{NoPairRate: true}))
	addTagged(t, a, "+4915112345678", "Dieter", "opted_in", "de")
	in := map[string]any{"name": "DE", "template": "seasonal_offer", "language": "en_US",
		"params": map[string]any{"code": map[string]string{"source": "text", "value": "X1"},
			"first_name": map[string]string{"source": "first_name"}},
		"audience": map[string]any{"tag": "de"}, "settings": map[string]any{"quiet_hours": false}}
	code, b := a.Do("POST", "/api/v1/campaigns", in)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	c := sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data
	if code, b := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), nil); code != http.StatusOK {
		t.Fatalf("launch: %d %s", code, b)
	}
	var r store.Recipient
	sendboxtest.Eventually(t, 30*time.Second, "the send to be accepted", func() bool {
		r = recipientsOf(t, a, c.ID)["4915112345678"]
		return r.State == store.RecipientSent
	})
	m, err := a.Store.MessageByID(context.Background(), r.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	an := analyticsOf(t, a, c.ID)
	if an.Actual.Unpriced != 1 || an.Actual.Billable != 0 {
		t.Fatalf("before any status: %+v", an.Actual)
	}
	post := func(file, status string) {
		t.Helper()
		raw, err := os.ReadFile("/work/shared/fixtures/whatsapp/split/" + file)
		if err != nil {
			t.Skip("fixtures not here:", err)
		}
		s := strings.NewReplacer("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", m.WAMID, "wamid.xyzxyz", m.WAMID,
			"972987654321", "4915112345678", "1750030073", fmt.Sprint(time.Now().Unix()), "1698266945", fmt.Sprint(time.Now().Unix())).Replace(string(raw))
		if code, b := a.PostWebhook([]byte(s)); code != http.StatusOK {
			t.Fatalf("webhook %s: %d %s", status, code, b)
		}
	}
	// The sent status under the old conversation-based pricing: priced,
	// not charged per message.
	post("pywa__tests__data__updates__message_status__sent.json", "sent")
	sendboxtest.Eventually(t, 10*time.Second, "the sent status's pricing", func() bool {
		an = analyticsOf(t, a, c.ID)
		return an.Actual.Unpriced == 0
	})
	if an.Actual.Billable != 0 || an.Actual.Free != 1 {
		t.Fatalf("after a CBP service sent: %+v", an.Actual)
	}
	post("pywa__history__ec7c739bde17__tests__data__updates__message_status__delivered_bsuid.json", "delivered")
	sendboxtest.Eventually(t, 10*time.Second, "the delivery to be charged", func() bool {
		an = analyticsOf(t, a, c.ID)
		return an.Actual.Billable == 1
	})
	if !near(an.Actual.Amount, 0.1365) || len(an.Actual.Lines) != 1 || an.Actual.Lines[0].Country != "DE" || an.Actual.Lines[0].Category != "marketing" {
		t.Errorf("actual: %+v", an.Actual)
	}
}

// TestRateCardAPI: the defaults with their source and date, an edit by an
// admin (relabelled as theirs), saving the same card again changes
// nothing, bad input refused with the row, viewers may read only.
func TestRateCardAPI(t *testing.T) {
	a := sendboxtest.New(t)
	code, b := a.Do("GET", "/api/v1/rate-card", nil)
	if code != http.StatusOK {
		t.Fatalf("get: %d %s", code, b)
	}
	card := sendboxtest.JSON[struct{ Data store.RateCard }](t, b).Data
	if card.Currency != "USD" || len(card.Rates) != 6 || card.Rates[5].Country != "other" || card.Rates[5].Marketing != nil {
		t.Fatalf("defaults: %+v", card)
	}
	byC := map[string]store.Rate{}
	for _, r := range card.Rates {
		byC[r.Country] = r
	}
	if it := byC["IT"]; *it.Marketing != 0.0691 || *it.Utility != 0.03 || *it.Authentication != 0.0378 ||
		!strings.Contains(it.Source, "copied on 2026-12-05") || it.SourceURL != store.MetaPricingURL || it.AsOf != "2026-12-05" {
		t.Fatalf("IT: %+v", it)
	}
	// An edit: France's marketing rate lowered, a rate for the others.
	fr := byC["FR"]
	v, o := 0.1000, 0.05
	fr.Marketing = &v
	byC["FR"] = fr
	oth := byC["other"]
	oth.Marketing, oth.Source = &o, "our guess"
	byC["other"] = oth
	card.Rates = card.Rates[:0]
	for _, k := range []string{"DE", "ES", "FR", "GB", "IT", "other"} {
		card.Rates = append(card.Rates, byC[k])
	}
	code, b = a.Do("PUT", "/api/v1/rate-card", card)
	if code != http.StatusOK {
		t.Fatalf("put: %d %s", code, b)
	}
	got := sendboxtest.JSON[struct{ Data store.RateCard }](t, b).Data
	for _, r := range got.Rates {
		switch r.Country {
		case "FR":
			if *r.Marketing != 0.1 || !strings.HasPrefix(r.Source, "edited by api key") || r.SourceURL != "" {
				t.Errorf("FR: %+v", r)
			}
		case "IT":
			if !strings.Contains(r.Source, "copied on") || !r.UpdatedAt.Equal(byC["IT"].UpdatedAt) {
				t.Errorf("IT changed: %+v", r)
			}
		case "other":
			if *r.Marketing != 0.05 || r.Source != "our guess" {
				t.Errorf("other: %+v", r)
			}
		}
	}
	// The same card again: nothing changes.
	code, b2 := a.Do("PUT", "/api/v1/rate-card", got)
	if code != http.StatusOK {
		t.Fatalf("put again: %d %s", code, b2)
	}
	if again, _ := json.Marshal(sendboxtest.JSON[struct{ Data store.RateCard }](t, b2).Data); string(again) != mustJSON(got) {
		t.Errorf("a second save changed the card:\n%s\n%s", again, mustJSON(got))
	}
	for _, bad := range []struct {
		body any
		want string
	}{
		{map[string]any{"currency": "dollars", "rates": []any{}}, "invalid_currency"},
		{map[string]any{"currency": "EUR", "rates": []any{map[string]any{"country": "XX"}}}, "invalid_country"},
		{map[string]any{"currency": "EUR", "rates": []any{map[string]any{"country": "IT", "marketing": -1}}}, "invalid_rate"},
		{map[string]any{"currency": "EUR", "rates": []any{map[string]any{"country": "IT"}, map[string]any{"country": "it"}}}, "duplicate_country"},
		{map[string]any{"currency": "EUR", "rates": []any{map[string]any{"country": "IT", "as_of": "yesterday"}}}, "invalid_date"},
	} {
		code, b := a.Do("PUT", "/api/v1/rate-card", bad.body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), bad.want) {
			t.Errorf("%v: %d %s", bad.body, code, b)
		}
	}
	if code, b := a.Do("PUT", "/api/v1/rate-card", "not a card"); code != http.StatusBadRequest {
		t.Errorf("not JSON: %d %s", code, b)
	}
	if code, _ := a.Do("GET", "/api/v1/campaigns/999/analytics", nil); code != http.StatusNotFound {
		t.Errorf("analytics of no campaign: %d", code)
	}
}
