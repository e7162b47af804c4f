package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
)

// oldCustomer is a customer who last wrote two days ago: outside the
// 24-hour window. It returns their contact id.
func oldCustomer(t *testing.T, a *sendboxtest.App, waID, name string) int64 {
	t.Helper()
	old := time.Now().Add(-48 * time.Hour).Unix()
	if code, resp := a.PostWebhook([]byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001",
		"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001",
		"phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":%q},"wa_id":%q}],
		"messages":[{"from":%q,"id":"wamid.old-%s","timestamp":"%d","type":"text","text":{"body":"Grazie!"}}]}}]}]}`,
		name, waID, waID, waID, old))); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	var id int64
	sendboxtest.Eventually(t, 20*time.Second, "the old message to be stored", func() bool {
		m, err := a.Store.MessageByWAMID(context.Background(), "wamid.old-"+waID)
		if err == nil {
			id = m.ContactID
		}
		return err == nil
	})
	return id
}

// TestSendFromContactPage: an agent starts a conversation from a contact's
// page: a text inside the 24-hour window, a template (with its live
// preview) outside it, through the same queue as the thread; the answer
// opens the conversation. Refusals show in plain words; viewers see no form
// and may not post.
func TestSendFromContactPage(t *testing.T) {
	a := sendboxtest.New(t)
	setupOwner(t, a)
	agent, viewer := userBrowser(t, a, "agent"), userBrowser(t, a, "viewer")
	ctx := context.Background()

	// Inside the window: a text box.
	recent := say(t, a, "393471112222", "Anna", "Salve")
	path := "/contacts/" + itoa(recent.ContactID)
	_, page := agent.get(path)
	if !strings.Contains(page, `id="send-body"`) || strings.Contains(page, `id="tpl"`) {
		t.Fatal("inside the window the contact page does not offer a text box")
	}
	resp, _ := agent.htmx("POST", path+"/send", url.Values{"body": {"Buongiorno Anna, le scrivo per l'appuntamento."}})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != "/inbox/"+itoa(recent.ConversationID) {
		t.Fatalf("send a text: %d %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	msgs, _, _, err := a.Store.ListMessages(ctx, store.MessageFilter{ConversationID: recent.ConversationID, Direction: store.Outbound})
	if err != nil || len(msgs) != 1 || msgs[0].Text != "Buongiorno Anna, le scrivo per l'appuntamento." || msgs[0].AuthorID == 0 {
		t.Fatalf("the text sent: %+v %v", msgs, err)
	}

	// Outside the window: the template picker, a preview as the agent types.
	contact := oldCustomer(t, a, "393489876543", "Luca Verdi")
	path = "/contacts/" + itoa(contact)
	_, page = agent.get(path)
	if !strings.Contains(page, `id="tpl"`) || strings.Contains(page, `id="send-body"`) || !strings.Contains(page, "appointment_reminder") {
		t.Fatal("outside the window the contact page does not offer the templates")
	}
	_, fields := agent.get(path + "/template?tpl=" + url.QueryEscape("appointment_reminder|it"))
	if !strings.Contains(fields, `id="p-1"`) || !strings.Contains(fields, `hx-get="`+path+`/template?part=preview"`) {
		t.Fatalf("the template's fields: %s", fields)
	}
	_, preview := agent.get(path + "/template?part=preview&tpl=" + url.QueryEscape("appointment_reminder|it") + "&p_1=martedì+25&p_2=10:00")
	if !strings.Contains(preview, "martedì 25 alle 10:00") {
		t.Fatalf("the preview: %s", preview)
	}
	// A text is refused in plain words; so is a template without its parameters.
	resp, _ = agent.htmx("POST", path+"/send", url.Values{"body": {"Ciao"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(resp.Header.Get("X-Sendbox-Error"), "24 hours") {
		t.Fatalf("a text outside the window: %d %q", resp.StatusCode, resp.Header.Get("X-Sendbox-Error"))
	}
	resp, _ = agent.htmx("POST", path+"/send", url.Values{"tpl": {"appointment_reminder|it"}, "p_1": {"martedì 25"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("X-Sendbox-Error") == "" {
		t.Fatalf("a template without a parameter: %d %q", resp.StatusCode, resp.Header.Get("X-Sendbox-Error"))
	}
	resp, _ = agent.htmx("POST", path+"/send", url.Values{"tpl": {"appointment_reminder|it"}, "p_1": {"martedì 25"}, "p_2": {"10:00"}})
	where := resp.Header.Get("HX-Redirect")
	if resp.StatusCode != http.StatusNoContent || !strings.HasPrefix(where, "/inbox/") {
		t.Fatalf("send the template: %d %q", resp.StatusCode, where)
	}
	if _, thread := agent.get(where + "/messages"); !strings.Contains(thread, "martedì 25 alle 10:00") {
		t.Fatal("the conversation opened does not show the template sent")
	}

	// Viewers: no form, and the action is refused.
	if _, page := viewer.get(path); strings.Contains(page, "/send") {
		t.Error("a viewer is offered Send a message")
	}
	if resp, _ := viewer.htmx("POST", path+"/send", url.Values{"body": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer sent a message: %d", resp.StatusCode)
	}
}
