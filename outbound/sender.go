package outbound

import (
	"cmp"
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/embed"
	"sendbox/events"
	"sendbox/guard"
	"sendbox/metrics"
	"sendbox/store"
	"sendbox/whatsapp"
)

// Sender delivers queued messages to the Graph API.
//
// Jobs arrive from the OUTBOUND stream in three lanes, each on its own
// subject and consumer so that a campaign's backlog never stands between a
// person's reply and this process: person (a person wrote it), then
// transactional (the assistant, order updates, reminders), then bulk
// (campaigns). Within a lane, jobs wait in one FIFO queue per recipient, so
// a customer gets a lane's messages in the order they were queued; a
// person's reply overtakes a campaign message to the same customer. A
// single dispatcher hands the head of each eligible queue to a pool of
// workers, the person lane's first, then transactional, then bulk; bulk
// jobs may hold at most BulkShare of the workers, so that replies always
// find one free. A queue becomes eligible when the recipient's pair-rate
// bucket allows (1 per 6 s, bursts up to 45, shared by the lanes) and any
// retry delay has passed. Each worker waits for a place in the number's
// throughput (SENDBOX_WA_MPS, see throughput; served by lane too, bulk
// within its share), marks its message "sending" (durably, in batches with
// the other workers') and calls Graph with the send's id inside
// biz_opaque_callback_data. Outcomes are written in batches, and each job
// is acknowledged only after its outcome is stored.
//
// After a crash. At start the sender takes back at once every job the
// previous process held (the consumer is reset to its acknowledged floor)
// rather than waiting out the ack wait. A message found "sending" had a
// Graph call whose outcome was never stored: Meta echoes the send id in
// every status webhook, and ingest then records the wamid, so the sender
// only waits for that, up to EchoWait after this start. Without an echo, a
// reply or a transactional template is sent again (a late answer is better
// than none) and a marketing template is not: it is marked uncertain.
//
// Several processes. The store's claim is what stops a message going
// twice: each call first moves the message from queued to sending in one
// SQLite transaction, and a message already sending is only ever sent again
// after EchoWait. Resetting the consumer is therefore safe with other
// processes consuming too (their held jobs come back to whoever pulls, and
// are dropped or wait), though wasteful; and the throughput and pair pacing
// are per process, so several senders for one number would overrun them:
// run one sender per number.
type Sender struct {
	Store  *store.Store
	Broker *embed.Broker
	Client *whatsapp.Client
	Log    *slog.Logger

	MPS          int           // the number's messages per second
	Workers      int           // concurrent Graph calls (default MPS/2, 16..512)
	PairBurst    int           // default 45
	PairInterval time.Duration // default 6 s
	// BulkShare is the most of the number's throughput, and of the
	// workers, that bulk sends may take (default 0.7).
	BulkShare   float64
	SendTimeout time.Duration // one Graph call (default 30 s)
	// EchoWait is how long a message whose call's outcome is unknown waits
	// for Meta's status echo, from the later of the call and the start
	// (default 60 s).
	EchoWait time.Duration

	Metrics *metrics.Registry

	limiter     *throughput
	pacer       *pacer
	started     time.Time
	bulkWorkers int // the most workers bulk jobs may hold

	cc       [numLanes]jetstream.ConsumeContext
	incoming [numLanes]chan *job
	work     chan workItem
	done     chan doneJob
	results  chan result
	claims   chan claimReq
	stopping chan struct{}
	ctx      context.Context // cancelled at Stop: aborts waits, not Graph calls
	cancel   context.CancelFunc
	wgDisp   sync.WaitGroup
	wgWork   sync.WaitGroup
	wgRes    sync.WaitGroup
	wgClaim  sync.WaitGroup

	sends   *metrics.CounterVec
	latency *metrics.Histogram
}

// Lanes, in the order they are served (events.Lanes).
const (
	lanePerson = iota
	laneTransactional
	laneBulk
	numLanes
)

// laneConsumers are the lanes' durable consumers on the OUTBOUND stream.
// Person replies are few: a small window of them in flight is plenty.
var laneConsumers = [numLanes]struct {
	lane, durable string // the lane's name (its subject is events.SendSubject's)
	maxAckPending int
}{
	lanePerson:        {events.LanePerson, "sender-person", 1000},
	laneTransactional: {events.LaneTransactional, "sender", 20000}, // every send's consumer before lanes
	laneBulk:          {events.LaneBulk, "sender-bulk", 20000},
}

type job struct {
	msg       jetstream.Msg
	lane      int
	messageID int64
	contactID int64
	attempts  int
	sendID    string // the claim the message is under, as far as this job knows; "" for none
	pairKey   int64  // the recipient queue's key, for pair pacing
}

type recipientQueue struct {
	lane      int
	contactID int64 // the pair pacing key
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
	if s.EchoWait <= 0 {
		s.EchoWait = 60 * time.Second
	}
	if s.BulkShare <= 0 || s.BulkShare > 1 {
		s.BulkShare = 0.7
	}
	s.bulkWorkers = max(1, int(float64(s.Workers)*s.BulkShare))
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Metrics == nil {
		s.Metrics = metrics.NewRegistry()
	}
	s.sends = s.Metrics.Counter("sendbox_sends_total", "Outbound send attempts by result: accepted, failed, retried, "+
		"refused (before calling Meta), unknown (no answer: Meta's status echo decides), uncertain (never confirmed, not sent again).", "result")
	s.latency = s.Metrics.Histogram("sendbox_send_latency_seconds", "Latency of Graph API send calls.", metrics.LatencyBuckets).With()
	s.started = time.Now()
	s.limiter = newThroughput(s.MPS, s.BulkShare, s.started)
	s.pacer = newPacer(s.PairBurst, s.PairInterval)
	for lane := range s.incoming {
		s.incoming[lane] = make(chan *job, 1024)
	}
	s.work = make(chan workItem)
	s.done = make(chan doneJob, s.Workers)
	s.results = make(chan result, 1024)
	s.claims = make(chan claimReq, s.Workers)
	s.stopping = make(chan struct{})
	s.ctx, s.cancel = context.WithCancel(context.Background())

	var cons [numLanes]jetstream.Consumer
	for lane, lc := range laneConsumers {
		c, err := s.Broker.Consumer(ctx, events.StreamOutbound, jetstream.ConsumerConfig{
			Durable:       lc.durable,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       60 * time.Second,
			MaxAckPending: lc.maxAckPending,
			MaxDeliver:    -1,
			FilterSubject: events.SendSubject(lc.lane),
		})
		if err != nil {
			return err
		}
		cons[lane] = c
		// Jobs the previous process held are otherwise redelivered only
		// after the ack wait, a minute of silence after every crash.
		if err := s.Broker.ResetConsumer(ctx, events.StreamOutbound, lc.durable); err != nil {
			s.Log.Warn("jobs held by a stopped process wait for the ack wait (60 s)", slog.String("consumer", lc.durable), slog.Any("err", err))
		}
	}
	s.wgRes.Add(1)
	go s.recordLoop()
	s.wgClaim.Add(1)
	go s.claimLoop()
	for i := 0; i < s.Workers; i++ {
		s.wgWork.Add(1)
		go s.worker()
	}
	s.wgDisp.Add(1)
	go s.dispatch()
	for lane := range cons {
		var err error
		s.cc[lane], err = cons[lane].Consume(func(m jetstream.Msg) { s.receive(lane, m) },
			jetstream.PullMaxMessages(min(1000, laneConsumers[lane].maxAckPending)), jetstream.PullExpiry(embed.PullExpiry),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				s.Log.Debug("sender consumer", slog.String("lane", laneConsumers[lane].lane), slog.Any("err", err))
			}))
		if err != nil {
			s.Stop()
			return fmt.Errorf("consume outbound %s lane: %w", laneConsumers[lane].lane, err)
		}
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
	for _, cc := range s.cc {
		if cc != nil {
			cc.Stop()
			<-cc.Closed()
		}
	}
	s.cancel()
	close(s.stopping)
	s.wgDisp.Wait()
	s.wgWork.Wait()
	close(s.claims)
	s.wgClaim.Wait()
	close(s.results)
	s.wgRes.Wait()
}

func (s *Sender) receive(lane int, m jetstream.Msg) {
	var ev events.Event
	if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.MessageID == 0 {
		s.Log.Error("drop malformed send job", slog.String("data", string(m.Data())))
		m.Term()
		return
	}
	select {
	case s.incoming[lane] <- &job{msg: m, lane: lane, messageID: ev.MessageID, contactID: ev.ContactID}:
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

// queueKey names a recipient's queue in one lane.
type queueKey struct {
	lane    int
	contact int64
}

// dispatch owns the queues and the ready heaps; nothing else touches them.
func (s *Sender) dispatch() {
	defer s.wgDisp.Done()
	queues := map[queueKey]*recipientQueue{}
	var ready [numLanes]readyHeap
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	var inFlight [numLanes]int

	schedule := func(q *recipientQueue, after time.Time) {
		now := time.Now()
		wait := s.pacer.peek(q.contactID, now)
		q.eligible = now.Add(wait)
		if q.eligible.Before(after) {
			q.eligible = after
		}
		heap.Push(&ready[q.lane], q)
	}
	finish := func(d doneJob) {
		q := d.q
		inFlight[q.lane]--
		q.inFlight = false
		if d.retryAfter > 0 {
			schedule(q, time.Now().Add(d.retryAfter))
			return
		}
		q.jobs[0] = nil
		q.jobs = q.jobs[1:]
		if len(q.jobs) == 0 {
			delete(queues, queueKey{q.lane, q.contactID})
			return
		}
		schedule(q, time.Time{})
	}
	add := func(j *job) {
		key := j.contactID
		if key == 0 {
			key = -j.messageID // no contact in the job: a queue of its own
		}
		q := queues[queueKey{j.lane, key}]
		if q == nil {
			q = &recipientQueue{lane: j.lane, contactID: key, index: -1}
			queues[queueKey{j.lane, key}] = q
		}
		j.pairKey = key
		q.jobs = append(q.jobs, j)
		if len(q.jobs) == 1 && !q.inFlight {
			schedule(q, time.Time{})
		}
	}

	for {
		// Hand out the first queue that may send now, by lane.
		var out chan workItem
		var head *recipientQueue
		var item workItem
		var wake time.Time
		now := time.Now()
		for lane := range ready {
			if lane == laneBulk && inFlight[laneBulk] >= s.bulkWorkers {
				break // its share of the workers is busy: a finished job looks again
			}
			h := &ready[lane]
			for h.Len() > 0 && !(*h)[0].eligible.After(now) {
				q := (*h)[0]
				if wait := s.pacer.peek(q.contactID, now); wait > 0 {
					q.eligible = now.Add(wait)
					heap.Fix(h, 0)
					continue
				}
				head, out, item = q, s.work, workItem{q: q, j: q.jobs[0]}
				break
			}
			if head != nil {
				break
			}
			if h.Len() > 0 && (wake.IsZero() || (*h)[0].eligible.Before(wake)) {
				wake = (*h)[0].eligible
			}
		}
		if head == nil && !wake.IsZero() {
			timer.Reset(wake.Sub(now))
		}
		select {
		case <-s.stopping:
			// Release waiting jobs so the next start gets them at once;
			// the workers finish what they hold.
			for inFlight[lanePerson]+inFlight[laneTransactional]+inFlight[laneBulk] > 0 {
				finish(<-s.done)
			}
			for _, q := range queues {
				for _, j := range q.jobs {
					j.msg.Nak()
				}
			}
			close(s.work)
			return
		case j := <-s.incoming[lanePerson]:
			add(j)
		case j := <-s.incoming[laneTransactional]:
			add(j)
		case j := <-s.incoming[laneBulk]:
			add(j)
		case d := <-s.done:
			finish(d)
		case out <- item:
			// The worker takes the pair token when the call leaves: a wait
			// for a place in the throughput must not count as spacing.
			heap.Remove(&ready[head.lane], head.index)
			head.inFlight = true
			inFlight[head.lane]++
		case <-timer.C:
		case <-keepAlive.C:
			// Jobs held longer than the ack wait (pair pacing, backoff, a
			// long wait for a place) must not be redelivered to ourselves:
			// a second job for a message being sent would find it
			// "sending" and, once EchoWait is over, send it again.
			for _, q := range queues {
				for _, j := range q.jobs {
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
	j.attempts = max(j.attempts, msg.Attempts)
	switch msg.Status {
	case store.StateQueued:
	case store.StateSending:
		// A call whose outcome was never stored: this process lost the
		// answer, or an earlier one stopped during the call.
		res, wait, again := s.reconcile(j, msg)
		if !again {
			return res, wait
		}
	default:
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
				Detail: "Not sent: " + (&WindowError{LastInbound: c.LastInboundAt}).Error() + CheckedBeforeMeta},
				"refused"), 0
		}
	}
	if me, err := s.consentCheck(ctx, msg, &om); err != nil {
		s.Log.Error("check marketing consent", slog.Int64("id", j.messageID), slog.Any("err", err))
		return result{}, 5 * time.Second
	} else if me != nil {
		return s.fail(j, me, "refused"), 0
	}
	// The checks of whether the message may go end here.
	granted, err := s.limiter.acquire(ctx, j.lane)
	if err != nil {
		return result{}, time.Second // stopping: left for the next start
	}
	// From the claim on, a crash leaves the message "sending", to be
	// reconciled with Meta's echo: claimed only once its place is taken, so
	// that a crash leaves in doubt the calls under way, not every message
	// waiting for a place.
	sendID, err := s.claim(j)
	if err != nil || sendID == "" {
		s.limiter.cancel(j.lane)
		if err != nil {
			s.Log.Error("mark message sending", slog.Int64("id", j.messageID), slog.Any("err", err))
			return result{}, 5 * time.Second
		}
		return result{msg: j.msg}, 0 // another delivery of this job has it
	}
	s.pacer.take(j.pairKey, time.Now())
	om.BizOpaque = whatsapp.TagOpaque(sendID, om.BizOpaque)
	start := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), s.SendTimeout) // not ctx: never abandon a call half-way
	res, err := s.Client.Send(sctx, &om)
	cancel()
	end := time.Now()
	s.limiter.done(granted, end, j.lane)
	s.latency.Observe(end.Sub(start).Seconds())
	j.attempts++
	if err == nil {
		s.sends.With("accepted").Inc()
		return result{msg: j.msg, outcome: &store.SendOutcome{MessageID: j.messageID, SendID: sendID, WAMID: res.WAMID, Attempts: j.attempts,
			MessageStatus: res.MessageStatus}}, 0
	}
	if outcomeUnknown(err) {
		// Meta may have the message: its status echo will say, as after a crash.
		s.sends.With("unknown").Inc()
		s.Log.Warn("send outcome unknown: waiting for Meta's status echo", slog.Int64("id", j.messageID), slog.Any("err", err))
		return result{}, time.Second
	}
	if whatsapp.Classify(err) == whatsapp.Retry && j.attempts < maxAttempts(err) {
		s.release(j)
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

// outcomeUnknown reports a call that may have reached Meta without sendbox
// learning what became of it: the connection broke or timed out once the
// request could have been sent, or a 2xx answer could not be read. Sending
// again at once could deliver the message twice.
func outcomeUnknown(err error) bool {
	var ae *whatsapp.APIError
	if errors.As(err, &ae) {
		return false // Meta answered, with an error: it does not have the message
	}
	if errors.Is(err, whatsapp.ErrBadResponse) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false // never connected
	}
	return whatsapp.Classify(err) == whatsapp.Retry
}

// uncertainNote is what the thread and the API say of a message marked
// uncertain.
var uncertainNote = store.MessageError{Title: "Delivery not confirmed",
	Detail: "The answer to the call that sent this message was lost (sendbox stopped or the connection broke during it) " +
		"and WhatsApp sent no status for it within a minute, so it may or may not have reached the customer. " +
		"It is a marketing message, so it was not sent again: nobody should receive a promotion twice."}

// reconcile decides about a message left "sending": a Graph call whose
// outcome was never stored. A status echo settles it in the store (ingest
// records the wamid it carries), so until EchoWait after the later of the
// call and this start it only waits. Then again reports that the message
// is to be sent again (a reply, a transactional template); a marketing
// template is marked uncertain instead.
func (s *Sender) reconcile(j *job, msg *store.Message) (res result, wait time.Duration, again bool) {
	sendID, err := s.Store.SendID(s.ctx, msg.ID)
	if err != nil {
		s.Log.Error("load send id", slog.Int64("id", msg.ID), slog.Any("err", err))
		return result{}, 5 * time.Second, false
	}
	j.sendID = sendID
	deadline := msg.StatusAt // when it was claimed
	if deadline.Before(s.started) {
		deadline = s.started
	}
	deadline = deadline.Add(s.EchoWait)
	if left := time.Until(deadline); left > 0 {
		return result{}, min(left, time.Second), false
	}
	marketing, err := s.marketing(msg)
	if err != nil {
		s.Log.Error("load template", slog.Int64("id", msg.ID), slog.Any("err", err))
		return result{}, 5 * time.Second, false
	}
	if marketing {
		s.sends.With("uncertain").Inc()
		s.Log.Warn("marketing message not confirmed by Meta: not sent again", slog.Int64("id", msg.ID))
		note := uncertainNote
		return result{msg: j.msg, outcome: &store.SendOutcome{MessageID: msg.ID, SendID: sendID, Uncertain: true,
			Err: &note, Attempts: j.attempts}}, 0, false
	}
	s.Log.Warn("message not confirmed by Meta: sending it again", slog.Int64("id", msg.ID))
	return result{}, 0, true
}

// marketing reports whether msg is a marketing template, by the category
// in the synced templates table. A template sendbox does not know counts as
// marketing: without a confirmation, not sending is the safe side.
func (s *Sender) marketing(msg *store.Message) (bool, error) {
	var om whatsapp.OutboundMessage
	if err := json.Unmarshal(msg.Payload, &om); err != nil || !om.IsTemplate() {
		return false, nil
	}
	tp, err := s.Store.TemplateByName(s.ctx, om.Template.Name, om.Template.Language.Code)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return strings.EqualFold(tp.Category, "MARKETING"), nil
}

// claimReq is one worker's request to mark its message "sending".
type claimReq struct {
	claim store.SendClaim
	reply chan claimReply
}

type claimReply struct {
	ok  bool
	err error
}

// claim marks the job's message "sending" under a new send id and returns
// it; "" if the message is no longer the job's to send.
func (s *Sender) claim(j *job) (string, error) {
	var b [whatsapp.SendIDLen * 5 / 8]byte
	rand.Read(b[:])
	id := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	r := claimReq{claim: store.SendClaim{MessageID: j.messageID, SendID: id, PrevSendID: j.sendID}, reply: make(chan claimReply, 1)}
	s.claims <- r
	rep := <-r.reply
	if rep.err != nil || !rep.ok {
		return "", rep.err
	}
	j.sendID = id
	return id, nil
}

// claimLoop writes the workers' claims, as many in one transaction as are
// waiting: one write per send would cost the single SQLite writer more
// than the sends themselves at 1,000 a second.
func (s *Sender) claimLoop() {
	defer s.wgClaim.Done()
	batch := make([]claimReq, 0, 256)
	claims := make([]store.SendClaim, 0, 256)
	for first := range s.claims {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-s.claims:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		claims = claims[:0]
		for _, r := range batch {
			claims = append(claims, r.claim)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		ok, err := s.Store.ClaimSends(ctx, claims)
		cancel()
		for i, r := range batch {
			r.reply <- claimReply{ok: err == nil && ok[i], err: err}
		}
	}
}

// release puts the job's message back in the queue after Meta refused the
// call: it does not have the message. If the write fails the claim stays,
// and the next attempt takes it over.
func (s *Sender) release(j *job) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Store.ReleaseSend(ctx, j.messageID, j.sendID); err != nil {
		s.Log.Error("queue message again", slog.Int64("id", j.messageID), slog.Any("err", err))
		return
	}
	j.sendID = ""
}

// Inbound counts n customer messages against the number's throughput, as
// Meta does, the moment their webhook arrives. Safe to call at any time.
func (s *Sender) Inbound(n int) {
	if s.limiter != nil {
		s.limiter.inbound(time.Now(), n)
	}
}

func (s *Sender) fail(j *job, me *store.MessageError, label string) result {
	s.sends.With(label).Inc()
	return result{msg: j.msg, outcome: &store.SendOutcome{MessageID: j.messageID, SendID: j.sendID, Err: me, Attempts: j.attempts}}
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
			ctx, cancel := context.WithTimeout(events.WithActor(context.Background(), events.System("sender")), 30*time.Second)
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
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	for r := range s.results {
		batch = append(batch, r)
		gather.Reset(recordGather)
	fill:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-s.results:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			case <-gather.C:
				break fill
			}
		}
		gather.Stop()
		flush()
	}
	flush()
}

// recordGather is how long the first outcome of a batch waits for others.
// Sends leave one by one, a millisecond apart at 1,000 a second, and a
// transaction per outcome was over a quarter of the sender's CPU; an outcome a
// crash loses meanwhile is recovered as any "sending" message is, from
// Meta's status echo.
const recordGather = 20 * time.Millisecond
