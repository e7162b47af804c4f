package outbound

import (
	"testing"
	"time"
)

func TestRateLimiterSpacesSlots(t *testing.T) {
	l := newRateLimiter(100) // 10 ms apart
	t0 := time.Unix(1000, 0)
	var slots []time.Time
	for i := 0; i < 250; i++ {
		slots = append(slots, l.reserve(t0))
	}
	for i := 1; i < len(slots); i++ {
		if d := slots[i].Sub(slots[i-1]); d != 10*time.Millisecond {
			t.Fatalf("slot %d is %s after the previous one", i, d)
		}
	}
	// No one-second window holds more than 100 slots.
	for i := range slots {
		n := 0
		for _, s := range slots[i:] {
			if s.Sub(slots[i]) < time.Second {
				n++
			}
		}
		if n > 100 {
			t.Fatalf("%d slots within a second from slot %d", n, i)
		}
	}
	// An idle limiter does not bank slots for a burst later.
	later := t0.Add(time.Hour)
	if s := l.reserve(later); !s.Equal(later) {
		t.Fatalf("after idling: %s", s.Sub(later))
	}
	if s := l.reserve(later); s.Sub(later) != 10*time.Millisecond {
		t.Fatalf("second after idling: %s", s.Sub(later))
	}
	l.pause(later.Add(5 * time.Second))
	if s := l.reserve(later); s.Before(later.Add(5 * time.Second)) {
		t.Fatalf("pause ignored: %s", s.Sub(later))
	}
}

func TestPacerBurstThenOnePerInterval(t *testing.T) {
	p := newPacer(45, 6*time.Second)
	t0 := time.Unix(1000, 0)
	for i := 0; i < 45; i++ {
		if w := p.peek(7, t0); w != 0 {
			t.Fatalf("message %d of the burst waits %s", i+1, w)
		}
		p.take(7, t0)
	}
	w := p.peek(7, t0)
	if w < 6*time.Second || w > 6*time.Second+pacerSlack {
		t.Fatalf("46th waits %s", w)
	}
	if w := p.peek(8, t0); w != 0 {
		t.Fatalf("another recipient waits %s", w)
	}
	t1 := t0.Add(w)
	if p.peek(7, t1) != 0 {
		t.Fatal("not allowed after waiting")
	}
	p.take(7, t1)
	if w := p.peek(7, t1); w < 6*time.Second {
		t.Fatalf("47th right after the 46th waits only %s", w)
	}
	// Full buckets are forgotten; used ones are kept.
	p.forget(t1)
	if _, ok := p.buckets[8]; ok {
		t.Fatal("full bucket kept")
	}
	if _, ok := p.buckets[7]; !ok {
		t.Fatal("used bucket forgotten")
	}
	p.forget(t1.Add(45 * 6 * time.Second))
	if len(p.buckets) != 0 {
		t.Fatal("refilled bucket kept")
	}
}

func TestWindowOpen(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		last time.Time
		open bool
	}{
		{time.Time{}, false},
		{now.Add(-time.Minute), true},
		{now.Add(-24*time.Hour + time.Second), true},
		{now.Add(-24 * time.Hour), false},
		{now.Add(-48 * time.Hour), false},
	} {
		if got := WindowOpen(c.last, now); got != c.open {
			t.Errorf("last %v: open=%v", now.Sub(c.last), got)
		}
	}
}
