package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/sendboxtest"
)

// TestFlowBuilderInBrowser builds a small flow in the editor in Chromium
// as an owner would: a keyword, a question with two choices of which one
// branches to a person, a thank-you whose misspelt variable is reported by
// its step as soon as the box is left and goes away once fixed; then it is
// published with a note and the diagram shows the branch.
func TestFlowBuilderInBrowser(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant()) // the router that feeds flows runs in the assistant's screening
	b := openPanel(t, a)
	b.createOwner()

	// settle waits for the editor's save (sent 250 ms after a change) to
	// come back.
	settle := chromedp.Steps(chromedp.Sleep(400*time.Millisecond),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`document.querySelector(".htmx-request") === null`)(ctx, tg)
			return err
		}))
	choose := func(id, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(function () { var s = document.getElementById(`+quoteJS(id)+`);
				s.value = `+quoteJS(value)+`; s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)(ctx, tg)
			return err
		})
	}

	// has waits until the element sel says want.
	has := func(sel, want string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`(function () { var e = document.querySelector(`+quoteJS(sel)+`);
				return !!e && e.textContent.indexOf(`+quoteJS(want)+`) >= 0; })()`)(ctx, tg)
			return err
		})
	}

	b.run("open the flows", chromedp.Navigate(a.URL()+"/flows"), chromedp.WaitVisible("#flow-name"))
	b.shot("flows-01-empty")
	b.run("create a flow", chromedp.SendKeys("#flow-name", "Appointments"), chromedp.Click(`//button[text()="Create the flow"]`),
		chromedp.WaitVisible("#flow-form"), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`!!window.htmx && document.readyState === "complete"`)(ctx, tg)
			return err
		}))
	b.run("type a keyword", chromedp.SendKeys("#t0-keywords", "book"), chromedp.Blur("#t0-keywords"), settle)
	b.run("add a question", choose("flow-add", "ask"), settle, chromedp.Click("#flow-add-btn"), chromedp.WaitVisible("#s0-text"))
	b.run("write the question", chromedp.SendKeys("#s0-text", "What do you need?"), chromedp.Blur("#s0-text"), settle)
	b.run("make it a choice", choose("s0-input", "choice"), settle, chromedp.WaitVisible(`//button[@value="add-choice:0"]`))
	b.run("add two choices", chromedp.Click(`//button[@value="add-choice:0"]`), chromedp.WaitVisible("#s0-c0-title"),
		chromedp.Click(`//button[@value="add-choice:0"]`), chromedp.WaitVisible("#s0-c1-title"))
	b.run("name the choices", chromedp.SendKeys("#s0-c0-title", "Cleaning"), chromedp.SendKeys("#s0-c1-title", "Pain"),
		chromedp.Blur("#s0-c1-title"), settle)
	b.run("add a thank-you after it", choose("s0-add", "send"), settle, chromedp.Click(`//button[@value="add:0"]`),
		chromedp.WaitVisible("#s1-text"))
	b.run("add a hand-off at the end", choose("flow-add", "handoff"), settle, chromedp.Click("#flow-add-btn"),
		chromedp.WaitVisible("#s2-text"))
	b.run("send Pain to the person", choose("s0-c1-next", "handoff"), settle)

	// A misspelt variable: the message appears by the step when the box is left.
	b.run("misspell a variable", chromedp.SendKeys("#s1-text", "Thanks {{vars.answr}}, see you soon."), chromedp.Blur("#s1-text"),
		has("#step-1 .problems", "no ask step fills the variable"))
	msg := b.get("read the problem", chromedp.Text("#step-1 .problems"))
	if !strings.Contains(msg, "no ask step fills the variable") {
		t.Fatalf("the problem by the step says %q", msg)
	}
	if n := b.get("problems elsewhere", chromedp.Evaluate[string](`String(document.querySelectorAll("#step-0 .problems, #step-2 .problems").length)`)); n != "0" {
		t.Fatalf("%s other steps show a problem", n)
	}
	b.shot("flows-02-problem")
	// The variables list fills in the name the question keeps.
	b.run("fix it from the variables list", chromedp.Clear("#s1-text"), chromedp.SendKeys("#s1-text", "Thanks "),
		chromedp.Click(`//button[@data-insert="{{vars.answer}}"]`), settle,
		chromedp.WaitNotPresent(`#step-1 .problems`))
	if v := b.get("read the text", chromedp.Value("#s1-text")); v != "Thanks {{vars.answer}}" {
		t.Fatalf("after inserting the variable the text is %q", v)
	}
	if n := b.get("problems left", chromedp.Evaluate[string](`String(document.querySelectorAll(".problems").length)`)); n != "0" {
		t.Fatalf("%s problems left after the fix", n)
	}

	b.run("publish", chromedp.SendKeys("#flow-note", "First version"), chromedp.Click("#flow-publish"),
		chromedp.WaitVisible("#flow-flash"))
	if msg := b.get("read the flash", chromedp.Text("#flow-flash")); !strings.Contains(msg, "Published as version 1") {
		t.Fatalf("after publishing: %q", msg)
	}
	// The diagram shows every step and the choice that branches.
	diagram := b.get("read the diagram", chromedp.OuterHTML("#flow-diagram svg"))
	for _, want := range []string{`data-step="ask"`, `data-step="send"`, `data-step="handoff"`, ">Pain<"} {
		if !strings.Contains(diagram, want) {
			t.Errorf("the diagram lacks %q:\n%s", want, diagram)
		}
	}
	b.shot("flows-03-published")
	b.run("scroll to the top", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(function () { document.getElementById("main").scrollTo(0, 0); return true; })()`)(ctx, tg)
		return err
	}))
	b.shot("flows-03b-published-top")

	// Two customers write the keyword; one answers, one does not.
	say(t, a, "393401120001", "Carla", "book")
	say(t, a, "393401120002", "Dario", "book")
	sendboxtest.Eventually(t, 30*time.Second, "two runs at the question", func() bool {
		fs, _ := a.Store.Flows(context.Background())
		if len(fs) != 1 {
			return false
		}
		rs, _ := a.Store.RunsOfFlow(context.Background(), fs[0].ID, 10)
		return len(rs) == 2
	})
	say(t, a, "393401120001", "Carla", "Cleaning")
	sendboxtest.Eventually(t, 30*time.Second, "Carla's run to end", func() bool {
		fs, _ := a.Store.Flows(context.Background())
		rs, _ := a.Store.RunsOfFlow(context.Background(), fs[0].ID, 10)
		for _, r := range rs {
			if r.Outcome != "" {
				return true
			}
		}
		return false
	})
	b.run("the list", chromedp.Navigate(a.URL()+"/flows"), chromedp.WaitVisible("table.flows-list"))
	b.shot("flows-04-list")
	b.run("the analytics", chromedp.Navigate(a.URL()+"/flows"), chromedp.Click(`//a[text()="Appointments"]`),
		chromedp.WaitVisible("#flow-form"), chromedp.Click(`//a[text()="Analytics"]`), chromedp.WaitVisible("svg.funnel"))
	if n := b.get("read the starts", chromedp.Text("#stat-started")); n != "2" {
		t.Errorf("the analytics count %s starts", n)
	}
	b.shot("flows-05-analytics")
}

func quoteJS(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
