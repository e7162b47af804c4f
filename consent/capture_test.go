package consent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sendbox/consent"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

var bg = context.Background()

// write sends a customer's text through the simulator and waits until it is stored.
func write(t *testing.T, a *sendboxtest.App, from string, msg any) *store.Message {
	t.Helper()
	raw, _ := json.Marshal(msg)
	wamid, err := a.Sim.SendInbound(bg, sim.Inbound{From: from, Name: "Giulia", Message: raw})
	if err != nil {
		t.Fatal(err)
	}
	var m *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the message to be stored", func() bool {
		m, err = a.Store.MessageByWAMID(bg, wamid)
		return err == nil
	})
	return m
}

func text(body string) map[string]any {
	return map[string]any{"type": "text", "text": map[string]string{"body": body}}
}

// ledgerOf waits for a contact's ledger to hold n records, newest first.
func ledgerOf(t *testing.T, a *sendboxtest.App, contact int64, n int) []store.ConsentRecord {
	t.Helper()
	var recs []store.ConsentRecord
	sendboxtest.Eventually(t, 20*time.Second, "the consent ledger", func() bool {
		recs, _ = a.Store.ConsentLedger(bg, contact)
		return len(recs) >= n
	})
	return recs
}

// TestKeywordOptIn: a customer writes the wa.me link's keyword (ISCRIVIMI)
// or an opt-in word (START): they are opted in at once, and the ledger
// says how, with their message as proof.
func TestKeywordOptIn(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	for _, tc := range []struct{ from, text, source string }{
		{"393330008001", "Iscrivimi!", store.ConsentSourceLink},
		{"393330008002", "START", store.ConsentSourceKeyword},
	} {
		m := write(t, a, tc.from, text(tc.text))
		rec := ledgerOf(t, a, m.ContactID, 1)[0]
		var proof map[string]any
		json.Unmarshal(rec.Proof, &proof)
		if rec.Status != store.ConsentOptedIn || rec.Source != tc.source || rec.Effect != store.EffectApplied ||
			proof["message_id"] != float64(m.ID) || proof["wamid"] != m.WAMID {
			t.Fatalf("%s: the record %+v, proof %s", tc.text, rec, rec.Proof)
		}
		c, _ := a.Store.ContactByID(bg, m.ContactID)
		if c.Consent != store.ConsentOptedIn {
			t.Fatalf("%s: consent %s", tc.text, c.Consent)
		}
	}
	if check, err := a.Store.VerifyConsentLedger(bg); err != nil || !check.OK {
		t.Fatalf("verify: %+v %v", check, err)
	}
}

// TestDoubleOptIn: with double opt-in on, the keyword gets the wording
// with its button and counts only once the customer taps it; the tap's
// record names the button's message as proof.
func TestDoubleOptIn(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	s, err := consent.Load(bg, a.Store)
	if err != nil {
		t.Fatal(err)
	}
	s.DoubleOptIn = true
	if err := consent.Save(bg, a.Store, s); err != nil {
		t.Fatal(err)
	}
	const from = "393330008003"
	m := write(t, a, from, text("SUBSCRIBE"))
	var button sim.PhoneButton
	var buttonWAMID string
	sendboxtest.Eventually(t, 30*time.Second, "the confirmation button on the phone", func() bool {
		for _, pm := range a.Sim.Phone(from, false) {
			for _, b := range pm.Buttons {
				if strings.HasPrefix(b.ID, "consent.confirm:") {
					button, buttonWAMID = b, pm.ID
					return true
				}
			}
		}
		return false
	})
	if button.ID != "consent.confirm:en:1" || button.Title != consent.DefaultWordings["en"].Button {
		t.Fatalf("the button: %+v", button)
	}
	recs := ledgerOf(t, a, m.ContactID, 1)
	if c, _ := a.Store.ContactByID(bg, m.ContactID); c.Consent == store.ConsentOptedIn || recs[0].Effect != store.EffectPending {
		t.Fatalf("opted in before the tap: %s, %+v", c.Consent, recs)
	}
	sendboxtest.Eventually(t, 20*time.Second, "sendbox to know the button message's wamid", func() bool {
		_, err := a.Store.MessageByWAMID(bg, buttonWAMID)
		return err == nil
	})
	tap := write(t, a, from, json.RawMessage(button.Reply))
	sendboxtest.Eventually(t, 30*time.Second, "the tap to opt in", func() bool {
		c, _ := a.Store.ContactByID(bg, m.ContactID)
		return c.Consent == store.ConsentOptedIn
	})
	rec := ledgerOf(t, a, m.ContactID, 2)[0]
	var proof map[string]any
	json.Unmarshal(rec.Proof, &proof)
	if rec.Source != store.ConsentSourceDoubleOptIn || rec.Effect != store.EffectApplied || rec.WordingVersion != "en-1" ||
		rec.Wording != consent.DefaultWordings["en"].Text || proof["button_message_wamid"] != buttonWAMID ||
		proof["tap_message_id"] != float64(tap.ID) || proof["button_message_id"] == nil {
		t.Fatalf("the tap's record: %+v proof %s (button %s)", rec, rec.Proof, buttonWAMID)
	}
}

// TestFormDoubleOptIn: with double opt-in on, the hosted form's submission
// for a number that never wrote is pending and sends the optin_confirm
// template (the 24-hour window is closed) whose quick reply carries the
// confirmation id; its tap opts the customer in.
func TestFormDoubleOptIn(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	s, _ := consent.Load(bg, a.Store)
	s.DoubleOptIn = true
	if err := consent.Save(bg, a.Store, s); err != nil {
		t.Fatal(err)
	}
	const from = "33612008004"
	res, err := consent.Submit(bg, a.Store, a.Outbound, s, consent.Form{Phone: "+33 6 12 00 80 04", Name: "Camille", Lang: "fr",
		Agreed: true, IP: "198.51.100.7", UserAgent: "Safari"}, func(k string, _ ...any) string { return k })
	if err != nil || res.Record.Effect != store.EffectPending || res.Confirmation == nil {
		t.Fatalf("submit: %+v %v", res, err)
	}
	if c, _ := a.Store.ContactByID(bg, res.ContactID); c.Consent == store.ConsentOptedIn {
		t.Fatal("opted in before the confirmation")
	}
	var button sim.PhoneButton
	var buttonWAMID string
	sendboxtest.Eventually(t, 30*time.Second, "the confirmation template on the phone", func() bool {
		for _, pm := range a.Sim.Phone(from, false) {
			for _, b := range pm.Buttons {
				if pm.Type == "template" && b.ID == "consent.confirm:fr:1" {
					button, buttonWAMID = b, pm.ID
					return true
				}
			}
		}
		return false
	})
	sendboxtest.Eventually(t, 20*time.Second, "sendbox to know the template's wamid", func() bool {
		_, err := a.Store.MessageByWAMID(bg, buttonWAMID)
		return err == nil
	})
	write(t, a, from, json.RawMessage(button.Reply))
	sendboxtest.Eventually(t, 30*time.Second, "the tap to opt in", func() bool {
		c, _ := a.Store.ContactByID(bg, res.ContactID)
		return c.Consent == store.ConsentOptedIn
	})
	recs := ledgerOf(t, a, res.ContactID, 2)
	if recs[0].Source != store.ConsentSourceDoubleOptIn || recs[1].Source != store.ConsentSourceForm ||
		!strings.Contains(string(recs[1].Proof), "198.51.100.7") || !strings.Contains(string(recs[0].Proof), buttonWAMID) {
		t.Fatalf("ledger: %+v", recs)
	}
	// The words recorded are those the customer was shown: the template's.
	if !strings.Contains(recs[0].Wording, "Touchez le bouton pour confirmer") {
		t.Errorf("the tap's wording: %q", recs[0].Wording)
	}
}
