package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/sendboxtest"
)

// TestTemplateFormInBrowser: in Chromium, an owner writes a message with
// two variables and gets a row for each, with its example and what fills
// it; adds a quick reply and a link button as rows (htmx redraws the form
// in place, typed values kept); the live preview fills the examples in; a
// missing example is named next to its field; and the submitted template
// shows in review, then approved when the simulator's webhook comes, with
// its mapping stored.
func TestTemplateFormInBrowser(t *testing.T) {
	a := sendboxtest.New(t)
	a.Sim.SetTemplateReviewDelay(300 * time.Millisecond)
	b := openPanel(t, a)
	b.createOwner()
	has := func(sel, want string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`(function () { var e = document.querySelector(`+quoteJS(sel)+`);
				return !!e && e.textContent.indexOf(`+quoteJS(want)+`) >= 0; })()`)(ctx, tg)
			return err
		})
	}
	valueIs := func(sel, want string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`(function () { var e = document.querySelector(`+quoteJS(sel)+`);
				return !!e && e.value === `+quoteJS(want)+`; })()`)(ctx, tg)
			return err
		})
	}
	htmxReady := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`!!window.htmx && document.readyState === "complete"`)(ctx, tg)
		return err
	})
	b.run("open the form", chromedp.EmulateViewport(1280, 1700), chromedp.Navigate(a.URL()+"/templates/new"), chromedp.WaitVisible("#tpl-name"), htmxReady)
	b.run("write the message", chromedp.SendKeys("#tpl-name", "table_ready"), chromedp.Clear("#tpl-lang"), chromedp.SendKeys("#tpl-lang", "en"),
		chromedp.SendKeys("#tpl-body", "Hi {{1}}, your table for {{2}} is ready."),
		// The preview gives each variable its row.
		chromedp.WaitVisible("#v-1-example"))
	b.run("fill the variables", chromedp.SendKeys("#v-0-example", "Anna"), chromedp.SetValue("#v-0-from", "first_name"),
		chromedp.SendKeys("#v-0-fallback", "there"), chromedp.SendKeys("#v-1-example", "four"),
		has("#template-preview .wa-body", "Hi Anna, your table for four is ready."))
	b.run("add a quick reply", chromedp.Click("#tpl-add-QUICK_REPLY"), chromedp.WaitVisible("#b-0-text"), chromedp.SendKeys("#b-0-text", "On my way"))
	b.run("add a link button", chromedp.Click("#tpl-add-URL"), chromedp.WaitVisible("#b-1-url"),
		chromedp.SendKeys("#b-1-text", "See the menu"), chromedp.SendKeys("#b-1-url", "https://bistro.example.com/menu"),
		// What was typed before the redraw is still there.
		valueIs("#b-0-text", "On my way"), valueIs("#v-0-example", "Anna"), valueIs("#v-0-from", "first_name"),
		has("#template-preview .wa-buttons", "On my way"), has("#template-preview .wa-buttons", "See the menu"))
	// A third button changes its type (the row redraws with its fields),
	// then goes.
	b.run("a third button, retyped", chromedp.Click("#tpl-add-COPY_CODE"), chromedp.WaitVisible("#b-2-example"),
		chromedp.SetValue("#b-2-type", "PHONE_NUMBER"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector("#b-2-type").dispatchEvent(new Event("change", {bubbles: true}))`)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible("#b-2-phone"), chromedp.WaitNotPresent("#b-2-example"))
	b.run("and removed", chromedp.Click(`button[value="del-button:2"]`), chromedp.WaitNotPresent("#b-2-type"), valueIs("#b-1-text", "See the menu"))
	b.run("show the buttons", chromedp.ScrollIntoView("#tpl-submit"))
	b.shot("templates-01-rows")

	// A missing example is refused next to its field.
	b.run("submit without an example", chromedp.Clear("#v-1-example"), chromedp.Click("#tpl-submit"),
		chromedp.WaitVisible("#v-1-example-err"), has("#v-1-example-err", "needs an example"))
	b.shot("templates-02-missing-example")
	b.run("submit", chromedp.SendKeys("#v-1-example", "four"), chromedp.Click("#tpl-submit"), chromedp.WaitVisible("#tpl-status-h"))
	sendboxtest.Eventually(t, 15*time.Second, "the template approved", func() bool {
		tp, err := a.Store.TemplateByName(context.Background(), "table_ready", "en")
		return err == nil && tp.Status == "APPROVED"
	})
	tp, _ := a.Store.TemplateByName(context.Background(), "table_ready", "en")
	if m := tp.VariableMap["1"]; m.From != "first_name" || m.Fallback != "there" || !strings.Contains(string(tp.Components), `"url":"https://bistro.example.com/menu"`) {
		t.Errorf("stored: %s %+v", tp.Components, tp.VariableMap)
	}
	b.run("reload", chromedp.Reload(), chromedp.WaitVisible("#tpl-status-h"), valueIs("#b-1-url", "https://bistro.example.com/menu"))
	if s := b.get("read the health", chromedp.Text(".template-status")); !strings.Contains(s, "Approved") {
		t.Fatalf("the page says %q", s)
	}
	b.shot("templates-03-approved")
}
