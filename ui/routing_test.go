package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
)

// The thread says who answers the customer now and why: here the
// assistant took the message, found nothing to quote and handed over.
func TestThreadShowsWhoAnswers(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	owner := setupOwner(t, a)
	m := say(t, a, "393401112277", "Giulia", "Quanto costa lo sbiancamento dei denti?")
	var c *store.Conversation
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		c, err = a.Store.ConversationByID(context.Background(), m.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Routing != nil && c.Routing.To == store.RoutePerson {
			break
		}
		if time.Now().After(deadline) {
			r, _ := a.Store.AIReplies(context.Background(), m.ConversationID)
			t.Fatalf("not handed to a person: routing %+v, bot %s, AI replies %+v", c.Routing, c.Bot, r)
		}
	}
	_, page := owner.get("/inbox/" + itoa(m.ConversationID))
	want := `Answered by: a person · reason: the assistant handed over (no passage matches the question well enough to quote it)`
	if !strings.Contains(page, want) {
		i := strings.Index(page, `id="routing"`)
		t.Fatalf("the thread lacks %q; routing line: %q", want, page[max(i, 0):min(max(i, 0)+300, len(page))])
	}
	if !strings.Contains(page, "Answered by the assistant · reason: the assistant is on") {
		t.Error("the timeline lacks the assistant's routing line")
	}
}
