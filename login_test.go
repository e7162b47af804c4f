package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/store"
)

// procMemory reads a field of /proc/<pid>/status (VmRSS, VmHWM) in bytes.
func procMemory(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, v)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestConcurrentLoginsMemory: 100 sign-ins at once, each from its own
// client and for its own address (so no limit on a key stops any), once
// took the binary's resident memory from 49 to 1,784 MiB: argon2id holds
// 19 MiB per hash and all 100 ran at once. The hashes running at once are
// now bounded, so the peak stays within a small multiple of that.
func TestConcurrentLoginsMemory(t *testing.T) {
	dataDir := t.TempDir()
	st, err := store.Open(context.Background(), dataDir+"/sendbox.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(context.Background(), "owner@example.com", "Owner", "owner",
		accounts.HashPassword("a long enough passphrase")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	p := start(t, dataDir, "SENDBOX_TRUSTED_PROXIES=127.0.0.1")
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); <-p.done }()
	pid := p.cmd.Process.Pid

	const csrf = "0123456789abcdef0123456789abcdef-login"
	login := func(client *http.Client, ip, email, pw string) int {
		form := url.Values{"csrf": {csrf}, "email": {email}, "password": {pw}}
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", ip)
		req.AddCookie(&http.Cookie{Name: "sendbox_csrf", Value: csrf})
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// One sign-in first, so the baseline includes what any sign-in loads.
	if code := login(client, "192.0.2.1", "owner@example.com", "a long enough passphrase"); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	before := procMemory(t, pid, "VmRSS")
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	begin := make(chan struct{})
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			code := login(client, fmt.Sprintf("198.51.100.%d", i+1), fmt.Sprintf("user%d@example.com", i), "a wrong password")
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(begin)
	wg.Wait()
	peak := procMemory(t, pid, "VmHWM")
	t.Logf("100 sign-ins at once: answers %v; resident memory %d MiB before, peak %d MiB (+%d MiB)",
		codes, before>>20, peak>>20, (peak-before)>>20)
	if codes[401]+codes[429] != 100 {
		t.Errorf("answers %v: want every one 401 or 429", codes)
	}
	// 1,784 MiB before the bound; with it, a handful of 19 MiB hashes and
	// the garbage they leave until the collector runs.
	if growth := peak - before; growth > 400<<20 {
		t.Errorf("100 sign-ins at once grew resident memory by %d MiB", growth>>20)
	}
	// Once they are answered, sign-in works at once.
	if code := login(client, "192.0.2.1", "owner@example.com", "a long enough passphrase"); code != http.StatusSeeOther {
		t.Fatalf("sign-in after the burst: %d", code)
	}
}

// TestResetPasswordCommand: an owner locked out of the panel gets back in
// from the server's shell, whether sendbox runs or not.
func TestResetPasswordCommand(t *testing.T) {
	dataDir := t.TempDir()
	st, err := store.Open(context.Background(), dataDir+"/sendbox.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(context.Background(), "owner@example.com", "Owner", "owner",
		accounts.HashPassword("a forgotten passphrase")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	env := []string{"SENDBOX_DATA=" + dataDir, "SENDBOX_HTTP=0.0.0.0:18159"}
	if _, errOut, code := runCLI(t, env, "user", "reset-password", "--email", "nobody@example.com"); code != 1 || !strings.Contains(errOut, "no user has the address") {
		t.Fatalf("unknown address: %d %q", code, errOut)
	}
	if out, _, _ := runCLI(t, nil, "help"); !strings.Contains(out, "user reset-password --email E") {
		t.Fatalf("usage does not list the command:\n%s", out)
	}

	// With sendbox stopped: the link is written to the database.
	link, errOut, code := runCLI(t, env, "user", "reset-password", "--email", "Owner@Example.com")
	link = strings.TrimSpace(link)
	if code != 0 || !strings.HasPrefix(link, "http://127.0.0.1:18159/invite?token=") || !strings.Contains(errOut, "works once") {
		t.Fatalf("reset-password: %d %q %q", code, link, errOut)
	}
	p := start(t, dataDir)
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); <-p.done }()
	use := func(link, pw string) int {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		const csrf = "0123456789abcdef0123456789abcdef-reset"
		form := url.Values{"csrf": {csrf}, "token": {u.Query().Get("token")}, "password": {pw}, "password2": {pw}}
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/invite", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "sendbox_csrf", Value: csrf})
		resp, err := (&http.Transport{}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := use(link, "my new passphrase"); code != http.StatusSeeOther {
		t.Fatalf("the link: %d", code)
	}
	if code := use(link, "another passphrase"); code != http.StatusGone {
		t.Fatalf("the link used twice: %d", code)
	}

	// With sendbox running, and a public URL given.
	link, _, code = runCLI(t, env, "user", "reset-password", "--email", "owner@example.com", "--url", "https://inbox.example.com/")
	link = strings.TrimSpace(link)
	if code != 0 || !strings.HasPrefix(link, "https://inbox.example.com/invite?token=") {
		t.Fatalf("reset-password with --url: %d %q", code, link)
	}
	if code := use(link, "the third passphrase"); code != http.StatusSeeOther {
		t.Fatalf("the link made while sendbox runs: %d", code)
	}
}
