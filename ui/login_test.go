package ui_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/config"
	"sendbox/sendboxtest"
)

// behindProxy boots sendbox as if behind a reverse proxy on loopback: the
// tests' requests come from 127.0.0.1 and name their client in
// X-Forwarded-For, as a proxy would.
func behindProxy(t *testing.T) *sendboxtest.App {
	return sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}))
}

// preCSRF is any double-submit token: the login form needs the same value in
// its cookie and its field.
const preCSRF = "0123456789abcdef0123456789abcdef-login"

// loginFrom posts the login form as a client at ip ("" sends no
// X-Forwarded-For), with a fresh cookie jar unless b is given.
func loginFrom(t *testing.T, a *sendboxtest.App, b *browser, ip, email, pw string) *http.Response {
	t.Helper()
	form := url.Values{"csrf": {preCSRF}, "email": {email}, "password": {pw}}
	req, _ := http.NewRequest("POST", a.URL()+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "sendbox_csrf", Value: preCSRF})
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	if b == nil {
		b = newBrowser(t, a)
	}
	resp, _ := b.do(req)
	return resp
}

// logins reads sendbox_logins_total by result.
func logins(t *testing.T, a *sendboxtest.App) map[string]int {
	t.Helper()
	resp, err := http.Get(a.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), `sendbox_logins_total{result="`)
		if !ok {
			continue
		}
		result, n, _ := strings.Cut(rest, `"} `)
		out[result], _ = strconv.Atoi(n)
	}
	return out
}

// TestConcurrentLoginsAreBounded: 100 sign-ins at once once took RSS from
// 49 to 1,784 MiB (argon2id holds 19 MiB each) and were all checked, past
// every limit. Now an attempt counts before its password is checked, and
// the hashes running at once are bounded; the rest are told to retry.
func TestConcurrentLoginsAreBounded(t *testing.T) {
	a := behindProxy(t)
	setupOwner(t, a)
	burst := func(client, email func(i int) string) map[int]int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		start := make(chan struct{})
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp := loginFrom(t, a, nil, client(i), email(i), fmt.Sprintf("guess number %d", i))
				if resp.StatusCode == http.StatusTooManyRequests {
					if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
						t.Errorf("429 without a Retry-After in seconds: %q", resp.Header.Get("Retry-After"))
					}
				}
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		return codes
	}

	// One client guessing one address: a handful are checked, however many
	// arrive at once.
	codes := burst(func(int) string { return "203.0.113.7" }, func(int) string { return ownerEmail })
	m := logins(t, a)
	t.Logf("one client, one address: %v; %v", codes, m)
	if m["wrong"] != codes[401] || m["wrong"] > 5 || codes[401]+codes[429] != 100 {
		t.Errorf("100 parallel guesses at one address: %d checked (want at most 5), answers %v", m["wrong"], codes)
	}

	// A hundred clients, a hundred addresses: no limit on a key stops them,
	// so only the bound on hashes keeps the memory down.
	codes = burst(func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) },
		func(i int) string { return fmt.Sprintf("nobody%d@example.com", i) })
	_, _, peak := accounts.HashStats()
	m2 := logins(t, a)
	t.Logf("a hundred clients: %v; %v; at most %d hashes at once", codes, m2, peak)
	if peak > int64(accounts.HashSlots()) {
		t.Errorf("%d password hashes ran at once; the bound is %d", peak, accounts.HashSlots())
	}
	if codes[401]+codes[429] != 100 || m2["wrong"]-m["wrong"] != codes[401] {
		t.Errorf("answers %v, counted %v", codes, m2)
	}
	// Once the burst is over, sign-in works at once.
	if resp := loginFrom(t, a, nil, "192.0.2.1", ownerEmail, ownerPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner after the burst: %d", resp.StatusCode)
	}
}

// TestOwnerCannotBeLockedOut: failures once locked an address for every
// client (8 from anywhere), so anyone could lock the owner out, and behind a
// proxy every user shared one address. Now failures slow down the client
// that makes them, with growing delays; a distributed guess of one address
// slows every unknown client, but not a browser that signed in before.
func TestOwnerCannotBeLockedOut(t *testing.T) {
	a := behindProxy(t)
	setupOwner(t, a)
	// The owner's own browser signs in once, from home.
	home := newBrowser(t, a)
	if resp := loginFrom(t, a, home, "198.51.100.20", ownerEmail, ownerPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("owner's first sign-in: %d", resp.StatusCode)
	}

	// An attacker guesses from one address: after a few failures it waits,
	// seconds rather than a quarter of an hour.
	var last *http.Response
	for i := 0; i < 12 && (last == nil || last.StatusCode != http.StatusTooManyRequests); i++ {
		last = loginFrom(t, a, nil, "203.0.113.7", ownerEmail, fmt.Sprintf("guess %d", i))
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("12 quick guesses from one client: %d", last.StatusCode)
	}
	wait, err := strconv.Atoi(last.Header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 10 {
		t.Fatalf("Retry-After %q: want a delay of seconds", last.Header.Get("Retry-After"))
	}
	// The owner, from another client, signs in at once.
	if resp := loginFrom(t, a, nil, "192.0.2.50", ownerEmail, ownerPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("owner from another client while an attacker guesses: %d", resp.StatusCode)
	}
	// The attacker's delay is a delay: after it, one more guess is checked.
	time.Sleep(time.Duration(wait)*time.Second + 200*time.Millisecond)
	if resp := loginFrom(t, a, nil, "203.0.113.7", ownerEmail, "one more guess"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("attacker after waiting %d s: %d, want the password checked (401)", wait, resp.StatusCode)
	}

	// Many addresses guessing one account, each only a few times: soon
	// every client new to the account waits...
	refused := 0
	for i := 0; i < 40 && refused == 0; i++ {
		if resp := loginFrom(t, a, nil, fmt.Sprintf("100.64.0.%d", i+1), ownerEmail, "spread guess"); resp.StatusCode == http.StatusTooManyRequests {
			refused = i + 1
		}
	}
	if refused == 0 {
		t.Fatal("40 clients guessed the owner's password once each and none was slowed")
	}
	// ...but the browser the owner signed in with before still gets in.
	if resp := loginFrom(t, a, home, "198.51.100.20", ownerEmail, ownerPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("owner's known browser during a distributed guess: %d", resp.StatusCode)
	}
}

// TestForwardedForOnlyFromTrustedProxies: without a trusted proxy, a client
// cannot escape its delay by naming another address in X-Forwarded-For.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	a := sendboxtest.New(t)
	setupOwner(t, a)
	var last *http.Response
	for i := range 12 {
		last = loginFrom(t, a, nil, fmt.Sprintf("203.0.113.%d", i+1), ownerEmail, fmt.Sprintf("guess %d", i))
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("guesses with a new X-Forwarded-For each time, from an untrusted peer: %d, want 429", last.StatusCode)
	}
}

// TestResetLinkEndsOtherSessions: a new password set through a reset link
// signs the user out everywhere else, as changing it in the panel does: the
// reset is how someone takes an account back from whoever else holds it.
func TestResetLinkEndsOtherSessions(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	agent := userBrowser(t, a, "agent") // the agent's session, say on a lost phone
	if resp, _ := agent.get("/inbox"); resp.StatusCode != http.StatusOK {
		t.Fatalf("agent's session: %d", resp.StatusCode)
	}
	u, err := a.Store.UserByEmail(context.Background(), "agent@example.com")
	if err != nil {
		t.Fatal(err)
	}
	_, body := owner.post("/settings/users/"+itoa(u.ID)+"/reset", nil)
	m := regexp.MustCompile(`/invite\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no reset link on the team page")
	}
	fresh := newBrowser(t, a)
	fresh.get(m[0])
	if resp, body := fresh.post("/invite", url.Values{"token": {m[1]}, "password": {"a brand new passphrase"},
		"password2": {"a brand new passphrase"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set the new password: %d %s", resp.StatusCode, body)
	}
	if resp, _ := fresh.get("/inbox"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the browser that used the link: %d", resp.StatusCode)
	}
	if resp, _ := agent.get("/inbox"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other session after a reset: %d, want a redirect to sign in", resp.StatusCode)
	}
	if resp, _ := owner.get("/inbox"); resp.StatusCode != http.StatusOK {
		t.Fatalf("someone else's session after the reset: %d", resp.StatusCode)
	}
}

// TestLinkFormsCheckTheLinkFirst: the set-password forms of the setup and
// invitation links hashed the password (19 MiB, a hashing slot) before
// looking at the link, so anyone could spend the server's hashing on them.
func TestLinkFormsCheckTheLinkFirst(t *testing.T) {
	a := sendboxtest.New(t)
	b := newBrowser(t, a)
	b.get("/login")
	before, _, _ := accounts.HashStats()
	for _, path := range []string{"/invite", "/setup"} {
		resp, _ := b.post(path, url.Values{"token": {"guessed"}, "email": {"x@example.com"}, "name": {"X"},
			"password": {"a long enough passphrase"}, "password2": {"a long enough passphrase"}})
		if resp.StatusCode != http.StatusGone {
			t.Errorf("%s with a guessed token: %d, want 410", path, resp.StatusCode)
		}
	}
	if after, _, _ := accounts.HashStats(); after != before {
		t.Errorf("%d password hashes for links that do not exist", after-before)
	}
}

// TestLoginNextStaysOnSite: the page to return to after sign-in is a path
// of this site, whatever the link said.
func TestLoginNextStaysOnSite(t *testing.T) {
	a := sendboxtest.New(t)
	setupOwner(t, a)
	for next, want := range map[string]string{"/\t/evil.example": "/inbox", "/./\\evil.example": "/inbox",
		"/settings/team?ok=saved": "/settings/team?ok=saved"} {
		b := newBrowser(t, a)
		if _, body := b.get("/login?next=" + url.QueryEscape(next)); !strings.Contains(body, `name="next" value="`+strings.ReplaceAll(want, "&", "&amp;")+`"`) {
			t.Errorf("the login form for next=%q does not carry %q", next, want)
		}
		resp, _ := b.post("/login", url.Values{"email": {ownerEmail}, "password": {ownerPassword}, "next": {next}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("sign-in with next=%q: %d to %q, want %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}
