package ui_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/config"
	"sendbox/sendboxtest"
	"sendbox/whatsapp/sim"
)

// TestAssistantEndToEnd drives the assistant's side of the panel in real
// Chromium: the owner teaches it a FAQ and tries a question, looks at the
// settings and the policy, then a customer asks that question and the
// answer appears live in the thread with its source; a customer in pain
// makes the conversation urgent live, with an alert naming them.
func TestAssistantEndToEnd(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	br := openPanel(t, a)
	ctx, run, get, shot := br.ctx, br.run, br.get, br.shot
	// tall takes a screenshot of a whole long page: the panel scrolls inside
	// its main column, so the window is made as tall as the page.
	tall := func(name string) {
		t.Helper()
		h, err := sendboxtest.TryRead(ctx, chromedp.Evaluate[int](`document.querySelector("main").scrollHeight`))
		if err != nil {
			t.Fatal(err)
		}
		run("make the window tall", chromedp.EmulateViewport(1440, int64(min(h, 6000))))
		shot(name)
		run("back to the usual window", chromedp.EmulateViewport(1440, 900))
	}
	customer := func(text string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"type": "text", "text": map[string]string{"body": text}})
		if _, err := a.Sim.SendInbound(context.Background(), sim.Inbound{From: "393471234567", Name: "Maria Rossi", Message: body}); err != nil {
			t.Fatal(err)
		}
	}

	br.createOwner()

	// 1. The knowledge base: add a FAQ, then try the question.
	run("open the knowledge base", chromedp.Click(`//nav[@class="sidebar"]//a[@href="/knowledge"]`), chromedp.WaitVisible("#faq-q-new"))
	run("add a FAQ",
		chromedp.SendKeys("#faq-q-new", "Quanto costa la pulizia dei denti?"),
		chromedp.SendKeys("#faq-a-new", "La pulizia dentale costa 80 euro e dura 45 minuti. Può prenotarla qui o al telefono."),
		chromedp.Click(`//button[text()="Add the question"]`),
		chromedp.WaitVisible(`//details[contains(@class,"faq")]//span[text()="Quanto costa la pulizia dei denti?"]`))
	run("paste a document",
		chromedp.SendKeys("#kb-title", "Prima visita"),
		chromedp.SendKeys("#kb-text", "# Cosa portare\nLa tessera sanitaria e gli esami recenti.\n\n# Quanto dura\nLa prima visita dura circa un'ora."),
		chromedp.Click(`//button[text()="Add the document"]`),
		chromedp.WaitVisible(`//h2[text()="Passages"]`))
	shot("a0-knowledge-document")
	run("try the question", chromedp.Navigate(a.URL()+"/knowledge"), chromedp.WaitVisible("#kb-q"),
		chromedp.SendKeys("#kb-q", "Quanto costa la pulizia dei denti?"),
		chromedp.Click(`//button[text()="Find passages"]`),
		chromedp.WaitVisible(`//div[@id="kb-try-result"]//div[contains(., "by quoting")]`))
	run("open the FAQ", chromedp.Click(`//details[contains(@class,"faq")]/summary`))
	tall("a1-knowledge")

	// 2. Settings → Assistant and the policy with a try-it result.
	run("assistant settings", chromedp.Navigate(a.URL()+"/settings"), chromedp.WaitVisible(".subnav"),
		chromedp.Click(`//ul[@class="subnav"]//a[text()="Assistant"]`), chromedp.WaitVisible("#ai-offline"))
	run("open the Italian replies", chromedp.Click(`//details[contains(@class,"fold")]/summary[text()="Italian"]`),
		chromedp.WaitVisible("#msg-it-holding"))
	tall("a2-assistant-settings")
	run("policy", chromedp.Click(`//ul[@class="subnav"]//a[text()="Escalation policy"]`), chromedp.WaitVisible("#try-text"),
		chromedp.SendKeys("#try-text", "Non ho dolore, ma la gengiva sanguina da ieri"),
		chromedp.Click(`//button[text()="Check"]`),
		chromedp.WaitVisible(`//div[@id="try-result"]//tr[contains(@class,"negated")]`))
	verdict := get("the verdict", chromedp.Text(".try-verdict"))
	if !strings.Contains(verdict, "Medical urgency") {
		t.Errorf("the policy's verdict: %q", verdict)
	}
	run("open a category", chromedp.Click(`//details[contains(@class,"fold")]/summary[contains(., "Medical urgency")]`))
	tall("a3-policy-try")

	// 3. A customer asks the FAQ's question: the answer appears live, with its source.
	run("open the inbox", chromedp.Navigate(a.URL()+"/inbox"), chromedp.WaitVisible("#inbox-heading"))
	customer("Buongiorno, quanto costa la pulizia dei denti?")
	run("see the conversation live", chromedp.WaitVisible(`//span[@class="conv-name" and text()="Maria Rossi"]`),
		chromedp.Click(`//span[@class="conv-name" and text()="Maria Rossi"]`),
		chromedp.WaitVisible("#reply-body"))
	run("see the assistant's answer",
		chromedp.WaitVisible(`//div[contains(@class,"msg out ai")]//div[contains(., "80 euro")]`),
		chromedp.WaitVisible(`//div[contains(@class,"msg out ai")]//details[@class="sources"]/summary`))
	// The thread is redrawn live while the answer's statuses and the
	// routing arrive, and a redrawn sources list is closed again: open it
	// as a person would, once more if it closed under the click.
	for try := 1; ; try++ {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := chromedp.Do(tctx, chromedp.Click(`//div[contains(@class,"msg out ai")]//details[@class="sources"]/summary`),
			chromedp.WaitVisible(`//details[@class="sources"]//a[strong[text()="Quanto costa la pulizia dei denti?"]]`))
		cancel()
		if err == nil {
			break
		}
		if try == 5 {
			t.Fatalf("open the answer's sources: %v", err)
		}
	}
	shot("a4-thread-ai-answer")

	// 4. The copilot drafts a reply into the box.
	run("suggest a reply", chromedp.Click(`//button[text()="Suggest a reply"]`),
		chromedp.WaitVisible(`//div[@class="copilot-result"]//strong[text()="Suggested reply"]`))
	draft := get("the draft", chromedp.Value("#reply-body"))
	if !strings.Contains(draft, "80 euro") {
		t.Errorf("the reply box holds %q", draft)
	}
	shot("a5-copilot-suggest")
	run("summarise without a model", chromedp.Click(`//button[text()="Summarise"]`),
		chromedp.WaitVisible(`//div[@class="copilot-result"]//div[contains(., "Text generation is off")]`))

	// 5. The customer is in pain: urgent, live, with an alert.
	customer("ho un forte dolore e sanguina")
	run("see the alert", chromedp.WaitVisible(`//div[@id="toasts"]//div[contains(@class,"toast")]//strong[text()="Urgent: Maria Rossi"]`))
	run("see the list and the thread flag it",
		chromedp.WaitVisible(`//ul[@class="conv-items"]//li[contains(@class,"urgent")]//span[contains(., "Medical urgency")]`),
		chromedp.WaitVisible(`//div[contains(@class,"ai-bar-urgent")]`),
		chromedp.WaitVisible(`//div[contains(@class,"ai-bar-paused")]`))
	alert := get("the alert", chromedp.Text("#toasts .toast"))
	if !strings.Contains(alert, "Medical urgency") {
		t.Errorf("the alert says %q", alert)
	}
	shot("a6-urgent-alert")
	run("dismiss the alert", chromedp.Click("#toasts .toast-close"))
	n, err := sendboxtest.TryRead(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#toasts .toast").length`))
	if err != nil || n != 0 {
		t.Errorf("the alert stayed: %d %v", n, err)
	}
	run("filter urgent", chromedp.Click(`label[for="st-urgent"]`),
		chromedp.WaitVisible(`//ul[@aria-label="Urgent conversations"]//span[text()="Maria Rossi"]`))
	run("clear urgent", chromedp.Click(`//button[text()="Clear urgent"]`), chromedp.WaitNotPresent(`.ai-bar-urgent`))
	shot("a7-thread-after")

	// 6. Phone-sized: the knowledge base still reads well.
	run("phone-sized knowledge", chromedp.EmulateViewport(390, 844), chromedp.Navigate(a.URL()+"/knowledge"),
		chromedp.WaitVisible("#kb-q"))
	shot("a8-mobile-knowledge")
	run("phone-sized thread", chromedp.Navigate(a.URL()+"/inbox"),
		chromedp.WaitVisible(`//span[@class="conv-name" and text()="Maria Rossi"]`),
		chromedp.Click(`//span[@class="conv-name" and text()="Maria Rossi"]`), chromedp.WaitVisible("#reply-body"))
	shot("a9-mobile-thread")
}

// TestPullInBrowser: pulling a model shows its progress live, polled by
// the page, against a stand-in Ollama (a real one cannot pull offline).
func TestPullInBrowser(t *testing.T) {
	o := newOllamaStandIn(t)
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) { c.OllamaURL = o.URL }))
	br := openPanel(t, a)
	ctx, run := br.ctx, br.run
	br.createOwner()
	sendboxtest.Eventually(t, 10*time.Second, "the stand-in Ollama to be seen online", a.LLM.Online)
	run("start a pull", chromedp.Navigate(a.URL()+"/settings/assistant"), chromedp.WaitVisible("#pull-name"),
		chromedp.SendKeys("#pull-name", "llama3.2:3b"),
		chromedp.Click(`//button[text()="Pull"]`),
		chromedp.WaitVisible(`//div[@id="pulls"]//strong[text()="25%"]`))
	run("scroll to it", chromedp.ScrollIntoView("#pulls"))
	sendboxtest.Screenshot(t, ctx, "a10-pull-progress")
	close(o.gate())
	run("see it installed", chromedp.WaitVisible(`//div[@id="pulls"]//p[contains(., "llama3.2:3b is installed.")]`))
	sendboxtest.Screenshot(t, ctx, "a11-pull-done")
}
