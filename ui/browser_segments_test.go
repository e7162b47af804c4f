package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestSegmentBuilderInBrowser builds a segment in Chromium as an owner
// would: a tag typed, the live count following without a click; a
// condition added and turned into consent; a group of none; saved.
func TestSegmentBuilderInBrowser(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	for i, c := range []struct {
		tags    []string
		consent string
	}{
		{[]string{"vip"}, store.ConsentOptedIn}, {[]string{"vip", "lead"}, store.ConsentOptedIn},
		{[]string{"vip"}, store.ConsentOptedOut}, {[]string{"lead"}, store.ConsentOptedIn},
	} {
		if _, err := a.Store.CreateContact(ctx, fmt.Sprintf("39347100000%d", i), store.ContactUpdate{Name: fmt.Sprintf("Cliente %d", i), Tags: c.tags},
			c.consent, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	b := openPanel(t, a)
	b.createOwner()

	settled := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`!!window.htmx && document.readyState === "complete" &&
			!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`)(ctx, tg)
		return err
	})
	count := func(want string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`(function () { var e = document.querySelector("#segment-count strong");
				return !!e && e.textContent === `+quoteJS(want)+`; })()`)(ctx, tg)
			return err
		})
	}
	// choose picks a value in a select as a person would.
	choose := func(id, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// Once htmx has bound the select (a select drawn by the last
			// swap is visible a moment before), in one go.
			_, err := chromedp.Poll[bool](`(function () { var s = document.getElementById(`+quoteJS(id)+`);
				if (!s || (s.hasAttribute("hx-post") && !s["htmx-internal-data"]) || document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")) { return false; }
				s.value = `+quoteJS(value)+`; s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)(ctx, tg)
			return err
		})
	}

	b.run("open the segments", chromedp.Navigate(a.URL()+"/contacts"), chromedp.Click(`//a[@href="/segments"]`),
		chromedp.Click(`//a[@href="/segments/new"]`), chromedp.WaitVisible("#seg-name"), settled)
	b.run("name it", chromedp.SendKeys("#seg-name", "Loyal VIPs"))
	b.run("type a tag", chromedp.SendKeys("#seg-r-0-value", "vip"), count("3"))
	b.run("add a condition", chromedp.Click(`//button[@value="add:r"]`), chromedp.WaitVisible("#seg-r-1-field"), settled)
	b.run("make it consent", choose("seg-r-1-field", "consent"), chromedp.WaitReady(`#seg-r-1-value option[value="opted_out"]`), settled, count("2"))
	b.run("add a group", chromedp.Click(`//button[@value="group:r"]`), chromedp.WaitVisible("#seg-r-2-0-value"), settled)
	b.run("none of: tagged lead", choose("seg-r-2-group", "not"), settled, chromedp.SendKeys("#seg-r-2-0-value", "lead"), count("1"))
	preview := b.get("read the preview", chromedp.Text("#segment-live"))
	if !strings.Contains(preview, "Cliente 0") || strings.Contains(preview, "Cliente 1") {
		t.Fatalf("the preview: %q", preview)
	}
	b.shot("segments-01-builder")
	b.run("save", chromedp.Click(`//button[text()="Save segment"]`), chromedp.WaitVisible(".page-flash"), count("1"))
	gs, err := a.Store.ListSegments(ctx)
	if err != nil || len(gs) != 1 || gs[0].Name != "Loyal VIPs" || len(gs[0].Rule.Rules) != 3 || gs[0].Rule.Rules[2].Group != store.GroupNot {
		t.Fatalf("saved: %+v %v", gs, err)
	}
	b.shot("segments-02-saved")
	b.run("see it listed", chromedp.Navigate(a.URL()+"/segments"), chromedp.WaitVisible(`//a[text()="Loyal VIPs"]`))
	if n := b.get("read its size", chromedp.Text(`//tr[td/a[text()="Loyal VIPs"]]/td[3]`)); n != "1" {
		t.Fatalf("the list says %q members", n)
	}
	b.shot("segments-03-list")
}
