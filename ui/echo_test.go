package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/whatsapp/sim"
)

// TestThreadShowsBusinessAppEcho: a message the business sent from the
// WhatsApp Business app is in the thread, on the business's side, labelled
// as sent from the app, and a message an integration says a person wrote
// is labelled so.
func TestThreadShowsBusinessAppEcho(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	const customer = "393401117788"
	m := say(t, a, customer, "Giulia", "Avete il divano in blu?")
	body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"smb_message_echoes",
	"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001234","phone_number_id":"%s"},
	"message_echoes":[{"from":"15550001234","to":"%s","id":"wamid.echo.ui","timestamp":"%d","type":"text",
	"text":{"body":"Sì, in blu notte, venga a vederlo"}}]}}]}]}`, sim.DefaultWABAID, sim.DefaultPhoneNumberID, customer, time.Now().Unix())
	if code, resp := a.PostWebhook(body); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the echo to be stored", func() bool {
		_, err := a.Store.MessageByWAMID(context.Background(), "wamid.echo.ui")
		return err == nil
	})
	if code, resp := a.Do("POST", "/api/v1/messages", map[string]any{"to": "+" + customer, "type": "text",
		"text": map[string]string{"body": "Le mando le misure"}, "person": true}); code != http.StatusAccepted {
		t.Fatalf("send: %d %s", code, resp)
	}
	if code, resp := a.Do("POST", "/api/v1/conversations/"+itoa(m.ConversationID)+"/notes",
		map[string]any{"body": "Cliente interessata al blu"}); code != http.StatusCreated {
		t.Fatalf("note: %d %s", code, resp)
	}
	_, page := owner.get("/inbox/" + itoa(m.ConversationID))
	for _, want := range []string{"Sì, in blu notte, venga a vederlo", "Sent from the WhatsApp Business app",
		"Le mando le misure", "Sent by a person, through the API", "Private note by API key test"} {
		if !strings.Contains(page, want) {
			t.Errorf("the thread lacks %q", want)
		}
	}
}
