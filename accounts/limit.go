package accounts

import (
	"sync"
	"time"
)

// backoff is how attempts on one key slow the next one: the first free
// pass at once, then each waits twice as long as the one before it, from
// first up to most. A delay rather than a lock: whoever the failures are
// pinned on can always try again, later.
type backoff struct {
	free        int
	first, most time.Duration
}

// delay is the wait after the n-th attempt on a key.
func (b backoff) delay(n int) time.Duration {
	if n <= b.free {
		return 0
	}
	d := b.first
	for i := b.free + 1; i < n && d < b.most; i++ {
		d *= 2
	}
	return min(d, b.most)
}

var (
	// One client trying one address: room for a few typos, then 1 s, 2 s,
	// 4 s… up to 5 minutes, about 300 guesses a day.
	pairBackoff = backoff{free: 4, first: time.Second, most: 5 * time.Minute}
	// One client trying many addresses: spraying a common password.
	clientBackoff = backoff{free: 20, first: time.Second, most: 5 * time.Minute}
	// One address tried from many clients: a distributed guess. It slows
	// every client the address has not signed in from before.
	accountBackoff = backoff{free: 20, first: time.Second, most: 5 * time.Minute}
)

// forgetAfter is how long a key is remembered once its delay has passed:
// long enough that waiting it out does not pay better than the delays.
const forgetAfter = time.Hour

// Attempt is one sign-in as the guard sees it.
type Attempt struct {
	Email  string // as typed, trimmed and lower-cased
	Client string // the client's address
	// Device is set when the client proved, with a cookie from an earlier
	// sign-in as Email, that it is a device of the account's owner; it is
	// then slowed only by its own failures.
	Device string
}

// keys are the counters an attempt is counted on, with their backoffs.
func (a Attempt) keys() []guardKey {
	if a.Device != "" {
		return []guardKey{{"device\x00" + a.Email + "\x00" + a.Device, pairBackoff}}
	}
	return []guardKey{
		{"pair\x00" + a.Email + "\x00" + a.Client, pairBackoff},
		{"client\x00" + a.Client, clientBackoff},
		{"account\x00" + a.Email, accountBackoff},
	}
}

type guardKey struct {
	name string
	b    backoff
}

// LoginGuard slows down password guessing. An attempt is counted when it
// is admitted, before its password is checked, so attempts made at once
// cannot all slip through; a success takes its count back.
type LoginGuard struct {
	mu        sync.Mutex // guards seen and swept
	seen      map[string]*tries
	swept     time.Time
	maxKeys   int // bound on remembered keys, against a flood of addresses
	sweepEach time.Duration
}

type tries struct {
	n    int       // attempts counted
	next time.Time // the earliest next attempt
}

// NewLoginGuard returns an empty guard.
func NewLoginGuard() *LoginGuard {
	return &LoginGuard{seen: map[string]*tries{}, maxKeys: 100000, sweepEach: time.Minute}
}

// Admit counts the attempt and returns 0, or, when any of its keys must
// still wait, counts nothing and returns how long the wait is.
func (g *LoginGuard) Admit(a Attempt, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	keys := a.keys()
	var wait time.Duration
	for _, k := range keys {
		if t := g.seen[k.name]; t != nil && now.Before(t.next) {
			wait = max(wait, t.next.Sub(now))
		}
	}
	if wait > 0 {
		return wait
	}
	for _, k := range keys {
		t := g.seen[k.name]
		if t == nil {
			t = &tries{}
			g.seen[k.name] = t
		}
		t.n++
		t.next = now.Add(k.b.delay(t.n))
	}
	return 0
}

// Succeeded takes back an admitted attempt whose password was right: the
// client's failures on this address are forgotten; the other counts drop by
// one (a success there must not erase an attacker's failures).
func (g *LoginGuard) Succeeded(a Attempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, k := range a.keys() {
		if i == 0 {
			delete(g.seen, k.name)
			continue
		}
		g.undo(k)
	}
}

// Cancel takes back an admitted attempt that was not checked (no hashing
// slot was free, or the store failed).
func (g *LoginGuard) Cancel(a Attempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range a.keys() {
		g.undo(k)
	}
}

// undo drops one count from k; called with mu held. The delay the count
// set stays: it is short, and undoing it could let a burst through.
func (g *LoginGuard) undo(k guardKey) {
	t := g.seen[k.name]
	if t == nil {
		return
	}
	if t.n--; t.n <= 0 {
		delete(g.seen, k.name)
	}
}

// sweep forgets the keys quiet for forgetAfter, at most once per sweepEach,
// and half the keys, at random, when a flood of addresses fills maxKeys
// (so that it is not done again at the next attempt); called with mu held.
func (g *LoginGuard) sweep(now time.Time) {
	if now.Sub(g.swept) >= g.sweepEach {
		g.swept = now
		for k, t := range g.seen {
			if now.Sub(t.next) > forgetAfter {
				delete(g.seen, k)
			}
		}
	}
	if len(g.seen) < g.maxKeys {
		return
	}
	for k := range g.seen {
		if len(g.seen) <= g.maxKeys/2 {
			break
		}
		delete(g.seen, k)
	}
}
