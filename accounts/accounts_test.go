package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	h := HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format: %s", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Fatal("right password refused")
	}
	for _, bad := range []string{"correct horse batter", "", "Correct horse battery"} {
		if CheckPassword(h, bad) {
			t.Fatalf("%q accepted", bad)
		}
	}
	if h2 := HashPassword("correct horse battery"); h2 == h {
		t.Fatal("no salt: two hashes of one password are equal")
	}
	for _, garbage := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$aa$bb", "$argon2id$v=19$m=99999999,t=1,p=1$YQ$YQ"} {
		if CheckPassword(garbage, "x") {
			t.Fatalf("garbage hash %q accepted", garbage)
		}
	}
}

func TestRules(t *testing.T) {
	if CheckNewPassword("short") == nil || CheckNewPassword("ten chars!") != nil || CheckNewPassword(strings.Repeat("x", 201)) == nil {
		t.Fatal("password length rules")
	}
	if e, err := NormalizeEmail(" Maria@Clinica.IT "); err != nil || e != "maria@clinica.it" {
		t.Fatalf("%q %v", e, err)
	}
	for _, bad := range []string{"maria", "Maria <maria@x.it>", "@x.it", ""} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !Can(Owner, Admin) || !Can(Admin, Agent) || Can(Agent, Admin) || Can(Viewer, Agent) || Can("", Viewer) {
		t.Fatal("role order")
	}
}

// TestLoginGuard: failures slow down the client that makes them, with
// growing delays rather than a lock; a distributed guess slows every client
// but a known device; a success forgets the client's failures.
func TestLoginGuard(t *testing.T) {
	g := NewLoginGuard()
	t0 := time.Unix(1000, 0)
	owner := Attempt{Email: "owner@example.com", Client: "203.0.113.7"}
	now := t0
	for g.Admit(owner, now) == 0 {
	}
	// The owner from another client is not slowed by the attacker's failures.
	home := Attempt{Email: "owner@example.com", Client: "198.51.100.20"}
	if w := g.Admit(home, now); w != 0 {
		t.Fatalf("another client waits %s", w)
	}
	g.Succeeded(home)

	owner = Attempt{Email: "admin@example.com", Client: "203.0.113.7"}
	var waits []time.Duration
	for len(waits) < 8 {
		if w := g.Admit(owner, now); w > 0 {
			waits = append(waits, w)
			now = now.Add(w)
			continue
		}
		now = now.Add(10 * time.Millisecond) // the password check
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128}
	for i, w := range waits {
		// Each wait is counted from the attempt, which the check then used up.
		if w.Round(time.Second) != want[i]*time.Second {
			t.Fatalf("waits %v, want %v seconds", waits, want)
		}
	}
	for range 20 {
		g.Admit(owner, now)
		now = now.Add(time.Hour)
	}
	if w := g.Admit(owner, now); w != 0 {
		t.Fatalf("an attempt after the longest delay: wait %s", w)
	}
	if w := g.Admit(owner, now); w != pairBackoff.most {
		t.Fatalf("the delay is capped at %s, got %s", pairBackoff.most, w)
	}

	// Attempts are counted when admitted: of many at once, only the free ones pass.
	burst := Attempt{Email: "agent@example.com", Client: "192.0.2.1"}
	passed := 0
	for range 100 {
		if g.Admit(burst, now) == 0 {
			passed++
		}
	}
	if passed != pairBackoff.free+1 {
		t.Fatalf("%d of 100 simultaneous attempts admitted, want %d", passed, pairBackoff.free+1)
	}

	// One address from many clients: past its free attempts, new clients wait...
	acct := "front@example.com"
	later := now.Add(time.Minute)
	for i := range accountBackoff.free + 1 {
		if w := g.Admit(Attempt{Email: acct, Client: fmt.Sprintf("100.64.0.%d", i)}, later); w != 0 {
			t.Fatalf("distributed attempt %d waits %s", i, w)
		}
	}
	if w := g.Admit(Attempt{Email: acct, Client: "100.64.9.9"}, later); w == 0 {
		t.Fatal("a new client is not slowed after a distributed guess")
	}
	// ...but not a device that signed in as that address before.
	if w := g.Admit(Attempt{Email: acct, Client: "100.64.9.9", Device: "d1"}, later); w != 0 {
		t.Fatalf("a known device waits %s", w)
	}

	// A success forgets the client's failures on that address.
	typo := Attempt{Email: "viewer@example.com", Client: "192.0.2.2"}
	for range pairBackoff.free {
		g.Admit(typo, later)
	}
	g.Succeeded(typo)
	for range pairBackoff.free {
		if w := g.Admit(typo, later); w != 0 {
			t.Fatalf("after a success, a typo waits %s", w)
		}
	}
	// Quiet keys are forgotten.
	if w := g.Admit(owner, later.Add(2*time.Hour)); w != 0 {
		t.Fatalf("after two quiet hours: wait %s", w)
	}
}

// TestLoginGuardBounded: a flood of addresses does not grow the guard
// without bound.
func TestLoginGuardBounded(t *testing.T) {
	g := NewLoginGuard()
	g.maxKeys = 300
	now := time.Unix(1000, 0)
	for i := range 10000 {
		g.Admit(Attempt{Email: fmt.Sprintf("u%d@example.com", i), Client: fmt.Sprintf("client %d", i)}, now)
		if len(g.seen) > g.maxKeys+3 {
			t.Fatalf("%d keys remembered after %d attempts; the bound is %d", len(g.seen), i+1, g.maxKeys)
		}
	}
}

// TestHashGate: no more hashes run at once than there are slots, and a
// sign-in that finds the slots and their queue full is told so at once.
func TestHashGate(t *testing.T) {
	n := HashSlots()
	for range n {
		if err := enterHash(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := enterHash(context.Background(), 50*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("with every slot taken: %v, want ErrBusy", err)
	}
	hashGate.waiting.Add(int64(loginQueue * n))
	start := time.Now()
	if err := enterHash(context.Background(), time.Minute); !errors.Is(err, ErrBusy) || time.Since(start) > 30*time.Second {
		t.Fatalf("with the queue full: %v after %s, want ErrBusy at once", err, time.Since(start))
	}
	hashGate.waiting.Add(-int64(loginQueue * n))
	done := make(chan error)
	go func() { done <- enterHash(context.Background(), time.Minute) }()
	leaveHash()
	if err := <-done; err != nil {
		t.Fatalf("a waiting sign-in when a slot frees: %v", err)
	}
	for range n {
		leaveHash()
	}
}
