package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/sendboxtest"
	"sendbox/whatsapp/sim"
)

const ownerEmail, ownerPassword = "owner@clinica-sorriso.it", "a long enough passphrase"

// TestPanelEndToEnd drives the panel in real Chromium as an owner would on
// the first day: set up the account, sign in, watch a customer's message
// arrive live, reply, see it on the test phone, watch the ticks turn read,
// and, outside the 24-hour window, send a template.
func TestPanelEndToEnd(t *testing.T) {
	a := sendboxtest.New(t)
	br := openPanel(t, a)
	ctx, link, run, get, shot := br.ctx, br.link, br.run, br.get, br.shot

	// 1. The one-time setup link creates the owner.
	run("open the setup link", chromedp.Navigate(link), chromedp.WaitVisible("#name"))
	shot("01-setup")
	run("create the owner",
		chromedp.SendKeys("#name", "Giulia Bianchi"),
		chromedp.SendKeys("#email", ownerEmail),
		chromedp.SendKeys("#password", ownerPassword),
		chromedp.SendKeys("#password2", ownerPassword),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible(".page-flash"))
	shot("02-settings-whatsapp")
	// The link works once.
	run("reuse the setup link", chromedp.Navigate(link), chromedp.WaitVisible("main"))
	body := get("read the page", chromedp.Text("main"))
	if !strings.Contains(body, "not valid") {
		t.Fatalf("the setup link worked twice: %q", body)
	}

	// 2. Sign out and in again.
	run("log out", chromedp.Navigate(a.URL()+"/inbox"), chromedp.WaitVisible(".whoami button"),
		chromedp.Click(".whoami button"), chromedp.WaitVisible("#email"))
	shot("03-login")
	run("log in",
		chromedp.SendKeys("#email", ownerEmail),
		chromedp.SendKeys("#password", ownerPassword),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible("#inbox-heading"))
	shot("04-inbox-empty")

	// 3. A customer writes; the message appears live, without a reload.
	if _, err := a.Sim.SendInbound(context.Background(), sim.Inbound{From: "393471234567", Name: "Maria Rossi",
		Message: json.RawMessage(`{"type":"text","text":{"body":"Buongiorno! Ho un forte mal di denti, avete posto oggi?"}}`)}); err != nil {
		t.Fatal(err)
	}
	run("see the new conversation live", chromedp.WaitVisible(`//span[@class="conv-name" and text()="Maria Rossi"]`))
	shot("05-inbox-live")

	// 4. Open it and reply.
	run("open the conversation", chromedp.Click(`//span[@class="conv-name" and text()="Maria Rossi"]`),
		chromedp.WaitVisible("#reply-body"),
		chromedp.WaitVisible(`//div[contains(@class,"msg in")]//div[contains(., "mal di denti")]`))
	run("reply", chromedp.SendKeys("#reply-body", "Certo Maria, può venire alle 15:30. Le va bene?"),
		chromedp.Click(`#composer button[type=submit]`),
		chromedp.WaitVisible(`//div[contains(@class,"msg out")]//div[contains(., "alle 15:30")]`))
	// The ticks go from the clock to delivered as the simulator's status webhooks arrive.
	run("see it delivered", chromedp.WaitVisible(`//div[contains(@class,"msg out")]//span[@class="tick" and text()="✓✓"]`))
	shot("06-thread-delivered")
	convURL := get("note the url", chromedp.Location())

	// 5. The customer sees it on the test phone: opening the chat reads it.
	run("open the test phone", chromedp.Navigate(a.URL()+"/phone?wa=393471234567"),
		chromedp.WaitVisible(`//div[contains(@class,"phone-msgs")]//div[contains(., "alle 15:30")]`))
	shot("07-test-phone")
	// ...and answers by tapping nothing, just writing back.
	run("customer answers", chromedp.SendKeys("#phone-text", "Perfetto, grazie!"),
		chromedp.Click(`.phone-compose button[type=submit]`),
		chromedp.WaitVisible(`//div[contains(@class,"phone-msgs")]//div[contains(., "Perfetto, grazie")]`))

	// 6. Back in the inbox the reply shows read, the customer's answer is there.
	run("see it read", chromedp.Navigate(convURL),
		chromedp.WaitVisible(`//div[contains(@class,"msg out")]//span[@class="tick read"]`),
		chromedp.WaitVisible(`//div[contains(@class,"msg in")]//div[contains(., "Perfetto, grazie")]`))
	shot("08-thread-read")
	order, err := sendboxtest.TryRead(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#messages .msg")).map(m => m.classList.contains("in") ? "in" : "out").join(",")`))
	if err != nil || order != "in,out,in" {
		t.Fatalf("the thread's order is %q: a reply must follow what it answers", order)
	}

	// 7. A customer who last wrote two days ago: only a template can be sent.
	old := time.Now().Add(-48 * time.Hour).Unix()
	if code, resp := a.PostWebhook([]byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001",
		"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001",
		"phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Luca Verdi"},"wa_id":"393489876543"}],
		"messages":[{"from":"393489876543","id":"wamid.old1","timestamp":"%d","type":"text","text":{"body":"Grazie per la pulizia!"}}]}}]}]}`, old))); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	run("open the old conversation", chromedp.Navigate(a.URL()+"/inbox"),
		chromedp.WaitVisible(`//span[@class="conv-name" and text()="Luca Verdi"]`),
		chromedp.Click(`//span[@class="conv-name" and text()="Luca Verdi"]`),
		chromedp.WaitVisible("#tpl"))
	textareas, err := sendboxtest.TryRead(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#reply-body").length`))
	if err != nil {
		t.Fatal(err)
	}
	if textareas != 0 {
		t.Fatal("outside the window the free-text reply box is offered")
	}
	run("pick a template", chromedp.SetValue("#tpl", "appointment_reminder|it"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById("tpl").dispatchEvent(new Event("change", {bubbles: true}))`)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible("#p-1"),
		chromedp.SendKeys("#p-1", "martedì 25"),
		chromedp.SendKeys("#p-2", "10:00"),
		chromedp.WaitVisible(`//div[@class="template-preview" and contains(., "martedì 25 alle 10:00")]`))
	shot("09-template-picker")
	run("send the template", chromedp.Click(`//button[text()="Send template"]`),
		chromedp.WaitVisible(`//div[contains(@class,"msg out")]//div[contains(., "Ti ricordiamo l'appuntamento del martedì 25 alle 10:00")]`),
		chromedp.WaitVisible(`//div[contains(@class,"msg out")]//span[@class="tick" and text()="✓✓"]`))
	shot("10-template-sent")

	// The customer taps a quick-reply button of the template on their
	// phone: the tap arrives in the inbox, and since the customer wrote, the
	// window opens and the composer turns into the reply box, live.
	tplURL := get("note the url", chromedp.Location())
	run("tap Confermo", chromedp.Navigate(a.URL()+"/phone?wa=393489876543"),
		chromedp.WaitVisible(`//div[contains(@class,"phone-msgs")]//button[text()="Confermo"]`),
		chromedp.Click(`//div[contains(@class,"phone-msgs")]//button[text()="Confermo"]`),
		chromedp.WaitVisible(`//div[contains(@class,"phone-msgs")]//div[contains(@class,"msg in")]//div[contains(., "Confermo")]`))
	run("see the tap", chromedp.Navigate(tplURL), chromedp.WaitVisible(`//span[@class="tapped"]`),
		chromedp.WaitVisible("#reply-body"))
	shot("10b-button-reply")

	// 8. The other main pages, for the record.
	run("contacts", chromedp.Navigate(a.URL()+"/contacts"), chromedp.WaitVisible("table.list"))
	shot("11-contacts")
	run("a contact", chromedp.Click(`//a[text()="Maria Rossi"]`), chromedp.WaitVisible("#attributes"))
	shot("12-contact")
	for _, s := range []string{"team", "profile", "api-keys", "templates"} {
		run("settings "+s, chromedp.Navigate(a.URL()+"/settings/"+s), chromedp.WaitVisible(".settings h1"))
		shot("13-settings-" + s)
	}

	// 9. Search finds the message in any form of its words and opens the
	// conversation at it.
	run("search", chromedp.Navigate(a.URL()+"/search"), chromedp.WaitVisible("#sq"),
		chromedp.SendKeys("#sq", "dente"),
		chromedp.Click(`.search-form button[type=submit]`),
		chromedp.WaitVisible(`//ol[@class="results"]//mark[text()="denti"]`))
	shot("14a-search")
	run("open the result", chromedp.Click(`//ol[@class="results"]//a[.//mark[text()="denti"]]`),
		chromedp.WaitVisible(`.msg.target`))
	target := get("the target", chromedp.Text(".msg.target"))
	if !strings.Contains(target, "mal di denti") {
		t.Fatalf("the result opened at %q", target)
	}
	shot("14b-search-result")

	// 10. On a phone-sized screen the list and the thread take turns.
	run("phone-sized", chromedp.EmulateViewport(390, 844), chromedp.Navigate(a.URL()+"/inbox"),
		chromedp.WaitVisible(`//span[@class="conv-name" and text()="Maria Rossi"]`))
	shot("15-mobile-inbox")
	run("phone-sized thread", chromedp.Navigate(convURL), chromedp.WaitVisible("#reply-body"))
	shot("16-mobile-thread")
}

// panelBrowser is Chromium on a's panel, for the browser tests: the
// one-time setup link, and steps that fail the test naming what was being
// done.
type panelBrowser struct {
	t    *testing.T
	ctx  context.Context
	link string
}

func openPanel(t *testing.T, a *sendboxtest.App) *panelBrowser {
	t.Helper()
	link, err := a.SetupLink(context.Background())
	if err != nil || link == "" {
		t.Fatalf("setup link: %q %v", link, err)
	}
	return &panelBrowser{t: t, ctx: sendboxtest.Browser(t), link: link}
}

func (b *panelBrowser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sendboxtest.Run(b.t, b.ctx, what, actions...)
}

func (b *panelBrowser) get(what string, a chromedp.Action[string]) string {
	b.t.Helper()
	return sendboxtest.Read(b.t, b.ctx, what, a)
}

func (b *panelBrowser) shot(name string) { b.t.Helper(); sendboxtest.Screenshot(b.t, b.ctx, name) }

// createOwner fills in the setup page as Giulia Bianchi, the owner.
func (b *panelBrowser) createOwner() {
	b.t.Helper()
	b.run("create the owner", chromedp.Navigate(b.link), chromedp.WaitVisible("#name"),
		chromedp.SendKeys("#name", "Giulia Bianchi"),
		chromedp.SendKeys("#email", ownerEmail),
		chromedp.SendKeys("#password", ownerPassword),
		chromedp.SendKeys("#password2", ownerPassword),
		chromedp.Click("button[type=submit]"),
		chromedp.WaitVisible(".page-flash"))
}
