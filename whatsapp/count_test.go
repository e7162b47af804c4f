package whatsapp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// messagesIn counts, the slow way, the items of every array under a
// "messages" key anywhere in v.
func messagesIn(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if a, ok := c.([]any); ok && k == "messages" {
				n += len(a)
			}
			n += messagesIn(c)
		}
	case []any:
		for _, c := range x {
			n += messagesIn(c)
		}
	}
	return n
}

// TestCountMessagesMatchesTheFixtures: on every real webhook we have, the
// skim finds exactly the customer messages a full decode finds.
func TestCountMessagesMatchesTheFixtures(t *testing.T) {
	dir := filepath.Join("..", "testdata", "whatsapp", "split")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	withMessages := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			continue
		}
		want := messagesIn(v)
		if got := CountMessages(b); got != want {
			t.Errorf("%s: counted %d messages, want %d", e.Name(), got, want)
		}
		if want > 0 {
			withMessages++
		}
		if wh, err := ParseWebhook(b); err == nil && len(wh.Messages) > want {
			t.Errorf("%s: the parser finds %d messages, the count %d", e.Name(), len(wh.Messages), want)
		}
	}
	if withMessages < 20 {
		t.Fatalf("only %d fixtures carry messages", withMessages)
	}
	for body, want := range map[string]int{
		`{}`:              0,
		`{"messages":[]}`: 0,
		`{"messages" : [ {"a":[1,2,{"b":"],}"}]} , {"c":"\"messages\":[1,2]"} ]}`:                                      2,
		`{"entry":[{"changes":[{"value":{"messages":[{"id":"1"}]}},{"value":{"messages":[{"id":"2"},{"id":"3"}]}}]}]}`: 3,
		`{"statuses":[{"id":"x","status":"sent"}],"text":"messages"}`:                                                  0,
	} {
		if got := CountMessages([]byte(body)); got != want {
			t.Errorf("%s: counted %d, want %d", body, got, want)
		}
	}
}

// FuzzCountMessages: for any valid JSON the skim never counts fewer
// messages than there are (fewer would let the sender overrun the number's
// throughput).
func FuzzCountMessages(f *testing.F) {
	f.Add([]byte(`{"messages":[{"id":"1"},{"id":"2"}]}`))
	f.Add([]byte(`{"a\"messages":[{"messages":[1,2]}]}`))
	f.Add([]byte(`{"x":["messages",{"messages":[]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		if got, want := CountMessages(b), messagesIn(v); got < want {
			t.Fatalf("%s: counted %d, there are %d", b, got, want)
		}
	})
}
