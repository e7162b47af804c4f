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

// TestCampaignOnSegmentInBrowser: in Chromium, an owner builds a segment,
// starts a campaign to it from the segment's page (the form offers the
// segment with its live count), maps the template's variables, sees the
// pre-launch check and launches; the recipients move to delivered on the
// campaign's page, and to read once the customer opens the chat on the
// test phone.
func TestCampaignOnSegmentInBrowser(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	for i := range 3 {
		if _, err := a.Store.CreateContact(ctx, fmt.Sprintf("39347200000%d", i), store.ContactUpdate{Name: fmt.Sprintf("Rosa%d Neri", i),
			Tags: []string{"spring"}}, store.ConsentOptedIn, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Store.CreateContact(ctx, "393472000009", store.ContactUpdate{Name: "Other", Tags: []string{"autumn"}},
		store.ConsentOptedIn, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	b := openPanel(t, a)
	b.createOwner()
	settled := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`!!window.htmx && document.readyState === "complete" &&
			!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`)(ctx, tg)
		return err
	})
	// get reads from the page, within a bounded time.
	get := func(what string, act chromedp.Action[string]) string {
		t.Helper()
		return sendboxtest.Read(t, b.ctx, what, act)
	}
	setValue := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`(function () { var s = document.querySelector(`+quoteJS(sel)+`); if (!s) { return false; }
				s.value = `+quoteJS(value)+`; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value === `+quoteJS(value)+`; })()`)(ctx, tg)
			return err
		})
	}

	b.run("build the segment", chromedp.Navigate(a.URL()+"/segments/new"), chromedp.WaitVisible("#seg-name"), settled,
		chromedp.SendKeys("#seg-name", "Spring list"), chromedp.SendKeys("#seg-r-0-value", "spring"),
		chromedp.WaitVisible(`//*[@id="segment-count"]/strong[text()="3"]`))
	b.run("save it", chromedp.Click(`//button[text()="Save segment"]`), chromedp.WaitVisible(".page-flash"))
	b.run("a campaign to it", chromedp.Click("#segment-campaign"), chromedp.WaitVisible("#campaign-name"))
	seg := get("the segment offered", chromedp.Evaluate[string](`document.querySelector("#campaign-segment").selectedOptions[0].textContent`))
	if seg != "Spring list: 3 contacts now" {
		t.Fatalf("the form offers %q", seg)
	}
	b.run("name and template", chromedp.SendKeys("#campaign-name", "Spring in the browser"),
		setValue("#campaign-send", "template:seasonal_offer|en_US"))
	b.shot("campaigns-01-new-on-segment")
	b.run("create the draft", chromedp.Click(`#campaign-new button[type=submit]`), chromedp.WaitVisible("#campaign-form"))
	b.run("map the variables", setValue("#src-first_name", "first_name"), setValue("#src-code", "text"),
		chromedp.SendKeys(`input[name="value.code"]`, "ROSE10"),
		chromedp.Click(`input[name="quiet_hours"]`),
		chromedp.Click(`#campaign-form button[type=submit]`), chromedp.WaitVisible("#campaign-audience"))
	// The saved form redraws the check: wait for the new one, which the
	// old one (variables not mapped yet) is until then.
	tctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	chromedp.Do(tctx, void(chromedp.Poll[bool](`(function () { var c = document.querySelector("#campaign-check");
		return !!c && c.innerText.indexOf("is not mapped") < 0; })()`)))
	cancel()
	check := get("the check", chromedp.Text("#campaign-check"))
	if !strings.Contains(check, "The segment Spring list has 3 contacts now") || strings.Contains(check, "is not mapped") {
		t.Fatalf("the check: %q", check)
	}
	b.shot("campaigns-02-draft-checked")
	// The draft's page has a progress card too: wait for the launched
	// page, or the next navigation would cut the launch's short.
	b.run("launch", chromedp.Click(`#campaign-launch button`), chromedp.WaitNotPresent("#campaign-launch"),
		chromedp.WaitVisible("#campaign-progress .pill:not(.campaign-draft)"))

	// states reloads the campaign's page until each recipient's row shows
	// its state.
	states := func(what string, want map[string]string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			b.run("reload", chromedp.Navigate(get("url", chromedp.Location())), chromedp.WaitVisible(".campaign-recipients"))
			got := get("the recipients", chromedp.Text(".campaign-recipients tbody"))
			ok := 0
			for _, row := range strings.Split(got, "\n") {
				cells := strings.Split(row, "\t")
				if len(cells) > 1 && want[strings.TrimSpace(cells[0])] == strings.TrimSpace(cells[1]) {
					ok++
				}
			}
			if ok == len(want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the recipients show %q, want %v", what, got, want)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	page := get("url", chromedp.Location())
	states("delivered", map[string]string{"Rosa0 Neri": "Delivered", "Rosa1 Neri": "Delivered", "Rosa2 Neri": "Delivered"})
	b.shot("campaigns-03-delivered")
	b.run("Rosa1 opens the chat", chromedp.Navigate(a.URL()+"/phone?wa=393472000001"),
		chromedp.WaitVisible(`//div[contains(@class,"phone-msgs")]//div[contains(., "ROSE10")]`))
	b.run("back to the campaign", chromedp.Navigate(page), chromedp.WaitVisible(".campaign-recipients"))
	states("read", map[string]string{"Rosa0 Neri": "Delivered", "Rosa1 Neri": "Read", "Rosa2 Neri": "Delivered"})
	b.shot("campaigns-04-read")
	for _, m := range a.Sim.Phone("393472000009", false) {
		if m.Direction == "out" {
			t.Errorf("outside the segment, got %q", m.Text)
		}
	}
}
