package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/sendboxtest"
	"sendbox/store"
)

// phoneFlow drives a ready-made flow in Chromium as an owner trying it out
// would: made from the ready-made flow on /flows, published from the
// editor, then played on the test phone (the keyword typed, the buttons
// and list rows the flow sends tapped, the answers typed).
type phoneFlow struct {
	*panelBrowser
	a *sendboxtest.App
}

// sees waits until the phone's screen shows want.
func sees(want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`(function () { var e = document.querySelector(".phone-msgs");
			return !!e && e.textContent.indexOf(`+quoteJS(want)+`) >= 0; })()`)(ctx, tg)
		return err
	})
}

// tapOn taps the newest button or list row titled title, then waits for
// want. The phone's screen is redrawn whenever a message or a tick
// arrives, so the tap is made in one go in the page, once htmx has bound
// the button's form: a click in between would land on a screen being
// replaced.
func (b phoneFlow) tapOn(title, want string) {
	b.t.Helper()
	b.run("tap "+title, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`(function () {
			if (document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")) { return false; }
			var bs = Array.prototype.filter.call(document.querySelectorAll(".phone-msgs .buttons button"),
				function (b) { return b.textContent.trim() === `+quoteJS(title)+`; });
			var btn = bs[bs.length - 1];
			if (!btn || !btn.form || !btn.form["htmx-internal-data"]) { return false; }
			btn.click();
			return true; })()`)(ctx, tg)
		return err
	}), sees(want))
}

// write types text on the phone and waits for want; like tapOn, in one
// go once the screen is settled.
func (b phoneFlow) write(text, want string) {
	b.t.Helper()
	b.run("write "+text, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`(function () {
			if (document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")) { return false; }
			var f = document.querySelector(".phone-compose");
			if (!f || !f["htmx-internal-data"]) { return false; }
			f.querySelector("#phone-text").value = `+quoteJS(text)+`;
			f.querySelector("button[type=submit]").click();
			return true; })()`)(ctx, tg)
		return err
	}), sees(want))
}

// fromReady makes the ready-made flow key in the panel and publishes it.
func (b phoneFlow) fromReady(key, shot string) {
	b.t.Helper()
	b.run("open the flows", chromedp.Navigate(b.a.URL()+"/flows"), chromedp.WaitVisible("#ready-"+key))
	b.shot(shot + "-01-ready")
	b.run("use the ready-made flow", chromedp.Click("#ready-"+key+" button"), chromedp.WaitVisible("#flow-form"),
		chromedp.WaitVisible("#flow-try"), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`!!window.htmx && document.readyState === "complete"`)(ctx, tg)
			return err
		}))
	b.shot(shot + "-02-editor")
	b.run("publish", chromedp.SendKeys("#flow-note", "From the ready-made flow"), chromedp.Click("#flow-publish"),
		chromedp.WaitVisible("#flow-flash"))
	if msg := b.get("read the flash", chromedp.Text("#flow-flash")); msg == "" {
		b.t.Fatal("no flash after publishing")
	}
}

// handedOff opens the customer's thread in the inbox and waits for the
// hand-off's private note with the summary of the answers.
func (b phoneFlow) handedOff(name, want, shot string) {
	b.t.Helper()
	b.run("open the inbox", chromedp.Navigate(b.a.URL()+"/inbox"),
		chromedp.Click(`//ul[contains(@class,"conv-items")]//a[contains(., `+quoteXPath(name)+`)]`),
		chromedp.WaitVisible(`//div[contains(@class,"msg note")]//div[contains(., `+quoteXPath(want)+`)]`))
	b.shot(shot)
}

func quoteXPath(s string) string { return `"` + s + `"` }

// TestDentalTriageInBrowser: the dental clinic's triage, from the
// ready-made flow to the patient handed to reception in the inbox.
func TestDentalTriageInBrowser(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant()) // the router that feeds flows runs in the assistant's screening
	if _, err := a.Store.CreateTeam(context.Background(), "Reception"); err != nil {
		t.Fatal(err)
	}
	b := phoneFlow{openPanel(t, a), a}
	b.createOwner()
	b.fromReady("dental_triage", "ready-dental")

	b.run("a patient writes from the test phone", chromedp.Navigate(a.URL()+"/phone"), chromedp.WaitVisible("#new-wa"),
		chromedp.SendKeys("#new-wa", "+39 347 555 0101"), chromedp.SendKeys("#new-name", "Marta Gallo"),
		chromedp.SendKeys("#new-text", "Hello, I would like to book an appointment"),
		chromedp.Click(`//button[text()="Send as the customer"]`), chromedp.WaitVisible("#phone-text"))
	b.run("the flow answers", sees("What is it about?"))
	b.shot("ready-dental-03-phone-list")
	b.tapOn("Cleaning", "What is the patient's full name?")
	b.write("Marta Gallo", "Have you been to the clinic before?")
	b.tapOn("First visit", "Which days and times suit you best?")
	b.write("Tuesday or Thursday morning", "Reception will confirm your appointment shortly")
	b.shot("ready-dental-04-phone-done")

	sendboxtest.Eventually(t, 10*time.Second, "the run to end booking_requested", func() bool {
		runs := runsOfFlowNamed(t, a, "Dental clinic: triage")
		return len(runs) == 1 && runs[0].Outcome == "booking_requested"
	})
	b.handedOff("Marta Gallo", "Tuesday or Thursday morning", "ready-dental-05-inbox-handoff")

	// The owner tries the draft on the test phone from the editor, then
	// stops the trial from the thread.
	b.run("open the flow", chromedp.Navigate(a.URL()+"/flows"), chromedp.Click(`//a[text()="Dental clinic: triage"]`),
		chromedp.WaitVisible("#flow-try-btn"))
	if v := b.get("the number offered", chromedp.Value("#try-number")); v != "+393475550101" {
		t.Fatalf("the test phone's number offered is %q", v)
	}
	b.run("try it", chromedp.Click("#flow-try-btn"), chromedp.WaitVisible("#try-ok"))
	if txt := b.get("read the trial", chromedp.Text("#try-ok")); !strings.Contains(txt, "+393475550101") {
		t.Fatalf("after trying: %q", txt)
	}
	b.shot("ready-dental-06-tried")
	b.run("the trial on the phone", chromedp.Click("#try-phone"), chromedp.WaitVisible("#phone-text"))
	b.run("the trial's question", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`document.querySelectorAll(".phone-msgs .msg").length > 0 &&
			(document.querySelector(".phone-msgs").textContent.split("What is it about?").length > 2)`)(ctx, tg)
		return err
	}))
	b.run("the thread", chromedp.Navigate(a.URL()+"/inbox"),
		chromedp.Click(`//ul[contains(@class,"conv-items")]//a[contains(., "Marta Gallo")]`), chromedp.WaitVisible("#flow-runs"))
	if txt := b.get("read the runs", chromedp.Text("#flow-runs")); !containsAll(txt, "Dental clinic: triage", "Trial", "At the step reason", "waiting for the customer's answer") {
		t.Fatalf("the runs in the details: %q", txt)
	}
	b.shot("ready-dental-07-thread-run")
	b.run("stop it", chromedp.Click("#flow-runs button"), chromedp.WaitNotPresent("#flow-runs"))
	sendboxtest.Eventually(t, 10*time.Second, "the trial to be stopped", func() bool {
		runs := runsOfFlowNamed(t, a, "Dental clinic: triage")
		return len(runs) == 2 && runs[0].Outcome == "stopped"
	})

	// The editor's cards for an http step and a template, as the
	// auto-parts flow has them.
	b.run("the auto-parts flow", chromedp.Navigate(a.URL()+"/flows"), chromedp.WaitVisible("#ready-auto_parts_quote"),
		chromedp.Click("#ready-auto_parts_quote button"), chromedp.WaitVisible(".step-http"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(function () { document.querySelector(".step-http").scrollIntoView(); return true; })()`)(ctx, tg)
			return err
		}))
	b.shot("ready-autoparts-http-step")
}

// TestShowroomLeadInBrowser: the showroom's lead qualification, from the
// ready-made flow to the qualified lead handed to sales in the inbox; on
// the way, the thread's details show the run in progress with its Stop
// button.
func TestShowroomLeadInBrowser(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	if _, err := a.Store.CreateTeam(context.Background(), "Sales"); err != nil {
		t.Fatal(err)
	}
	b := phoneFlow{openPanel(t, a), a}
	b.createOwner()
	b.fromReady("showroom_leads", "ready-showroom")

	b.run("a lead writes from the test phone", chromedp.Navigate(a.URL()+"/phone"), chromedp.WaitVisible("#new-wa"),
		chromedp.SendKeys("#new-wa", "+39 333 555 0202"), chromedp.SendKeys("#new-name", "Paolo Conti"),
		chromedp.SendKeys("#new-text", "Hi, I'm looking for a new sofa"),
		chromedp.Click(`//button[text()="Send as the customer"]`), chromedp.WaitVisible("#phone-text"))
	b.run("the flow answers", sees("What are you looking for?"))
	b.tapOn("Sofa", "What budget do you have in mind?")

	// Half-way: the thread shows the run, where it is and what it waits for.
	b.run("the thread while the flow runs", chromedp.Navigate(a.URL()+"/inbox"),
		chromedp.Click(`//ul[contains(@class,"conv-items")]//a[contains(., "Paolo Conti")]`),
		chromedp.WaitVisible(`#flow-runs`))
	if txt := b.get("read the runs", chromedp.Text("#flow-runs")); !containsAll(txt, "Showroom: qualify a lead", "At the step budget", "Stop") {
		t.Fatalf("the runs in the details: %q", txt)
	}
	b.shot("ready-showroom-03-thread-run")

	b.run("back to the phone", chromedp.Navigate(a.URL()+"/phone?wa=393335550202"), sees("What budget do you have in mind?"))
	b.tapOn("€1,000 to €3,000", "square metres")
	b.write("18", "Which style do you like best?")
	b.tapOn("Scandinavian", "send a photo of the room")
	b.write("skip", "When would you like to have it?")
	b.tapOn("Within a month", "Would you like to visit the showroom")
	b.tapOn("Yes, book a visit", "A designer will write to you shortly")
	b.shot("ready-showroom-04-phone-done")

	sendboxtest.Eventually(t, 10*time.Second, "the lead to be qualified", func() bool {
		runs := runsOfFlowNamed(t, a, "Showroom: qualify a lead")
		return len(runs) == 1 && runs[0].Outcome == "qualified"
	})
	b.handedOff("Paolo Conti", "Scandinavian", "ready-showroom-05-inbox-handoff")
	if n := b.get("runs left", chromedp.Evaluate[string](`String(document.querySelectorAll("#flow-runs").length)`)); n != "0" {
		t.Fatalf("the ended run is still shown in the details")
	}
}

// runsOfFlowNamed lists the runs of the flow called name.
func runsOfFlowNamed(t *testing.T, a *sendboxtest.App, name string) []store.FlowRun {
	t.Helper()
	fs, err := a.Store.Flows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Name == name {
			rs, _ := a.Store.RunsOfFlow(context.Background(), f.ID, 10)
			return rs
		}
	}
	return nil
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
