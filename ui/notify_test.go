package ui_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/policy"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// events opens the panel's live event stream as b's browser holds it and
// returns the names of the events it receives, in order.
func events(t *testing.T, a *sendboxtest.App, b *browser) <-chan string {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL()+"/events", nil)
	stream, err := (&http.Client{Jar: b.c.Jar}).Do(req)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("events: %v", err)
	}
	t.Cleanup(func() { stream.Body.Close() })
	names := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				names <- name
			}
		}
	}()
	return names
}

// waitFor reads names until want arrives, failing on refuse before it.
func waitFor(t *testing.T, who string, names <-chan string, want, refuse string) {
	t.Helper()
	timeout := time.After(90 * time.Second) // generous: the machine may be busy
	for {
		select {
		case n := <-names:
			if n == refuse {
				t.Fatalf("%s received %q", who, refuse)
			}
			if n == want {
				return
			}
		case <-timeout:
			t.Fatalf("%s: no %q in 90 s", who, want)
		}
	}
}

// TestUrgentAlertsOnlyToThoseWhoCanAct: an urgent alert reaches the panels
// of agents and above, not viewers, who cannot act on a conversation.
func TestUrgentAlertsOnlyToThoseWhoCanAct(t *testing.T) {
	a := sendboxtest.New(t)
	setupOwner(t, a)
	agent, viewer := userBrowser(t, a, "agent"), userBrowser(t, a, "viewer")
	ctx := context.Background()
	urgentConv := conversation(t, a)
	other := say(t, a, "393470000009", "Bruno", "Buongiorno").ConversationID
	agentEvents, viewerEvents := events(t, a, agent), events(t, a, viewer)

	if err := a.Store.Escalate(ctx, urgentConv, store.Escalation{Category: policy.Medical, Urgent: true,
		Detail: "sanguina"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the agent", agentEvents, "urgent", "")
	// Events reach each browser in order: a later one shows whether the
	// alert went to the viewer too.
	if err := a.Store.AddNote(ctx, other, "later"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the viewer", viewerEvents, "conv-"+itoa(other), "urgent")
}
