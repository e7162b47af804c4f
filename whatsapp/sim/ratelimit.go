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

// takeNumber applies the per-number throughput (Options.MPS).
func (s *Simulator) takeNumber(now time.Time) bool {
	mps := float64(s.opts.MPS)
	s.rateMu.Lock()
	ok := s.number.take(now, mps, mps)
	s.rateMu.Unlock()
	return ok
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
