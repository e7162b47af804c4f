package outbound

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
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

	// Lanes. The sends always ready are of lane (laneTransactional by
	// default); a person's reply is also ready this often (0: none).
	lane        int
	bulkShare   float64 // 0: 1
	personEvery time.Duration
	replies     int
	replyWaits  []time.Duration // from ready to let go, of the replies ready after the first second
	laneSends   int             // sends of lane
	laneMax     int             // the most sends of lane that arrived in any one second
	overruns    int
	first, last time.Time
}

// run drives the limiter on a virtual clock for d: sends go whenever it
// lets them, take a random time each way, and free their place when
// answered; customer messages count once their webhook arrives. It counts
// the sends that found a second of arrivals already full.
func (w *windowRun) run(t *testing.T, d time.Duration) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Unix(1_000_000, 0)
	share := w.bulkShare
	if share == 0 {
		share = 1
	}
	l := newThroughput(w.limit, share, t0)
	var replies []time.Time // ready, not let go yet
	var laneArrivals []time.Time
	nextReply := t0
	type answer struct {
		start, at time.Time
		lane      int
	}
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
			l.done(a.start, a.at, a.lane)
		}
		answers = kept
		for w.personEvery > 0 && !nextReply.After(now) {
			replies = append(replies, nextReply)
			nextReply = nextReply.Add(w.personEvery)
		}
		send := func(lane int) bool {
			l.mu.Lock()
			_, ok := l.take(now, lane)
			l.mu.Unlock()
			if !ok {
				return false
			}
			arrive := now.Add(way())
			answers = append(answers, answer{now, arrive.Add(way()), lane})
			arrivals = append(arrivals, arrive)
			sendArrivals = append(sendArrivals, arrive)
			w.sends++
			return true
		}
		for len(replies) > 0 && send(lanePerson) {
			if replies[0].After(t0.Add(time.Second)) { // the first second is held whatever the lane
				w.replyWaits = append(w.replyWaits, now.Sub(replies[0]))
			}
			w.replies++
			replies = replies[1:]
		}
		for len(replies) == 0 && send(w.lane) {
			w.laneSends++
			laneArrivals = append(laneArrivals, arrivals[len(arrivals)-1])
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
	slices.SortFunc(laneArrivals, func(a, b time.Time) int { return a.Compare(b) })
	for i, j := 0, 0; j < len(laneArrivals); j++ {
		for laneArrivals[j].Sub(laneArrivals[i]) >= time.Second {
			i++
		}
		w.laneMax = max(w.laneMax, j-i+1)
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

// TestThroughputBulkShareLeavesRoomForReplies: a campaign sending flat out
// takes no more than its share of the number, never overruns it with the
// replies and the customers' messages, and a person's reply finds a place
// at once, not behind the campaign.
func TestThroughputBulkShareLeavesRoomForReplies(t *testing.T) {
	for _, limit := range []int{80, 1000} {
		w := &windowRun{limit: limit, jitter: 5 * time.Millisecond, lane: laneBulk, bulkShare: 0.7,
			personEvery: 100 * time.Millisecond, inboundEvery: time.Second / time.Duration(limit/20), webhookLag: 2 * time.Millisecond}
		w.run(t, 6*time.Second)
		span := w.last.Sub(w.first).Seconds()
		bulk := float64(w.laneSends) / span
		slices.Sort(w.replyWaits)
		worst := w.replyWaits[len(w.replyWaits)-1]
		t.Logf("%d/s: bulk %.1f/s, %d replies (longest wait %s), %d inbound, %.1f a second reached Meta",
			limit, bulk, w.replies, worst, w.inbound, w.rate())
		if w.overruns != 0 {
			t.Errorf("%d/s: %d of %d sends arrived in a full second", limit, w.overruns, w.sends)
		}
		if most := int(0.7 * float64(limit)); w.laneMax > most {
			t.Errorf("%d/s: %d bulk sends arrived in one second, over 70 %% (%d)", limit, w.laneMax, most)
		}
		if share := bulk / float64(limit); share < 0.6 {
			t.Errorf("%d/s: bulk took only %.2f of the number", limit, share)
		}
		if w.replies < 55 {
			t.Errorf("%d/s: only %d replies in 6 s", limit, w.replies)
		}
		if worst > 50*time.Millisecond {
			t.Errorf("%d/s: a reply waited %s for a place behind the campaign", limit, worst)
		}
	}
	// Without a share, bulk takes it all and a reply waits behind it.
	w := &windowRun{limit: 80, jitter: 5 * time.Millisecond, lane: laneBulk, bulkShare: 1, personEvery: 100 * time.Millisecond}
	w.run(t, 6*time.Second)
	if share := float64(w.laneSends) / w.last.Sub(w.first).Seconds() / 80; share < 0.8 {
		t.Errorf("a full share gives bulk %.2f of the number", share)
	}
}

// TestThroughputServesLanesInOrder: waiting sends are let go person first,
// then transactional, then bulk, in arrival order within a lane.
func TestThroughputServesLanesInOrder(t *testing.T) {
	l := newThroughput(1000, 1, time.Now().Add(-2*time.Second))
	l.mu.Lock()
	l.frees, l.head = nil, 0
	l.inFlight = l.limit // full: every acquire waits
	l.mu.Unlock()
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, lane := range []int{laneBulk, laneTransactional, laneBulk, lanePerson, laneTransactional, lanePerson} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.acquire(context.Background(), lane); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}()
		// Each one queued before the next arrives.
		for deadline := time.Now().Add(5 * time.Second); ; {
			l.mu.Lock()
			n := len(l.waiters)
			l.mu.Unlock()
			if n == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiter %d never queued", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for range 6 {
		l.mu.Lock()
		l.next = time.Time{}
		l.mu.Unlock()
		l.cancel(laneTransactional) // frees one place (counted as a transactional send given back)
		// Wait until the head of the line has taken it: one place at a time.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			l.mu.Lock()
			full := l.inFlight >= l.limit
			l.mu.Unlock()
			if full {
				break
			}
		}
	}
	wg.Wait()
	if want := []int{3, 5, 1, 4, 0, 2}; !slices.Equal(order, want) {
		t.Fatalf("let go in order %v, want %v", order, want)
	}
}

func TestThroughputHoldsTheFirstSecondAndPauses(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	l := newThroughput(10, 1, t0)
	l.mu.Lock()
	defer l.mu.Unlock()
	// Whatever a previous process sent in its last second is unknown.
	if wait, ok := l.take(t0, laneTransactional); ok || wait != time.Second {
		t.Fatalf("at start: %v %v", wait, ok)
	}
	t1 := t0.Add(time.Second)
	if _, ok := l.take(t1, laneTransactional); !ok {
		t.Fatal("nothing goes after the first second")
	}
	// Spacing: the next one is due 100 ms later, and may go one interval early.
	if _, ok := l.take(t1, laneTransactional); !ok {
		t.Fatal("no catch-up")
	}
	if wait, ok := l.take(t1, laneTransactional); ok || wait != 100*time.Millisecond {
		t.Fatalf("third at once: %v %v", wait, ok)
	}
	l.mu.Unlock()
	l.pause(t1.Add(5 * time.Second))
	l.mu.Lock()
	if _, ok := l.take(t1.Add(3*time.Second), laneTransactional); ok {
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
