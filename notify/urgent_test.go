package notify_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"sendbox/accounts"
	"sendbox/config"
	"sendbox/policy"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// mailbox is a real SMTP server (emersion/go-smtp) on a loopback port that
// keeps what it is sent. It refuses the first failFirst messages with a
// temporary error, as a busy server does.
type mailbox struct {
	mu        sync.Mutex
	mails     []mail
	failFirst int
	authed    []string
}

type mail struct {
	from, to string
	data     string
}

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }

type session struct {
	mb       *mailbox
	from, to string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "alerts" || pass != "s3cret-pass" {
			return errors.New("bad credentials")
		}
		s.mb.mu.Lock()
		s.mb.authed = append(s.mb.authed, user)
		s.mb.mu.Unlock()
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	if s.mb.failFirst > 0 {
		s.mb.failFirst--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.mb.mails = append(s.mb.mails, mail{from: s.from, to: s.to, data: string(b)})
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func (mb *mailbox) to(addr string) []mail {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	var out []mail
	for _, m := range mb.mails {
		if m.to == addr {
			out = append(out, m)
		}
	}
	return out
}

func (mb *mailbox) count() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.mails)
}

// startMailbox serves SMTP on a free loopback port and returns its address.
func startMailbox(t *testing.T, mb *mailbox) string {
	t.Helper()
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback only: net/smtp sends the password to localhost without TLS
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// TestUrgentEmail: when the assistant hands a conversation over as urgent,
// the people who asked for it get one e-mail each through the SMTP server
// of SENDBOX_SMTP_URL, with a link that opens the conversation: the
// members of the team it goes to (the default) and those who want every
// one; not those who said never, viewers, people outside the team or
// disabled people. A busy server is tried again; a second alarming
// message in the same spell mails nobody again; a new spell after a person
// cleared the flag does.
func TestUrgentEmail(t *testing.T) {
	mb := &mailbox{failFirst: 1}
	addr := startMailbox(t, mb)
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) {
		c.SMTPURL = "smtp://alerts:s3cret-pass@" + addr + "?from=inbox@clinica.example"
	}))
	ctx := context.Background()
	user := func(email, role string, n *store.Notifications) *store.User {
		u, err := a.Store.CreateUser(ctx, email, strings.Split(email, "@")[0], role, accounts.HashPassword("password-"+role))
		if err != nil {
			t.Fatal(err)
		}
		if n != nil {
			if err := a.Store.SetUserNotifications(ctx, u.ID, *n); err != nil {
				t.Fatal(err)
			}
		}
		return u
	}
	owner := user("owner@clinica.example", "owner", nil) // the default team's member, default choice
	team, err := a.Store.EnsureDefaultTeam(ctx)
	if err != nil || team == 0 {
		t.Fatal(team, err)
	}
	always := user("always@clinica.example", "agent", &store.Notifications{Email: store.EmailAlways})
	user("outside@clinica.example", "agent", nil) // in no team
	never := user("never@clinica.example", "agent", &store.Notifications{Email: store.EmailNever})
	user("viewer@clinica.example", "viewer", &store.Notifications{Email: store.EmailAlways})
	gone := user("gone@clinica.example", "agent", &store.Notifications{Email: store.EmailAlways})
	if err := a.Store.SetTeamMembers(ctx, team, []int64{owner.ID, never.ID}); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.UpdateUser(ctx, gone.ID, gone.Name, gone.Role, true); err != nil {
		t.Fatal(err)
	}

	wamid, err := a.Sim.SendInbound(ctx, sim.Inbound{From: "393471234567", Name: "Maria Rossi",
		Message: []byte(`{"type":"text","text":{"body":"ho un forte dolore e sanguina"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	var conv int64
	sendboxtest.Eventually(t, 20*time.Second, "the message to be stored", func() bool {
		m, err := a.Store.MessageByWAMID(ctx, wamid)
		if err == nil {
			conv = m.ConversationID
		}
		return err == nil
	})
	escalate := func() {
		t.Helper()
		if err := a.Store.Escalate(ctx, conv, store.Escalation{Category: policy.Medical, Urgent: true, TeamID: team,
			Detail: "sanguina"}); err != nil {
			t.Fatal(err)
		}
	}
	escalate()
	// The first delivery is refused (451): the retry comes 15 s later.
	sendboxtest.Eventually(t, 90*time.Second, "e-mails to the owner and to the agent who wants every one", func() bool {
		return len(mb.to(owner.Email)) == 1 && len(mb.to(always.Email)) == 1
	})
	escalate() // the customer wrote a second alarming message: the same spell
	m := mb.to(owner.Email)[0]
	for _, want := range []string{"Subject: Urgent: Maria Rossi (+393471234567) (medical urgency)", "From: \"sendbox\" <inbox@clinica.example>",
		"Auto-Submitted: auto-generated", "/inbox/" + itoa(conv), "ho un forte dolore e sanguina", "/settings/account"} {
		if !strings.Contains(m.data, want) {
			t.Errorf("the e-mail lacks %q:\n%s", want, m.data)
		}
	}
	if m.from != "inbox@clinica.example" {
		t.Errorf("sent from %q", m.from)
	}
	// Give a wrong second e-mail the time to arrive before counting.
	time.Sleep(2 * time.Second)
	if n := mb.count(); n != 2 {
		t.Fatalf("%d e-mails for one urgent spell, want 2 (owner, always): %+v", n, mb.mails)
	}

	// A person clears the flag; a new alarm is a new spell.
	if err := a.Store.ClearUrgent(ctx, conv); err != nil {
		t.Fatal(err)
	}
	escalate()
	sendboxtest.Eventually(t, 30*time.Second, "e-mails about the second spell", func() bool {
		return len(mb.to(owner.Email)) == 2 && len(mb.to(always.Email)) == 2
	})
	time.Sleep(2 * time.Second)
	if n := mb.count(); n != 4 {
		t.Fatalf("%d e-mails after two spells, want 4", n)
	}
}

// TestTestEmailButton: Settings → E-mail says whether e-mail is set up,
// with the server's password masked, and its button sends a test e-mail to
// the admin; without a server the page says so.
func TestTestEmailButton(t *testing.T) {
	mb := &mailbox{}
	addr := startMailbox(t, mb)
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) {
		c.SMTPURL = "smtp://alerts:s3cret-pass@" + addr + "?from=inbox@clinica.example"
	}))
	b := signIn(t, a, "admin")
	body := b.get("/settings/email")
	if !strings.Contains(body, "smtp://alerts:") || strings.Contains(body, "s3cret-pass") || !strings.Contains(body, "inbox@clinica.example") {
		t.Fatalf("Settings → E-mail:\n%s", body)
	}
	body = b.htmx("/settings/email/test")
	if !strings.Contains(body, "took the test e-mail for admin@clinica.example") {
		t.Fatalf("test e-mail: %s", body)
	}
	if got := mb.to("admin@clinica.example"); len(got) != 1 || !strings.Contains(got[0].data, "Subject: sendbox: test e-mail") {
		t.Fatalf("the test e-mail: %+v", got)
	}

	bare := sendboxtest.New(t)
	if body := signIn(t, bare, "admin").get("/settings/email"); !strings.Contains(body, "E-mail is not configured") {
		t.Fatalf("without a server:\n%s", body)
	}
}

// signedIn is a cookie-keeping client signed in to the panel.
type signedIn struct {
	t    *testing.T
	a    *sendboxtest.App
	c    *http.Client
	csrf string
}

func signIn(t *testing.T, a *sendboxtest.App, role string) *signedIn {
	t.Helper()
	email := role + "@clinica.example"
	if _, err := a.Store.CreateUser(context.Background(), email, role, role, accounts.HashPassword("password-of-"+role)); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &signedIn{t: t, a: a, c: &http.Client{Jar: jar, Timeout: 60 * time.Second}}
	login := b.get("/login")
	pre := csrfOf(login)
	resp, err := b.c.PostForm(a.URL()+"/login", url.Values{"csrf": {pre}, "email": {email}, "password": {"password-of-" + role}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b.csrf = csrfOf(b.get("/inbox"))
	return b
}

func csrfOf(page string) string {
	for _, marker := range []string{`name="csrf" value="`, `"X-CSRF-Token": "`} {
		if i := strings.Index(page, marker); i >= 0 {
			rest := page[i+len(marker):]
			return rest[:strings.IndexByte(rest, '"')]
		}
	}
	return ""
}

func (b *signedIn) get(path string) string {
	b.t.Helper()
	resp, err := b.c.Get(b.a.URL() + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func (b *signedIn) htmx(path string) string {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.a.URL()+path, nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return string(body)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
