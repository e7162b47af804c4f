package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/assistant"
	"sendbox/language"
	"sendbox/policy"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// browser is a cookie-keeping HTTP client that behaves like a form-posting
// browser without JavaScript.
type browser struct {
	t    testing.TB
	a    *sendboxtest.App
	c    *http.Client
	csrf string // the last CSRF token seen in a page
}

func newBrowser(t testing.TB, a *sendboxtest.App) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, a: a, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"|"X-CSRF-Token": "([^"]+)"`)

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1] + m[2]
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.a.URL()+path, nil)
	return b.do(req)
}

// post sends a form with the last CSRF token seen (unless form has one).
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.a.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// setupOwner creates the owner through the one-time link.
func setupOwner(t testing.TB, a *sendboxtest.App) *browser {
	t.Helper()
	link, err := a.SetupLink(context.Background())
	if err != nil || link == "" {
		t.Fatal(link, err)
	}
	b := newBrowser(t, a)
	u, _ := url.Parse(link)
	if resp, body := b.get(u.RequestURI()); resp.StatusCode != 200 {
		t.Fatalf("setup form: %d %s", resp.StatusCode, body)
	}
	resp, body := b.post("/setup", url.Values{"token": {u.Query().Get("token")}, "name": {"Owner"},
		"email": {ownerEmail}, "password": {ownerPassword}, "password2": {ownerPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d %s", resp.StatusCode, body)
	}
	b.get("/inbox") // picks up the session's CSRF token
	return b
}

// userBrowser creates a user with a role and signs them in.
func userBrowser(t *testing.T, a *sendboxtest.App, role string) *browser {
	t.Helper()
	email := role + "@example.com"
	if _, err := a.Store.CreateUser(context.Background(), email, strings.ToUpper(role[:1])+role[1:], role,
		accounts.HashPassword("password-of-"+role)); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, a)
	b.get("/login")
	if resp, body := b.post("/login", url.Values{"email": {email}, "password": {"password-of-" + role}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: %d %s", role, resp.StatusCode, body)
	}
	b.get("/inbox")
	return b
}

func TestSetupLinkWorksOnce(t *testing.T) {
	a := sendboxtest.New(t)
	link, _ := a.SetupLink(context.Background())
	u, _ := url.Parse(link)
	token := u.Query().Get("token")
	b := newBrowser(t, a)
	if resp, _ := b.get("/setup?token=guessed"); resp.StatusCode != 404 {
		t.Fatalf("a guessed token: %d", resp.StatusCode)
	}
	b.get(u.RequestURI())
	form := url.Values{"token": {token}, "name": {"Owner"}, "email": {ownerEmail}, "password": {ownerPassword}, "password2": {ownerPassword}}
	noCSRF := url.Values{"csrf": {""}}
	for k, v := range form {
		noCSRF[k] = v
	}
	if resp, _ := b.post("/setup", noCSRF); resp.StatusCode != 403 {
		t.Fatalf("setup without its CSRF token: %d", resp.StatusCode)
	}
	if resp, body := b.post("/setup", url.Values{"token": {token}, "name": {"Owner"}, "email": {ownerEmail},
		"password": {"short"}, "password2": {"short"}}); resp.StatusCode != 422 || !strings.Contains(body, "at least 10") {
		t.Fatalf("weak password: %d", resp.StatusCode)
	}
	resp, _ := b.post("/setup", form)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/settings/whatsapp?ok=welcome" {
		t.Fatalf("setup: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The link is spent: neither the form nor a replayed post works, for
	// anyone, and no new link is made now that an owner exists.
	other := newBrowser(t, a)
	if resp, _ := other.get(u.RequestURI()); resp.StatusCode != 404 {
		t.Fatalf("setup link reused: %d", resp.StatusCode)
	}
	other.get("/login")
	form.Set("csrf", other.csrf)
	form.Set("email", "intruder@example.com")
	if resp, _ := other.post("/setup", form); resp.StatusCode != 410 {
		t.Fatalf("replayed setup: %d", resp.StatusCode)
	}
	if n, _ := a.Store.CountUsers(context.Background()); n != 1 {
		t.Fatalf("%d users", n)
	}
	if l, _ := a.SetupLink(context.Background()); l != "" {
		t.Fatalf("a new setup link was made after the owner exists: %s", l)
	}
}

func TestLoginAndRateLimit(t *testing.T) {
	a := sendboxtest.New(t)
	setupOwner(t, a)
	b := newBrowser(t, a)
	b.get("/login")
	resp, body := b.post("/login", url.Values{"email": {ownerEmail}, "password": {"wrong password!"}})
	if resp.StatusCode != 401 || !strings.Contains(body, "wrong") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	for i := 0; i < 10; i++ {
		resp, body = b.post("/login", url.Values{"email": {ownerEmail}, "password": {"guess " + string(rune('a'+i))}})
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed attempts") {
		t.Fatalf("after many failures: %d %s", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Even the right password waits: the attacker may have guessed it.
	if resp, _ := b.post("/login", url.Values{"email": {ownerEmail}, "password": {ownerPassword}}); resp.StatusCode != 429 {
		t.Fatalf("right password while throttled: %d", resp.StatusCode)
	}
	// Another address from the same place still works.
	if _, err := a.Store.CreateUser(context.Background(), "agent@example.com", "Agent", "agent", accounts.HashPassword("agent password 1")); err != nil {
		t.Fatal(err)
	}
	c := newBrowser(t, a)
	c.get("/login")
	resp, _ = c.post("/login", url.Values{"email": {"agent@example.com"}, "password": {"agent password 1"}, "next": {"//evil.example/x"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/inbox" {
		t.Fatalf("login with an off-site next: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "sendbox_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Secure {
		t.Fatalf("session cookie: %+v", session)
	}
	// The session is stored hashed: the cookie's value is not in the database.
	if _, err := a.Store.SessionByID(context.Background(), session.Value); err == nil {
		t.Fatal("the raw session token opens a session")
	}
	// Logging out ends the session on the server.
	c.get("/inbox")
	if resp, _ := c.post("/logout", nil); resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(a.URL())
	jar.SetCookies(u, []*http.Cookie{{Name: "sendbox_session", Value: session.Value}})
	replay := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := replay.Get(a.URL() + "/inbox")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("a logged-out session still works: %d", r.StatusCode)
	}
}

// conversation makes a conversation by having a customer write.
func conversation(t *testing.T, a *sendboxtest.App) int64 {
	t.Helper()
	wamid, err := a.Sim.SendInbound(context.Background(), sim.Inbound{From: "393471112222", Name: "Anna",
		Message: json.RawMessage(`{"type":"text","text":{"body":"Salve"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	var m *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the message to be stored", func() bool {
		m, err = a.Store.MessageByWAMID(context.Background(), wamid)
		return err == nil
	})
	return m.ConversationID
}

func TestPermissions(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	conv := conversation(t, a)
	inbox := "/inbox/" + itoa(conv)
	users := map[string]*browser{"owner": owner, "admin": userBrowser(t, a, "admin"),
		"agent": userBrowser(t, a, "agent"), "viewer": userBrowser(t, a, "viewer")}
	anon := newBrowser(t, a)
	cases := []struct {
		who, method, path string
		form              url.Values
		want              int
	}{
		{"anon", "GET", "/inbox", nil, 303},
		{"anon", "GET", "/settings", nil, 303},
		{"viewer", "GET", "/inbox", nil, 200},
		{"viewer", "GET", inbox, nil, 200},
		{"viewer", "GET", "/contacts", nil, 200},
		{"viewer", "POST", inbox + "/reply", url.Values{"body": {"hi"}}, 403},
		{"viewer", "POST", inbox + "/status", url.Values{"action": {"resolve"}}, 403},
		{"viewer", "GET", "/settings/account", nil, 200},
		{"viewer", "GET", "/settings", nil, 403},
		{"agent", "POST", inbox + "/reply", url.Values{"body": {"Buongiorno Anna"}}, 204},
		{"agent", "POST", inbox + "/reply", url.Values{"body": {"checked her file"}, "mode": {"note"}}, 204},
		{"agent", "POST", inbox + "/status", url.Values{"action": {"pending"}}, 204},
		{"agent", "GET", "/settings", nil, 403},
		{"agent", "GET", "/settings/whatsapp", nil, 403},
		{"agent", "POST", "/settings/users", url.Values{"email": {"x@example.com"}, "name": {"X"}, "role": {"admin"}}, 403},
		{"agent", "POST", "/settings/api-keys", url.Values{"name": {"k"}, "role": {"agent"}}, 403},
		{"admin", "GET", "/settings/team", nil, 200},
		{"admin", "POST", "/settings/users", url.Values{"email": {"o2@example.com"}, "name": {"O2"}, "role": {"owner"}}, 422},
		{"admin", "POST", "/settings/api-keys", url.Values{"name": {"too strong"}, "role": {"owner"}}, 422},
		{"owner", "POST", "/settings/users", url.Values{"email": {"o2@example.com"}, "name": {"O2"}, "role": {"owner"}}, 200},
	}
	for _, c := range cases {
		b := users[c.who]
		if c.who == "anon" {
			b = anon
		}
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
	// An htmx request without a session is told to go to the login page.
	req, _ := http.NewRequest("GET", a.URL()+"/inbox/list", nil)
	req.Header.Set("HX-Request", "true")
	resp, _ := anon.do(req)
	if resp.StatusCode != 401 || resp.Header.Get("HX-Redirect") != "/login" {
		t.Errorf("htmx without session: %d %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	// The agent's reply is queued, authored, and pauses the assistant; the
	// note is on the timeline.
	msgs, _, _, _ := a.Store.ListMessages(context.Background(), store.MessageFilter{ConversationID: conv, Direction: store.Outbound})
	if len(msgs) != 1 || msgs[0].Text != "Buongiorno Anna" || msgs[0].AuthorID == 0 {
		t.Errorf("agent's reply: %+v", msgs)
	}
	evs, _ := a.Store.ConversationEvents(context.Background(), conv)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "bot,note,status" {
		t.Errorf("timeline: %v", kinds)
	}
}

func TestCSRF(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	conv := "/inbox/" + itoa(conversation(t, a)) + "/status"
	post := func(token, site string) int {
		req, _ := http.NewRequest("POST", a.URL()+conv, strings.NewReader("action=pending"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if token != "" {
			req.Header.Set("X-CSRF-Token", token)
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, _ := b.do(req)
		return resp.StatusCode
	}
	if code := post("", ""); code != 403 {
		t.Errorf("without a token: %d", code)
	}
	if code := post("not-the-token", ""); code != 403 {
		t.Errorf("with a wrong token: %d", code)
	}
	if code := post(b.csrf, "cross-site"); code != 403 {
		t.Errorf("from another site, even with the token: %d", code)
	}
	if code := post(b.csrf, "same-origin"); code != 204 {
		t.Errorf("with the token: %d", code)
	}
	// A plain form with the hidden field works too.
	if resp, _ := b.post(conv, url.Values{"action": {"resolve"}}); resp.StatusCode != 204 {
		t.Errorf("form field: %d", resp.StatusCode)
	}
	// Login and setup forms have their own double-submit token.
	c := newBrowser(t, a)
	c.get("/login")
	if resp, _ := c.post("/login", url.Values{"csrf": {"forged"}, "email": {ownerEmail}, "password": {ownerPassword}}); resp.StatusCode != 403 {
		t.Errorf("login with a forged token: %d", resp.StatusCode)
	}
}

func TestSecurityHeadersAndNoInlineScript(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	conv := conversation(t, a)
	anon := newBrowser(t, a)
	if resp, body := anon.get("/login"); resp.StatusCode != 200 || strings.Contains(body, " style=") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("login page: %d %v", resp.StatusCode, resp.Header)
	}
	for _, path := range []string{"/inbox", "/inbox/" + itoa(conv), "/contacts", "/phone", "/settings/whatsapp",
		"/settings/team", "/settings/profile", "/settings/api-keys", "/settings/canned", "/settings/labels", "/settings/templates",
		"/settings/assistant", "/settings/policy", "/knowledge", "/knowledge/1", "/inbox?status=urgent"} {
		resp, body := b.get(path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
			continue
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP allows unsafe: %s", path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
		if strings.Contains(body, " style=") || strings.Contains(body, "<style") {
			t.Errorf("%s: inline style (the CSP would block it)", path)
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(tag, "src=") {
				t.Errorf("%s: inline script %s", path, tag)
			}
		}
		if strings.Contains(body, " on") && regexp.MustCompile(`\son[a-z]+="`).MatchString(body) {
			t.Errorf("%s: inline event handler", path)
		}
		if strings.Contains(body, "[") && regexp.MustCompile(`\[[a-z_]+\.[a-z_.]+\]`).MatchString(body) {
			t.Errorf("%s: a missing string: %s", path, regexp.MustCompile(`\[[a-z_]+\.[a-z_.]+\]`).FindString(body))
		}
	}
}

// TestEveryStringExists: every string the templates and handlers ask for is
// in the English catalog, so no page shows a raw key.
func TestEveryStringExists(t *testing.T) {
	b, err := os.ReadFile("locales/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var catalog map[string]string
	if err := json.Unmarshal(b, &catalog); err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`(?:\{\{t |\(t |p\.T\()"([a-z_.0-9-]+)"`)
	files, _ := os.ReadDir("templates")
	var sources []string
	for _, f := range files {
		sources = append(sources, "templates/"+f.Name())
	}
	goFiles, _ := os.ReadDir(".")
	for _, f := range goFiles {
		if strings.HasSuffix(f.Name(), ".go") && !strings.HasSuffix(f.Name(), "_test.go") {
			sources = append(sources, f.Name())
		}
	}
	for _, src := range sources {
		b, _ := os.ReadFile(src)
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			if strings.HasSuffix(m[1], ".") {
				continue // a prefix completed at run time: checked below
			}
			if _, ok := catalog[m[1]]; !ok {
				t.Errorf("%s asks for %q, which locales/en.json lacks", src, m[1])
			}
		}
	}
	// Prefixed keys are built at run time: each value of the prefix must exist.
	for prefix, values := range map[string][]string{
		"role.": accounts.Roles, "status.": {"open", "pending", "snoozed", "resolved"},
		"consent.": {"unknown", "opted_in", "opted_out"}, "color.": {"0", "1", "2", "3", "4", "5", "6", "7"},
		"settings.": {"whatsapp", "profile", "team", "api-keys", "labels", "canned", "templates", "account", "assistant", "policy"},
		"flash.":    {"saved", "deleted", "revoked", "synced", "password", "welcome", "erased", "kb_saved", "pull", "policy_reset"},
		"outcome.": {store.AIAnswered, store.AIQuoted, store.AIHandoff, store.AIEscalated, store.AITimeout, store.AIOptedOut,
			store.AIOptedIn, store.AIAway, store.AIGreeted, store.AISkipped},
		"tone.":   assistant.Tones,
		"length.": assistant.Lengths,
		"hours.":  append(append([]string{}, assistant.Hours...), "always_hint", "closed_only_hint", "away_hint"),
		"lang.":   policy.Langs,
		"message.": {"greeting", "thanks", "goodbye", "holding", "unsupported", "away", "opt_out", "opt_in", "greeting_hint",
			"thanks_hint", "goodbye_hint", "holding_hint", "unsupported_hint", "away_hint", "opt_out_hint", "opt_in_hint"},
		"language.source_": {language.SourceAgent, language.SourceDetected, language.SourceNumber, language.SourceDefault},
		"category.":        append(append([]string{}, policy.Categories...), "medical_urgency_hint", "complaint_hint", "refund_hint", "legal_threat_hint", "human_request_hint"),
		"bot.":             {store.BotOn, store.BotOff, store.BotPaused, "on_hint", "off_hint", "paused_hint"},
		"via.":             {"words", "meaning", "both"},
		"kb.kind_":         {store.KBDocument, store.KBFAQ, store.KBProfile},
		"contacts.":        {"consent_by"},
		"imports.state_": {store.ImportUploaded, store.ImportQueued, store.ImportValidating, store.ImportImporting,
			store.ImportChecked, store.ImportDone, store.ImportFailed},
		"imports.target_": {"phone", "name", "email", "tags", "consent", "consent_date", "attribute"},
		"imports.mode_":   {"upsert", "create", "update"},
	} {
		for _, v := range values {
			if _, ok := catalog[prefix+v]; !ok {
				t.Errorf("locales/en.json lacks %s%s", prefix, v)
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestShutdownWithOpenPanel: an open panel's event stream never goes idle;
// shutdown must end it rather than wait out its timeout.
func TestShutdownWithOpenPanel(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	req, _ := http.NewRequest("GET", a.URL()+"/events", nil)
	resp, err := (&http.Client{Jar: b.c.Jar}).Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v", err)
	}
	defer resp.Body.Close()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("shutdown waited %s for an open event stream", d)
	}
	if _, err := io.ReadAll(resp.Body); err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Logf("stream ended with %v", err)
	}
}
