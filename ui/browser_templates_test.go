package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/sendboxtest"
)

// TestTemplateFormInBrowser: in Chromium, the live preview fills the
// examples in as the owner types (htmx under the panel's CSP), and the
// submitted template shows in review, then approved when the simulator's
// webhook comes.
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
	b.run("open the form", chromedp.Navigate(a.URL()+"/templates/new"), chromedp.WaitVisible("#tpl-name"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`!!window.htmx && document.readyState === "complete"`)(ctx, tg)
			return err
		}))
	b.run("fill it in", chromedp.SendKeys("#tpl-name", "table_ready"), chromedp.Clear("#tpl-lang"), chromedp.SendKeys("#tpl-lang", "en"),
		chromedp.SendKeys("#tpl-body", "Hi {{1}}, your table for {{2}} is ready."),
		chromedp.SendKeys("#tpl-ex", "1 = Anna\n2 = four"),
		chromedp.SendKeys("#tpl-buttons", "QUICK_REPLY | On my way"),
		has("#template-preview .wa-body", "Hi Anna, your table for four is ready."),
		has("#template-preview .wa-buttons", "On my way"))
	b.shot("templates-01-preview")
	b.run("submit", chromedp.Click(`//button[text()="Submit for review"]`), chromedp.WaitVisible("#tpl-status-h"))
	sendboxtest.Eventually(t, 15*time.Second, "the template approved", func() bool {
		tp, err := a.Store.TemplateByName(context.Background(), "table_ready", "en")
		return err == nil && tp.Status == "APPROVED"
	})
	b.run("reload", chromedp.Reload(), chromedp.WaitVisible("#tpl-status-h"))
	if s := b.get("read the health", chromedp.Text(".template-status")); !strings.Contains(s, "Approved") {
		t.Fatalf("the page says %q", s)
	}
	b.shot("templates-02-approved")
}
