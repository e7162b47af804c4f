package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/outbound"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

type ledgerResp struct {
	Data struct {
		Current map[string]*store.ConsentRecord
		Records []store.ConsentRecord
	}
}

func newContact(t *testing.T, a *sendboxtest.App, phone string) int64 {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/contacts", map[string]any{"phone": phone, "name": "Giulia"})
	if code != http.StatusCreated {
		t.Fatalf("create contact: %d %s", code, body)
	}
	return sendboxtest.JSON[struct{ Data struct{ ID int64 } }](t, body).Data.ID
}

// doKey is a request with an Idempotency-Key.
func doKey(t *testing.T, a *sendboxtest.App, path, key string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", a.URL()+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+a.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.Bytes()
}

// TestConsentLedgerAPI: an integration records a consent with its wording
// and proof (once per Idempotency-Key), reads the ledger back, verifies
// the chain, and the per-contact export carries the ledger; bad input is
// a 400 naming the field.
func TestConsentLedgerAPI(t *testing.T) {
	a := sendboxtest.New(t)
	id := newContact(t, a, "+39 333 226 0101")
	path := fmt.Sprintf("/api/v1/contacts/%d/consent", id)
	entry := map[string]any{"status": "opted_in", "wording": "Yes, send me offers", "wording_version": "crm-3",
		"proof": map[string]any{"crm_form": "F-77", "ip": "198.51.100.4"}}
	var first int64
	for range 2 {
		code, body := doKey(t, a, path, "crm-consent-1", entry)
		if code != http.StatusCreated {
			t.Fatalf("record: %d %s", code, body)
		}
		rec := sendboxtest.JSON[struct{ Data store.ConsentRecord }](t, body).Data
		if first == 0 {
			first = rec.ID
		}
		if rec.ID != first || rec.Source != "api" || rec.Effect != "applied" || rec.Actor == nil || rec.Actor.Kind != "api_key" {
			t.Fatalf("record: %+v", rec)
		}
	}
	code, body := a.Do("GET", path, nil)
	l := sendboxtest.JSON[ledgerResp](t, body).Data
	if code != 200 || len(l.Records) != 1 || l.Current["marketing"] == nil || l.Current["utility"] != nil ||
		l.Records[0].WordingVersion != "crm-3" || !strings.Contains(string(l.Records[0].Proof), "F-77") {
		t.Fatalf("ledger: %d %s", code, body)
	}
	if code, body := a.Do("POST", path, map[string]any{"status": "opted_out", "purpose": "utility", "source": "agent"}); code != 201 {
		t.Fatalf("utility opt-out: %d %s", code, body)
	}
	c, _ := a.Store.ContactByID(context.Background(), id)
	if c.Consent != store.ConsentOptedIn {
		t.Fatalf("a utility opt-out changed the marketing consent: %s", c.Consent)
	}

	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"status": "maybe"}, "status"},
		{map[string]any{"status": "opted_in", "source": "import"}, "source"},
		{map[string]any{"status": "opted_in", "purpose": "sales"}, "purpose"},
		{map[string]any{"status": "opted_in", "proof": map[string]string{"x": strings.Repeat("a", 9000)}}, "proof"},
	} {
		code, body := a.Do("POST", path, tc.body)
		if code != http.StatusBadRequest || !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
			t.Errorf("%v: %d %s", tc.body, code, body)
		}
	}
	if code, _ := a.Do("POST", path, "not an object"); code != http.StatusBadRequest {
		t.Errorf("a body that is not an object: %d", code)
	}
	if code, _ := a.Do("POST", "/api/v1/contacts/999999/consent", map[string]any{"status": "opted_in"}); code != http.StatusNotFound {
		t.Errorf("unknown contact: %d", code)
	}
	if code, _ := a.Do("GET", "/api/v1/contacts/999999/consent", nil); code != http.StatusNotFound {
		t.Errorf("unknown contact's ledger: %d", code)
	}

	code, body = a.Do("GET", "/api/v1/consent/verify", nil)
	check := sendboxtest.JSON[struct{ Data store.LedgerCheck }](t, body).Data
	if code != 200 || !check.OK || check.Records != 2 {
		t.Fatalf("verify: %d %s", code, body)
	}

	code, body = a.Do("GET", fmt.Sprintf("/api/v1/contacts/%d/export", id), nil)
	var export struct {
		Data struct {
			Contact  store.Contact
			Consent  struct{ Records []store.ConsentRecord }
			Messages []store.Message
		}
	}
	if err := json.Unmarshal(body, &export); code != 200 || err != nil || export.Data.Contact.ID != id ||
		len(export.Data.Consent.Records) != 2 || export.Data.Messages == nil {
		t.Fatalf("export: %d %s", code, body)
	}
}

// TestConsentAPISuppressed: a number that opted out and was erased comes
// back; an API opt-in without proof is recorded as refused (409), one with
// proof lifts the suppression.
func TestConsentAPISuppressed(t *testing.T) {
	a := sendboxtest.New(t)
	id := newContact(t, a, "+393332260102")
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/consent", id), map[string]any{"status": "opted_out"}); code != 201 {
		t.Fatalf("opt-out: %d %s", code, body)
	}
	if code, body := a.Do("DELETE", fmt.Sprintf("/api/v1/contacts/%d", id), nil); code != http.StatusNoContent {
		t.Fatalf("erase: %d %s", code, body)
	}
	back := newContact(t, a, "+393332260102")
	path := fmt.Sprintf("/api/v1/contacts/%d/consent", back)
	code, body := a.Do("POST", path, map[string]any{"status": "opted_in"})
	if ec, msg := apiError(t, body); code != http.StatusConflict || ec != "consent_suppressed" || !strings.Contains(msg, "proof") {
		t.Fatalf("opt-in without proof: %d %s", code, body)
	}
	// PATCH's consent, set by an agent's integration without proof: the
	// name is saved, the opt-in refused.
	code, body = a.Do("PATCH", fmt.Sprintf("/api/v1/contacts/%d", back), map[string]any{"name": "Giulia R.", "consent": "opted_in"})
	if ec, _ := apiError(t, body); code != http.StatusConflict || ec != "consent_suppressed" {
		t.Fatalf("PATCH opt-in: %d %s", code, body)
	}
	if c, _ := a.Store.ContactByID(context.Background(), back); c.Consent != store.ConsentUnknown || c.Name != "Giulia R." {
		t.Fatalf("after refused opt-ins: %s %q", c.Consent, c.Name)
	}
	code, body = a.Do("POST", path, map[string]any{"status": "opted_in", "proof": map[string]any{"signed_form": "scan-118.pdf"}})
	if code != 201 {
		t.Fatalf("opt-in with proof: %d %s", code, body)
	}
	_, body = a.Do("GET", path, nil)
	recs := sendboxtest.JSON[ledgerResp](t, body).Data.Records
	if len(recs) != 3 || recs[2].Effect != store.EffectRefused || recs[1].Effect != store.EffectRefused || recs[0].Effect != store.EffectApplied {
		t.Fatalf("ledger: %s", body)
	}
	if code, body := a.Do("GET", "/api/v1/consent/verify", nil); code != 200 || !strings.Contains(string(body), `"ok":true`) {
		t.Fatalf("verify after an erasure: %d %s", code, body)
	}
}

// TestUtilityOptOutIsHonoured: a customer who opted out of utility
// messages gets no utility template (the API says why, 422
// utility_opted_out) until they opt in again, while a queued one is checked
// again before Meta is called; their marketing consent is a separate choice.
func TestUtilityOptOutIsHonoured(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	ctx := context.Background()
	const number = "393332260201"
	id := newContact(t, a, "+"+number)
	path := fmt.Sprintf("/api/v1/contacts/%d/consent", id)
	// A utility template with no recorded utility consent goes.
	queueOK(t, a, template("+"+number))
	settled(t, a, 1, 30*time.Second)

	if code, body := a.Do("POST", path, map[string]any{"status": "opted_out", "purpose": "utility", "source": "agent"}); code != 201 {
		t.Fatalf("utility opt-out: %d %s", code, body)
	}
	code, body := a.Do("POST", "/api/v1/messages", template("+"+number))
	if c, msg := apiError(t, body); code != http.StatusUnprocessableEntity || c != outbound.RefusedUtilityOptedOut ||
		!strings.Contains(msg, "opted out of utility messages") {
		t.Fatalf("utility template after the opt-out: %d %s", code, body)
	}
	// Marketing is its own choice: an opt-in to marketing leaves the
	// utility opt-out standing.
	if code, body := a.Do("POST", path, map[string]any{"status": "opted_in", "source": "agent"}); code != 201 {
		t.Fatalf("marketing opt-in: %d %s", code, body)
	}
	queueOK(t, a, seasonalOffer("+"+number))
	if code, _ := a.Do("POST", "/api/v1/messages", template("+"+number)); code != http.StatusUnprocessableEntity {
		t.Fatalf("utility template after a marketing opt-in: %d", code)
	}
	settled(t, a, 2, 30*time.Second)

	// Opted in again: it goes; opted out while it waits for a retry: it is
	// failed before Meta is called.
	if code, body := a.Do("POST", path, map[string]any{"status": "opted_in", "purpose": "utility", "source": "agent"}); code != 201 {
		t.Fatalf("utility opt-in: %d %s", code, body)
	}
	accepted := a.Sim.Stats().Accepted
	a.Sim.InjectFault(sim.Fault{To: "+" + number, Code: 131000, HTTPStatus: 500, Count: 1})
	m := queueOK(t, a, template("+"+number))
	sendboxtest.Eventually(t, 30*time.Second, "the first attempt", func() bool { return a.Sim.Stats().Rejected[131000] == 1 })
	if _, err := a.Store.RecordConsent(ctx, store.ConsentEntry{ContactID: id, Purpose: store.PurposeUtility,
		Status: store.ConsentOptedOut, Source: store.ConsentSourceAgent}); err != nil {
		t.Fatal(err)
	}
	settled(t, a, 3, 30*time.Second)
	got, _ := a.Store.MessageByID(ctx, m.ID)
	if got.Status != store.StateFailed || got.Error == nil || !strings.HasSuffix(got.Error.Detail, outbound.CheckedBeforeMeta) ||
		!strings.Contains(got.Error.Detail, "utility") {
		t.Fatalf("the retried utility template: %s %+v", got.Status, got.Error)
	}
	if st := a.Sim.Stats(); st.Accepted != accepted {
		t.Fatalf("Meta was called after the utility opt-out: %d accepted, %d before", st.Accepted, accepted)
	}
}
