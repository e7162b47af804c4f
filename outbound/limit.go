package outbound

import (
	"sync"
	"time"
)

// rateLimiter spaces sends evenly at rate per second (a GCRA without burst):
// each reservation gets the next free slot, at least 1/rate after the
// previous one, so no window of one second ever holds more than rate sends
// from the slots themselves. Pause pushes every later slot back, for when
// Meta says the number is over its throughput (130429).
type rateLimiter struct {
	mu       sync.Mutex // guards next
	interval time.Duration
	next     time.Time
}

func newRateLimiter(rate int) *rateLimiter {
	return &rateLimiter{interval: time.Second / time.Duration(max(1, rate))}
}

// reserve returns the time of the caller's slot.
func (l *rateLimiter) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	return slot
}

// pause moves the next free slot to at least until.
func (l *rateLimiter) pause(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next.Before(until) {
		l.next = until
	}
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
