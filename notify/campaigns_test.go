package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/config"
	"sendbox/outbound"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestCampaignPausedEmail: when Meta pauses a running campaign's template,
// the campaign pauses and each active owner gets one e-mail that says why
// and links to it; an agent gets none.
func TestCampaignPausedEmail(t *testing.T) {
	mb := &mailbox{}
	addr := startMailbox(t, mb)
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) {
		c.SMTPURL = "smtp://alerts:s3cret-pass@" + addr + "?from=shop@cosmetics.example"
	}))
	ctx := context.Background()
	for _, u := range []struct{ email, role string }{{"owner@cosmetics.example", "owner"}, {"agent@cosmetics.example", "agent"}} {
		if _, err := a.Store.CreateUser(ctx, u.email, u.role, u.role, accounts.HashPassword("password-"+u.role)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	// The quiet hours hold the recipient, so the campaign still runs when Meta pauses the template.
	q := outbound.QuietHours{On: true, From: now.Add(-time.Hour).Format("15:04"), To: now.Add(2 * time.Hour).Format("15:04"), Business: time.UTC}
	if err := outbound.SaveQuietHours(ctx, a.Store, q); err != nil {
		t.Fatal(err)
	}
	code, b := a.Do("POST", "/api/v1/contacts", map[string]any{"phone": "+447700900123", "name": "Ann", "consent": "opted_in"})
	if code != http.StatusCreated {
		t.Fatalf("contact: %d %s", code, b)
	}
	contact := sendboxtest.JSON[struct{ Data store.Contact }](t, b).Data
	a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/tags", contact.ID), map[string]any{"add": []string{"uk"}})
	code, b = a.Do("POST", "/api/v1/campaigns", map[string]any{"name": "Winter sale", "template": "seasonal_offer", "language": "en_US",
		"params":     map[string]any{"first_name": map[string]string{"source": "first_name"}, "code": map[string]string{"source": "text", "value": "W"}},
		"segment_id": ukSegment(t, a)})
	if code != http.StatusCreated {
		t.Fatalf("campaign: %d %s", code, b)
	}
	id := sendboxtest.JSON[struct{ Data store.Campaign }](t, b).Data.ID
	if code, b := a.Do("POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", id), nil); code != http.StatusOK {
		t.Fatalf("launch: %d %s", code, b)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the recipient held", func() bool {
		code, b := a.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d/recipients", id), nil)
		return code == 200 && strings.Contains(string(b), `"due_at"`)
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
	sendboxtest.Eventually(t, 15*time.Second, "the owner's e-mail", func() bool { return len(mb.to("owner@cosmetics.example")) == 1 })
	m := mb.to("owner@cosmetics.example")[0]
	body := strings.ReplaceAll(m.data, "=\r\n", "") // quoted-printable's soft line breaks
	body = strings.ReplaceAll(body, "=\n", "")
	if !strings.Contains(body, "Campaign paused: Winter sale") || !strings.Contains(body, "Meta paused the template seasonal_offer") ||
		!strings.Contains(body, fmt.Sprintf("/campaigns/%d", id)) {
		t.Errorf("mail:\n%s", m.data)
	}
	time.Sleep(500 * time.Millisecond)
	if n := mb.count(); n != 1 {
		t.Errorf("%d e-mails, want the owner's only", n)
	}
}

// ukSegment makes, through the API, the segment of the contacts tagged uk.
func ukSegment(t *testing.T, a *sendboxtest.App) int64 {
	t.Helper()
	code, b := a.Do("POST", "/api/v1/segments", map[string]any{"name": "UK",
		"rule": map[string]any{"group": "and", "rules": []any{map[string]any{"field": "tag", "op": "has", "value": "uk"}}}})
	if code != http.StatusCreated {
		t.Fatalf("segment: %d %s", code, b)
	}
	return sendboxtest.JSON[struct{ Data store.Segment }](t, []byte(b)).Data.ID
}
