package accounts

import (
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

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Minute)
	t0 := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if b, _ := l.Blocked("ip", t0); b {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail("ip", t0.Add(time.Duration(i)*time.Second))
	}
	b, until := l.Blocked("ip", t0.Add(10*time.Second))
	if !b || !until.Equal(t0.Add(time.Minute)) {
		t.Fatalf("not blocked after 3 failures: %v %v", b, until)
	}
	if b, _ := l.Blocked("other", t0); b {
		t.Fatal("another key is blocked")
	}
	if b, _ := l.Blocked("ip", t0.Add(61*time.Second)); b {
		t.Fatal("still blocked after the window")
	}
	l.Fail("ip", t0)
	l.Reset("ip")
	if b, _ := l.Blocked("ip", t0); b {
		t.Fatal("blocked after reset")
	}
}
