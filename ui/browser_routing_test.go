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

// In the browser, the thread shows under the assistant's bar who answers
// the customer and why.
func TestRoutingInBrowser(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	b := openPanel(t, a)
	b.createOwner()
	m := say(t, a, "393401112288", "Giulia", "Ho un dolore fortissimo e la guancia gonfia, è urgente")
	sendboxtest.Eventually(t, 20*time.Second, "the message routed", func() bool {
		c, err := a.Store.ConversationByID(context.Background(), m.ConversationID)
		return err == nil && c.Routing != nil && c.Routing.To == store.RoutePerson
	})
	b.run("open the thread", chromedp.Navigate(a.URL()+"/inbox/"+itoa(m.ConversationID)), chromedp.WaitVisible("#routing"))
	// The thread redraws live as the escalation's events arrive: read the
	// line until it settles rather than once.
	want := "Answered by: a person · reason: escalated (Medical urgency)"
	var text string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		text, _ = sendboxtest.TryRead(b.ctx, chromedp.Text("#routing")) // retried if a redraw swaps the node under the read
		if strings.TrimSpace(text) == want || time.Now().After(deadline) {
			break
		}
	}
	if strings.TrimSpace(text) != want {
		t.Errorf("routing line %q, want %q", text, want)
	}
	b.shot("routing-thread")
}
