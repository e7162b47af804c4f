package assistant_test

import (
	"fmt"
	"testing"

	"sendbox/assistant"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// Thanks and goodbyes in the five languages get a short reply in their
// language and close nothing: no handoff, no escalation, no resolve. A
// message that asks something more still goes to the knowledge.
func TestThanksAndGoodbyes(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	numbers := map[string]string{"it": "393330000060", "fr": "33612000061", "en": "447700900062", "es": "34612000063", "de": "4915100000064"}
	cases := []struct{ lang, text string }{
		{"it", "Grazie mille, a presto"},
		{"it", "a presto!"},
		{"it", "Buona giornata 😊"},
		{"it", "Ok grazie, arrivederci"},
		{"fr", "à bientôt"},
		{"fr", "Bonne journée !"},
		{"fr", "Merci beaucoup, au revoir"},
		{"en", "see you"},
		{"en", "Bye!"},
		{"en", "Thanks a lot, see you soon"},
		{"es", "hasta luego"},
		{"es", "Adiós"},
		{"es", "Muchas gracias, hasta pronto"},
		{"de", "Tschüss"},
		{"de", "bis bald"},
		{"de", "Vielen Dank und bis bald!"},
	}
	for _, c := range cases {
		_, r := ask(t, a, numbers[c.lang], c.text)
		if r.Outcome != store.AIGreeted || r.Detail != "goodbye" {
			t.Errorf("%q: %+v", c.text, r)
			continue
		}
		if got := sent(t, a, r.MessageID); got != assistant.DefaultMessages[c.lang].Goodbye {
			t.Errorf("%q answered %q", c.text, got)
		}
	}
	for lang, n := range numbers {
		convs, _, _, err := a.Store.ListConversations(bg, store.ConversationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range convs {
			if c.Contact.WaID != n {
				continue
			}
			if c.Status != "open" || c.Bot != store.BotOn || c.Urgent || c.Escalation != "" || c.TeamID != 0 {
				t.Errorf("%s: a goodbye changed the conversation: %+v", lang, c)
			}
		}
	}
	// Words beyond a goodbye ask something: the knowledge is searched (and,
	// having nothing, hands over: each in a conversation of its own).
	for i, text := range []string{"See you at 10 tomorrow?", "A presto il preventivo?", "presto", "bis wann habt ihr offen?"} {
		if _, r := ask(t, a, fmt.Sprintf("3933300001%02d", i), text); r.Outcome == store.AIGreeted {
			t.Errorf("%q taken for small talk: %+v", text, r)
		}
	}
}
