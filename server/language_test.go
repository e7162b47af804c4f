package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/events"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// The conversation's language: the number's country until the customer
// writes a sentence, then what they write; a short or ambiguous message
// does not move it; an agent's choice sticks over detection until cleared;
// and a returning customer's new conversation keeps it.
func TestConversationLanguage(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	const from = "393401112233"
	type conv struct {
		ID               int64
		Language         string
		LanguageSource   string `json:"language_source"`
		LanguageDetected string `json:"language_detected"`
	}
	get := func(id int64) conv {
		t.Helper()
		code, body := a.Do("GET", fmt.Sprintf("/api/v1/conversations/%d", id), nil)
		if code != http.StatusOK {
			t.Fatalf("get conversation: %d %s", code, body)
		}
		return sendboxtest.JSON[struct{ Data conv }](t, body).Data
	}
	speaks := func(id int64, lang, source string) {
		t.Helper()
		if c := get(id); c.Language != lang || c.LanguageSource != source {
			t.Fatalf("conversation speaks %s (%s), want %s (%s)", c.Language, c.LanguageSource, lang, source)
		}
	}
	m, err := a.Store.MessageByWAMID(ctx, inbound(t, a, from, "STOP"))
	if err != nil {
		t.Fatal(err)
	}
	id := m.ConversationID
	speaks(id, "it", "number") // one word tells nothing: +39
	inbound(t, a, from, "Bonjour, je voudrais savoir si vous êtes ouverts samedi matin")
	speaks(id, "fr", "detected")
	for _, short := range []string{"grazie", "ok 👍", "STOP", "🙏", "Thank you"} {
		inbound(t, a, from, short)
		speaks(id, "fr", "detected")
	}

	// An agent's choice sticks; detection goes on underneath.
	path := fmt.Sprintf("/api/v1/conversations/%d/language", id)
	if code, body := a.Do("PUT", path, map[string]string{"language": "de"}); code != http.StatusOK {
		t.Fatalf("set language: %d %s", code, body)
	}
	speaks(id, "de", "agent")
	inbound(t, a, from, "Vorrei prenotare un appuntamento per la pulizia dei denti")
	if c := get(id); c.Language != "de" || c.LanguageDetected != "it" {
		t.Fatalf("after an Italian sentence: %+v", c)
	}
	timeline, err := a.Store.ConversationEvents(ctx, id)
	if err != nil || len(timeline) == 0 || timeline[len(timeline)-1].Kind != events.ChangeLanguage {
		t.Fatalf("no timeline line for the choice: %+v %v", timeline, err)
	}
	if code, body := a.Do("PUT", path, map[string]string{"language": ""}); code != http.StatusOK {
		t.Fatalf("clear language: %d %s", code, body)
	}
	speaks(id, "it", "detected")

	// Bad input is refused with a stable code; a viewer may not choose.
	viewer, _, err := accounts.CreateAPIKey(ctx, a.Store, "dashboard", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, path string
		body      any
		status    int
		code      string
	}{
		{a.Key, path, map[string]string{"language": "pt"}, 422, "invalid_language"},
		{a.Key, path, map[string]any{}, 422, "invalid_language"},
		{a.Key, path, map[string]any{"language": 3}, 400, "invalid_json"},
		{a.Key, "/api/v1/conversations/999999/language", map[string]string{"language": "it"}, 404, "not_found"},
		{viewer, path, map[string]string{"language": "it"}, 403, "forbidden"},
	} {
		code, body := a.DoAs(c.key, "PUT", c.path, c.body)
		if code != c.status || sendboxtest.JSON[apiErr](t, body).Error.Code != c.code {
			t.Errorf("PUT %s %v: %d %s, want %d %s", c.path, c.body, code, body, c.status, c.code)
		}
	}
	speaks(id, "it", "detected")

	// A returning customer's next conversation speaks the language of the last.
	if err := a.Store.SetStatus(ctx, id, "resolved", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if code, body := a.Do("PUT", path, map[string]string{"language": "es"}); code != http.StatusOK {
		t.Fatalf("set language: %d %s", code, body)
	}
	m2, err := a.Store.MessageByWAMID(ctx, inbound(t, a, from, "ok"))
	if err != nil {
		t.Fatal(err)
	}
	if m2.ConversationID == id {
		t.Fatal("the message went to the resolved conversation")
	}
	if c := get(m2.ConversationID); c.Language != "es" || c.LanguageSource != "agent" || c.LanguageDetected != "it" {
		t.Fatalf("new conversation: %+v", c)
	}

	// And so does a conversation the business starts.
	if err := a.Store.SetStatus(ctx, m2.ConversationID, "resolved", time.Time{}); err != nil {
		t.Fatal(err)
	}
	code, body := a.Do("POST", "/api/v1/messages", map[string]any{"to": "+" + from, "type": "template",
		"template": map[string]any{"name": "hello_world", "language": map[string]string{"code": "en_US"}}})
	if code != http.StatusAccepted {
		t.Fatalf("send a template: %d %s", code, body)
	}
	sent := sendboxtest.JSON[struct{ Data store.Message }](t, body).Data
	if sent.ConversationID == m2.ConversationID {
		t.Fatal("the template went to the resolved conversation")
	}
	speaks(sent.ConversationID, "es", "agent")

	// A customer known only from a number outside the five languages,
	// writing nothing telling: English.
	m3, err := a.Store.MessageByWAMID(ctx, inbound(t, a, "8613812345678", "👍"))
	if err != nil {
		t.Fatal(err)
	}
	speaks(m3.ConversationID, "en", "default")
}
