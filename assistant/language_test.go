package assistant_test

import (
	"fmt"
	"net/http"
	"testing"

	"sendbox/assistant"
	"sendbox/business"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// The fixed replies are in the conversation's language, even when the
// message that calls for one is a word that names no language: the
// language detected earlier in the conversation, else the country code of
// the number, else an agent's choice over both.
func TestFixedRepliesInConversationLanguage(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	want := func(r *store.AIReply, outcome, text string) {
		t.Helper()
		if r.Outcome != outcome {
			t.Fatalf("outcome %s, want %s: %+v", r.Outcome, outcome, r)
		}
		if got := sent(t, a, r.MessageID); got != text {
			t.Errorf("sent %q, want %q", got, text)
		}
	}

	// A bare STOP from an Italian number: the confirmation in Italian.
	_, r := ask(t, a, "393330000040", "STOP")
	want(r, store.AIOptedOut, assistant.DefaultMessages["it"].OptOut)

	// A French customer on an Italian number: French, once they wrote a sentence.
	_, r = ask(t, a, "393330000041", "Bonjour, je voudrais savoir si vous faites les couronnes en céramique")
	want(r, store.AIHandoff, assistant.DefaultMessages["fr"].Unsupported)
	_, r = ask(t, a, "393330000041", "STOP")
	want(r, store.AIOptedOut, assistant.DefaultMessages["fr"].OptOut)

	// A one-word question the knowledge cannot answer, from a Spanish number.
	_, r = ask(t, a, "34612000042", "Precio?")
	want(r, store.AIHandoff, assistant.DefaultMessages["es"].Unsupported)

	// An escalation in one word from a German number: the holding message in German.
	_, r = ask(t, a, "4915100000043", "Mitarbeiter!")
	want(r, store.AIEscalated, assistant.DefaultMessages["de"].Holding)

	// An agent's choice wins over the number and over what is detected.
	m := send(t, a, "393330000044", "👋")
	if code, body := a.Do("PUT", fmt.Sprintf("/api/v1/conversations/%d/language", m.ConversationID),
		map[string]string{"language": "de"}); code != http.StatusOK {
		t.Fatalf("choose German: %d %s", code, body)
	}
	_, r = ask(t, a, "393330000044", "stop")
	want(r, store.AIOptedOut, assistant.DefaultMessages["de"].OptOut)

	// The away message too, from a Spanish number writing "ok?".
	p, err := business.Load(bg, a.Store)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Hours {
		p.Hours[i].Closed = true
	}
	if err := business.Save(bg, a.Store, p); err != nil {
		t.Fatal(err)
	}
	settings(t, a, func(s *assistant.Settings) { s.Hours = assistant.HoursAway })
	_, r = ask(t, a, "34612000045", "ok?")
	want(r, store.AIAway, assistant.DefaultMessages["es"].Away)
}
