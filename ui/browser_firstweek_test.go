package ui_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"sendbox/policy"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// notificationSpy records the notifications the page shows (headless
// Chromium shows none), keeping each so that the test can click it.
const notificationSpy = `(function () {
  if (!window.Notification) { return; }
  var Real = window.Notification;
  window.__shown = [];
  var Spy = function (title, opts) { var n = new Real(title, opts); window.__shown.push({title: title, body: opts && opts.body, tag: opts && opts.tag, n: n}); return n; };
  Spy.requestPermission = Real.requestPermission.bind(Real);
  Object.defineProperty(Spy, "permission", {get: function () { return Real.permission; }});
  window.Notification = Spy;
})();`

// TestFirstWeekInBrowser drives in real Chromium what a business meets in
// its first week: My account with the notification permission flow, an
// urgent escalation told by a notification (a click opens it), a sound and
// the title's count; on a panel that is not a secure context, the fallback;
// "Send a message" from a contact's page; and the Team page and the
// sidebar's Log out at desktop and phone sizes.
func TestFirstWeekInBrowser(t *testing.T) {
	a := sendboxtest.New(t)
	br := openPanel(t, a)
	ctx, run, get, shot := br.ctx, br.run, br.get, br.shot
	bg := context.Background()
	br.createOwner()

	// 1. My account, notifications allowed in this (secure: loopback) origin.
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted,
		Origin: a.URL()}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: notificationSpy}); err != nil {
		t.Fatal(err)
	}
	run("open My account from the sidebar", chromedp.Navigate(a.URL()+"/inbox"),
		chromedp.Click(`//nav[@class="sidebar"]//a[@href="/settings"]`), chromedp.WaitVisible(".subnav"),
		chromedp.Click(`//ul[@class="subnav"]//a[text()="My account"]`), chromedp.WaitVisible("#pw-current"),
		chromedp.WaitVisible(`#nf-status[data-state="granted"]`))
	run("turn browser notifications on and try", chromedp.Click("#nf-browser"), chromedp.Click("#nf-try"))
	if tried := get("the tried notification", chromedp.Evaluate[string](`window.__shown.map(s => s.title).join("|")`)); tried != "Urgent conversations look like this" {
		t.Errorf("Try the alert showed %q", tried)
	}
	shot("w1-my-account")
	run("save", chromedp.Click(`#notify-form button[type=submit]`), chromedp.WaitVisible(".page-flash"))
	owner, err := a.Store.UserByEmail(bg, ownerEmail)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Store.UserNotifications(bg, owner.ID); !n.Browser || !n.Sound {
		t.Fatalf("the choice was not stored: %+v", n)
	}

	// 2. An urgent escalation: notification, sound, count in the title.
	conv := say(t, a, "393471234567", "Maria Rossi", "ho un forte dolore e sanguina").ConversationID
	run("open the inbox and click once (browsers play sound only after a click)",
		chromedp.Navigate(a.URL()+"/inbox"), chromedp.WaitVisible("#inbox-heading"), chromedp.Click("#inbox-heading"))
	escalate := func() {
		t.Helper()
		if err := a.Store.Escalate(bg, conv, store.Escalation{Category: policy.Medical, Urgent: true, Detail: "sanguina"}); err != nil {
			t.Fatal(err)
		}
	}
	escalate()
	run("see the alert", chromedp.WaitVisible(`//div[@id="toasts"]//strong[text()="Urgent: Maria Rossi"]`),
		void(chromedp.Poll[bool](`window.__shown.length === 1`, chromedp.WithPollingTimeout(20*time.Second))),
		void(chromedp.Poll[bool](`document.getElementById("urgent-sound").getAttribute("data-played") === "1"`, chromedp.WithPollingTimeout(20*time.Second))))
	shown := get("the notification", chromedp.Evaluate[string](`JSON.stringify({title: window.__shown[0].title, body: window.__shown[0].body, tag: window.__shown[0].tag})`))
	if !strings.Contains(shown, `"title":"Urgent: Maria Rossi"`) || !strings.Contains(shown, "Medical urgency") || !strings.Contains(shown, "sendbox-conv-"+itoa(conv)) {
		t.Errorf("the notification: %s", shown)
	}
	if title := get("the title", chromedp.Title()); !strings.HasPrefix(title, "(1) ") {
		t.Errorf("the title counts no alert: %q", title)
	}
	shot("w2-urgent-alert")
	run("click the notification", void(chromedp.Evaluate[bool](`window.__shown[0].n.onclick(); true`)),
		chromedp.WaitVisible(`.ai-bar-urgent`))
	if loc := get("where it went", chromedp.Location()); !strings.HasSuffix(loc, "/inbox/"+itoa(conv)) {
		t.Errorf("the notification opened %s", loc)
	}

	// 3. Send a message from a contact's page, outside the window.
	contact := oldCustomer(t, a, "393489876543", "Luca Verdi")
	run("open the contact", chromedp.Navigate(a.URL()+"/contacts/"+itoa(contact)), chromedp.WaitVisible("#send #tpl"))
	run("pick a template", chromedp.SetValue("#tpl", "appointment_reminder|it"),
		void(chromedp.Evaluate[bool](`document.getElementById("tpl").dispatchEvent(new Event("change", {bubbles: true}))`)),
		chromedp.WaitVisible("#p-1"), chromedp.SendKeys("#p-1", "martedì 25"), chromedp.SendKeys("#p-2", "10:00"),
		chromedp.WaitVisible(`//div[@class="template-preview" and contains(., "martedì 25 alle 10:00")]`))
	shot("w3-contact-send")
	run("send it: the conversation opens", chromedp.Click(`//div[@id="send"]//button[text()="Send template"]`),
		chromedp.WaitVisible(`//div[contains(@class,"msg out")]//div[contains(., "martedì 25 alle 10:00")]`))

	// 4. Layout: the Team page's name column, Log out on a phone.
	userBrowser(t, a, "agent")
	run("team page", chromedp.Navigate(a.URL()+"/settings/team"), chromedp.WaitVisible("table.list"))
	nameWidth := get("the name column", chromedp.Evaluate[string](`String(document.querySelector("table.list tbody td input[name=name]").getBoundingClientRect().width)`))
	shot("w4-team-desktop")
	if w := atof(nameWidth); w < 150 {
		t.Errorf("the Team page's name field is %s px wide: squashed", nameWidth)
	}
	for _, p := range []string{"/inbox", "/settings/team", "/settings/account", "/contacts/" + itoa(contact)} {
		run("phone-sized "+p, chromedp.EmulateViewport(375, 667), chromedp.Navigate(a.URL()+p), chromedp.WaitVisible(".whoami button"))
		clipped := get("log out's place", chromedp.Evaluate[string](`(function () {
			var b = document.querySelector(".whoami button").getBoundingClientRect();
			var s = document.querySelector(".sidebar").getBoundingClientRect();
			var one = parseFloat(getComputedStyle(document.querySelector(".whoami button")).lineHeight) || 20;
			var whole = b.left >= s.left && b.right <= s.right && b.right <= window.innerWidth && b.width > 0;
			return (whole && b.height < 2 * one) ? "" : JSON.stringify({button: b, sidebar: s, width: window.innerWidth, lineHeight: one});
		})()`))
		// Nothing sticks out of the screen but what scrolls in its own box
		// (the Team page's table).
		if out := get("what sticks out", chromedp.Evaluate[string](`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".table-scroll, .sidebar .nav")).slice(0, 5).map(e => e.tagName + "." + e.className + ":" + Math.round(e.getBoundingClientRect().right)).join(" ")`)); out != "" {
			t.Errorf("%s at 375×667: sticks out of the screen: %s", p, out)
		}
		if clipped != "" {
			t.Errorf("%s at 375×667: Log out is clipped: %s", p, clipped)
		}
		shot("w5-phone" + strings.ReplaceAll(p, "/", "-"))
	}
	run("back to desktop", chromedp.EmulateViewport(1440, 900))

	// 5. The panel under a name that is not a secure context: the page says
	// so, and an alert falls back to the page, the title and the sound.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(a.URL(), "http://"))
	insecure := sendboxtest.Browser(t, chromedp.Flag("host-resolver-rules", "MAP sendbox.test 127.0.0.1"))
	base := "http://sendbox.test:" + port
	sendboxtest.Run(t, insecure, "My account on an insecure origin", chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", ownerEmail), chromedp.SendKeys("#password", ownerPassword),
		chromedp.Click("button[type=submit]"), chromedp.WaitVisible("#inbox-heading"),
		chromedp.Navigate(base+"/settings/account"), chromedp.WaitVisible(`#nf-status[data-state="insecure"]`))
	say(t, a, "393471234567", "Maria Rossi", "sto ancora male") // keeps the conversation the newest
	sendboxtest.Screenshot(t, insecure, "w6-my-account-insecure")
	if msg, _ := sendboxtest.TryRead(insecure, chromedp.Text("#nf-status")); !strings.Contains(msg, "HTTPS or from localhost") {
		t.Errorf("on an insecure origin My account says %q", msg)
	}
	if err := a.Store.ClearUrgent(bg, conv); err != nil {
		t.Fatal(err)
	}
	sendboxtest.Run(t, insecure, "the inbox on an insecure origin", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible("#inbox-heading"), chromedp.Click("#inbox-heading"))
	escalate()
	sendboxtest.Run(t, insecure, "the fallback alert", chromedp.WaitVisible(`//div[@id="toasts"]//strong[text()="Urgent: Maria Rossi"]`),
		void(chromedp.Poll[bool](`document.title.indexOf("(1) ") === 0`, chromedp.WithPollingTimeout(20*time.Second))),
		void(chromedp.Poll[bool](`document.getElementById("urgent-sound").getAttribute("data-played") === "1"`, chromedp.WithPollingTimeout(20*time.Second))))
	sendboxtest.Screenshot(t, insecure, "w7-insecure-alert")
}

// void runs a for its effect alone.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

func atof(s string) float64 {
	var f float64
	for i, c := range s {
		if c == '.' {
			frac := 0.1
			for _, d := range s[i+1:] {
				f += float64(d-'0') * frac
				frac /= 10
			}
			break
		}
		f = f*10 + float64(c-'0')
	}
	return f
}
