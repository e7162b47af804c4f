package ui_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sendbox/outbound"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// offerForm is the template picker's form for the simulator's MARKETING template.
func offerForm() url.Values {
	return url.Values{"tpl": {"seasonal_offer|en_US"}, "p_first_name": {"Anna"}, "p_code": {"SPRING15"}}
}

// synced waits for the templates synced at start.
func synced(t *testing.T, a *sendboxtest.App) {
	t.Helper()
	sendboxtest.Eventually(t, 30*time.Second, "the templates synced at start", func() bool {
		_, err := a.Store.TemplateByName(context.Background(), "seasonal_offer", "en_US")
		return err == nil
	})
}

// TestTemplateFormRefusesMarketing: from the panel's template picker, a
// marketing template to a customer without an opt-in, or who opted out, is
// refused in plain words and nothing is queued; a utility template goes.
func TestTemplateFormRefusesMarketing(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	conv := conversation(t, a)
	synced(t, a)
	path := fmt.Sprintf("/inbox/%d/template", conv)
	owner.get(fmt.Sprintf("/inbox/%d", conv))

	resp, body := owner.post(path, offerForm())
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "has not opted in to marketing messages") {
		t.Fatalf("unknown consent: %d %s", resp.StatusCode, body)
	}
	c, _ := a.Store.ConversationByID(context.Background(), conv)
	if err := a.Store.SetConsent(context.Background(), c.ContactID, store.ConsentOptedOut, "whatsapp message", time.Now()); err != nil {
		t.Fatal(err)
	}
	owner.get(fmt.Sprintf("/inbox/%d", conv))
	resp, body = owner.post(path, offerForm())
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "opted out of marketing messages") {
		t.Fatalf("opted out: %d %s", resp.StatusCode, body)
	}
	if msgs, _, _, _ := a.Store.ListMessages(context.Background(), store.MessageFilter{Direction: store.Outbound, Limit: 10}); len(msgs) != 0 {
		t.Fatalf("%d messages queued", len(msgs))
	}
	owner.get(fmt.Sprintf("/inbox/%d", conv))
	if resp, body := owner.post(path, url.Values{"tpl": {"appointment_reminder|it"}, "p_1": {"12 maggio"}, "p_2": {"10:00"}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("utility template: %d %s", resp.StatusCode, body)
	}
}

// TestOwnerAllowsUnknownConsent: only an owner switches on marketing to
// contacts whose consent is unknown; then the panel sends it.
func TestOwnerAllowsUnknownConsent(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	conv := conversation(t, a)
	synced(t, a)
	const label = "allow marketing to contacts whose consent is unknown"

	admin := userBrowser(t, a, "admin")
	if _, body := admin.get("/settings/templates"); !strings.Contains(body, label) || !strings.Contains(body, "Only an owner can change this") {
		t.Fatalf("an admin does not see the setting, read-only: %s", body)
	}
	if resp, _ := admin.post("/settings/templates/consent", url.Values{"allow_unknown": {"on"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an admin changed it: %d", resp.StatusCode)
	}
	if on, _ := outbound.AllowUnknownConsent(context.Background(), a.Store); on {
		t.Fatal("switched on by an admin")
	}

	if _, body := owner.get("/settings/templates"); !strings.Contains(body, label) || strings.Contains(body, "Only an owner") {
		t.Fatalf("the owner does not see the setting: %s", body)
	}
	if resp, _ := owner.post("/settings/templates/consent", url.Values{"allow_unknown": {"on"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if _, body := owner.get("/settings/templates"); !strings.Contains(body, `name="allow_unknown" aria-describedby="allow-unknown-hint" checked`) {
		t.Fatal("the setting does not show as on")
	}
	owner.get(fmt.Sprintf("/inbox/%d", conv))
	if resp, body := owner.post(fmt.Sprintf("/inbox/%d/template", conv), offerForm()); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("marketing with the setting on: %d %s", resp.StatusCode, body)
	}
	// And off again.
	owner.get("/settings/templates")
	owner.post("/settings/templates/consent", url.Values{})
	if on, _ := outbound.AllowUnknownConsent(context.Background(), a.Store); on {
		t.Fatal("still on after switching it off")
	}
}

// TestContactPageShowsSuppressionAndHold: the contact page says why
// marketing is refused to a number that comes back after erasure, and until
// when Meta's 131049 holds it.
func TestContactPageShowsSuppressionAndHold(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	ctx := context.Background()
	conv := conversation(t, a)
	c, _ := a.Store.ConversationByID(ctx, conv)
	if err := a.Store.SetConsent(ctx, c.ContactID, store.ConsentOptedOut, "whatsapp message", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.EraseContact(ctx, c.ContactID); err != nil {
		t.Fatal(err)
	}
	conv = conversation(t, a) // the same number writes again
	c, _ = a.Store.ConversationByID(ctx, conv)
	if _, err := a.Store.Ingest(ctx, &store.IngestBatch{Statuses: []store.StatusUpdate{{WAMID: "wamid.x", Status: store.StateFailed,
		Timestamp: time.Now(), RecipientID: c.Contact.WaID, Error: &store.MessageError{Code: 131049}, Raw: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	_, body := owner.get(fmt.Sprintf("/contacts/%d", c.ContactID))
	body = html.UnescapeString(body)
	if !strings.Contains(body, "On the suppression list") || !strings.Contains(body, "Marketing on hold until") {
		t.Fatalf("contact page: %s", body)
	}
}
