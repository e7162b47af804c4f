package sim

import "time"

// Pair rate limit, from the shared docs §8: one message per 6 s to the same
// user, with bursts of up to 45 borrowed from future quota.
const (
	pairBurst    = 45
	pairInterval = 6 * time.Second
)

// bucket is a token bucket on the simulator's clock (Options.Now), so tests
// can step time instead of sleeping.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills the bucket for the time elapsed since the last call and takes
// one token if there is one. A clock that goes backwards refills nothing.
func (b *bucket) take(now time.Time, capacity, perSecond float64) bool {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(capacity, b.tokens+el.Seconds()*perSecond)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// full reports whether the bucket would be back at capacity by now, so that
// it carries no information and can be forgotten.
func (b *bucket) full(now time.Time, capacity, perSecond float64) bool {
	return b.tokens+now.Sub(b.last).Seconds()*perSecond >= capacity
}

// window is the number's throughput as Meta enforces it: at most limit
// messages, inbound and outbound together, in any one second of arrival
// times. It keeps the arrival times (unix nanoseconds) of the last second,
// oldest first, so memory follows the real rate, not the limit.
type window struct {
	times []int64
	head  int // times[head:] are live
}

// count drops the arrivals a second or more before now and returns how
// many are left. A clock that goes backwards keeps everything: an arrival
// "in the future" still counts.
func (w *window) count(now time.Time) int {
	cut := now.Add(-time.Second).UnixNano()
	for w.head < len(w.times) && w.times[w.head] <= cut {
		w.head++
	}
	if w.head > 1024 && w.head > len(w.times)/2 {
		w.times = append(w.times[:0], w.times[w.head:]...)
		w.head = 0
	}
	return len(w.times) - w.head
}

func (w *window) add(now time.Time) { w.times = append(w.times, now.UnixNano()) }

// takeNumber applies the per-number throughput (Options.MPS) to a send
// arriving now: it is refused when MPS messages already arrived in the
// second up to now; otherwise it counts from now on, whatever becomes of it.
// The arrival time is read under the lock, so that arrivals are counted in
// the order of their times: a request stamped earlier but checked later
// (its goroutine was descheduled in between) would see a later one in its
// window and be refused for a message that arrived after it.
func (s *Simulator) takeNumber() (now time.Time, ok bool) {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	now = s.now()
	if s.number.count(now) >= s.opts.MPS {
		return now, false
	}
	s.number.add(now)
	return now, true
}

// countInbound counts a customer's message against the number's
// throughput, as Meta does: it is never refused, but leaves less room for
// sends in the second that follows.
func (s *Simulator) countInbound() {
	s.rateMu.Lock()
	now := s.now()
	s.number.count(now)
	s.number.add(now)
	s.rateMu.Unlock()
}

// takePair applies the pair rate limit to one recipient. Buckets that have
// refilled completely are pruned now and then so that sending to millions of
// distinct numbers keeps memory flat.
func (s *Simulator) takePair(now time.Time, to string) bool {
	if s.opts.NoPairRate {
		return true
	}
	const perSecond = 1 / 6.0
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	b := s.pairs[to]
	if b == nil {
		b = &bucket{tokens: pairBurst, last: now}
		s.pairs[to] = b
	}
	ok := b.take(now, pairBurst, perSecond)
	if len(s.pairs) > 4096 && now.After(s.pruneAt) {
		for k, v := range s.pairs {
			if v.full(now, pairBurst, perSecond) {
				delete(s.pairs, k)
			}
		}
		// A full bucket needs at most 45 × 6 s to refill: pruning more often
		// than that would mostly rescan live buckets.
		s.pruneAt = now.Add(pairInterval)
	}
	return ok
}
