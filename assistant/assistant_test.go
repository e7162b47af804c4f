package assistant_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"sendbox/assistant"
	"sendbox/business"
	"sendbox/config"
	"sendbox/events"
	"sendbox/knowledge"
	"sendbox/outbound"
	"sendbox/policy"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp"
)

func TestMain(m *testing.M) {
	knowledge.RunChild()
	os.Exit(m.Run())
}

var bg = context.Background()

// ask writes as a customer through the sandbox test phone and waits for the
// assistant to record what it did with the message.
func ask(t *testing.T, a *sendboxtest.App, from, text string) (*store.Message, *store.AIReply) {
	t.Helper()
	m := send(t, a, from, text)
	var r *store.AIReply
	sendboxtest.Eventually(t, 30*time.Second, "the assistant to handle "+strconvQ(text), func() bool {
		var err error
		r, err = a.Store.AIReplyFor(bg, m.ID)
		return err == nil
	})
	return m, r
}

// send writes as a customer and waits until the message is stored.
func send(t *testing.T, a *sendboxtest.App, from, text string) *store.Message {
	t.Helper()
	code, resp := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{
		"from": from, "name": "Giulia Neri", "type": "text", "text": map[string]string{"body": text}})
	if code != http.StatusCreated {
		t.Fatalf("sandbox inbound: %d %s", code, resp)
	}
	wamid := sendboxtest.JSON[struct{ Data struct{ WAMID string } }](t, resp).Data.WAMID
	var m *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the inbound message to be stored", func() bool {
		var err error
		m, err = a.Store.MessageByWAMID(bg, wamid)
		return err == nil
	})
	return m
}

func strconvQ(s string) string { b, _ := json.Marshal(s); return string(b) }

// sent is the text of an outbound message.
func sent(t *testing.T, a *sendboxtest.App, id int64) string {
	t.Helper()
	if id == 0 {
		t.Fatal("the assistant sent nothing")
	}
	m, err := a.Store.MessageByID(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Direction != "outbound" || m.AuthorID != 0 {
		t.Fatalf("message %d is not the assistant's: %+v", id, m)
	}
	return m.Text
}

func conversation(t *testing.T, a *sendboxtest.App, id int64) *store.Conversation {
	t.Helper()
	c, err := a.Store.ConversationByID(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func settings(t *testing.T, a *sendboxtest.App, f func(s *assistant.Settings)) {
	t.Helper()
	s := a.Assistant.Settings()
	f(s)
	if err := a.Assistant.SaveSettings(bg, s); err != nil {
		t.Fatal(err)
	}
}

func addFAQ(t *testing.T, a *sendboxtest.App, q, ans string) {
	t.Helper()
	if code, body := a.Do("POST", "/api/v1/knowledge", map[string]string{"question": q, "answer": ans}); code != http.StatusCreated {
		t.Fatalf("add FAQ: %d %s", code, body)
	}
}

func addDoc(t *testing.T, a *sendboxtest.App, title, md string) {
	t.Helper()
	if code, body := a.Do("POST", "/api/v1/knowledge", map[string]string{"title": title, "text": md, "format": "markdown"}); code != http.StatusCreated {
		t.Fatalf("add document: %d %s", code, body)
	}
}

// waitIndexed waits until the knowledge base answers a retrieval for q.
func waitIndexed(t *testing.T, a *sendboxtest.App, q string) {
	t.Helper()
	sendboxtest.Eventually(t, 20*time.Second, "the knowledge to be indexed", func() bool {
		r, err := a.KB.Retrieve(bg, q, 4)
		return err == nil && r.ByWords > 0
	})
}

const clinicDoc = `# Prices

A professional cleaning (igiene dentale) costs 80 euros and takes 45 minutes. Teeth whitening costs 250 euros.

# Payment

We accept cash, debit and credit cards. Payment in three instalments is possible for treatments over 500 euros.`

// Without Ollama the assistant quotes the best FAQ when it matches the
// question strongly, hands off when nothing does, and stays quiet once a
// person has the conversation.
func TestQuotesKnowledgeWithoutOllama(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	team, err := a.Store.CreateTeam(bg, "Front desk")
	if err != nil {
		t.Fatal(err)
	}
	settings(t, a, func(s *assistant.Settings) { s.ChatModel, s.TeamID = "tiny", team.ID }) // chosen, but Ollama is down
	if on, why := a.Assistant.Generation(); on || !strings.Contains(why, "Ollama") {
		t.Fatalf("generation with Ollama down: %v %q", on, why)
	}
	addFAQ(t, a, "Do you have parking?", "Yes: free parking for patients in the courtyard, entrance from Via Roma 12.")
	addDoc(t, a, "Clinic guide", clinicDoc)
	waitIndexed(t, a, "parking")

	m, r := ask(t, a, "393330000001", "Is there parking for patients?")
	if r.Outcome != store.AIQuoted || r.Mode != "quote" || len(r.Passages) != 1 || r.Passages[0].Kind != store.KBFAQ {
		t.Fatalf("reply: %+v", r)
	}
	if got := sent(t, a, r.MessageID); !strings.HasPrefix(got, "Yes: free parking") {
		t.Errorf("quoted %q", got)
	}
	if r.ModelTime != 0 || r.Latency <= 0 {
		t.Errorf("latency %v, model time %v", r.Latency, r.ModelTime)
	}

	// A passage of a document is quoted too, under its heading.
	_, r = ask(t, a, "393330000001", "How much does teeth whitening cost?")
	if r.Outcome != store.AIQuoted {
		t.Fatalf("whitening: %+v", r)
	}
	if got := sent(t, a, r.MessageID); !strings.Contains(got, "250 euros") || !strings.HasPrefix(got, "Prices: ") {
		t.Errorf("quoted %q", got)
	}

	// Nothing supports an answer: the customer is told a person will reply,
	// and the conversation goes to the team with the assistant paused.
	_, r = ask(t, a, "393330000001", "Can my dog come with me to the appointment?")
	if r.Outcome != store.AIHandoff {
		t.Fatalf("unsupported: %+v", r)
	}
	if got := sent(t, a, r.MessageID); got != assistant.DefaultMessages["en"].Unsupported {
		t.Errorf("handoff message %q", got)
	}
	c := conversation(t, a, m.ConversationID)
	if c.Bot != store.BotPaused || c.TeamID != team.ID || c.Urgent {
		t.Errorf("after handoff: bot %s team %d urgent %v", c.Bot, c.TeamID, c.Urgent)
	}
	// Paused: the next message is for the people.
	next := send(t, a, "393330000001", "Is there parking?")
	time.Sleep(500 * time.Millisecond)
	if _, err := a.Store.AIReplyFor(bg, next.ID); err == nil {
		t.Error("the assistant answered in a conversation a person has")
	}
}

// The escalation policy acts at once, before any model: the conversation is
// urgent, with the team, a summary note, and the holding message in the
// customer's language; a negated symptom is not urgent.
func TestEscalationHandsOverAtOnce(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	team, _ := a.Store.CreateTeam(bg, "Dentists")
	settings(t, a, func(s *assistant.Settings) { s.TeamID = team.ID })
	escalated := make(chan events.Event, 16)
	sub, err := a.Broker.NC.Subscribe(events.Subject(events.ConversationUpdated), func(m *nats.Msg) {
		var ev events.Event
		if json.Unmarshal(m.Data, &ev) == nil && ev.Status == events.ChangeEscalated {
			escalated <- ev
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	_, r := ask(t, a, "393330000002", "Buongiorno, non ho dolore ma vorrei prenotare una pulizia")
	if r.Outcome == store.AIEscalated {
		t.Fatalf("a negated symptom escalated: %+v", r)
	}
	m, r := ask(t, a, "393330000003", "Ho un forte mal di denti e la gengiva sanguina da ieri")
	if r.Outcome != store.AIEscalated || r.Mode != "rules" {
		t.Fatalf("urgent message: %+v", r)
	}
	if got := sent(t, a, r.MessageID); got != assistant.DefaultMessages["it"].Holding {
		t.Errorf("holding message %q", got)
	}
	c := conversation(t, a, m.ConversationID)
	if !c.Urgent || c.Escalation != policy.Medical || c.Bot != store.BotPaused || c.TeamID != team.ID || c.EscalatedAt.IsZero() {
		t.Errorf("conversation: %+v", c)
	}
	evs, err := a.Store.ConversationEvents(bg, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var note, esc bool
	for _, e := range evs {
		switch e.Kind {
		case events.ChangeNote:
			note = strings.Contains(e.Body, "Escalation: medical urgency") && strings.Contains(e.Body, "Giulia Neri, +393330000003") &&
				strings.Contains(e.Body, "How urgent: high") && strings.Contains(e.Body, "sanguina")
		case events.ChangeEscalated:
			esc = true
		}
	}
	if !note || !esc {
		t.Errorf("timeline: %+v", evs)
	}
	if n, _ := a.Store.UrgentCount(bg); n != 1 {
		t.Errorf("urgent count %d", n)
	}
	select {
	case ev := <-escalated:
		if ev.Actor != events.Assistant() || ev.Data[events.DataCategory] != policy.Medical {
			t.Errorf("escalated by %+v, data %+v", ev.Actor, ev.Data)
		}
	case <-time.After(10 * time.Second):
		t.Error("no escalated event")
	}
	// Resolving settles it.
	if err := a.Store.SetStatus(bg, c.ID, "resolved", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if conversation(t, a, c.ID).Urgent {
		t.Error("a resolved conversation stays urgent")
	}
}

// STOP revokes marketing consent and confirms it; "stop by" does not.
func TestOptOut(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	m, r := ask(t, a, "393330000004", "Can I stop by the shop tomorrow to see the green sofa?")
	if r.Outcome == store.AIOptedOut {
		t.Fatalf("stop by opted out: %+v", r)
	}
	if c, _ := a.Store.ContactByID(bg, m.ContactID); c.Consent == store.ConsentOptedOut {
		t.Fatal("consent revoked by 'stop by'")
	}
	m, r = ask(t, a, "447700900005", "STOP")
	if r.Outcome != store.AIOptedOut {
		t.Fatalf("STOP: %+v", r)
	}
	if got := sent(t, a, r.MessageID); got != assistant.DefaultMessages["en"].OptOut {
		t.Errorf("confirmation %q", got)
	}
	c, _ := a.Store.ContactByID(bg, m.ContactID)
	if c.Consent != store.ConsentOptedOut || c.ConsentSource != "whatsapp message" {
		t.Errorf("consent %s from %q", c.Consent, c.ConsentSource)
	}
	if conversation(t, a, m.ConversationID).Bot != store.BotOn {
		t.Error("an opt-out is not an escalation: the assistant stays on")
	}
	_, r = ask(t, a, "393330000006", "Non voglio più ricevere messaggi promozionali, grazie")
	if r.Outcome != store.AIOptedOut {
		t.Fatalf("Italian opt-out: %+v", r)
	}
	if got := sent(t, a, r.MessageID); got != assistant.DefaultMessages["it"].OptOut {
		t.Errorf("Italian confirmation %q", got)
	}
}

// Meta's user_preferences webhook revokes consent too, and the customer
// who wrote in the last 24 hours gets the confirmation.
func TestUserPreferencesWebhook(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	m := send(t, a, "16505551234", "Ciao, avete il divano verde in velluto?")
	body := `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"user_preferences",
		"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"100000000000001"},
		"contacts":[{"wa_id":"16505551234","profile":{"name":"Giulia Neri"}}],
		"user_preferences":[{"wa_id":"16505551234","detail":"User requested to stop marketing messages","category":"marketing_messages",
		"value":"stop","timestamp":` + jsonNow() + `}]}}]}]}`
	if code, resp := a.PostWebhook([]byte(body)); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	sendboxtest.Eventually(t, 20*time.Second, "consent to be revoked", func() bool {
		c, _ := a.Store.ContactByID(bg, m.ContactID)
		return c.Consent == store.ConsentOptedOut && c.ConsentSource == "whatsapp preferences"
	})
	sendboxtest.Eventually(t, 20*time.Second, "the confirmation in Italian", func() bool {
		msgs, _, _, _ := a.Store.ListMessages(bg, store.MessageFilter{ContactID: m.ContactID, Direction: "outbound"})
		for _, o := range msgs {
			if o.Text == assistant.DefaultMessages["it"].OptOut {
				return true
			}
		}
		return false
	})
}

func jsonNow() string { return strings.TrimSpace(strconvI(time.Now().Unix())) }

func strconvI(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A person replying pauses the assistant; after the conversation is
// resolved it answers again in the next one, unless the owner said not to.
func TestHumanTakeoverAndResume(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	addFAQ(t, a, "What are your opening hours?", "We are open Monday to Friday, 9:00 to 18:00.")
	waitIndexed(t, a, "opening hours")
	m, r := ask(t, a, "393330000007", "Hello! What are your opening hours?")
	if r.Outcome != store.AIQuoted {
		t.Fatalf("first answer: %+v", r)
	}
	agent, err := a.Store.CreateUser(bg, "agent@example.com", "Anna", "agent", "")
	if err != nil {
		t.Fatal(err)
	}
	c := conversation(t, a, m.ConversationID)
	if _, _, err := a.Outbound.Enqueue(bg, outboundText(c, "I'll check for you", agent.ID)); err != nil {
		t.Fatal(err)
	}
	if got := conversation(t, a, c.ID).Bot; got != store.BotPaused {
		t.Fatalf("after an agent's reply the assistant is %s", got)
	}
	if err := a.Store.SetStatus(bg, c.ID, "resolved", time.Time{}); err != nil {
		t.Fatal(err)
	}
	m2, r := ask(t, a, "393330000007", "What are your opening hours?")
	if m2.ConversationID == c.ID || r.Outcome != store.AIQuoted {
		t.Fatalf("after resolve: conv %d (old %d), %+v", m2.ConversationID, c.ID, r)
	}

	// With resume off, a person who took over keeps the customer.
	settings(t, a, func(s *assistant.Settings) { s.ResumeAfterResolve = false })
	c2 := conversation(t, a, m2.ConversationID)
	if _, _, err := a.Outbound.Enqueue(bg, outboundText(c2, "Anything else?", agent.ID)); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.SetStatus(bg, c2.ID, "resolved", time.Time{}); err != nil {
		t.Fatal(err)
	}
	m3 := send(t, a, "393330000007", "What are your opening hours?")
	sendboxtest.Eventually(t, 10*time.Second, "the new conversation to keep the assistant paused", func() bool {
		return conversation(t, a, m3.ConversationID).Bot == store.BotPaused
	})
	time.Sleep(300 * time.Millisecond)
	if _, err := a.Store.AIReplyFor(bg, m3.ID); err == nil {
		t.Error("the assistant answered although resume after resolve is off")
	}
}

// A greeting or thanks alone gets one back, in its language.
func TestSmallTalk(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	for text, want := range map[string]string{
		"Buongiorno!":          assistant.DefaultMessages["it"].Greeting,
		"Hola, buenos días":    assistant.DefaultMessages["es"].Greeting,
		"merci beaucoup 🙏":     assistant.DefaultMessages["fr"].Thanks,
		"Vielen Dank!":         assistant.DefaultMessages["de"].Thanks,
		"thank you so much :)": assistant.DefaultMessages["en"].Thanks,
	} {
		_, r := ask(t, a, "393330000008", text)
		if r.Outcome != store.AIGreeted || sent(t, a, r.MessageID) != want {
			t.Errorf("%q: %+v", text, r)
		}
	}
}

// Turn is idempotent: a turn redelivered after a crash sends nothing twice.
func TestTurnTwiceSendsOnce(t *testing.T) {
	a := sendboxtest.New(t) // assistant stopped: the test drives Turn itself
	addFAQ(t, a, "Do you deliver?", "Yes, we deliver within 3 working days.")
	waitIndexed(t, a, "deliver")
	m := send(t, a, "393330000009", "Do you deliver furniture?")
	for i := 0; i < 2; i++ {
		if err := a.Assistant.Turn(bg, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _, _, _ := a.Store.ListMessages(bg, store.MessageFilter{ConversationID: m.ConversationID, Direction: "outbound"})
	if len(msgs) != 1 {
		t.Fatalf("%d replies", len(msgs))
	}
}

// POST /api/v1/policy/check answers with the bot's own decision.
func TestPolicyCheckAPI(t *testing.T) {
	a := sendboxtest.New(t)
	type result struct {
		Escalate bool           `json:"escalate"`
		Category *string        `json:"category"`
		OptOut   bool           `json:"opt_out"`
		OptIn    bool           `json:"opt_in"`
		Matched  []policy.Match `json:"matched"`
	}
	cases := []struct {
		text     string
		category string // "" for none
		optOut   bool
		optIn    bool
	}{
		{"Ho un forte dolore al dente", policy.Medical, false, false},
		{"Non ho dolore, volevo solo un appuntamento", "", false, false},
		{"J'ai de la fièvre et la joue gonflée", policy.Medical, false, false},
		{"Je n'ai pas mal, merci", "", false, false},
		{"I want a refund for the broken chair", policy.Refund, false, false},
		{"Can I stop by the shop on Saturday?", "", false, false},
		{"Quiero hablar con una persona, por favor", policy.Human, false, false},
		{"No tengo fiebre", "", false, false},
		{"Ich werde meinen Anwalt einschalten", policy.Legal, false, false},
		{"Ich habe keine Schmerzen", "", false, false},
		{"STOP", "", true, false},
		{"toglietemi dalla vostra lista", "", true, false},
		{"riattiva", "", false, true},
		{"je veux recevoir vos offres", "", false, true},
		{"ho scritto STOP per sbaglio, riattivate le offerte", "", false, true},
	}
	for _, c := range cases {
		code, body := a.Do("POST", "/api/v1/policy/check", map[string]string{"text": c.text})
		if code != 200 {
			t.Fatalf("%q: %d %s", c.text, code, body)
		}
		r := sendboxtest.JSON[result](t, body)
		got := ""
		if r.Category != nil {
			got = *r.Category
		}
		if got != c.category || r.Escalate != (c.category != "") || r.OptOut != c.optOut || r.OptIn != c.optIn || r.Matched == nil {
			t.Errorf("%q: %s", c.text, body)
		}
	}
	for _, bad := range []string{`{}`, `{"text":""}`, `{"text":1}`, `{"txt":"x"}`, `not json`} {
		if code, body := a.Do("POST", "/api/v1/policy/check", bad); code != 400 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	if code, _ := a.DoAs("", "POST", "/api/v1/policy/check", `{"text":"x"}`); code != 401 {
		t.Errorf("without a key: %d", code)
	}
}

// Policy rules stored by an earlier version, without the re-subscribe
// lists, still load, keep the owner's phrases and gain the defaults.
func TestOldPolicyRulesLoad(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	old := `{"phrases":{"medical_urgency":{"it":["dente ballerino"]}},"opt_out":{"it":["basta offerte"]},` +
		`"stop_words":{"en":["stop"]},"negations":{"it":["non"]}}`
	if err := a.Store.SetSetting(ctx, "policy_rules", old); err != nil {
		t.Fatal(err)
	}
	if err := a.Assistant.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if r := a.Assistant.Check(ctx, "ho un dente ballerino"); !r.Escalate {
		t.Errorf("the owner's phrase is lost: %s", r.Describe())
	}
	if r := a.Assistant.Check(ctx, "START"); !r.OptIn {
		t.Errorf("START: %s", r.Describe())
	}
	if rules := a.Assistant.Rules(); len(rules.StartWords["it"]) == 0 || len(rules.OptIn["en"]) == 0 {
		t.Errorf("the new lists are empty: %+v", rules)
	}
}

// The knowledge API validates what it is given.
func TestKnowledgeAPIErrors(t *testing.T) {
	a := sendboxtest.New(t)
	for _, bad := range []any{
		map[string]string{"question": "Only a question?"},
		map[string]string{"title": "Empty", "text": "   "},
		map[string]string{"title": "x", "text": "y", "format": "docx"},
	} {
		if code, body := a.Do("POST", "/api/v1/knowledge", bad); code/100 != 4 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%v: %d %s", bad, code, body)
		}
	}
	code, body := a.Do("GET", "/api/v1/knowledge?kind=profile", nil)
	docs := sendboxtest.JSON[struct{ Data []store.KBDoc }](t, body)
	if code != 200 || len(docs.Data) != 1 {
		t.Fatalf("the profile is in the knowledge base: %d %s", code, body)
	}
	if code, _ := a.Do("DELETE", "/api/v1/knowledge/"+strconvI(docs.Data[0].ID), nil); code != http.StatusConflict {
		t.Errorf("deleting the profile: %d", code)
	}
	if code, _ := a.Do("DELETE", "/api/v1/knowledge/999999", nil); code != 404 {
		t.Errorf("deleting nothing: %d", code)
	}
}

// ollamaApp boots sendbox against the real test Ollama.
func ollamaApp(t *testing.T, opts ...sendboxtest.Option) *sendboxtest.App {
	url := sendboxtest.Ollama(t)
	opts = append(opts, sendboxtest.WithAssistant(), sendboxtest.WithConfig(func(c *config.Config) { c.OllamaURL = url }))
	a := sendboxtest.New(t, opts...)
	sendboxtest.Eventually(t, 10*time.Second, "Ollama to be seen online", a.LLM.Online)
	return a
}

// With a model, the answer is generated from the retrieved passages, and
// the reply records the model, the prompt version and the passages.
func TestGroundedAnswerWithModel(t *testing.T) {
	a := ollamaApp(t)
	settings(t, a, func(s *assistant.Settings) { s.ChatModel = "tiny" })
	if on, why := a.Assistant.Generation(); !on {
		t.Fatalf("generation off: %s", why)
	}
	addDoc(t, a, "Clinic guide", clinicDoc)
	waitIndexed(t, a, "whitening")

	m, r := ask(t, a, "393330000010", "How much is teeth whitening?")
	if r.Outcome != store.AIAnswered || r.Mode != "model" || r.Model != "tiny" || r.PromptVersion != assistant.PromptVersion {
		t.Fatalf("reply: %+v", r)
	}
	t.Logf("turn: latency %v, model %v", r.Latency, r.ModelTime)
	if got := sent(t, a, r.MessageID); got != "Hello, I am a tiny model." {
		t.Errorf("answer %q", got)
	}
	if len(r.Passages) == 0 || !strings.Contains(r.Passages[0].Text, "whitening") || r.Passages[0].Title != "Clinic guide" {
		t.Errorf("sources: %+v", r.Passages)
	}
	if r.ModelTime <= 0 || r.Latency < r.ModelTime {
		t.Errorf("latency %v, model %v", r.Latency, r.ModelTime)
	}
	// The API lists the turn with its sources.
	code, body := a.Do("GET", "/api/v1/conversations/"+strconvI(m.ConversationID)+"/ai-replies", nil)
	if code != 200 || !strings.Contains(string(body), `"outcome":"answered"`) || !strings.Contains(string(body), "whitening") {
		t.Errorf("ai-replies: %d %s", code, body)
	}

	// Nothing in the knowledge: handed off without asking the model to guess.
	_, r = ask(t, a, "393330000011", "Do you sell concert tickets?")
	if r.Outcome != store.AIHandoff || len(r.Passages) != 0 {
		t.Errorf("unsupported: %+v", r)
	}
}

// A model slower than the turn's time limit: the customer gets the holding
// message and a person is asked.
func TestSlowModelTimesOut(t *testing.T) {
	a := ollamaApp(t, sendboxtest.WithConfig(func(c *config.Config) { c.AITimeout = time.Second }))
	settings(t, a, func(s *assistant.Settings) { s.ChatModel = "tiny-random" })
	addDoc(t, a, "Clinic guide", clinicDoc)
	waitIndexed(t, a, "whitening")
	start := time.Now()
	m := send(t, a, "393330000012", "How much is teeth whitening?")
	// While the model works the customer sees the typing indicator.
	sendboxtest.Eventually(t, 5*time.Second, "the typing indicator", func() bool {
		for _, c := range a.Sim.Chats() {
			if c.WaID == "393330000012" && c.Typing {
				return true
			}
		}
		return false
	})
	var r *store.AIReply
	sendboxtest.Eventually(t, 30*time.Second, "the turn to time out", func() bool {
		var err error
		r, err = a.Store.AIReplyFor(bg, m.ID)
		return err == nil
	})
	if r.Outcome != store.AITimeout {
		t.Fatalf("reply: %+v", r)
	}
	if got := sent(t, a, r.MessageID); got != assistant.DefaultMessages["en"].Holding {
		t.Errorf("holding %q", got)
	}
	if c := conversation(t, a, m.ConversationID); c.Bot != store.BotPaused {
		t.Errorf("bot %s after a timeout", c.Bot)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the turn took %s with a 1s limit", d)
	}
}

// With an embedding model the passages get vectors, and retrieval by
// meaning finds them.
func TestEmbeddingsStoredAndUsed(t *testing.T) {
	a := ollamaApp(t)
	settings(t, a, func(s *assistant.Settings) { s.EmbedModel = "tiny-embed" })
	addDoc(t, a, "Clinic guide", clinicDoc)
	addFAQ(t, a, "Do you have parking?", "Yes, free parking in the courtyard.")
	sendboxtest.Eventually(t, 30*time.Second, "every passage to be embedded", func() bool {
		docs, err := a.Store.ListKB(bg, "", "tiny-embed")
		if err != nil || len(docs) < 3 {
			return false
		}
		for _, d := range docs {
			if d.Embedded != d.Chunks {
				return false
			}
		}
		return true
	})
	ids, vecs, err := a.Store.Embeddings(bg, "tiny-embed")
	if err != nil || len(ids) == 0 || len(vecs[0]) != 64*4 {
		t.Fatalf("stored vectors: %d, %d bytes, %v", len(ids), len(vecs[0]), err)
	}
	// The FAQ's own text is closest to itself in meaning.
	chunks, _ := a.Store.IndexKB(bg, 0, 100)
	var faq store.KBChunk
	for _, c := range chunks {
		if c.Kind == store.KBFAQ {
			faq = c
		}
	}
	r, err := a.KB.Retrieve(bg, knowledge.EmbedText(faq), 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.ByMeaning == 0 || r.Model != "tiny-embed" || r.Best().Chunk.ID != faq.ID || r.Best().Via != "both" || r.Best().Similarity < 0.97 {
		t.Errorf("retrieval: by meaning %d, model %q, best %+v", r.ByMeaning, r.Model, r.Best())
	}
}

func outboundText(c *store.Conversation, text string, author int64) outbound.Request {
	return outbound.Request{AuthorID: author,
		Message: whatsapp.OutboundMessage{To: c.Contact.Recipient(), Type: "text", Text: &whatsapp.Text{Body: text}}}
}

// Outside business hours the assistant sends the away message once, or
// leaves the open hours to people, as the owner chose.
func TestBusinessHours(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	addFAQ(t, a, "Do you have parking?", "Yes, free parking in the courtyard.")
	waitIndexed(t, a, "parking")
	p, err := business.Load(bg, a.Store)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Hours {
		p.Hours[i].Closed = true // closed every day: now is outside the hours
	}
	if err := business.Save(bg, a.Store, p); err != nil {
		t.Fatal(err)
	}
	settings(t, a, func(s *assistant.Settings) { s.Hours = assistant.HoursAway })
	_, r := ask(t, a, "393330000020", "Do you have parking?")
	if r.Outcome != store.AIAway || sent(t, a, r.MessageID) != assistant.DefaultMessages["en"].Away {
		t.Fatalf("away: %+v", r)
	}
	_, r = ask(t, a, "393330000020", "And on Sundays too?")
	if r.Outcome != store.AISkipped || r.MessageID != 0 {
		t.Errorf("the away message is sent once: %+v", r)
	}
	// Open all day: with "closed_only" the assistant leaves it to people.
	for i := range p.Hours {
		p.Hours[i] = business.DayHours{Open: "00:00", Close: "23:59"}
	}
	if err := business.Save(bg, a.Store, p); err != nil {
		t.Fatal(err)
	}
	settings(t, a, func(s *assistant.Settings) { s.Hours = assistant.HoursClosedOnly })
	next := send(t, a, "393330000021", "Do you have parking?")
	time.Sleep(500 * time.Millisecond)
	if _, err := a.Store.AIReplyFor(bg, next.ID); err == nil {
		t.Error("the assistant answered in opening hours with closed_only")
	}
}

// The copilot drafts, summarises and translates for agents; without a
// model it still offers the best passage, and says generation is off.
func TestCopilot(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	addFAQ(t, a, "Do you have parking?", "Yes, free parking in the courtyard.")
	waitIndexed(t, a, "parking")
	settings(t, a, func(s *assistant.Settings) { s.Enabled = false }) // people answer
	m := send(t, a, "393330000030", "Is there parking near you?")
	sug, err := a.Assistant.Suggest(bg, m.ConversationID)
	if err != nil || sug.Mode != "quote" || sug.Text != "Yes, free parking in the courtyard." || len(sug.Passages) != 1 {
		t.Fatalf("suggest without a model: %+v %v", sug, err)
	}
	if _, err := a.Assistant.Summarise(bg, m.ConversationID); !errors.Is(err, assistant.ErrGenerationOff) {
		t.Errorf("summarise without a model: %v", err)
	}
	if _, err := a.Assistant.Translate(bg, "Grazie", "en"); !errors.Is(err, assistant.ErrGenerationOff) {
		t.Errorf("translate without a model: %v", err)
	}
	if _, err := a.Assistant.Translate(bg, "Grazie", "xx"); err == nil {
		t.Error("translate into an unknown language")
	}
}

func TestCopilotWithModel(t *testing.T) {
	a := ollamaApp(t)
	addFAQ(t, a, "Do you have parking?", "Yes, free parking in the courtyard.")
	waitIndexed(t, a, "parking")
	settings(t, a, func(s *assistant.Settings) { s.Enabled, s.ChatModel = false, "tiny" })
	m := send(t, a, "393330000031", "Is there parking near you?")
	sug, err := a.Assistant.Suggest(bg, m.ConversationID)
	if err != nil || sug.Mode != "model" || sug.Model != "tiny" || sug.Text != "Hello, I am a tiny model." || len(sug.Passages) == 0 {
		t.Fatalf("suggest: %+v %v", sug, err)
	}
	if sum, err := a.Assistant.Summarise(bg, m.ConversationID); err != nil || sum != "Hello, I am a tiny model." {
		t.Errorf("summarise: %q %v", sum, err)
	}
	if tr, err := a.Assistant.Translate(bg, "C'è un parcheggio?", "en"); err != nil || tr != "Hello, I am a tiny model." {
		t.Errorf("translate: %q %v", tr, err)
	}
	// Nothing is sent by the copilot.
	if msgs, _, _, _ := a.Store.ListMessages(bg, store.MessageFilter{ConversationID: m.ConversationID, Direction: "outbound"}); len(msgs) != 0 {
		t.Errorf("the copilot sent %d messages", len(msgs))
	}
}
