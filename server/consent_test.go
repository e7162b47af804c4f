package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/outbound"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// seasonalOffer is the simulator's MARKETING template, with its two named
// parameters filled in.
func seasonalOffer(to string) map[string]any {
	return map[string]any{"to": to, "type": "template", "template": map[string]any{
		"name": "seasonal_offer", "language": map[string]string{"code": "en_US"},
		"components": []map[string]any{{"type": "body", "parameters": []map[string]string{
			{"type": "text", "parameter_name": "first_name", "text": "Giulia"},
			{"type": "text", "parameter_name": "code", "text": "SPRING15"}}}}}}
}

// apiError decodes the API's one error shape.
func apiError(t *testing.T, body []byte) (code, message string) {
	t.Helper()
	e := sendboxtest.JSON[struct {
		Error struct{ Code, Message string }
	}](t, body)
	return e.Error.Code, e.Error.Message
}

// customerWrites makes the sandbox's test phone send text to the business
// and waits until sendbox stored it.
func customerWrites(t *testing.T, a *sendboxtest.App, from, text string) {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": from, "type": "text",
		"text": map[string]string{"body": text}})
	if code != http.StatusCreated {
		t.Fatalf("sandbox inbound: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 30*time.Second, "the customer's message to be stored", func() bool {
		c, err := a.Store.ContactByRecipient(context.Background(), strings.TrimPrefix(from, "+"), "")
		if err != nil {
			return false
		}
		msgs, _, _, err := a.Store.ListMessages(context.Background(), store.MessageFilter{ContactID: c.ID, Direction: store.Inbound, Limit: 50})
		if err != nil {
			return false
		}
		for _, m := range msgs {
			if m.Text == text {
				return true
			}
		}
		return false
	})
}

// TestMarketingRefusedAfterStop is the reproduction: in sandbox mode
// the customer writes STOP, then a MARKETING template to them is refused
// before Meta (the simulator) is called.
func TestMarketingRefusedAfterStop(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	const number = "393331110001"
	customerWrites(t, a, "+"+number, "STOP")
	sendboxtest.Eventually(t, 30*time.Second, "consent to flip to opted_out", func() bool {
		c, err := a.Store.ContactByRecipient(context.Background(), number, "")
		return err == nil && c.Consent == store.ConsentOptedOut
	})

	code, body := a.Do("POST", "/api/v1/messages", seasonalOffer("+"+number))
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("marketing to an opted-out customer: %d %s, want 422", code, body)
	}
	if ec, msg := apiError(t, body); ec != "opted_out" || !strings.Contains(msg, "opted out") {
		t.Fatalf("error %q: %q", ec, msg)
	}
	// A utility template and the in-window reply still go (Meta's rule).
	queueOK(t, a, map[string]any{"to": "+" + number, "type": "template", "template": map[string]any{
		"name": "order_update", "language": map[string]string{"code": "en_US"},
		"components": []map[string]any{{"type": "body", "parameters": []map[string]string{{"type": "text", "text": "A-17"}}}}}})
	queueOK(t, a, map[string]any{"to": "+" + number, "type": "text", "text": map[string]string{"body": "Done: no more offers."}})
	sendboxtest.Eventually(t, 30*time.Second, "the utility template and the reply on the phone", func() bool {
		n := 0
		for _, m := range a.Sim.Phone(number, false) {
			if m.Direction == "out" && (strings.Contains(m.Text, "A-17") || m.Text == "Done: no more offers.") {
				n++
			}
		}
		return n == 2
	})
	for _, m := range a.Sim.Phone(number, false) {
		if strings.Contains(m.Text, "SPRING15") {
			t.Fatalf("the simulator received the marketing template: %+v", m)
		}
	}
}

// optedIn makes a contact who wrote to the business and opted in to
// marketing; it returns their id.
func optedIn(t *testing.T, a *sendboxtest.App, number string) int64 {
	t.Helper()
	customerWrites(t, a, "+"+number, "ciao, iscrivetemi alle offerte")
	c, err := a.Store.ContactByRecipient(context.Background(), number, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.SetConsent(context.Background(), c.ID, store.ConsentOptedIn, "sign-up form", time.Now()); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// refused expects the send to be refused with 422 and the code, and returns
// the message.
func refused(t *testing.T, a *sendboxtest.App, req map[string]any, want string) string {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/messages", req)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("%v: %d %s, want 422 %s", req["to"], code, body, want)
	}
	ec, msg := apiError(t, body)
	if ec != want {
		t.Fatalf("%v: code %q (%s), want %q", req["to"], ec, msg, want)
	}
	return msg
}

// TestMarketingNeedsOptIn: a marketing template needs a recorded opt-in;
// unknown consent is refused with no_consent unless the owner allowed it;
// an opt-out is refused even then.
func TestMarketingNeedsOptIn(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	customerWrites(t, a, "+393332220001", "buongiorno")
	if msg := refused(t, a, seasonalOffer("+393332220001"), "no_consent"); !strings.Contains(msg, "not opted in") {
		t.Fatalf("message: %s", msg)
	}
	refused(t, a, seasonalOffer("+393332220002"), "no_consent") // a number sendbox has never seen
	optedIn(t, a, "393332220003")
	queueOK(t, a, seasonalOffer("+393332220003"))

	// The owner's setting lets unknown consent through, never an opt-out.
	if err := outbound.SetAllowUnknownConsent(ctx, a.Store, true); err != nil {
		t.Fatal(err)
	}
	queueOK(t, a, seasonalOffer("+393332220001"))
	id := optedIn(t, a, "393332220004")
	if err := a.Store.SetConsent(ctx, id, store.ConsentOptedOut, "agent", time.Now()); err != nil {
		t.Fatal(err)
	}
	refused(t, a, seasonalOffer("+393332220004"), "opted_out")
	settled(t, a, 2, 30*time.Second)
	if got := a.Sim.Stats().Accepted; got != 2 {
		t.Fatalf("the simulator accepted %d messages, want the 2 allowed", got)
	}
}

// TestTemplateChecksAtEnqueue: a template sendbox has not synced triggers
// a sync from Graph; still unknown it is refused (unknown_template), and
// parameters are checked against the synced template (template_params)
// instead of failing later with 132000.
func TestTemplateChecksAtEnqueue(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	sendboxtest.Eventually(t, 30*time.Second, "the templates synced at start", func() bool {
		_, err := a.Store.TemplateByName(ctx, "hello_world", "en_US")
		return err == nil
	})
	// Approved since the last sync: sendbox does not know it yet.
	if err := a.Store.ReplaceTemplates(ctx, nil); err != nil {
		t.Fatal(err)
	}
	queueOK(t, a, template("+393332230001"))
	if _, err := a.Store.TemplateByName(ctx, "seasonal_offer", "en_US"); err != nil {
		t.Fatalf("the send of an unknown template did not sync the list: %v", err)
	}
	unknown := map[string]any{"to": "+393332230001", "type": "template",
		"template": map[string]any{"name": "no_such_template", "language": map[string]string{"code": "it"}}}
	if msg := refused(t, a, unknown, "unknown_template"); !strings.Contains(msg, "no_such_template") {
		t.Fatalf("message: %s", msg)
	}

	// Parameters, named and positional, by component.
	for _, c := range []struct {
		req  map[string]any
		want string
	}{
		{map[string]any{"to": "+393332230001", "type": "template", "template": map[string]any{
			"name": "seasonal_offer", "language": map[string]string{"code": "en_US"}}}, "{{first_name}}"},
		{map[string]any{"to": "+393332230001", "type": "template", "template": map[string]any{
			"name": "appointment_reminder", "language": map[string]string{"code": "it"},
			"components": []map[string]any{{"type": "body", "parameters": []map[string]string{{"type": "text", "text": "12 maggio"}}}}}}, "{{2}}"},
	} {
		if msg := refused(t, a, c.req, "template_params"); !strings.Contains(msg, c.want) || !strings.Contains(msg, "body") {
			t.Errorf("message %q does not name %s of the body", msg, c.want)
		}
	}
	settled(t, a, 1, 30*time.Second)
	if st := a.Sim.Stats(); st.Accepted != 1 || st.Rejected[132000] != 0 || st.Rejected[132001] != 0 {
		t.Fatalf("simulator: accepted %d, rejected %v", st.Accepted, st.Rejected)
	}
}

// TestUnknownTemplateAsksGraphOnce: a burst of sends naming a template Meta
// does not have is refused with one look at Graph, not one each.
func TestUnknownTemplateAsksGraphOnce(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	unknown := map[string]any{"to": "+393332230002", "type": "template",
		"template": map[string]any{"name": "no_such_template", "language": map[string]string{"code": "it"}}}
	refused(t, a, unknown, "unknown_template")
	before := a.GraphRequests.Load()
	for i := 0; i < 5; i++ {
		refused(t, a, unknown, "unknown_template")
	}
	// At most one more, should the burst straddle the 10 s between syncs.
	if n := a.GraphRequests.Load() - before; n > 1 {
		t.Fatalf("five sends of an unknown template made %d Graph requests", n)
	}
}

// TestTemplatesNeedTheBusinessAccount: without SENDBOX_WA_WABA_ID sendbox
// cannot learn a template's category, so it cannot send it.
func TestTemplatesNeedTheBusinessAccount(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()),
		sendboxtest.WithConfig(func(c *config.Config) { c.WA.WABAID = "" }))
	if msg := refused(t, a, template("+393332240001"), "unknown_template"); !strings.Contains(msg, "SENDBOX_WA_WABA_ID") {
		t.Fatalf("message: %s", msg)
	}
}

// TestOptOutSurvivesErasure: a contact who opted out is erased; the number
// writes again as a new contact and is still refused marketing (opted_out),
// until it opts in again.
func TestOptOutSurvivesErasure(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	const number = "393332250001"
	id := optedIn(t, a, number)
	if err := a.Store.SetConsent(ctx, id, store.ConsentOptedOut, "whatsapp message", time.Now()); err != nil {
		t.Fatal(err)
	}
	if code, body := a.Do("DELETE", fmt.Sprintf("/api/v1/contacts/%d", id), nil); code != http.StatusNoContent {
		t.Fatalf("erase: %d %s", code, body)
	}
	if err := outbound.SetAllowUnknownConsent(ctx, a.Store, true); err != nil {
		t.Fatal(err) // even where unknown consent may receive marketing
	}
	customerWrites(t, a, "+"+number, "salve, avete posto sabato?")
	back, err := a.Store.ContactByRecipient(ctx, number, "")
	if err != nil || back.Consent != store.ConsentUnknown {
		t.Fatalf("the number did not come back as a new contact: %+v %v", back, err)
	}
	if msg := refused(t, a, seasonalOffer("+"+number), "opted_out"); !strings.Contains(msg, "erased") {
		t.Fatalf("message: %s", msg)
	}
	// The customer asks to receive offers again (the re-subscribe phrases
	// record it like this).
	if err := a.Store.SetConsent(ctx, back.ID, store.ConsentOptedIn, "whatsapp message", time.Now()); err != nil {
		t.Fatal(err)
	}
	queueOK(t, a, seasonalOffer("+"+number))
}

// TestConsentRecheckedAtSend: a marketing template queued while the
// customer was opted in, but sent (retried) after they opted out, is failed
// by sendbox without calling Meta again.
func TestConsentRecheckedAtSend(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	ctx := context.Background()
	const number = "393332260001"
	if code, _ := a.PostWebhook(textWebhook("wamid.c1", number, "ciao", "")); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	c, _ := a.Store.ContactByRecipient(ctx, number, "")
	if err := a.Store.SetConsent(ctx, c.ID, store.ConsentOptedIn, "sign-up form", time.Now()); err != nil {
		t.Fatal(err)
	}
	// Meta fails the first attempt; the retry comes about 2 s later.
	a.Sim.InjectFault(sim.Fault{To: "+" + number, Code: 131000, HTTPStatus: 500, Count: 1})
	m := queueOK(t, a, seasonalOffer("+"+number))
	sendboxtest.Eventually(t, 30*time.Second, "the first attempt", func() bool { return a.Sim.Stats().Rejected[131000] == 1 })
	if err := a.Store.SetConsent(ctx, c.ID, store.ConsentOptedOut, "whatsapp message", time.Now()); err != nil {
		t.Fatal(err)
	}
	settled(t, a, 1, 30*time.Second)
	got, _ := a.Store.MessageByID(ctx, m.ID)
	if got.Status != store.StateFailed || got.Error == nil || !strings.HasSuffix(got.Error.Detail, outbound.CheckedBeforeMeta) ||
		!strings.Contains(got.Error.Detail, "opted out") {
		t.Fatalf("message: %s %+v", got.Status, got.Error)
	}
	if st := a.Sim.Stats(); st.Accepted != 0 {
		t.Fatalf("Meta was called after the opt-out: %+v", st)
	}
}

// statusWebhook is Meta's failed status for wamid with an error code.
func statusWebhook(wamid, recipient string, code int) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},
		"statuses":[{"id":%q,"status":"failed","timestamp":"%d","recipient_id":%q,
		"errors":[{"code":%d,"title":"Not delivered","message":"Not delivered","error_data":{"details":"test"}}]}]}}]}]}`,
		wamid, time.Now().Unix(), recipient, code))
}

// TestMetaErrorsFeedConsent: Meta's 131050 (the customer stopped marketing)
// from a send or a failed status sets the contact opted_out; 131049 (its
// per-user marketing limit) is not retried and holds marketing to the
// contact for 24 hours, while utility templates still go.
func TestMetaErrorsFeedConsent(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	ctx := context.Background()
	numbers := []string{"393332270001", "393332270002", "393332270003", "393332270004"}
	for i, n := range numbers {
		if code, _ := a.PostWebhook(textWebhook(fmt.Sprintf("wamid.m%d", i), n, "ciao", "")); code != 200 {
			t.Fatal(code)
		}
	}
	drained(t, a)
	contact := func(n string) *store.Contact {
		c, err := a.Store.ContactByRecipient(ctx, n, "")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, n := range numbers {
		if err := a.Store.SetConsent(ctx, contact(n).ID, store.ConsentOptedIn, "sign-up form", time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Meta answers the sends to the first two with 131050 and 131049.
	a.Sim.InjectFault(sim.Fault{To: "+" + numbers[0], Code: 131050})
	a.Sim.InjectFault(sim.Fault{To: "+" + numbers[1], Code: 131049})
	stopped := queueOK(t, a, seasonalOffer("+"+numbers[0]))
	limited := queueOK(t, a, seasonalOffer("+"+numbers[1]))
	// The other two are accepted, then reported failed by status webhooks.
	late1 := queueOK(t, a, seasonalOffer("+"+numbers[2]))
	late2 := queueOK(t, a, seasonalOffer("+"+numbers[3]))
	settled(t, a, 4, 30*time.Second)
	for _, m := range []store.Message{late1, late2} {
		got, _ := a.Store.MessageByID(ctx, m.ID)
		code := map[int64]int{late1.ID: 131050, late2.ID: 131049}[m.ID]
		if code, _ := a.PostWebhook(statusWebhook(got.WAMID, numbers[map[int64]int{late1.ID: 2, late2.ID: 3}[m.ID]], code)); code != 200 {
			t.Fatal(code)
		}
	}
	drained(t, a)

	for _, m := range []store.Message{stopped, limited} {
		if got, _ := a.Store.MessageByID(ctx, m.ID); got.Status != store.StateFailed || got.Attempts != 1 {
			t.Fatalf("message %d: %s after %d attempts", m.ID, got.Status, got.Attempts)
		}
	}
	for _, n := range []string{numbers[0], numbers[2]} {
		if c := contact(n); c.Consent != store.ConsentOptedOut || c.ConsentSource != "meta 131050" {
			t.Errorf("%s after 131050: %s from %q", n, c.Consent, c.ConsentSource)
		}
		refused(t, a, seasonalOffer("+"+n), "opted_out")
	}
	for _, n := range []string{numbers[1], numbers[3]} {
		c := contact(n)
		if d := time.Until(c.MarketingHoldUntil); d < 23*time.Hour || d > 25*time.Hour {
			t.Errorf("%s after 131049: hold until %s", n, c.MarketingHoldUntil)
		}
		if msg := refused(t, a, seasonalOffer("+"+n), "marketing_hold"); !strings.Contains(msg, "until") {
			t.Errorf("message: %s", msg)
		}
		queueOK(t, a, template("+"+n)) // utility still goes
	}
}
