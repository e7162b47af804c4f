package sim

import (
	"maps"
	"sync"
	"time"
)

// Stats is a snapshot of what the simulator has seen since New.
type Stats struct {
	Accepted int64         // sends answered 200
	Rejected map[int]int64 // sends refused, by Meta error code
	// WebhooksPosted counts status webhook POSTs sendbox answered 200 (one
	// POST may carry many statuses), StatusesPosted the statuses in them.
	WebhooksPosted, StatusesPosted int64
	// WebhooksFailed counts failed POST attempts (non-200, timeout, refused),
	// retried or not; StatusesDropped the statuses given up on.
	WebhooksFailed, StatusesDropped int64
	// InboundPosted and InboundFailed count SendInbound webhooks.
	InboundPosted, InboundFailed int64
	// Recent are the last send requests, oldest first (at most 10 000), for
	// checking a sender's pacing.
	Recent []SendRecord
}

// SendRecord is one send request as the simulator answered it.
type SendRecord struct {
	Time time.Time // on the simulator's clock (Options.Now)
	To   string    // the recipient as normalised (wa_id digits or BSUID)
	Code int       // 0 for accepted, else the Meta error code returned
}

// statsRecorder accumulates Stats; the recent log is a ring buffer.
type statsRecorder struct {
	mu       sync.Mutex
	s        Stats
	ring     []SendRecord
	next     int
	wrapped  bool
	rejected map[int]int64
}

// send records one send request's outcome.
func (r *statsRecorder) send(now time.Time, to string, code int) {
	r.mu.Lock()
	if code == 0 {
		r.s.Accepted++
	} else {
		if r.rejected == nil {
			r.rejected = make(map[int]int64)
		}
		r.rejected[code]++
	}
	if r.ring == nil {
		r.ring = make([]SendRecord, maxRecent)
	}
	r.ring[r.next] = SendRecord{Time: now, To: to, Code: code}
	r.next++
	if r.next == len(r.ring) {
		r.next, r.wrapped = 0, true
	}
	r.mu.Unlock()
}

func (r *statsRecorder) webhookPosted(statuses int) {
	r.mu.Lock()
	r.s.WebhooksPosted++
	r.s.StatusesPosted += int64(statuses)
	r.mu.Unlock()
}

func (r *statsRecorder) webhookFailed() {
	r.mu.Lock()
	r.s.WebhooksFailed++
	r.mu.Unlock()
}

func (r *statsRecorder) webhookDropped(statuses int) {
	r.mu.Lock()
	r.s.StatusesDropped += int64(statuses)
	r.mu.Unlock()
}

func (r *statsRecorder) inbound(ok bool) {
	r.mu.Lock()
	if ok {
		r.s.InboundPosted++
	} else {
		r.s.InboundFailed++
	}
	r.mu.Unlock()
}

// Stats returns a snapshot of the counters and the recent send log.
func (s *Simulator) Stats() Stats {
	r := &s.stats
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.s
	out.Rejected = maps.Clone(r.rejected)
	if out.Rejected == nil {
		out.Rejected = map[int]int64{}
	}
	if r.wrapped {
		out.Recent = make([]SendRecord, 0, len(r.ring))
		out.Recent = append(out.Recent, r.ring[r.next:]...)
	}
	out.Recent = append(out.Recent, r.ring[:r.next]...)
	return out
}
