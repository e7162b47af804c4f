package assistant_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sendbox/assistant"
	"sendbox/business"
	"sendbox/config"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// clinic is a business profile as an Italian owner fills it in.
func clinic(t *testing.T, a *sendboxtest.App) {
	t.Helper()
	p := &business.Profile{Name: "Studio Dentistico Sorriso", About: "Studio dentistico a Milano dal 1998.",
		Timezone: "Europe/Rome", Address: "Via Roma 10, 20121 Milano", Phone: "+39 02 1234567",
		Services: []business.Service{{Name: "Pulizia dei denti", Price: "80 €", Duration: "45 minuti"}, {Name: "Sbiancamento", Price: "250 €"}}}
	for i := range p.Hours {
		p.Hours[i] = business.DayHours{Open: "09:00", Close: "18:00"}
	}
	p.Hours[5] = business.DayHours{Open: "09:00", Close: "13:00"}
	p.Hours[6] = business.DayHours{Closed: true}
	if err := business.Save(bg, a.Store, p); err != nil {
		t.Fatal(err)
	}
	if err := a.KB.SyncProfile(bg, p); err != nil {
		t.Fatal(err)
	}
	// The profile of the first start is indexed already, under the same
	// passage ids: wait until the index has this one.
	sendboxtest.Eventually(t, 20*time.Second, "the profile to be indexed", func() bool {
		for q, heading := range map[string]string{"orari di apertura": "Orari di apertura",
			"pulizia dei denti": "Servizi e prezzi", "opening hours": "Opening hours"} {
			r, err := a.KB.Retrieve(bg, q, 4)
			if err != nil || len(r.Hits) == 0 || r.Hits[0].Chunk.Heading != heading {
				return false
			}
		}
		return true
	})
}

const (
	hoursIT = "Orari di apertura: lunedì: aperto 09:00–18:00; martedì: aperto 09:00–18:00; mercoledì: aperto 09:00–18:00; " +
		"giovedì: aperto 09:00–18:00; venerdì: aperto 09:00–18:00; sabato: aperto 09:00–13:00; domenica: chiuso (fuso orario Europe/Rome)."
	hoursEN = "Opening hours: Monday: open 09:00–18:00; Tuesday: open 09:00–18:00; Wednesday: open 09:00–18:00; " +
		"Thursday: open 09:00–18:00; Friday: open 09:00–18:00; Saturday: open 09:00–13:00; Sunday: closed (time zone Europe/Rome)."
	servicesIT = "Servizi e prezzi: Pulizia dei denti, prezzo 80 €, durata 45 minuti; Sbiancamento, prezzo 250 €."
)

// The business profile is knowledge in each of the five languages: Italian
// questions about the hours find the Italian passage, and without a model
// the customer is quoted it, in Italian, its heading once.
func TestProfileFactsInCustomersLanguage(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	clinic(t, a)

	r, err := a.KB.RetrieveIn(bg, "Quali sono gli orari di apertura?", "it", 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hits) == 0 || r.Hits[0].Chunk.Heading != "Orari di apertura" || !r.Hits[0].Strong() {
		t.Fatalf("retrieved: %+v", r.Hits)
	}
	for _, h := range r.Hits {
		if h.Chunk.Lang != "" && h.Chunk.Lang != "it" {
			t.Errorf("a passage for %s customers: %+v", h.Chunk.Lang, h.Chunk)
		}
	}

	for _, c := range []struct{ from, question, want string }{
		{"393330000070", "Quali sono gli orari di apertura?", hoursIT},
		{"393330000075", "Buongiorno, quali sono gli orari di apertura?", hoursIT},
		{"393330000071", "Siete aperti sabato?", hoursIT},
		{"393330000072", "Quanto costa la pulizia dei denti?", servicesIT},
		{"447700900073", "What are your opening hours?", hoursEN},
	} {
		_, r := ask(t, a, c.from, c.question)
		if r.Outcome != store.AIQuoted {
			t.Errorf("%q: %+v", c.question, r)
			continue
		}
		if got := sent(t, a, r.MessageID); got != c.want {
			t.Errorf("%q answered\n%q\nwant\n%q", c.question, got, c.want)
		}
	}
}

// With a model, the prompt asks for an answer in the customer's language
// and gives it the business facts and the passages in that language only.
func TestProfileFactsInPromptWithModel(t *testing.T) {
	ollama := sendboxtest.Ollama(t)
	// A proxy in front of the real Ollama keeps what sendbox asks it.
	var mu sync.Mutex
	var prompts []string
	target, _ := url.Parse(ollama)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/api/chat" {
			var req struct{ Messages []struct{ Content string } }
			json.Unmarshal(body, &req)
			if len(req.Messages) > 0 {
				mu.Lock()
				prompts = append(prompts, req.Messages[0].Content)
				mu.Unlock()
			}
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	a := sendboxtest.New(t, sendboxtest.WithAssistant(), sendboxtest.WithConfig(func(c *config.Config) { c.OllamaURL = srv.URL }))
	sendboxtest.Eventually(t, 10*time.Second, "Ollama to be seen online", a.LLM.Online)
	settings(t, a, func(s *assistant.Settings) { s.ChatModel, s.Classify = "tiny", false })
	clinic(t, a)

	_, r := ask(t, a, "393330000074", "Siete aperti sabato?")
	if r.Outcome != store.AIAnswered || len(r.Passages) == 0 || r.Passages[0].Heading != "Orari di apertura" {
		t.Fatalf("reply: %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(prompts) == 0 {
		t.Fatal("the model was not asked")
	}
	p := prompts[len(prompts)-1]
	for _, want := range []string{"Write in Italian.", "- Orari di apertura: lunedì: aperto 09:00–18:00",
		"- Servizi e prezzi: Pulizia dei denti, prezzo 80 €", "- Indirizzo: Dove trovarci: Via Roma 10, 20121 Milano.",
		"[1] Studio Dentistico Sorriso — business profile — Orari di apertura\nlunedì: aperto"} {
		if !strings.Contains(p, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, p)
		}
	}
	for _, not := range []string{"Opening hours", "Services and prices", "Monday", "Samstag"} {
		if strings.Contains(p, not) {
			t.Errorf("the prompt has %q:\n%s", not, p)
		}
	}
}
