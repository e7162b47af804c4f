package ui_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	ev "sendbox/events"
	"sendbox/policy"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/timeline"
)

// TestThreadShowsTimelineSentences: what people, an integration and the
// assistant did shows in the thread and in the details as sentences naming
// who did it, worded when the page is drawn.
func TestThreadShowsTimelineSentences(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	conv := conversation(t, a)
	path := "/inbox/" + itoa(conv)
	owner.get(path)
	if resp, body := owner.post(path+"/assign", map[string][]string{"assignee": {"me"}}); resp.StatusCode != 204 {
		t.Fatalf("assign: %d %s", resp.StatusCode, body)
	}
	if resp, body := owner.post(path+"/status", map[string][]string{"action": {"pending"}}); resp.StatusCode != 204 {
		t.Fatalf("pending: %d %s", resp.StatusCode, body)
	}
	ctx := context.Background()
	if err := a.Store.SetBot(ev.WithActor(ctx, ev.APIKey(4, "crm")), conv, store.BotOff, ""); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.Escalate(ev.WithActor(ctx, ev.Assistant()), conv, store.Escalation{Category: policy.Medical,
		Urgent: true, Detail: "sanguina", Summary: "Escalation: medical urgency"}); err != nil {
		t.Fatal(err)
	}
	owner.get(path)
	if resp, _ := owner.post(path+"/urgent/clear", nil); resp.StatusCode != 204 {
		t.Fatalf("clear urgent: %d", resp.StatusCode)
	}
	lines := []string{"Owner assigned the conversation to Owner", "Owner marked the conversation pending",
		"The API key crm switched the assistant off", "The assistant escalated the conversation: Medical urgency (&#34;sanguina&#34;)",
		"Owner cleared the urgent flag"}
	_, thread := owner.get(path + "/messages")
	for _, want := range append(lines, "event-escalated", "Private note by Assistant", "Escalation: medical urgency") {
		if !strings.Contains(thread, want) {
			t.Errorf("the thread lacks %q", want)
		}
	}
	_, details := owner.get(path + "/details?part=details")
	for _, want := range append(lines, "The assistant added a private note") {
		if !strings.Contains(details, want) {
			t.Errorf("the details lack %q", want)
		}
	}
}

// TestLocaleHasTheTimeline: the panel's locale words every sentence the
// timeline may say, as the API's English does, so that the two read alike
// and a language added later has the list of what to translate.
func TestLocaleHasTheTimeline(t *testing.T) {
	b, err := os.ReadFile("locales/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var locale map[string]string
	if err := json.Unmarshal(b, &locale); err != nil {
		t.Fatal(err)
	}
	for _, k := range timeline.Keys() {
		en, _ := timeline.English(k)
		if locale[k] != en {
			t.Errorf("%s: the panel says %q, the timeline %q", k, locale[k], en)
		}
	}
}
