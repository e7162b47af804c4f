package ui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// TestPanelRefusesMarketingToOptedOut drives the template picker in real
// Chromium: to a customer who opted out, the marketing template is refused
// with the reason in plain words under the form, and nothing is sent.
func TestPanelRefusesMarketingToOptedOut(t *testing.T) {
	a := sendboxtest.New(t)
	br := openPanel(t, a)
	br.createOwner()

	// The customer last wrote two days ago, then opted out.
	old := time.Now().Add(-48 * time.Hour).Unix()
	if code, resp := a.PostWebhook([]byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001",
		"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001",
		"phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Sara Neri"},"wa_id":"393481112233"}],
		"messages":[{"from":"393481112233","id":"wamid.stop1","timestamp":"%d","type":"text","text":{"body":"STOP"}}]}}]}]}`, old))); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	var c *store.Contact
	sendboxtest.Eventually(t, 30*time.Second, "the contact", func() bool {
		var err error
		c, err = a.Store.ContactByRecipient(context.Background(), "393481112233", "")
		return err == nil
	})
	if err := a.Store.SetConsent(context.Background(), c.ID, store.ConsentOptedOut, "whatsapp message", time.Unix(old, 0)); err != nil {
		t.Fatal(err)
	}
	synced(t, a)

	br.run("open the conversation", chromedp.Navigate(a.URL()+"/inbox"),
		chromedp.WaitVisible(`//span[@class="conv-name" and text()="Sara Neri"]`),
		chromedp.Click(`//span[@class="conv-name" and text()="Sara Neri"]`),
		chromedp.WaitVisible("#tpl"))
	br.run("pick the marketing template", chromedp.SetValue("#tpl", "seasonal_offer|en_US"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById("tpl").dispatchEvent(new Event("change", {bubbles: true}))`)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible("#p-first_name"),
		chromedp.SendKeys("#p-first_name", "Sara"),
		chromedp.SendKeys("#p-code", "SPRING15"),
		chromedp.Click(`//button[text()="Send template"]`),
		chromedp.WaitVisible(`//*[contains(@class,"form-error") and contains(., "opted out of marketing messages")]`))
	br.shot("consent-01-marketing-refused")
	if msgs, _, _, _ := a.Store.ListMessages(context.Background(), store.MessageFilter{Direction: store.Outbound, Limit: 10}); len(msgs) != 0 {
		t.Fatalf("%d messages queued", len(msgs))
	}
	// The owner finds the setting for consent gathered elsewhere.
	br.run("open the templates settings", chromedp.Navigate(a.URL()+"/settings/templates"),
		chromedp.WaitVisible(`//label[contains(., "allow marketing to contacts whose consent is unknown")]/input[@name="allow_unknown"]`))
	br.shot("consent-02-settings-templates")
	for _, m := range a.Sim.Phone("393481112233", false) {
		if m.Direction == sim.DirectionOut {
			t.Fatalf("the phone received %+v", m)
		}
	}
}
