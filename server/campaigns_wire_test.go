package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// preferenceStop is Meta's user_preferences webhook: the customer stopped
// marketing messages from WhatsApp's own menu.
func preferenceStop(waID string) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"user_preferences","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},
		"contacts":[{"wa_id":%q}],
		"user_preferences":[{"wa_id":%q,"category":"marketing_messages","value":"stop","timestamp":%d}]}}]}]}`, waID, waID, time.Now().Unix()))
}

// ledgerOf reads a contact's consent ledger through the API, newest first.
func ledgerOf(t *testing.T, a *sendboxtest.App, contactID int64) []store.ConsentRecord {
	t.Helper()
	code, b := a.Do("GET", fmt.Sprintf("/api/v1/contacts/%d/consent", contactID), nil)
	if code != http.StatusOK {
		t.Fatalf("ledger: %d %s", code, b)
	}
	return sendboxtest.JSON[struct {
		Data struct{ Records []store.ConsentRecord }
	}](t, b).Data.Records
}

// proofCampaign is the campaign an opt-out record's proof names, or 0.
func proofCampaign(t *testing.T, r store.ConsentRecord) int64 {
	t.Helper()
	var p struct {
		CampaignID int64 `json:"campaign_id"`
	}
	if len(r.Proof) > 0 {
		if err := json.Unmarshal(r.Proof, &p); err != nil {
			t.Fatalf("proof %s: %v", r.Proof, err)
		}
	}
	return p.CampaignID
}

// TestCampaignOptOutsAttributed: customers who stop marketing after a
// campaign's message, by keyword, by WhatsApp's preferences or as Meta's
// 131050 on the message itself, are the campaign's opt-outs: each ledger
// record names the campaign (a keyword as a campaign reply), and the
// campaign counts them. A keyword from someone the campaign never wrote
// to is a plain keyword.
func TestCampaignOptOutsAttributed(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ada := addTagged(t, a, "+393337710001", "Ada", "opted_in", "stopper")
	ben := addTagged(t, a, "+393337710002", "Ben", "opted_in", "stopper")
	cy := addTagged(t, a, "+393337710003", "Cy", "opted_in", "stopper")
	dan := addTagged(t, a, "+393337710004", "Dan", "opted_in")
	a.Sim.InjectFault(sim.Fault{To: "393337710003", Code: 131050})
	id := createCampaign(t, a, map[string]any{"name": "Stoppers", "template": "seasonal_offer", "language": "en_US",
		"params": offer("STOP"), "segment_id": tagSegment(t, a, "stopper"), "settings": map[string]any{"quiet_hours": false}})
	campaignAction(t, a, id, "launch", nil)
	sendboxtest.Eventually(t, 30*time.Second, "two delivered and Meta's 131050", func() bool {
		f := campaignProgress(t, a, id)
		return f.Delivered == 2 && f.Skipped["opted_out"] == 1
	})

	inbound(t, a, "393337710001", "STOP")
	if code, b := a.PostWebhook(preferenceStop("393337710002")); code != http.StatusOK {
		t.Fatalf("preferences: %d %s", code, b)
	}
	inbound(t, a, "393337710004", "STOP")
	sendboxtest.Eventually(t, 20*time.Second, "the three opt-outs attributed", func() bool {
		return campaignProgress(t, a, id).OptedOut == 3
	})
	for _, tc := range []struct {
		contact int64
		source  string
		inCamp  bool
	}{
		{ada, store.ConsentSourceCampaignReply, true},
		{ben, store.ConsentSourcePreferences, true},
		{cy, store.ConsentSourceMeta131050, true},
		{dan, store.ConsentSourceKeyword, false},
	} {
		var stop *store.ConsentRecord
		sendboxtest.Eventually(t, 20*time.Second, "the opt-out recorded", func() bool {
			for _, r := range ledgerOf(t, a, tc.contact) {
				if r.Status == store.ConsentOptedOut {
					stop = &r
					return true
				}
			}
			return false
		})
		got := proofCampaign(t, *stop)
		if stop.Source != tc.source || (got == id) != tc.inCamp || (got != 0) != tc.inCamp {
			t.Errorf("contact %d: opt-out from %s naming campaign %d (proof %s), want %s in the campaign: %v",
				tc.contact, stop.Source, got, stop.Proof, tc.source, tc.inCamp)
		}
	}
	// The chain still verifies with the campaign in the proofs, and the
	// same keyword again counts nothing twice.
	if code, b := a.Do("GET", "/api/v1/consent/verify", nil); code != http.StatusOK || !json.Valid(b) ||
		!sendboxtest.JSON[struct{ Data store.LedgerCheck }](t, b).Data.OK {
		t.Errorf("verify: %d %s", code, b)
	}
	inbound(t, a, "393337710001", "STOP")
	time.Sleep(300 * time.Millisecond)
	if f := campaignProgress(t, a, id); f.OptedOut != 3 {
		t.Errorf("opted out %d after a second STOP", f.OptedOut)
	}
}

// TestCampaignConversionOnce: a business event (POST /api/v1/events)
// converts the recipient of the campaign that counts it, within its
// window; the same event again (same key) converts nothing more, another
// event name converts nothing, and a contact the campaign did not write to
// is not converted.
func TestCampaignConversionOnce(t *testing.T) {
	a := sendboxtest.New(t)
	addTagged(t, a, "+393337720001", "Eva", "opted_in", "conv")
	addTagged(t, a, "+393337720002", "Fio", "opted_in")
	id := createCampaign(t, a, map[string]any{"name": "Conv", "template": "seasonal_offer", "language": "en_US",
		"params": offer("C"), "segment_id": tagSegment(t, a, "conv"), "settings": map[string]any{"quiet_hours": false,
			"conversion_event": "order.created", "conversion_hours": 48}})
	campaignAction(t, a, id, "launch", nil)
	sendboxtest.Eventually(t, 30*time.Second, "delivered", func() bool { return campaignProgress(t, a, id).Delivered == 1 })

	event := func(name, phone, key string) {
		t.Helper()
		if code, b := a.Do("POST", "/api/v1/events", map[string]any{"name": name, "contact": phone, "key": key}); code != http.StatusAccepted {
			t.Fatalf("event: %d %s", code, b)
		}
	}
	event("order.shipped", "+393337720001", "S-1")
	event("order.created", "+393337720002", "F-1")
	if f := campaignProgress(t, a, id); f.Converted != 0 {
		t.Fatalf("converted %d by another event or another contact", f.Converted)
	}
	event("order.created", "+393337720001", "E-1")
	rs := recipientsOf(t, a, id)
	first := rs["393337720001"]
	if first.State != store.RecipientConverted || first.ConvertedAt.IsZero() {
		t.Fatalf("after the order: %+v", first)
	}
	event("order.created", "+393337720001", "E-1")
	event("order.created", "+393337720001", "E-2")
	f := campaignProgress(t, a, id)
	again := recipientsOf(t, a, id)["393337720001"]
	if f.Converted != 1 || f.ByState[store.RecipientConverted] != 1 || !again.ConvertedAt.Equal(first.ConvertedAt) {
		t.Errorf("after the same order again and a second one: %+v, converted at %s then %s", f, first.ConvertedAt, again.ConvertedAt)
	}
}

// TestSegmentByCampaignEngagement: segments over campaign engagement read
// the real recipients of real campaigns: who read, replied to and clicked
// campaign X, or any campaign, counted and listed through the API.
func TestSegmentByCampaignEngagement(t *testing.T) {
	a := sendboxtest.New(t)
	for i, n := range []string{"Gia", "Hal", "Ivo", "Jo"} {
		addTagged(t, a, fmt.Sprintf("+39333773000%d", i+1), n, "opted_in", "engage")
	}
	addTagged(t, a, "+393337730009", "Kai", "opted_in", "other")
	x := createCampaign(t, a, map[string]any{"name": "X", "template": "seasonal_offer", "language": "en_US",
		"params": offer("X"), "segment_id": tagSegment(t, a, "engage"), "settings": map[string]any{"quiet_hours": false}})
	y := createCampaign(t, a, map[string]any{"name": "Y", "template": "seasonal_offer", "language": "en_US",
		"params": offer("Y"), "segment_id": tagSegment(t, a, "other"), "settings": map[string]any{"quiet_hours": false}})
	campaignAction(t, a, x, "launch", nil)
	campaignAction(t, a, y, "launch", nil)
	sendboxtest.Eventually(t, 30*time.Second, "every message delivered", func() bool {
		return campaignProgress(t, a, x).Delivered == 4 && campaignProgress(t, a, y).Delivered == 1
	})
	a.Sim.Phone("393337730001", true) // Gia reads
	a.Sim.Phone("393337730002", true) // Hal reads and answers by a button
	tap(t, a, "393337730002", "book", "Book now")
	// Ivo answers without reading in the app.
	if code, b := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": "393337730003", "type": "text",
		"text": map[string]string{"body": "how much?"}}); code != http.StatusCreated {
		t.Fatalf("reply: %d %s", code, b)
	}
	a.Sim.Phone("393337730009", true) // Kai reads Y
	sendboxtest.Eventually(t, 20*time.Second, "the engagement recorded", func() bool {
		fx, fy := campaignProgress(t, a, x), campaignProgress(t, a, y)
		return fx.Read >= 2 && fx.Replied == 2 && fx.Clicked == 1 && fy.Read == 1
	})

	n := 0
	members := func(rule map[string]any) []string {
		t.Helper()
		n++
		code, b := a.Do("POST", "/api/v1/segments", map[string]any{"name": fmt.Sprint("engaged ", n), "rule": rule})
		if code != http.StatusCreated {
			t.Fatalf("segment %v: %d %s", rule, code, b)
		}
		seg := sendboxtest.JSON[struct {
			Data struct {
				ID    int64 `json:"id"`
				Count int   `json:"count"`
			}
		}](t, b).Data
		code, b = a.Do("GET", fmt.Sprintf("/api/v1/segments/%d/contacts", seg.ID), nil)
		if code != http.StatusOK {
			t.Fatalf("members: %d %s", code, b)
		}
		var names []string
		for _, c := range sendboxtest.JSON[struct{ Data []store.Contact }](t, b).Data {
			names = append(names, c.Name)
		}
		if len(names) != seg.Count {
			t.Errorf("%v: count %d, members %v", rule, seg.Count, names)
		}
		return names
	}
	cond := func(op string, campaign int64) map[string]any {
		return map[string]any{"field": "campaign", "op": op, "campaign_id": campaign}
	}
	set := func(names ...string) string { return fmt.Sprint(slices.Sorted(slices.Values(names))) }
	for _, tc := range []struct {
		rule map[string]any
		want []string
	}{
		{cond("replied", x), []string{"Hal", "Ivo"}},
		{cond("clicked", x), []string{"Hal"}},
		{cond("read", 0), []string{"Gia", "Hal", "Kai"}},
		{cond("delivered", y), []string{"Kai"}},
		{map[string]any{"group": "and", "rules": []any{cond("delivered", x),
			map[string]any{"group": "not", "rules": []any{cond("replied", 0)}}}}, []string{"Gia", "Jo"}},
	} {
		got := members(tc.rule)
		// Ivo's answer may carry a read receipt of the campaign with it.
		if op := tc.rule["op"]; op == "read" && set(got...) == set("Gia", "Hal", "Ivo", "Kai") {
			continue
		}
		if set(got...) != set(tc.want...) {
			t.Errorf("%v: %v, want %v", tc.rule, got, tc.want)
		}
	}
}

// TestCosmeticsCampaignForASegment: the "done when", end to end.
// The shop's orders arrive as events; a segment picks who bought in the
// last 30 days and may get marketing; a campaign starts the ready-made
// cosmetics flow for exactly them (the pre-launch check counts them and
// names the segment); each gets the flow's first message; a later order
// converts the campaign's recipient, and a segment of the converted finds
// them.
func TestCosmeticsCampaignForASegment(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	buyers := []string{"+393337740001", "+393337740002", "+393337740003"}
	for i, p := range buyers {
		addTagged(t, a, p, fmt.Sprintf("Buyer%d", i), "opted_in")
	}
	addTagged(t, a, "+393337740008", "Stopped", "opted_out") // bought, said no to marketing
	addTagged(t, a, "+393337740009", "Browser", "opted_in")  // never bought
	order := func(phone, key string) map[string]any {
		t.Helper()
		code, b := a.Do("POST", "/api/v1/events", map[string]any{"name": "order.created", "contact": phone, "key": key,
			"data": map[string]string{"order_id": key}})
		if code != http.StatusAccepted {
			t.Fatalf("order: %d %s", code, b)
		}
		return sendboxtest.JSON[struct{ Data map[string]any }](t, b).Data
	}
	for i, p := range append(buyers, "+393337740008") {
		order(p, fmt.Sprintf("W-%d", i))
	}

	rule := map[string]any{"group": "and", "rules": []any{
		map[string]any{"field": "event", "op": "occurred", "key": "order.created", "days": 30},
		map[string]any{"field": "consent", "op": "is", "value": "opted_in"}}}
	code, b := a.Do("POST", "/api/v1/segments/count", map[string]any{"rule": rule})
	if code != http.StatusOK || !strings.Contains(string(b), `"count":3`) {
		t.Fatalf("live count: %d %s", code, b)
	}
	seg := segmentOf(t, a, "Recent buyers", rule)

	code, b = a.Do("POST", "/api/v1/ready-flows/cosmetics_after_purchase", nil)
	if code != http.StatusCreated {
		t.Fatalf("ready flow: %d %s", code, b)
	}
	cosmetics := sendboxtest.JSON[struct{ Data store.Flow }](t, b).Data.ID
	publishFlow(t, a, cosmetics)
	id := createCampaign(t, a, map[string]any{"name": "Spring care", "flow_id": cosmetics, "segment_id": seg,
		"settings": map[string]any{"conversion_event": "order.created", "conversion_hours": 72,
			"flow_data": map[string]string{"order_id": "SPRING-CARE", "product": "Rose serum", "tip": "at night",
				"reorder_days": "30", "reorder_url": "https://shop.example/r", "cross_sell": "Rose cream"}}})
	code, b = a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/check", id), nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"audience":3`) || !strings.Contains(string(b), `"name":"Recent buyers"`) ||
		!strings.Contains(string(b), `"problems":[]`) {
		t.Fatalf("check: %d %s", code, b)
	}
	campaignAction(t, a, id, "launch", nil)
	for _, p := range buyers {
		phoneGot(t, a, strings.TrimPrefix(p, "+"), "SPRING-CARE")
	}
	sendboxtest.Eventually(t, 10*time.Second, "every recipient's flow started", func() bool {
		f := campaignProgress(t, a, id)
		return f.ByState[store.RecipientSent] == 3 && f.Targeted == 3
	})
	for _, r := range recipientsOf(t, a, id) {
		if r.RunID == 0 || r.Reason != "flow_started" {
			t.Errorf("recipient %+v", r)
		}
	}
	for _, p := range []string{"393337740008", "393337740009"} {
		for _, m := range a.Sim.Phone(p, false) {
			if m.Direction == "out" {
				t.Errorf("%s is not in the segment and got %q", p, m.Text)
			}
		}
	}

	// A new order converts the buyer's recipient, once.
	order(buyers[1], "W-10")
	order(buyers[1], "W-10")
	f := campaignProgress(t, a, id)
	if f.Converted != 1 || f.ByState[store.RecipientConverted] != 1 {
		t.Errorf("after the order: %+v", f)
	}
	code, b = a.Do("POST", "/api/v1/segments/count", map[string]any{"rule": map[string]any{"field": "campaign", "op": "converted", "campaign_id": id}})
	if code != http.StatusOK || !strings.Contains(string(b), `"count":1`) {
		t.Errorf("converted by the campaign: %d %s", code, b)
	}
}
