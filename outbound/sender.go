package outbound

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/embed"
	"sendbox/guard"
	"sendbox/metrics"
	"sendbox/store"
	"sendbox/whatsapp"
)

// Sender delivers queued messages to the Graph API.
//
// Jobs arrive from the OUTBOUND stream and wait in one FIFO queue per
// recipient, so a customer gets messages in the order they were queued. A
// single dispatcher hands the head of each eligible queue to a pool of
// workers; a queue becomes eligible when the recipient's pair-rate bucket
// allows (1 per 6 s, bursts up to 45) and any retry delay has passed. Each
// worker then takes the next slot of the number's throughput limiter
// (SENDBOX_WA_MPS) before calling Graph. Outcomes are written in batches,
// and each job is acknowledged only after its outcome is stored.
type Sender struct {
	Store  *store.Store
	Broker *embed.Broker
	Client *whatsapp.Client
	Log    *slog.Logger

	MPS          int           // the number's messages per second
	Workers      int           // concurrent Graph calls (default MPS/2, 16..512)
	PairBurst    int           // default 45
	PairInterval time.Duration // default 6 s
	SendTimeout  time.Duration // one Graph call (default 30 s)

	Metrics *metrics.Registry

	limiter *rateLimiter
	pacer   *pacer

	cc       jetstream.ConsumeContext
	incoming chan *job
	work     chan workItem
	done     chan doneJob
	results  chan result
	stopping chan struct{}
	ctx      context.Context // cancelled at Stop: aborts waits, not Graph calls
	cancel   context.CancelFunc
	wgDisp   sync.WaitGroup
	wgWork   sync.WaitGroup
	wgRes    sync.WaitGroup

	sends   *metrics.CounterVec
	latency *metrics.Histogram
}

type job struct {
	msg       jetstream.Msg
	messageID int64
	contactID int64
	attempts  int
}

type recipientQueue struct {
	contactID int64
	jobs      []*job
	eligible  time.Time
	index     int // in the ready heap; -1 when not in it
	inFlight  bool
}

// workItem is one job handed to a worker; the worker never touches the
// queue's job list, which the dispatcher alone owns.
type workItem struct {
	q *recipientQueue
	j *job
}

type doneJob struct {
	q          *recipientQueue
	retryAfter time.Duration // > 0: keep the head job and try again later
}

type result struct {
	msg     jetstream.Msg
	outcome *store.SendOutcome // nil: nothing to record (already sent, deleted)
}

// Start begins consuming the OUTBOUND stream.
func (s *Sender) Start(ctx context.Context) error {
	if s.MPS <= 0 {
		s.MPS = 80
	}
	if s.Workers <= 0 {
		s.Workers = min(512, max(16, s.MPS/2))
	}
	if s.PairBurst <= 0 {
		s.PairBurst = 45
	}
	if s.PairInterval <= 0 {
		s.PairInterval = 6 * time.Second
	}
	if s.SendTimeout <= 0 {
		s.SendTimeout = 30 * time.Second
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Metrics == nil {
		s.Metrics = metrics.NewRegistry()
	}
	s.sends = s.Metrics.Counter("sendbox_sends_total", "Outbound send attempts by result: accepted, failed, retried, refused (before calling Meta).", "result")
	s.latency = s.Metrics.Histogram("sendbox_send_latency_seconds", "Latency of Graph API send calls.", metrics.LatencyBuckets).With()
	s.limiter = newRateLimiter(s.MPS)
	s.pacer = newPacer(s.PairBurst, s.PairInterval)
	s.incoming = make(chan *job, 1024)
	s.work = make(chan workItem)
	s.done = make(chan doneJob, s.Workers)
	s.results = make(chan result, 1024)
	s.stopping = make(chan struct{})
	s.ctx, s.cancel = context.WithCancel(context.Background())

	cons, err := s.Broker.Consumer(ctx, embed.StreamOutbound, jetstream.ConsumerConfig{
		Durable:       "sender",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       60 * time.Second,
		MaxAckPending: 20000,
		MaxDeliver:    -1,
		FilterSubject: store.SubjectSend,
	})
	if err != nil {
		return err
	}
	s.wgRes.Add(1)
	go s.recordLoop()
	for i := 0; i < s.Workers; i++ {
		s.wgWork.Add(1)
		go s.worker()
	}
	s.wgDisp.Add(1)
	go s.dispatch()
	s.cc, err = cons.Consume(s.receive, jetstream.PullMaxMessages(1000), jetstream.PullExpiry(embed.PullExpiry),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			s.Log.Debug("sender consumer", slog.Any("err", err))
		}))
	if err != nil {
		s.Stop()
		return fmt.Errorf("consume outbound: %w", err)
	}
	return nil
}

// Stop stops taking jobs, lets in-flight Graph calls finish and records
// their outcomes. Jobs still waiting are released to be redelivered at the
// next start.
func (s *Sender) Stop() {
	if s.stopping == nil {
		return // never started
	}
	if s.cc != nil {
		s.cc.Stop()
		<-s.cc.Closed()
	}
	s.cancel()
	close(s.stopping)
	s.wgDisp.Wait()
	s.wgWork.Wait()
	close(s.results)
	s.wgRes.Wait()
}

func (s *Sender) receive(m jetstream.Msg) {
	var ev store.Event
	if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.MessageID == 0 {
		s.Log.Error("drop malformed send job", slog.String("data", string(m.Data())))
		m.Term()
		return
	}
	select {
	case s.incoming <- &job{msg: m, messageID: ev.MessageID, contactID: ev.ContactID}:
	case <-s.stopping:
	}
}

// readyHeap orders eligible queues by the time they may send.
type readyHeap []*recipientQueue

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(i, j int) bool { return h[i].eligible.Before(h[j].eligible) }
func (h readyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *readyHeap) Push(x any)        { q := x.(*recipientQueue); q.index = len(*h); *h = append(*h, q) }
func (h *readyHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	q.index = -1
	return q
}

// dispatch owns the queues and the ready heap; nothing else touches them.
func (s *Sender) dispatch() {
	defer s.wgDisp.Done()
	queues := map[int64]*recipientQueue{}
	var ready readyHeap
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	inFlight := 0

	schedule := func(q *recipientQueue, after time.Time) {
		now := time.Now()
		wait := s.pacer.peek(q.contactID, now)
		q.eligible = now.Add(wait)
		if q.eligible.Before(after) {
			q.eligible = after
		}
		heap.Push(&ready, q)
	}
	finish := func(d doneJob) {
		inFlight--
		q := d.q
		q.inFlight = false
		if d.retryAfter > 0 {
			schedule(q, time.Now().Add(d.retryAfter))
			return
		}
		q.jobs[0] = nil
		q.jobs = q.jobs[1:]
		if len(q.jobs) == 0 {
			delete(queues, q.contactID)
			return
		}
		schedule(q, time.Time{})
	}

	for {
		// Hand out every queue that may send now.
		var out chan workItem
		var head *recipientQueue
		var item workItem
		now := time.Now()
		for ready.Len() > 0 && !ready[0].eligible.After(now) {
			q := ready[0]
			if wait := s.pacer.peek(q.contactID, now); wait > 0 {
				q.eligible = now.Add(wait)
				heap.Fix(&ready, 0)
				continue
			}
			head, out, item = q, s.work, workItem{q: q, j: q.jobs[0]}
			break
		}
		if head == nil && ready.Len() > 0 {
			timer.Reset(ready[0].eligible.Sub(now))
		}
		select {
		case <-s.stopping:
			// Release waiting jobs so the next start gets them at once;
			// the workers finish what they hold.
			for inFlight > 0 {
				finish(<-s.done)
			}
			for _, q := range queues {
				for _, j := range q.jobs {
					j.msg.Nak()
				}
			}
			close(s.work)
			return
		case j := <-s.incoming:
			key := j.contactID
			if key == 0 {
				key = -j.messageID // no contact in the job: a queue of its own
			}
			q := queues[key]
			if q == nil {
				q = &recipientQueue{contactID: key, index: -1}
				queues[key] = q
			}
			q.jobs = append(q.jobs, j)
			if len(q.jobs) == 1 && !q.inFlight {
				schedule(q, time.Time{})
			}
		case d := <-s.done:
			finish(d)
		case out <- item:
			heap.Remove(&ready, head.index)
			s.pacer.take(head.contactID, time.Now())
			head.inFlight = true
			inFlight++
		case <-timer.C:
		case <-keepAlive.C:
			// Jobs held longer than the ack wait (pair pacing, backoff)
			// must not be redelivered to ourselves.
			for _, q := range queues {
				for i, j := range q.jobs {
					if i == 0 && q.inFlight {
						continue
					}
					j.msg.InProgress()
				}
			}
			s.pacer.forget(time.Now())
		}
	}
}

func (s *Sender) worker() {
	defer s.wgWork.Done()
	for it := range s.work {
		var res result
		var retry time.Duration
		if err := guard.Do(s.Log, "send a message", func() { res, retry = s.attempt(it.j) }); err != nil {
			// A failed attempt like any other: tried again a few times,
			// then the message fails with the reason, not retried for ever.
			it.j.attempts++
			res, retry = result{}, 5*time.Second
			if it.j.attempts >= maxAttempts(err) {
				res, retry = s.fail(it.j, &store.MessageError{Title: "sendbox failed while sending", Detail: err.Error()}, "failed"), 0
			}
		}
		if retry == 0 {
			s.results <- res
		}
		s.done <- doneJob{q: it.q, retryAfter: retry}
	}
}

// maxAttempts bounds retries by cause.
func maxAttempts(err error) int {
	var ae *whatsapp.APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case 130429:
			return 10
		case 131056:
			return 6
		}
	}
	return 8
}

// attempt tries to send the job's message once. A retry > 0 means "try again
// after that long"; otherwise the result is final.
func (s *Sender) attempt(j *job) (result, time.Duration) {
	ctx := s.ctx
	msg, err := s.Store.MessageByID(ctx, j.messageID)
	if errors.Is(err, store.ErrNotFound) {
		return result{msg: j.msg}, 0
	}
	if err != nil {
		s.Log.Error("load queued message", slog.Int64("id", j.messageID), slog.Any("err", err))
		return result{}, 5 * time.Second
	}
	if msg.Status != store.StateQueued {
		return result{msg: j.msg}, 0 // an earlier delivery of this job already sent it
	}
	var om whatsapp.OutboundMessage
	if err := json.Unmarshal(msg.Payload, &om); err != nil {
		return s.fail(j, &store.MessageError{Code: 0, Title: "unreadable queued message", Detail: err.Error()}, "refused"), 0
	}
	if !om.IsTemplate() {
		c, err := s.Store.ContactByID(ctx, msg.ContactID)
		if err != nil {
			s.Log.Error("load contact", slog.Int64("id", msg.ContactID), slog.Any("err", err))
			return result{}, 5 * time.Second
		}
		if !WindowOpen(c.LastInboundAt, time.Now()) {
			// Checked again here: the window may have closed while queued.
			return s.fail(j, &store.MessageError{Code: 131047, Title: "Re-engagement message",
				Detail: "Not sent: " + (&WindowError{LastInbound: c.LastInboundAt}).Error() + " (checked by sendbox before calling Meta)"},
				"refused"), 0
		}
	}
	if wait := time.Until(s.limiter.reserve(time.Now())); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return result{}, time.Second // stopping: left for the next start
		}
	}
	start := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), s.SendTimeout) // not ctx: never abandon a call half-way
	res, err := s.Client.Send(sctx, &om)
	cancel()
	s.latency.ObserveSince(start)
	j.attempts++
	if err == nil {
		s.sends.With("accepted").Inc()
		return result{msg: j.msg, outcome: &store.SendOutcome{MessageID: j.messageID, WAMID: res.WAMID, Attempts: j.attempts}}, 0
	}
	if whatsapp.Classify(err) == whatsapp.Retry && j.attempts < maxAttempts(err) {
		d := whatsapp.RetryDelay(err, j.attempts-1)
		var ae *whatsapp.APIError
		if errors.As(err, &ae) && ae.Code == 130429 {
			s.limiter.pause(time.Now().Add(d)) // the whole number is over its throughput
		}
		s.sends.With("retried").Inc()
		s.Log.Debug("send will be retried", slog.Int64("id", j.messageID), slog.Int("attempt", j.attempts),
			slog.Duration("after", d), slog.Any("err", err))
		return result{}, d
	}
	me := &store.MessageError{Title: "could not reach the WhatsApp API", Detail: err.Error()}
	var ae *whatsapp.APIError
	if errors.As(err, &ae) {
		me = &store.MessageError{Code: ae.Code, Title: cmp.Or(ae.Title, ae.Message), Detail: ae.Details}
	}
	s.Log.Warn("send failed", slog.Int64("id", j.messageID), slog.Int("code", me.Code), slog.String("error", me.Title))
	return s.fail(j, me, "failed"), 0
}

func (s *Sender) fail(j *job, me *store.MessageError, label string) result {
	s.sends.With(label).Inc()
	return result{msg: j.msg, outcome: &store.SendOutcome{MessageID: j.messageID, Err: me, Attempts: j.attempts}}
}

// recordLoop stores outcomes in batches and acknowledges their jobs after
// the commit: an outcome is never acknowledged before it is durable.
func (s *Sender) recordLoop() {
	defer s.wgRes.Done()
	batch := make([]result, 0, 256)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		outs := make([]store.SendOutcome, 0, len(batch))
		for _, r := range batch {
			if r.outcome != nil {
				outs = append(outs, *r.outcome)
			}
		}
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if perr := guard.Do(s.Log, "record send outcomes", func() { err = s.Store.RecordSends(ctx, outs) }); perr != nil {
				err = perr
			}
			cancel()
			if err == nil {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
		}
		for _, r := range batch {
			if err != nil {
				r.msg.Nak() // redelivered and re-checked; a sent message may then be sent twice
				continue
			}
			r.msg.Ack()
		}
		if err != nil {
			s.Log.Error("record send outcomes", slog.Int("count", len(outs)), slog.Any("err", err))
		}
		batch = batch[:0]
	}
	for r := range s.results {
		batch = append(batch, r)
	fill:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-s.results:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		flush()
	}
	flush()
}
