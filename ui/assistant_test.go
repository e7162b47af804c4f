package ui_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/policy"
	"sendbox/sendboxtest"
	"sendbox/sendboxtest/testpdf"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// postFile sends a multipart form with one file, as a browser uploads.
func (b *browser) postFile(path string, fields map[string]string, field, filename string, data []byte) (*http.Response, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		fw, _ := mw.CreateFormFile(field, filename)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.a.URL()+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// htmx sends a request as htmx does: the CSRF token in a header.
func (b *browser) htmx(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.a.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", b.csrf)
	return b.do(req)
}

// say has a customer write text, and returns the stored message.
func say(t *testing.T, a *sendboxtest.App, from, name, text string) *store.Message {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"type": "text", "text": map[string]string{"body": text}})
	wamid, err := a.Sim.SendInbound(context.Background(), sim.Inbound{From: from, Name: name, Message: body})
	if err != nil {
		t.Fatal(err)
	}
	var m *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the message to be stored", func() bool {
		m, err = a.Store.MessageByWAMID(context.Background(), wamid)
		return err == nil
	})
	return m
}

// kbDoc finds a knowledge document by title.
func kbDoc(t *testing.T, a *sendboxtest.App, title string) *store.KBDoc {
	t.Helper()
	docs, err := a.Store.ListKB(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if docs[i].Title == title {
			return &docs[i]
		}
	}
	return nil
}

// TestAssistantPermissions: who may see and change the assistant, the
// policy and the knowledge base, and use the copilot; every new form needs
// the CSRF token.
func TestAssistantPermissions(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	conv := conversation(t, a)
	inbox := "/inbox/" + itoa(conv)
	faq, err := a.KB.SaveFAQ(context.Background(), 0, "Avete il parcheggio?", "Sì, nel cortile.", 0)
	if err != nil {
		t.Fatal(err)
	}
	doc := "/knowledge/" + itoa(faq.ID)
	users := map[string]*browser{"owner": owner, "admin": userBrowser(t, a, "admin"),
		"agent": userBrowser(t, a, "agent"), "viewer": userBrowser(t, a, "viewer")}
	cases := []struct {
		who, method, path string
		form              url.Values
		want              int
	}{
		{"viewer", "GET", "/knowledge", nil, 200},
		{"viewer", "GET", doc, nil, 200},
		{"viewer", "GET", "/knowledge/try?q=parcheggio", nil, 200},
		{"viewer", "POST", "/knowledge/faq", url.Values{"question": {"q?"}, "answer": {"a"}}, 403},
		{"viewer", "POST", inbox + "/bot", url.Values{"state": {"off"}}, 403},
		{"viewer", "POST", inbox + "/urgent/clear", nil, 403},
		{"viewer", "POST", inbox + "/suggest", nil, 403},
		{"viewer", "POST", inbox + "/summarise", nil, 403},
		{"viewer", "POST", inbox + "/translate", url.Values{"body": {"ciao"}}, 403},
		{"agent", "GET", "/settings/assistant", nil, 403},
		{"agent", "POST", "/settings/assistant", url.Values{"tone": {"warm"}}, 403},
		{"agent", "POST", "/settings/assistant/pull", url.Values{"model": {"llama3.2"}}, 403},
		{"agent", "GET", "/settings/assistant/pulls", nil, 403},
		{"agent", "GET", "/settings/policy", nil, 403},
		{"agent", "POST", "/settings/policy", nil, 403},
		{"agent", "POST", "/settings/policy/try", url.Values{"text": {"dolore"}}, 403},
		{"agent", "POST", "/settings/policy/reset", nil, 403},
		{"agent", "GET", "/knowledge", nil, 200},
		{"agent", "POST", "/knowledge/documents", url.Values{"title": {"T"}, "text": {"x"}}, 403},
		{"agent", "POST", "/knowledge/faq", url.Values{"question": {"q?"}, "answer": {"a"}}, 403},
		{"agent", "POST", doc + "/delete", nil, 403},
		{"agent", "POST", inbox + "/bot", url.Values{"state": {"off"}}, 204},
		{"agent", "POST", inbox + "/bot", url.Values{"state": {"sideways"}}, 400},
		{"agent", "POST", inbox + "/bot", url.Values{"state": {"on"}}, 204},
		{"agent", "POST", inbox + "/urgent/clear", nil, 204},
		{"agent", "POST", "/inbox/99999/bot", url.Values{"state": {"on"}}, 404},
		{"agent", "POST", inbox + "/suggest", nil, 200},
		{"admin", "GET", "/settings/assistant", nil, 200},
		{"admin", "GET", "/settings/policy", nil, 200},
		{"admin", "GET", "/settings/assistant/pulls", nil, 200},
		{"owner", "GET", "/settings/assistant", nil, 200},
		{"owner", "GET", "/settings/policy", nil, 200},
		{"owner", "GET", "/knowledge/99999", nil, 404},
	}
	for _, c := range cases {
		b := users[c.who]
		var resp *http.Response
		if c.method == "GET" {
			resp, _ = b.get(c.path)
		} else {
			resp, _ = b.post(c.path, c.form)
		}
		if resp.StatusCode != c.want {
			t.Errorf("%s %s %s: %d, want %d", c.who, c.method, c.path, resp.StatusCode, c.want)
		}
	}
	// Agents see the knowledge but no forms to change it.
	if _, body := users["agent"].get("/knowledge"); strings.Contains(body, `action="/knowledge/faq"`) ||
		!strings.Contains(body, "Avete il parcheggio?") {
		t.Error("the agent's knowledge page offers to edit, or lacks the FAQ")
	}
	// Viewers see the assistant's state but no buttons to change it.
	if _, body := users["viewer"].get(inbox); !strings.Contains(body, "Assistant on") || strings.Contains(body, "/bot\"") ||
		strings.Contains(body, "Suggest a reply") {
		t.Error("the viewer's thread lacks the assistant's state, or offers to change it")
	}
	// Without the CSRF token every new form is refused, even the owner's.
	for _, path := range []string{"/settings/assistant", "/settings/assistant/pull", "/settings/assistant/pulls/cancel",
		"/settings/policy", "/settings/policy/try", "/settings/policy/reset", "/knowledge/documents", "/knowledge/upload",
		"/knowledge/faq", doc + "/delete", inbox + "/bot", inbox + "/urgent/clear", inbox + "/suggest", inbox + "/summarise",
		inbox + "/translate"} {
		if resp, _ := owner.post(path, url.Values{"csrf": {""}, "state": {"off"}}); resp.StatusCode != 403 {
			t.Errorf("POST %s without a CSRF token: %d", path, resp.StatusCode)
		}
	}
	if d := kbDoc(t, a, "Avete il parcheggio?"); d == nil {
		t.Error("a refused delete removed the FAQ")
	}
}

// TestKnowledgePage: documents pasted as text or Markdown, uploaded as
// .md, .html and .pdf, FAQ added, edited and deleted, errors in plain
// words, the profile kept, and the try-a-question box.
func TestKnowledgePage(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	owner.get("/knowledge")

	// Pasted plain text with headings.
	resp, body := owner.post("/knowledge/documents", url.Values{"title": {"Listino"}, "format": {"text"},
		"text": {"# Pulizia\nLa pulizia dentale costa 80 euro.\n\n# Sbiancamento\nLo sbiancamento costa 250 euro."}})
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/knowledge/") {
		t.Fatalf("paste: %d %s", resp.StatusCode, body)
	}
	_, body = owner.get(resp.Header.Get("Location"))
	for _, want := range []string{"Listino", "Saved.", "Pulizia", "Sbiancamento", "Lo sbiancamento costa 250 euro.", "2 passages"} {
		if !strings.Contains(body, want) {
			t.Errorf("document page lacks %q", want)
		}
	}
	// Markdown: the heading becomes the title, emphasis goes.
	resp, _ = owner.post("/knowledge/documents", url.Values{"format": {"markdown"},
		"text": {"# Orari dello studio\n\nSiamo aperti **dal lunedì al venerdì**, dalle 9 alle 18."}})
	if resp.StatusCode != 303 {
		t.Fatalf("markdown: %d", resp.StatusCode)
	}
	if d := kbDoc(t, a, "Orari dello studio"); d == nil || strings.Contains(d.Body, "**") {
		t.Errorf("markdown document: %+v", d)
	}
	// Refusals, in plain words, keep what was written.
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"title": {"Vuoto"}, "text": {"   "}}, "The document has no text"},
		{url.Values{"title": {strings.Repeat("t", 201)}, "text": {"x"}}, "The title is longer than 200 characters"},
		{url.Values{"text": {"no heading, no title"}}, "Give the document a title"},
	} {
		resp, body := owner.post("/knowledge/documents", c.form)
		if resp.StatusCode != 422 || !strings.Contains(body, c.want) {
			t.Errorf("paste %v: %d, want %q", c.form, resp.StatusCode, c.want)
		}
	}
	if _, body := owner.post("/knowledge/documents", url.Values{"text": {"no heading, no title"}}); !strings.Contains(body, "no heading, no title</textarea>") {
		t.Error("a refused document loses its text")
	}

	// Uploads.
	uploads := []struct {
		name  string
		data  []byte
		title string
	}{
		{"garanzia.md", []byte("# Garanzia\n\nGli impianti hanno una *garanzia* di dieci anni."), "Garanzia"},
		{"parcheggio.html", []byte("<html><head><title>Parcheggio</title></head><body><nav>Home</nav><p>Il parcheggio è gratuito nel cortile.</p><script>alert(1)</script></body></html>"), "Parcheggio"},
		{"pagamenti.pdf", testpdf.Minimal("Accettiamo carte, bancomat e contanti."), "pagamenti"},
	}
	for _, u := range uploads {
		owner.get("/knowledge")
		resp, body := owner.postFile("/knowledge/upload", nil, "file", u.name, u.data)
		if resp.StatusCode != 303 {
			t.Fatalf("upload %s: %d %s", u.name, resp.StatusCode, body)
		}
		d := kbDoc(t, a, u.title)
		if d == nil || d.Source != u.name || d.Chunks == 0 {
			t.Fatalf("upload %s: %+v", u.name, d)
		}
		if strings.Contains(d.Body, "alert") || strings.Contains(d.Body, "<p>") {
			t.Errorf("upload %s kept markup: %q", u.name, d.Body)
		}
	}
	if d := kbDoc(t, a, "pagamenti"); d == nil || !strings.Contains(d.Body, "Accettiamo carte, bancomat e contanti.") {
		t.Errorf("pdf text: %+v", d)
	}
	// A title given with the upload wins.
	owner.postFile("/knowledge/upload", map[string]string{"title": "Note per i pazienti"}, "file", "note.txt", []byte("Portate la tessera sanitaria."))
	if kbDoc(t, a, "Note per i pazienti") == nil {
		t.Error("the upload's title was not used")
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"contratto.docx", []byte("PK\x03\x04..."), "reads .txt, .md, .html and .pdf files"},
		{"scansione.pdf", []byte("%PDF-1.4 not really"), "scansione.pdf could not be read"},
		{"vuoto.txt", []byte("  \n "), "no text was found"},
		{"", nil, "Choose a file to upload."},
	} {
		resp, body := owner.postFile("/knowledge/upload", nil, "file", c.name, c.data)
		if resp.StatusCode != 422 || !strings.Contains(strings.ToLower(body), strings.ToLower(c.want)) {
			t.Errorf("upload %q: %d, want %q", c.name, resp.StatusCode, c.want)
		}
	}

	// FAQ: added, edited, refused when half empty, deleted.
	if resp, _ := owner.post("/knowledge/faq", url.Values{"question": {"Quanto costa la pulizia dei denti?"},
		"answer": {"La pulizia costa 80 euro e dura 45 minuti."}}); resp.StatusCode != 303 {
		t.Fatalf("faq: %d", resp.StatusCode)
	}
	faq := kbDoc(t, a, "Quanto costa la pulizia dei denti?")
	if faq == nil || faq.Kind != store.KBFAQ {
		t.Fatalf("faq: %+v", faq)
	}
	if resp, body := owner.post("/knowledge/faq", url.Values{"question": {"Solo la domanda?"}, "answer": {""}}); resp.StatusCode != 422 ||
		!strings.Contains(body, "Write both the question and the answer") || !strings.Contains(body, "Solo la domanda?") {
		t.Errorf("half a FAQ: %d", resp.StatusCode)
	}
	if resp, _ := owner.post("/knowledge/faq", url.Values{"id": {itoa(faq.ID)}, "question": {faq.Title},
		"answer": {"La pulizia costa 90 euro e dura 45 minuti."}}); resp.StatusCode != 303 {
		t.Fatalf("edit faq: %d", resp.StatusCode)
	}
	if d, _ := a.Store.KBDocByID(context.Background(), faq.ID); !strings.Contains(d.Body, "90 euro") {
		t.Errorf("edited faq: %q", d.Body)
	}
	// A FAQ is not edited as a document, nor a document as a FAQ.
	listino := kbDoc(t, a, "Listino")
	if resp, _ := owner.post("/knowledge/documents", url.Values{"id": {itoa(faq.ID)}, "title": {"x"}, "text": {"y"}}); resp.StatusCode != 422 {
		t.Errorf("a FAQ edited as a document: %d", resp.StatusCode)
	}
	if resp, _ := owner.post("/knowledge/faq", url.Values{"id": {itoa(listino.ID)}, "question": {"x?"}, "answer": {"y"}}); resp.StatusCode != 422 {
		t.Errorf("a document edited as a FAQ: %d", resp.StatusCode)
	}
	// A document is edited in place, keeping its id.
	owner.get("/knowledge/" + itoa(listino.ID))
	if resp, _ := owner.post("/knowledge/documents", url.Values{"id": {itoa(listino.ID)}, "title": {"Listino 2027"},
		"text": {"# Pulizia\nLa pulizia dentale costa 90 euro."}}); resp.StatusCode != 303 {
		t.Errorf("edit a document: %d", resp.StatusCode)
	}
	if d, _ := a.Store.KBDocByID(context.Background(), listino.ID); d.Title != "Listino 2027" || d.Chunks != 0 && d.Chunks != 1 {
		t.Errorf("edited document: %+v", d)
	}

	// The profile is listed, read-only, and cannot be deleted.
	profiles, _ := a.Store.ListKB(context.Background(), store.KBProfile, "")
	if len(profiles) != 1 {
		t.Fatalf("profile documents: %d", len(profiles))
	}
	_, body = owner.get("/knowledge")
	if !strings.Contains(body, "Business profile") || strings.Contains(body, `action="/knowledge/`+itoa(profiles[0].ID)+`/delete"`) {
		t.Error("the profile is missing or offered for deletion")
	}
	if resp, _ := owner.post("/knowledge/"+itoa(profiles[0].ID)+"/delete", nil); resp.StatusCode != 422 {
		t.Errorf("delete the profile: %d", resp.StatusCode)
	}
	if _, body := owner.get("/knowledge/" + itoa(profiles[0].ID)); !strings.Contains(body, "follows it") || strings.Contains(body, `name="text"`) {
		t.Error("the profile document is editable")
	}

	// Try a question: the FAQ is found once indexed, strong enough to quote.
	sendboxtest.Eventually(t, 20*time.Second, "the FAQ to be retrieved", func() bool {
		_, body := owner.get("/knowledge/try?q=" + url.QueryEscape("Quanto costa la pulizia dei denti?"))
		return strings.Contains(body, "by quoting “Quanto costa la pulizia dei denti?”")
	})
	req, _ := http.NewRequest("GET", a.URL()+"/knowledge/try?q="+url.QueryEscape("Quanto costa la pulizia dei denti?"), nil)
	req.Header.Set("HX-Request", "true")
	resp, body = owner.do(req)
	for _, want := range []string{"Strong: can be quoted", "by words", "Found by words:", "90 euro"} {
		if !strings.Contains(body, want) {
			t.Errorf("try result lacks %q", want)
		}
	}
	if strings.Contains(body, "<html") {
		t.Error("the htmx try result is a whole page")
	}
	if _, body := owner.get("/knowledge/try?q=" + url.QueryEscape("zebre volanti su marte")); !strings.Contains(body, "Nothing relevant") {
		t.Error("a question the knowledge does not cover is not said so")
	}
	if _, body := owner.get("/knowledge/try?q="); !strings.Contains(body, "Write a question to try.") {
		t.Error("an empty question")
	}

	// Deleting removes it.
	owner.get("/knowledge")
	if resp, _ := owner.post("/knowledge/"+itoa(faq.ID)+"/delete", nil); resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if kbDoc(t, a, "Quanto costa la pulizia dei denti?") != nil {
		t.Error("the FAQ is still there")
	}
}

// TestPolicyPage: rules saved and refused, reset, and the try-it box
// deciding as the bot does in the five languages, negations included.
func TestPolicyPage(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	owner.get("/settings/policy")

	try := func(text string) string {
		t.Helper()
		resp, body := owner.htmx("POST", "/settings/policy/try", url.Values{"text": {text}})
		if resp.StatusCode != 200 {
			t.Fatalf("try %q: %d", text, resp.StatusCode)
		}
		return body
	}
	for _, c := range []struct {
		text string
		want []string
		not  []string
	}{
		{"ho un forte dolore e sanguina", []string{"A person takes over at once: Medical urgency.", "<mark>dolore</mark>", "<mark>sanguina</mark>", "Italian"}, nil},
		{"non ho dolore, volevo solo un appuntamento", []string{"No escalation", "negated: does not count", "<mark>dolore</mark>"}, []string{"takes over"}},
		{"J'ai très mal aux dents depuis hier", []string{"Medical urgency", "French"}, nil},
		{"I want my money back, this is unacceptable", []string{"A person takes over at once: Complaint.", "Refund request", "English"}, nil},
		{"Quiero hablar con una persona real", []string{"Asked for a person", "Spanish"}, nil},
		{"Ich werde meinen Anwalt einschalten", []string{"Legal threat", "German"}, nil},
		{"Ich habe keine Schmerzen mehr, danke", []string{"No escalation", "negated: does not count"}, []string{"takes over"}},
		{"STOP", []string{"The customer opts out of marketing.", "Opt-out"}, nil},
		{"Avete posto sabato mattina?", []string{"No escalation", "No rule matched."}, nil},
		{"ho scritto stop per sbaglio, riattivate le offerte", []string{"The customer asks to receive marketing again.", "Re-subscribe"},
			[]string{"opts out"}},
		{"il rimborso è arrivato, grazie", []string{"No escalation", "does not count: already received"}, []string{"takes over"}},
	} {
		body := try(c.text)
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("try %q lacks %q:\n%s", c.text, w, body)
			}
		}
		for _, w := range c.not {
			if strings.Contains(body, w) {
				t.Errorf("try %q has %q", c.text, w)
			}
		}
	}
	if body := try("  "); !strings.Contains(body, "Write a message to check.") {
		t.Error("an empty try")
	}

	// The page shows the rules as textareas, one phrase a line.
	_, body := owner.get("/settings/policy")
	for _, want := range []string{`name="phrases.medical_urgency.it"`, "sanguin*", `name="negations.de"`, `name="stop_words.en"`, `name="opt_out.fr"`,
		`name="opt_in.it"`, `name="start_words.de"`, "wieder anmelden"} {
		if !strings.Contains(body, want) {
			t.Errorf("policy page lacks %s", want)
		}
	}
	// Save: a new phrase takes effect at once, in the bot's own check.
	form := url.Values{}
	rules := policy.Default()
	for _, c := range policy.Categories {
		for _, l := range policy.Langs {
			form.Set("phrases."+c+"."+l, strings.Join(rules.Phrases[c][l], "\n"))
		}
	}
	for _, l := range policy.Langs {
		form.Set("opt_out."+l, strings.Join(rules.OptOut[l], "\n"))
		form.Set("stop_words."+l, strings.Join(rules.StopWords[l], "\n"))
		form.Set("negations."+l, strings.Join(rules.Negations[l], "\n"))
		form.Set("opt_in."+l, strings.Join(rules.OptIn[l], "\n"))
		form.Set("start_words."+l, strings.Join(rules.StartWords[l], "\n"))
	}
	form.Set("phrases.medical_urgency.it", form.Get("phrases.medical_urgency.it")+"\r\n\r\ndente ballerino\r\n  ")
	form.Set("start_words.it", "start\nvai con le offerte")
	if resp, body := owner.post("/settings/policy", form); resp.StatusCode != 303 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	if res := a.Assistant.Check(context.Background(), "ho un dente ballerino"); !res.Escalate {
		t.Error("the new phrase does not escalate")
	}
	if res := a.Assistant.Check(context.Background(), "Vai con le offerte!"); !res.OptIn {
		t.Error("the new start words do not opt in")
	}
	if body := try("ho un dente ballerino"); !strings.Contains(body, "dente ballerino") || !strings.Contains(body, "Medical urgency") {
		t.Error("try does not use the saved rules")
	}
	// A phrase of punctuation alone is refused and shown back with the reason.
	form.Set("phrases.complaint.en", "awful\n!!!")
	if resp, body := owner.post("/settings/policy", form); resp.StatusCode != 422 || !strings.Contains(body, "is not a phrase") ||
		!strings.Contains(body, "awful\n!!!</textarea>") {
		t.Errorf("bad phrase: %d", resp.StatusCode)
	}
	if res := a.Assistant.Check(context.Background(), "awful"); !res.Escalate {
		t.Error("a refused save changed the rules")
	}
	// Reset to the defaults.
	if resp, _ := owner.post("/settings/policy/reset", nil); resp.StatusCode != 303 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if res := a.Assistant.Check(context.Background(), "ho un dente ballerino"); res.Escalate {
		t.Error("reset kept the owner's phrase")
	}
	if _, body := owner.get("/settings/policy?ok=policy_reset"); !strings.Contains(body, "back to the rules sendbox ships with") {
		t.Error("no word that the policy was reset")
	}
}

// TestAssistantSettingsPage: the status says Ollama is offline and why
// answers quote the knowledge; the form saves every field and refuses bad
// ones in plain words.
func TestAssistantSettingsPage(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	team, _ := a.Store.CreateTeam(context.Background(), "Front desk")
	_, body := owner.get("/settings/assistant")
	for _, want := range []string{"AI offline", "http://127.0.0.1:9", "Quoted from the knowledge base", "no chat model is chosen",
		`name="chat_model"`, `name="embed_model"`, "Italian", `name="msg.it.holding"`, "Pull a model", `href="/settings/policy"`} {
		if !strings.Contains(body, want) {
			t.Errorf("assistant settings lack %q", want)
		}
	}
	form := url.Values{"enabled": {"on"}, "chat_model": {"llama3.2:3b"}, "embed_model": {""}, "tone": {"warm"},
		"length": {"medium"}, "hours": {"closed_only"}, "instructions": {"Suggest booking by phone."}, "team": {itoa(team.ID)},
		"msg.it.greeting": {"Buongiorno dallo Studio Sorriso!"}, "msg.fr.away": {""}}
	if resp, body := owner.post("/settings/assistant", form); resp.StatusCode != 303 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	s := a.Assistant.Settings()
	if !s.Enabled || s.Classify || s.ResumeAfterResolve || s.ChatModel != "llama3.2:3b" || s.Tone != "warm" || s.Length != "medium" ||
		s.Hours != "closed_only" || s.TeamID != team.ID || s.Instructions != "Suggest booking by phone." ||
		s.Messages["it"].Greeting != "Buongiorno dallo Studio Sorriso!" || s.Messages["fr"].Away != "" || s.Messages["de"].Holding == "" {
		t.Fatalf("saved: %+v", s)
	}
	// Ollama is offline: the chosen model stays selected, and says so.
	_, body = owner.get("/settings/assistant?ok=saved")
	if !regexp.MustCompile(`<option value="llama3.2:3b" selected>llama3.2:3b · Ollama unreachable`).MatchString(body) ||
		!strings.Contains(body, "Ollama cannot be reached") || !strings.Contains(body, "Buongiorno dallo Studio Sorriso!") {
		t.Error("the offline model choice is not kept or explained")
	}
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"tone": {"sarcastic"}, "length": {"short"}, "hours": {"always"}}, "Choose a tone of voice"},
		{url.Values{"tone": {"warm"}, "length": {"short"}, "hours": {"always"}, "instructions": {strings.Repeat("x", 2001)}}, "longer than 2,000 characters"},
		{url.Values{"tone": {"warm"}, "length": {"short"}, "hours": {"always"}, "chat_model": {"two words"}}, "is not a model name"},
		{url.Values{"tone": {"warm"}, "length": {"short"}, "hours": {"always"}, "team": {"424242"}}, "The team escalations go to no longer exists: choose another."},
	} {
		resp, body := owner.post("/settings/assistant", c.form)
		if resp.StatusCode != 422 || !strings.Contains(body, c.want) {
			t.Errorf("save %v: %d, want %q", c.form, resp.StatusCode, c.want)
		}
	}
	if s := a.Assistant.Settings(); s.Tone != "warm" || s.ChatModel != "llama3.2:3b" {
		t.Error("a refused save changed the settings")
	}
}

// ollamaStandIn speaks enough of Ollama's API for the panel: up, no
// models, and a pull whose progress the test releases step by step.
type ollamaStandIn struct {
	URL     string
	mu      sync.Mutex // guards release
	release chan struct{}
}

// gate is what the pulls under way wait for; closing it lets them finish.
func (o *ollamaStandIn) gate() chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.release
}

// newGate makes the next pulls wait again.
func (o *ollamaStandIn) newGate() {
	o.mu.Lock()
	o.release = make(chan struct{})
	o.mu.Unlock()
}

func newOllamaStandIn(t *testing.T) *ollamaStandIn {
	o := &ollamaStandIn{release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			return
		case "/api/version":
			fmt.Fprint(w, `{"version":"0.17.4"}`)
		case "/api/tags":
			fmt.Fprint(w, `{"models":[]}`)
		case "/api/pull":
			var req struct{ Model string }
			json.NewDecoder(r.Body).Decode(&req)
			w.Header().Set("Content-Type", "application/x-ndjson")
			line := func(s string) { fmt.Fprintln(w, s); w.(http.Flusher).Flush() }
			if strings.HasPrefix(req.Model, "missing") {
				line(`{"error":"pull model manifest: file does not exist"}`)
				return
			}
			line(`{"status":"pulling manifest"}`)
			line(`{"status":"pulling 6a0746a1ec1a","digest":"sha256:6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa","total":2000000,"completed":500000}`)
			select {
			case <-o.gate():
			case <-r.Context().Done():
				return
			}
			line(`{"status":"pulling 6a0746a1ec1a","digest":"sha256:6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa","total":2000000,"completed":2000000}`)
			line(`{"status":"verifying sha256 digest"}`)
			line(`{"status":"success"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	o.URL = srv.URL
	return o
}

// TestPullProgress: a pull started from the settings page shows its
// progress while it runs (the panel polls every second), can be
// cancelled, and ends installed or with the reason it failed.
func TestPullProgress(t *testing.T) {
	o := newOllamaStandIn(t)
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) { c.OllamaURL = o.URL }))
	owner := setupOwner(t, a)
	sendboxtest.Eventually(t, 10*time.Second, "the stand-in Ollama to be seen online", a.LLM.Online)
	owner.get("/settings/assistant")

	for _, c := range []struct{ name, want string }{
		{"", "Write the name of a model first."},
		{"no good/../name", "is not a model name Ollama accepts"},
	} {
		_, body := owner.htmx("POST", "/settings/assistant/pull", url.Values{"model": {c.name}})
		if !strings.Contains(body, c.want) {
			t.Errorf("pull %q: %s", c.name, body)
		}
	}
	resp, body := owner.htmx("POST", "/settings/assistant/pull", url.Values{"model": {"acme/helper:3b"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="pulls"`) || !strings.Contains(body, "acme/helper:3b") {
		t.Fatalf("pull: %d %s", resp.StatusCode, body)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the progress at 25%", func() bool {
		_, body = owner.get("/settings/assistant/pulls")
		return strings.Contains(body, "<strong>25%</strong>")
	})
	for _, want := range []string{`hx-trigger="every 1s"`, `<progress max="100" value="25"`, "488 KB / 1.9 MB", "pulling 6a0746a1ec1a", "Cancel"} {
		if !strings.Contains(body, want) {
			t.Errorf("progress lacks %q:\n%s", want, body)
		}
	}
	if _, body := owner.htmx("POST", "/settings/assistant/pull", url.Values{"model": {"acme/helper:3b"}}); !strings.Contains(body, "already being pulled") {
		t.Error("a second pull of the same model is not refused")
	}
	close(o.gate())
	sendboxtest.Eventually(t, 10*time.Second, "the pull to finish", func() bool {
		_, body = owner.get("/settings/assistant/pulls")
		return strings.Contains(body, "acme/helper:3b is installed.")
	})
	if strings.Contains(body, "every 1s") {
		t.Error("polling goes on after the pull ended")
	}
	// A model the library lacks: the reason is shown.
	owner.htmx("POST", "/settings/assistant/pull", url.Values{"model": {"missing-model"}})
	sendboxtest.Eventually(t, 10*time.Second, "the failed pull", func() bool {
		_, body = owner.get("/settings/assistant/pulls")
		return strings.Contains(body, "file does not exist")
	})
	// Cancel: a second stand-in pull that never finishes.
	o.newGate()
	owner.htmx("POST", "/settings/assistant/pull", url.Values{"model": {"acme/slow"}})
	sendboxtest.Eventually(t, 10*time.Second, "the slow pull to start", func() bool {
		_, body = owner.get("/settings/assistant/pulls")
		return strings.Contains(body, "acme/slow") && strings.Contains(body, "<strong>25%</strong>")
	})
	_, body = owner.htmx("POST", "/settings/assistant/pulls/cancel", url.Values{"model": {"acme/slow"}})
	if !strings.Contains(body, "Cancelled.") {
		t.Errorf("cancel: %s", body)
	}
	// Without JavaScript the form posts and comes back to the page.
	if resp, _ := owner.post("/settings/assistant/pull", url.Values{"model": {"acme/other"}}); resp.StatusCode != 303 {
		t.Errorf("plain form pull: %d", resp.StatusCode)
	}
	close(o.gate())
}

// TestThreadAssistant: the assistant's answer carries its badge and
// sources; the bot is switched off and on; an urgent message is flagged in
// the thread, the list and its filter, announced on the event stream with
// the customer's name and the category, and cleared; the copilot drafts
// in quote mode and says why it cannot summarise or translate.
func TestThreadAssistant(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	owner := setupOwner(t, a)
	ctx := context.Background()
	if _, err := a.KB.SaveFAQ(ctx, 0, "Quanto costa la pulizia dei denti?", "La pulizia dentale costa 80 euro e dura 45 minuti.", 0); err != nil {
		t.Fatal(err)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the FAQ to be indexed", func() bool {
		r, err := a.KB.Retrieve(ctx, "Quanto costa la pulizia dei denti?", 4)
		return err == nil && len(r.Hits) > 0 && r.Hits[0].Chunk.Kind == store.KBFAQ
	})

	// The panel's event stream, as an open browser holds it.
	req, _ := http.NewRequest("GET", a.URL()+"/events", nil)
	stream, err := (&http.Client{Jar: owner.c.Jar}).Do(req)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("events: %v", err)
	}
	defer stream.Body.Close()
	alerts := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		name, data := "", ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name, data = strings.TrimPrefix(line, "event: "), ""
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ") + "\n"
			case line == "" && name == "urgent":
				alerts <- data
				name = ""
			}
		}
	}()

	m := say(t, a, "393471112222", "Anna Neri", "Quanto costa la pulizia dei denti?")
	conv := m.ConversationID
	path := "/inbox/" + itoa(conv)
	var body string
	sendboxtest.Eventually(t, 30*time.Second, "the assistant's answer with its source", func() bool {
		_, body = owner.get(path + "/messages")
		return strings.Contains(body, "La pulizia dentale costa 80 euro") && strings.Contains(body, "Sources (1)")
	})
	for _, want := range []string{`class="ai-badge"`, "Assistant", "Quoted from the knowledge base", "took ", "by words"} {
		if !strings.Contains(body, want) {
			t.Errorf("the AI answer lacks %q", want)
		}
	}
	if strings.Contains(body, "Sent by the API") {
		t.Error("the assistant's answer is shown as the API's")
	}

	// The copilot: a draft in quote mode; summary and translation say why not.
	owner.get(path)
	_, body = owner.htmx("POST", path+"/suggest", nil)
	if !strings.Contains(body, `data-fill="reply-body"`) || !strings.Contains(body, "La pulizia dentale costa 80 euro") ||
		!strings.Contains(body, "Quoted from the knowledge base") || !strings.Contains(body, "Based on") {
		t.Errorf("suggest: %s", body)
	}
	_, body = owner.htmx("POST", path+"/summarise", nil)
	if !strings.Contains(body, "Text generation is off: no chat model is chosen.") {
		t.Errorf("summarise without a model: %s", body)
	}
	_, body = owner.htmx("POST", path+"/translate", url.Values{"body": {"Certo, a presto!"}})
	if !strings.Contains(body, "Text generation is off") || !strings.Contains(body, "Your draft in Italian") {
		t.Errorf("translate without a model: %s", body)
	}
	_, body = owner.htmx("POST", path+"/translate", url.Values{"message": {itoa(m.ID)}})
	if !strings.Contains(body, "The customer&#39;s message in English") || !strings.Contains(body, "Text generation is off") {
		t.Errorf("translate a message: %s", body)
	}
	if _, body := owner.htmx("POST", path+"/translate", url.Values{"body": {"  "}}); !strings.Contains(body, "Write a draft in the reply box first.") {
		t.Error("translate nothing")
	}
	if resp, _ := owner.htmx("POST", path+"/translate", url.Values{"message": {"999999"}}); resp.StatusCode != 404 {
		t.Errorf("translate another conversation's message: %d", resp.StatusCode)
	}

	// Switch the assistant off and on: state, buttons and timeline follow.
	if resp, _ := owner.post(path+"/bot", url.Values{"state": {"off"}}); resp.StatusCode != 204 {
		t.Fatalf("bot off: %d", resp.StatusCode)
	}
	_, body = owner.get(path + "/details?part=head")
	if !strings.Contains(body, "Assistant off") || !strings.Contains(body, "Switch on<span class=\"sr-only\"> the assistant") {
		t.Error("the head does not show the assistant off")
	}
	owner.post(path+"/bot", url.Values{"state": {"on"}})
	if c, _ := a.Store.ConversationByID(ctx, conv); c.Bot != store.BotOn {
		t.Fatalf("bot: %s", c.Bot)
	}
	_, body = owner.get(path + "/details?part=details")
	if !strings.Contains(body, "Owner switched the assistant off") || !strings.Contains(body, "Owner switched the assistant on") {
		t.Error("the timeline lacks the switches")
	}

	// An urgent message: flagged at once, the assistant paused, everyone told.
	say(t, a, "393471112222", "Anna Neri", "ho un forte dolore e sanguina")
	var alert string
	select {
	case alert = <-alerts:
	case <-time.After(20 * time.Second):
		t.Fatal("no urgent alert on the event stream")
	}
	for _, want := range []string{`role="alert"`, "Urgent: Anna Neri", "Medical urgency", `href="/inbox/` + itoa(conv) + `"`} {
		if !strings.Contains(alert, want) {
			t.Errorf("the alert lacks %q: %s", want, alert)
		}
	}
	c, _ := a.Store.ConversationByID(ctx, conv)
	if !c.Urgent || c.Bot != store.BotPaused || c.Escalation != policy.Medical {
		t.Fatalf("after the urgent message: %+v", c)
	}
	_, body = owner.get(path + "/details?part=head")
	for _, want := range []string{"Urgent", "Medical urgency", "Clear urgent", "Assistant paused", "Switch on<span class=\"sr-only\"> the assistant"} {
		if !strings.Contains(body, want) {
			t.Errorf("the head lacks %q", want)
		}
	}
	_, body = owner.get(path + "/messages")
	for _, want := range []string{"event-escalated", "Private note by Assistant", "Escalation: medical urgency"} {
		if !strings.Contains(body, want) {
			t.Errorf("the thread lacks %q", want)
		}
	}
	_, body = owner.get("/inbox/list?status=open")
	if !strings.Contains(body, `class=" urgent"`) && !strings.Contains(body, `class="unread urgent"`) {
		t.Error("the list does not mark the conversation urgent")
	}
	if !strings.Contains(body, "Assistant paused") || !strings.Contains(body, `id="count-urgent" hx-swap-oob="true">1<`) {
		t.Error("the list lacks the paused state or the urgent count")
	}
	say(t, a, "393479998888", "Marco", "Buongiorno")
	_, body = owner.get("/inbox/list?status=urgent")
	if !strings.Contains(body, "Anna Neri") || strings.Contains(body, "Marco") {
		t.Error("the urgent filter")
	}
	if _, body := owner.get("/inbox?status=urgent"); !strings.Contains(body, `value="urgent" checked`) || !strings.Contains(body, "badge-urgent") {
		t.Error("the urgent tab is not checked, or the nav has no urgent badge")
	}
	// Clearing it.
	if resp, _ := owner.post(path+"/urgent/clear", nil); resp.StatusCode != 204 {
		t.Fatalf("clear: %d", resp.StatusCode)
	}
	if c, _ := a.Store.ConversationByID(ctx, conv); c.Urgent {
		t.Error("still urgent")
	}
	if _, body := owner.get("/inbox/list?status=urgent"); strings.Contains(body, "Anna Neri") || !strings.Contains(body, "Nothing urgent") {
		t.Error("a cleared conversation is listed as urgent")
	}
	select {
	case a := <-alerts:
		t.Errorf("clearing raised an alert: %s", a)
	case <-time.After(500 * time.Millisecond):
	}
}

// TestAssistantWithOllama: against a real Ollama, the settings page lists
// its models by what they can do, and choosing "tiny" makes answers
// generated.
func TestAssistantWithOllama(t *testing.T) {
	base := sendboxtest.Ollama(t)
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) { c.OllamaURL = base }))
	owner := setupOwner(t, a)
	sendboxtest.Eventually(t, 10*time.Second, "Ollama to be seen online", a.LLM.Online)
	_, body := owner.get("/settings/assistant")
	chat := regexp.MustCompile(`(?s)<select id="as-chat".*?</select>`).FindString(body)
	embed := regexp.MustCompile(`(?s)<select id="as-embed".*?</select>`).FindString(body)
	if !strings.Contains(chat, `value="tiny:latest"`) || strings.Contains(chat, "tiny-embed") || !strings.Contains(chat, `value="tiny-random:latest"`) {
		t.Errorf("chat models: %s", chat)
	}
	if !strings.Contains(embed, `value="tiny-embed:latest"`) || strings.Contains(embed, `value="tiny:latest"`) {
		t.Errorf("embedding models: %s", embed)
	}
	if strings.Contains(body, "AI offline") || !strings.Contains(body, "Quoted from the knowledge base") {
		t.Error("before choosing, the status is wrong")
	}
	if resp, body := owner.post("/settings/assistant", url.Values{"enabled": {"on"}, "chat_model": {"tiny:latest"},
		"embed_model": {"tiny-embed:latest"}, "tone": {"friendly"}, "length": {"short"}, "hours": {"always"}}); resp.StatusCode != 303 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	_, body = owner.get("/settings/assistant")
	if !strings.Contains(body, "Written by the model tiny:latest from the knowledge base.") {
		t.Errorf("after choosing tiny, the status does not say answers are generated")
	}
	// The copilot can now summarise.
	conv := conversation(t, a)
	owner.get("/inbox/" + itoa(conv))
	if _, body := owner.htmx("POST", "/inbox/"+itoa(conv)+"/summarise", nil); !strings.Contains(body, "Hello, I am a tiny model.") {
		t.Errorf("summary with tiny: %s", body)
	}
}

// Every reason a policy match may not count has words in the panel.
func TestPolicyReasonsHaveWords(t *testing.T) {
	var strs map[string]string
	b, err := os.ReadFile("locales/en.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &strs); err != nil {
		t.Fatal(err)
	}
	for _, r := range policy.Reasons {
		if r != "negated" && strs["policy.reason."+r] == "" {
			t.Errorf("no words for the reason %q", r)
		}
	}
}
