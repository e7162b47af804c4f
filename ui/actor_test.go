package ui_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	sbevents "sendbox/events" // this package's tests have a helper named events
	"sendbox/sendboxtest"
)

// TestEventsNameTheirActor: the events on the broker say who made each
// change: the webhook's message sendbox's ingest, the panel's reply and
// status change the signed-in person, the API's change the key, with what
// changed.
func TestEventsNameTheirActor(t *testing.T) {
	a := sendboxtest.New(t)
	var mu sync.Mutex
	var seen []sbevents.Event
	sub, err := a.Broker.NC.Subscribe(sbevents.SubjectsEvents, func(m *nats.Msg) {
		var ev sbevents.Event
		if json.Unmarshal(m.Data, &ev) == nil {
			mu.Lock()
			seen = append(seen, ev)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	find := func(what string, match func(sbevents.Event) bool) sbevents.Event {
		t.Helper()
		var found sbevents.Event
		sendboxtest.Eventually(t, 20*time.Second, what, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range seen {
				if match(ev) {
					found = ev
					return true
				}
			}
			return false
		})
		return found
	}

	conv := conversation(t, a)
	agent := userBrowser(t, a, "agent")
	inbox := "/inbox/" + itoa(conv)
	if resp, body := agent.post(inbox+"/reply", url.Values{"body": {"Buongiorno"}}); resp.StatusCode != 204 {
		t.Fatalf("reply: %d %s", resp.StatusCode, body)
	}
	if resp, body := agent.post(inbox+"/status", url.Values{"action": {"pending"}}); resp.StatusCode != 204 {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
	if code, body := a.Do("PUT", fmt.Sprintf("/api/v1/conversations/%d/language", conv), map[string]string{"language": "de"}); code != 200 {
		t.Fatalf("language: %d %s", code, body)
	}

	received := find("message.received", func(ev sbevents.Event) bool { return ev.Type == sbevents.MessageReceived })
	if received.Actor != sbevents.System("ingest") {
		t.Errorf("received by %+v", received.Actor)
	}
	queued := find("message.queued", func(ev sbevents.Event) bool { return ev.Type == sbevents.MessageQueued })
	status := find("status", func(ev sbevents.Event) bool { return ev.Status == sbevents.ChangeStatus })
	for _, ev := range []sbevents.Event{queued, status} {
		if ev.Actor.Kind != sbevents.ActorUser || ev.Actor.ID == 0 || ev.Actor.Name != "Agent" {
			t.Errorf("%s %s by %+v", ev.Type, ev.Status, ev.Actor)
		}
	}
	if status.Data[sbevents.DataStatus] != "pending" {
		t.Errorf("status data: %+v", status.Data)
	}
	lang := find("language", func(ev sbevents.Event) bool { return ev.Status == sbevents.ChangeLanguage })
	if lang.Actor.Kind != sbevents.ActorAPIKey || lang.Actor.ID == 0 || lang.Actor.Name != "test" || lang.Data[sbevents.DataLanguage] != "de" {
		t.Errorf("language by %+v, data %+v", lang.Actor, lang.Data)
	}
}
