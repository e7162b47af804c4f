package outbound

import (
	"context"
	"math"
	"sync"
	"time"
)

// throughput keeps one number within Meta's throughput: at most limit
// messages, inbound and outbound together, may arrive at Meta in any one
// second (SENDBOX_WA_MPS; the simulator enforces exactly this, on a sliding
// window of arrival times).
//
// Spacing departures evenly is not enough: a request spends a varying time
// in the sender, on the network and in Meta's queues, so evenly spaced
// departures arrive bunched, and workers woken together leave together.
// What is certain is that a send arrives after it was let go and before its
// answer came back. So a send holds a place from the moment it is let go
// until one second after its answer, and a send is let go only while fewer
// than limit places are held. Then no second of arrivals holds more than
// limit messages, whatever the network did: of any second's arrivals, the
// one let go last found every other still holding its place, since each of
// them arrived within the second and so was answered after it began.
//
// The price is the round trip: a place is held for a second plus the time
// the call took, so the number sends at limit/(1 s + round trip), all but a
// few per cent locally, about 80 % against Meta 250 ms away. Freeing places
// earlier by a share of the shortest round trip seen (the answer took at
// least that long to come back) would win most of that back, but only
// where the round trip is mostly fixed distance: on a busy machine it is
// mostly queueing, the shortest seen can be far above what the next call
// takes, and the simulator answered 130429 to it.
//
// Customer messages count too, from when their webhook arrives (they reached
// Meta earlier). Those whose webhook is still on its way cannot be counted:
// a reserve keeps places free for them, sized from the recent inbound rate
// so that a message overrun is a one-in-100,000 event, and raised after each
// 130429 (then lowered again over minutes).
//
// Sends are also spaced 1/limit apart, with a little catch-up, so that
// places freed together do not let a burst go at once. Waiting senders are
// served one at a time, by lane (a person's reply first, then transactional
// messages, then bulk) and in order within a lane: a freed place wakes one
// of them, not all.
//
// Bulk sends may hold at most bulkLimit of the places (a share of limit,
// SENDBOX_BULK_SHARE), counted the same way, so that a campaign running
// flat out still leaves the rest of the number's throughput to replies,
// which then find a place at once.
type throughput struct {
	mu       sync.Mutex // guards everything below
	limit    int
	interval time.Duration
	next     time.Time // spacing: when the next send is due (it may go one interval early)
	inFlight int       // sends let go and not answered yet
	frees    []int64   // when each other held place frees (ns since base), ascending
	head     int       // frees[head:] are live
	waiters  []waiter  // by lane, then in arrival order

	bulkLimit    int
	bulkInFlight int     // bulk sends let go and not answered yet
	bulkFrees    []int64 // when each place held by a bulk send frees, ascending
	bulkHead     int

	base   time.Time     // times are kept as nanoseconds since base, on the monotonic clock
	rttAvg time.Duration // from letting a send go to its answer, on average

	// Inbound messages per second of the last inboundSpan seconds.
	inCount [inboundSpan]int
	inSec   [inboundSpan]int64

	penalty  int       // places added to the reserve by 130429 answers
	lastOver time.Time // the last 130429, or the last decay step
}

const (
	inboundSpan  = 10                   // seconds over which the inbound rate is measured
	webhookLag   = 2 * time.Millisecond // assumed time for an inbound webhook to reach sendbox, on top of a round trip
	overrunOdds  = 1e-5                 // accepted chance that unseen inbound messages overrun the reserve at one send
	penaltyDecay = 30 * time.Second     // one place of the 130429 penalty is given back after this long without one
)

// waiter is a send waiting for a place.
type waiter struct {
	ch   chan struct{}
	lane int // laneIndex: lower goes first
}

// newThroughput keeps limit messages a second, of which bulk sends may
// take a share (0 < bulkShare <= 1).
func newThroughput(limit int, bulkShare float64, now time.Time) *throughput {
	limit = max(1, limit)
	l := &throughput{limit: limit, interval: time.Second / time.Duration(limit), base: now, rttAvg: time.Millisecond,
		bulkLimit: max(1, int(float64(limit)*bulkShare))}
	// What the previous process sent in its last second is unknown: hold
	// every place for a second.
	full := int64(time.Second)
	for range limit {
		l.frees = append(l.frees, full)
	}
	return l
}

// acquire waits for a place for a send of lane (a laneIndex), takes it and
// returns when. The caller must call done (the call was made) or cancel (it
// was not) exactly once, with the same lane, after a nil error.
func (l *throughput) acquire(ctx context.Context, lane int) (time.Time, error) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	// Behind the waiters of its lane and of those before it, ahead of the rest.
	at := len(l.waiters)
	for at > 0 && l.waiters[at-1].lane > lane {
		at--
	}
	l.waiters = append(l.waiters, waiter{})
	copy(l.waiters[at+1:], l.waiters[at:])
	l.waiters[at] = waiter{ch: ch, lane: lane}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var wake <-chan time.Time
		if l.waiters[0].ch == ch {
			now := time.Now()
			wait, ok := l.take(now, lane)
			if ok {
				l.waiters = l.waiters[1:]
				l.wakeHead()
				l.mu.Unlock()
				return now, nil
			}
			if wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				wake = timer.C
			}
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-wake:
		case <-ctx.Done():
			l.mu.Lock()
			for i, w := range l.waiters {
				if w.ch == ch {
					l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
					break
				}
			}
			l.wakeHead()
			l.mu.Unlock()
			return time.Time{}, ctx.Err()
		}
		l.mu.Lock()
	}
}

// wakeHead tells the first waiter to look again. Called with mu held.
func (l *throughput) wakeHead() {
	if len(l.waiters) > 0 {
		select {
		case l.waiters[0].ch <- struct{}{}:
		default:
		}
	}
}

// take lets a send of lane go at now if a place is free and the spacing
// allows; otherwise it returns how long to wait (0: until a send is
// answered). Called with mu held.
func (l *throughput) take(now time.Time, lane int) (time.Duration, bool) {
	ns := int64(now.Sub(l.base))
	l.frees, l.head = expire(l.frees, l.head, ns)
	if lane == laneBulk {
		l.bulkFrees, l.bulkHead = expire(l.bulkFrees, l.bulkHead, ns)
		if held := l.bulkInFlight + len(l.bulkFrees) - l.bulkHead; held >= l.bulkLimit {
			if k := l.bulkHead + held - l.bulkLimit; k < len(l.bulkFrees) {
				return time.Duration(l.bulkFrees[k] - ns), false
			}
			return 0, false // bulk sends in flight fill its share: wait for an answer
		}
	}
	held := l.inFlight + len(l.frees) - l.head + l.reserve(now)
	if held >= l.limit {
		if k := l.head + held - l.limit; k < len(l.frees) {
			return time.Duration(l.frees[k] - ns), false
		}
		if l.inFlight > 0 {
			return 0, false // the sends in flight fill the window: wait for an answer
		}
		return 100 * time.Millisecond, false // the reserve fills it: look again as it shrinks
	}
	// One interval of catch-up, so that a waiter woken a little late does
	// not cost the number a slot.
	if early := l.next.Add(-l.interval); now.Before(early) {
		return early.Sub(now), false
	}
	l.next = maxTime(l.next, now).Add(l.interval)
	l.inFlight++
	if lane == laneBulk {
		l.bulkInFlight++
	}
	return 0, true
}

// expire drops the places of frees[head:] that are free at ns, and
// compacts the slice now and then.
func expire(frees []int64, head int, ns int64) ([]int64, int) {
	for head < len(frees) && frees[head] <= ns {
		head++
	}
	if head > 1024 && head > len(frees)/2 {
		frees = append(frees[:0], frees[head:]...)
		head = 0
	}
	return frees, head
}

// done frees the place of a send of lane let go at granted and answered at
// end, one second after the answer.
func (l *throughput) done(granted, end time.Time, lane int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	// The reserve covers inbound messages that may arrive from the grant
	// to the send's arrival, the claim included.
	l.rttAvg += (max(0, end.Sub(granted)) - l.rttAvg) / 64
	at := int64(end.Add(time.Second).Sub(l.base))
	l.frees = insertSorted(l.frees, l.head, at)
	if lane == laneBulk {
		l.bulkInFlight--
		l.bulkFrees = insertSorted(l.bulkFrees, l.bulkHead, at)
	}
	l.wakeHead()
}

// cancel gives back a place taken for a send of lane that was not made.
func (l *throughput) cancel(lane int) {
	l.mu.Lock()
	l.inFlight--
	if lane == laneBulk {
		l.bulkInFlight--
	}
	l.wakeHead()
	l.mu.Unlock()
}

// inbound counts n customer messages whose webhook arrived at now.
func (l *throughput) inbound(now time.Time, n int) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sec := now.Unix()
	i := sec % inboundSpan
	if l.inSec[i] != sec {
		l.inSec[i], l.inCount[i] = sec, 0
	}
	l.inCount[i] += n
	l.hold(int64(now.Add(time.Second).Sub(l.base)), n)
	l.wakeHead()
}

// pause lets nothing go before until: Meta said the number is over its
// throughput (130429), and more sends now would only be refused too.
func (l *throughput) pause(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next = maxTime(l.next, until)
	l.penalty = min(l.penalty+1, l.limit/10+1)
	l.lastOver = time.Now()
	l.wakeHead()
}

// hold adds n places held until at (ns since base), keeping frees in
// order. Called with mu held.
func (l *throughput) hold(at int64, n int) {
	for range n {
		l.frees = insertSorted(l.frees, l.head, at)
	}
}

// insertSorted adds at to frees, whose live part frees[head:] is ascending.
func insertSorted(frees []int64, head int, at int64) []int64 {
	frees = append(frees, at)
	for i := len(frees) - 1; i > head && frees[i-1] > frees[i]; i-- {
		frees[i-1], frees[i] = frees[i], frees[i-1]
	}
	return frees
}

// reserve is the number of places kept free for customer messages that
// reached Meta but whose webhook has not reached sendbox: with λ messages a
// second arriving in the time a webhook and a send take, the smallest
// count a Poisson law exceeds less than overrunOdds of the time; plus the
// penalty of recent 130429 answers. Called with mu held.
func (l *throughput) reserve(now time.Time) int {
	if l.penalty > 0 && now.Sub(l.lastOver) > penaltyDecay {
		l.penalty--
		l.lastOver = now
	}
	n, sec := 0, now.Unix()
	for i := range inboundSpan {
		if sec-l.inSec[i] < inboundSpan {
			n += l.inCount[i]
		}
	}
	if n == 0 {
		return l.penalty
	}
	mu := float64(n) / inboundSpan * (l.rttAvg + webhookLag).Seconds()
	return poissonQuantile(mu, overrunOdds) + l.penalty
}

// poissonQuantile is the smallest r with P(N > r) < odds for N ~ Poisson(mu).
func poissonQuantile(mu, odds float64) int {
	p := math.Exp(-mu)
	cdf, r := p, 0
	for 1-cdf >= odds && r < 1000 {
		r++
		p *= mu / float64(r)
		cdf += p
	}
	return r
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// pacer is Meta's pair rate limit per recipient: a token bucket of burst
// tokens refilled one every interval (1 per 6 s, bursts up to 45).
//
// Meta's bucket runs on arrival times and ours on departure times, so once
// the burst is spent a message waits pacerSlack more than the bucket says:
// otherwise a first message slowed by a new connection would make the 46th
// arrive a hair early and get 131056.
type pacer struct {
	mu       sync.Mutex // guards buckets
	burst    float64
	interval time.Duration
	buckets  map[int64]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newPacer(burst int, interval time.Duration) *pacer {
	return &pacer{burst: float64(burst), interval: interval, buckets: map[int64]*bucket{}}
}

// peek returns how long a send to key would have to wait, without taking a token.
func (p *pacer) peek(key int64, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.refill(key, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1-b.tokens)*float64(p.interval)) + pacerSlack
}

// pacerSlack absorbs the difference in network latency between messages.
const pacerSlack = 500 * time.Millisecond

// take consumes a token for key (it must have been available per peek).
func (p *pacer) take(key int64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refill(key, now).tokens--
}

// refill is called with mu held.
func (p *pacer) refill(key int64, now time.Time) *bucket {
	b := p.buckets[key]
	if b == nil {
		b = &bucket{tokens: p.burst, at: now}
		p.buckets[key] = b
		return b
	}
	if now.After(b.at) {
		b.tokens += float64(now.Sub(b.at)) / float64(p.interval)
		if b.tokens > p.burst {
			b.tokens = p.burst
		}
		b.at = now
	}
	return b
}

// forget drops the buckets that are full again, to bound memory.
func (p *pacer) forget(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, b := range p.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(p.interval) >= p.burst {
			delete(p.buckets, k)
		}
	}
}
