package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// echoBody is an smb_message_echoes webhook in Meta's shape (as pywa's
// outgoing_message fixtures have it): the business wrote item from the
// WhatsApp Business app to customer.
func echoBody(customer, item string) []byte {
	return fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"smb_message_echoes",
	"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001234","phone_number_id":"%s"},
	"contacts":[{"profile":{"name":"Giulia"},"wa_id":"%s"}],
	"message_echoes":[%s]}}]}]}`, sim.DefaultWABAID, sim.DefaultPhoneNumberID, customer, item)
}

// TestBusinessAppEchoesInThread: a message the business sends from the
// WhatsApp Business app on its shared number is stored as an outbound
// message of the person lane, shown in the thread as sent from the app,
// and pauses the assistant like a reply from the panel. Meta's retries
// store nothing twice; an edit and a deletion from the app apply to the
// original. The customer's 24-hour window stays as the customer left it.
func TestBusinessAppEchoesInThread(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	const customer = "393401113344"
	in, err := a.Store.MessageByWAMID(ctx, inbound(t, a, customer, "Siete aperti oggi pomeriggio?"))
	if err != nil {
		t.Fatal(err)
	}
	before, err := a.Store.ContactByID(ctx, in.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	text := `{"from":"15550001234","to":"` + customer + `","id":"wamid.echo.1","timestamp":"%d","type":"text","text":{"body":"Sì, fino alle 19!"}}`
	body := echoBody(customer, fmt.Sprintf(text, time.Now().Unix()))
	for range 2 { // Meta retries
		if code, resp := a.PostWebhook(body); code != http.StatusOK {
			t.Fatalf("webhook: %d %s", code, resp)
		}
	}
	var echo *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the echo to be stored", func() bool {
		echo, err = a.Store.MessageByWAMID(ctx, "wamid.echo.1")
		return err == nil
	})
	if echo.Direction != store.Outbound || echo.Lane != events.LanePerson || echo.Origin != store.OriginBusinessApp ||
		echo.Status != "sent" || echo.Text != "Sì, fino alle 19!" || echo.ConversationID != in.ConversationID {
		t.Fatalf("echo stored as %+v", echo)
	}
	conv, err := a.Store.ConversationByID(ctx, in.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Bot != "paused" || conv.Preview != "Sì, fino alle 19!" {
		t.Fatalf("after the echo the assistant is %q and the preview %q", conv.Bot, conv.Preview)
	}
	after, err := a.Store.ContactByID(ctx, in.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastInboundAt.Equal(before.LastInboundAt) {
		t.Fatalf("the echo moved the customer's window: %v → %v", before.LastInboundAt, after.LastInboundAt)
	}

	// Edited, then deleted, in the app.
	edit := `{"from":"15550001234","to":"` + customer + `","id":"wamid.echo.2","timestamp":"%d","type":"edit",
		"edit":{"original_message_id":"wamid.echo.1","message":{"type":"text","text":{"body":"Sì, fino alle 18!"}}}}`
	if code, resp := a.PostWebhook(echoBody(customer, fmt.Sprintf(edit, time.Now().Unix()))); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the edit to apply", func() bool {
		m, err := a.Store.MessageByWAMID(ctx, "wamid.echo.1")
		return err == nil && m.Text == "Sì, fino alle 18!" && !m.EditedAt.IsZero()
	})
	revoke := `{"from":"15550001234","to":"` + customer + `","id":"wamid.echo.3","timestamp":"%d","type":"revoke",
		"revoke":{"original_message_id":"wamid.echo.1"}}`
	if code, resp := a.PostWebhook(echoBody(customer, fmt.Sprintf(revoke, time.Now().Unix()))); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the deletion to apply", func() bool {
		m, err := a.Store.MessageByWAMID(ctx, "wamid.echo.1")
		return err == nil && !m.RevokedAt.IsZero()
	})

	code, resp := a.Do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages?limit=50", in.ConversationID), nil)
	if code != http.StatusOK {
		t.Fatalf("thread: %d %s", code, resp)
	}
	msgs := sendboxtest.JSON[struct{ Data []store.Message }](t, resp).Data
	echoes := 0
	for _, m := range msgs {
		if m.Origin == store.OriginBusinessApp {
			echoes++
		}
	}
	if echoes != 3 { // the message, its edit and its deletion, each once
		t.Fatalf("%d echoes in the thread: %+v", echoes, msgs)
	}
	if !strings.Contains(string(resp), `"origin":"business_app"`) || !strings.Contains(string(resp), `"lane":"person"`) {
		t.Fatalf("the API does not say where the echo came from: %s", resp)
	}
	code, resp = a.Do("GET", "/api/v1/webhook-events?field=smb_message_echoes", nil)
	if code != http.StatusOK || strings.Contains(string(resp), "wamid.echo") {
		t.Fatalf("echoes also went to the webhook event log: %d %s", code, resp)
	}
}

// TestEchoToANewCustomer: an echo to a customer sendbox has not seen starts
// their conversation, but opens no 24-hour window: only the customer's own
// message does, so a free-form send is still refused.
func TestEchoToANewCustomer(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	const customer = "393401115566"
	item := fmt.Sprintf(`{"from":"15550001234","to":"%s","id":"wamid.echo.new","timestamp":"%d","type":"text","text":{"body":"Buongiorno, le scrivo per il preventivo"}}`,
		customer, time.Now().Unix())
	if code, resp := a.PostWebhook(echoBody(customer, item)); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	var echo *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the echo to be stored", func() bool {
		var err error
		echo, err = a.Store.MessageByWAMID(ctx, "wamid.echo.new")
		return err == nil
	})
	c, err := a.Store.ContactByID(ctx, echo.ContactID)
	if err != nil || c.WaID != customer {
		t.Fatalf("contact %+v %v", c, err)
	}
	code, resp := a.Do("POST", "/api/v1/messages", map[string]any{"to": "+" + customer, "type": "text",
		"text": map[string]string{"body": "follow-up"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(resp), "outside_window") {
		t.Fatalf("free-form send after an echo only: %d %s", code, resp)
	}
}
