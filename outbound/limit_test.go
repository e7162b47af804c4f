package outbound

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// windowRun plays Meta's throughput check against the limiter: the
// arrival times of every message, sends and customer messages alike.
type windowRun struct {
	limit          int
	jitter         time.Duration // each way takes 0.2 ms plus up to this
	inboundEvery   time.Duration // a customer message reaches Meta this often (0: none)
	webhookLag     time.Duration // and its webhook reaches sendbox this much later
	sends, inbound int
	inSpan         int // messages of either kind that arrived in the whole seconds from the first send
	overruns       int
	first, last    time.Time
}

// run drives the limiter on a virtual clock for d: sends go whenever it
// lets them, take a random time each way, and free their place when
// answered; customer messages count once their webhook arrives. It counts
// the sends that found a second of arrivals already full.
func (w *windowRun) run(t *testing.T, d time.Duration) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Unix(1_000_000, 0)
	l := newThroughput(w.limit, t0)
	type answer struct{ start, at time.Time }
	var answers []answer
	var arrivals []time.Time // of everything, in order
	var sendArrivals []time.Time
	nextInbound := t0
	var webhooks []time.Time
	way := func() time.Duration { return 200*time.Microsecond + time.Duration(rng.Int64N(int64(w.jitter)+1)) }
	for now := t0; now.Before(t0.Add(d)); now = now.Add(50 * time.Microsecond) {
		for w.inboundEvery > 0 && !nextInbound.After(now) {
			arrivals = append(arrivals, nextInbound)
			webhooks = append(webhooks, nextInbound.Add(w.webhookLag))
			nextInbound = nextInbound.Add(w.inboundEvery)
			w.inbound++
		}
		for len(webhooks) > 0 && !webhooks[0].After(now) {
			l.inbound(webhooks[0], 1)
			webhooks = webhooks[1:]
		}
		kept := answers[:0]
		for _, a := range answers {
			if a.at.After(now) {
				kept = append(kept, a)
				continue
			}
			l.done(a.start, a.at)
		}
		answers = kept
		for {
			l.mu.Lock()
			_, ok := l.take(now)
			l.mu.Unlock()
			if !ok {
				break
			}
			arrive := now.Add(way())
			answers = append(answers, answer{now, arrive.Add(way())})
			arrivals = append(arrivals, arrive)
			sendArrivals = append(sendArrivals, arrive)
			w.sends++
		}
	}
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	slices.SortFunc(sendArrivals, func(a, b time.Time) int { return a.Compare(b) })
	for _, a := range sendArrivals {
		// Meta refuses a send if limit messages arrived in the second before it.
		i, _ := slices.BinarySearchFunc(arrivals, a.Add(-time.Second), func(x, y time.Time) int {
			if x.After(y) {
				return 1
			}
			return -1
		})
		j, _ := slices.BinarySearchFunc(arrivals, a, func(x, y time.Time) int { return x.Compare(y) })
		if j-i >= w.limit {
			w.overruns++
		}
	}
	w.first, w.last = sendArrivals[0], sendArrivals[len(sendArrivals)-1]
	end := w.first.Add(w.last.Sub(w.first).Truncate(time.Second))
	for _, a := range arrivals {
		if !a.Before(w.first) && a.Before(end) {
			w.inSpan++
		}
	}
}

// rate is the messages per second that reached Meta, sends and inbound,
// over the whole seconds from the first send on.
func (w *windowRun) rate() float64 {
	return float64(w.inSpan) / w.last.Sub(w.first).Truncate(time.Second).Seconds()
}

// TestThroughputNeverOverrunsMeta: with a network that delays each way by
// anything from 0.2 to 20 ms, evenly spaced departures arrive bunched; the
// limiter still never lets a second of arrivals exceed the limit, and
// still sends at nearly the full rate.
func TestThroughputNeverOverrunsMeta(t *testing.T) {
	for _, limit := range []int{80, 1000} {
		w := &windowRun{limit: limit, jitter: 20 * time.Millisecond}
		w.run(t, 6*time.Second)
		t.Logf("%d/s: %.1f a second reached Meta", limit, w.rate())
		if w.overruns != 0 {
			t.Errorf("%d/s: %d of %d sends arrived in a full second", limit, w.overruns, w.sends)
		}
		if r := w.rate(); r < 0.95*float64(limit) || r > float64(limit) {
			t.Errorf("%d/s: %.1f messages a second reached Meta", limit, r)
		}
	}
}

// TestThroughputCountsInbound: customer messages take places too, those
// whose webhook is late included, and the total stays near the limit.
func TestThroughputCountsInbound(t *testing.T) {
	for _, c := range []struct {
		limit int
		every time.Duration
	}{{80, 125 * time.Millisecond}, {1000, 10 * time.Millisecond}} {
		w := &windowRun{limit: c.limit, jitter: time.Millisecond, inboundEvery: c.every, webhookLag: 2 * time.Millisecond}
		w.run(t, 6*time.Second)
		t.Logf("%d/s: %.1f a second reached Meta, %d sends and %d inbound", c.limit, w.rate(), w.sends, w.inbound)
		if w.overruns != 0 {
			t.Errorf("%d/s: %d of %d sends arrived in a full second", c.limit, w.overruns, w.sends)
		}
		if r := w.rate(); r < 0.97*float64(c.limit) || r > float64(c.limit) {
			t.Errorf("%d/s: %.1f messages a second reached Meta (%d sends, %d inbound)", c.limit, r, w.sends, w.inbound)
		}
	}
}

func TestThroughputHoldsTheFirstSecondAndPauses(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	l := newThroughput(10, t0)
	l.mu.Lock()
	defer l.mu.Unlock()
	// Whatever a previous process sent in its last second is unknown.
	if wait, ok := l.take(t0); ok || wait != time.Second {
		t.Fatalf("at start: %v %v", wait, ok)
	}
	t1 := t0.Add(time.Second)
	if _, ok := l.take(t1); !ok {
		t.Fatal("nothing goes after the first second")
	}
	// Spacing: the next one is due 100 ms later, and may go one interval early.
	if _, ok := l.take(t1); !ok {
		t.Fatal("no catch-up")
	}
	if wait, ok := l.take(t1); ok || wait != 100*time.Millisecond {
		t.Fatalf("third at once: %v %v", wait, ok)
	}
	l.mu.Unlock()
	l.pause(t1.Add(5 * time.Second))
	l.mu.Lock()
	if _, ok := l.take(t1.Add(3 * time.Second)); ok {
		t.Fatal("a send went during a pause")
	}
	if l.penalty != 1 {
		t.Fatalf("a 130429 keeps %d more places free", l.penalty)
	}
}

func TestPoissonQuantile(t *testing.T) {
	for _, c := range []struct {
		mu   float64
		want int
	}{{0, 0}, {0.001, 1}, {0.024, 2}, {0.3, 5}, {5, 17}} {
		if got := poissonQuantile(c.mu, 1e-5); got != c.want {
			t.Errorf("mu %v: %d, want %d", c.mu, got, c.want)
		}
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
