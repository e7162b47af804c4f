package sim

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"sendbox/whatsapp"
)

// Webhook posting limits.
const (
	statusShards   = 4     // workers; a message's statuses always go through the same one, so they stay in order
	maxBatch       = 1000  // Meta aggregates up to 1 000 updates in one POST
	maxShardQueue  = 50000 // statuses waiting per worker before new ones are dropped (never block a send)
	firstRetryWait = 250 * time.Millisecond
	maxRetryWait   = 30 * time.Second
)

// retryFor is how long a failing webhook POST is retried before it is
// dropped. Meta retries for days; a sandbox only needs to ride out a restart
// of sendbox. A variable so tests can shorten it.
var retryFor = 3 * time.Minute

// statusEvent is what a status webhook says besides the status itself,
// fixed when the send is accepted.
type statusEvent struct {
	recipientID     string
	recipientUserID string
	bizOpaque       string
	category        string // pricing.category: service, utility, marketing, authentication
	pricingType     string // pricing.type: regular, free_customer_service
	billable        bool
	failCode        int // the asynchronous error of a failed message
}

// statusJSON is one value.statuses[] item, fields in Meta's order.
type statusJSON struct {
	ID              string       `json:"id"`
	Status          string       `json:"status"`
	Timestamp       string       `json:"timestamp"`
	RecipientID     string       `json:"recipient_id,omitempty"`
	RecipientUserID string       `json:"recipient_user_id,omitempty"`
	BizOpaque       string       `json:"biz_opaque_callback_data,omitempty"`
	Pricing         *pricingJSON `json:"pricing,omitempty"`
	Errors          []asyncError `json:"errors,omitempty"`
}

// pricingJSON is statuses[].pricing under per-message pricing.
type pricingJSON struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Category     string `json:"category"`
	Type         string `json:"type"`
}

// asyncError is an error as webhooks carry it.
type asyncError struct {
	Code      int          `json:"code"`
	Title     string       `json:"title"`
	Message   string       `json:"message"`
	ErrorData asyncDetails `json:"error_data"`
	Href      string       `json:"href"`
}

// asyncDetails is error_data of an asynchronous error.
type asyncDetails struct {
	Details string `json:"details"`
}

// advance moves a business message to a later stage, posting the status
// webhook if any, and chains what must follow (read after delivered).
// Stages only move forward and failed is terminal. Called with s.mu held:
// the status is queued under it, which is what keeps a message's statuses in
// order across the scheduler and Phone.
func (s *Simulator) advance(m *phoneMsg, stage int) {
	if stage <= m.stage || m.stage == stageFailed {
		return
	}
	if m.reaction && stage > stageSent && stage != stageFailed {
		return
	}
	m.stage = stage
	m.Status = stageNames[stage]
	if stage == stageFailed {
		m.ErrorCode = m.ev.failCode
	}
	s.markDirty()
	if s.hooks != nil {
		s.hooks.enqueue(m.ID, s.statusBytes(m, stage))
	}
	if stage == stageDelivered {
		switch {
		case m.readWanted:
			s.advance(m, stageRead)
		case s.opts.AutoReadAfter > 0 && s.hooks != nil:
			s.hooks.schedule(time.Now().Add(s.opts.AutoReadAfter), m, stageRead)
		}
	}
}

// statusBytes encodes the status webhook item for m reaching stage.
// Pricing goes on sent and delivered only, errors on failed only (shared
// docs §3.3); the conversation object is left out as on v24.0+ webhooks.
func (s *Simulator) statusBytes(m *phoneMsg, stage int) []byte {
	st := statusJSON{
		ID:              m.ID,
		Status:          stageNames[stage],
		Timestamp:       strconv.FormatInt(s.now().Unix(), 10),
		RecipientID:     m.ev.recipientID,
		RecipientUserID: m.ev.recipientUserID,
		BizOpaque:       m.ev.bizOpaque,
	}
	switch stage {
	case stageSent, stageDelivered:
		st.Pricing = &pricingJSON{Billable: m.ev.billable, PricingModel: "PMP", Category: m.ev.category, Type: m.ev.pricingType}
	case stageFailed:
		details := reEngagementDetails
		if m.ev.failCode != CodeReEngagement {
			details = title(m.ev.failCode)
		}
		t := title(m.ev.failCode)
		st.Errors = []asyncError{{Code: m.ev.failCode, Title: t, Message: t, ErrorData: asyncDetails{details}, Href: errorCodesHref}}
	}
	b, _ := json.Marshal(st)
	return b
}

// poster owns the status webhook pipeline: a scheduler that releases
// statuses when they are due, and a few workers that POST them in batches.
type poster struct {
	s      *Simulator
	shards []*shard

	hmu    sync.Mutex // guards events and seq
	events eventHeap
	seq    uint64
	wake   chan struct{}      // nudges the scheduler when an earlier event arrives
	flush  chan chan struct{} // Close asks the scheduler to release everything now

	wg sync.WaitGroup
}

// shard is one worker's FIFO of encoded statuses.
type shard struct {
	mu      sync.Mutex
	q       [][]byte
	busy    bool // a batch is being posted
	wake    chan struct{}
	dropped int
}

func newPoster(s *Simulator, n int) *poster {
	p := &poster{s: s, wake: make(chan struct{}, 1), flush: make(chan chan struct{})}
	for range n {
		p.shards = append(p.shards, &shard{wake: make(chan struct{}, 1)})
	}
	return p
}

func (p *poster) start() {
	p.wg.Add(1 + len(p.shards))
	go p.schedulerLoop()
	for _, sh := range p.shards {
		go p.worker(sh)
	}
}

// wait returns when the scheduler and the workers have stopped (after the
// simulator's context is cancelled).
func (p *poster) wait() { p.wg.Wait() }

// schedule makes m reach stage at due (real time).
func (p *poster) schedule(due time.Time, m *phoneMsg, stage int) {
	p.hmu.Lock()
	p.seq++
	heap.Push(&p.events, event{due: due, seq: p.seq, m: m, stage: stage})
	first := p.events[0].seq == p.seq
	p.hmu.Unlock()
	if first {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// schedulerLoop releases due events in (due, seq) order: sent before
// delivered for the same message, since both are scheduled at acceptance
// with DeliveredDelay ≥ SentDelay.
func (p *poster) schedulerLoop() {
	defer p.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.hmu.Lock()
		wait := time.Hour
		if len(p.events) > 0 {
			wait = time.Until(p.events[0].due)
		}
		p.hmu.Unlock()
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-p.s.ctx.Done():
				return
			case <-p.wake:
				continue
			case done := <-p.flush:
				p.release(true)
				close(done)
				continue
			case <-timer.C:
			}
		}
		p.release(false)
	}
}

// release applies the due events (all of them if everything), in order.
func (p *poster) release(everything bool) {
	for {
		p.hmu.Lock()
		if len(p.events) == 0 || (!everything && time.Now().Before(p.events[0].due)) {
			p.hmu.Unlock()
			return
		}
		ev := heap.Pop(&p.events).(event)
		p.hmu.Unlock()
		p.s.mu.Lock()
		p.s.advance(ev.m, ev.stage)
		p.s.mu.Unlock()
	}
}

// shardFor keeps every status of a message on one worker.
func (p *poster) shardFor(wamid string) *shard {
	h := fnv.New32a()
	h.Write([]byte(wamid))
	return p.shards[h.Sum32()%uint32(len(p.shards))]
}

// enqueue queues an encoded status; it never blocks. Called with s.mu held
// (lock order: s.mu, then shard.mu).
func (p *poster) enqueue(wamid string, status []byte) {
	sh := p.shardFor(wamid)
	sh.mu.Lock()
	if len(sh.q) >= maxShardQueue {
		sh.dropped++
		n := sh.dropped
		sh.mu.Unlock()
		p.s.stats.webhookDropped(1)
		if n == 1 || n%1000 == 0 {
			p.s.log.Warn("status webhook queue full: dropping statuses", slog.Int("dropped", n))
		}
		return
	}
	sh.q = append(sh.q, status)
	sh.mu.Unlock()
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// worker posts its shard's statuses, up to maxBatch per POST, one batch at
// a time so that order is kept through retries.
func (p *poster) worker(sh *shard) {
	defer p.wg.Done()
	for {
		sh.mu.Lock()
		n := min(len(sh.q), maxBatch)
		batch := sh.q[:n:n]
		if n > 0 {
			sh.q = sh.q[n:]
			if len(sh.q) == 0 {
				sh.q = nil // let the backing array go
			}
			sh.busy = true
		}
		sh.mu.Unlock()
		if n == 0 {
			select {
			case <-p.s.ctx.Done():
				return
			case <-sh.wake:
				continue
			}
		}
		body := p.s.statusEnvelope(batch)
		if err := p.s.postWithRetry(body, len(batch)); err != nil {
			p.s.stats.webhookDropped(len(batch))
			p.s.log.Warn("status webhook dropped", slog.Int("statuses", len(batch)), slog.Any("err", err))
		}
		sh.mu.Lock()
		sh.busy = false
		sh.mu.Unlock()
	}
}

// drain releases every scheduled status and waits, up to timeout, until the
// workers have posted everything queued.
func (p *poster) drain(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	done := make(chan struct{})
	select {
	case p.flush <- done:
		<-done
	case <-time.After(timeout):
		return
	}
	for time.Now().Before(deadline) {
		idle := true
		for _, sh := range p.shards {
			sh.mu.Lock()
			if len(sh.q) > 0 || sh.busy {
				idle = false
			}
			sh.mu.Unlock()
		}
		if idle {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// statusEnvelope wraps encoded statuses in Meta's envelope, without
// re-encoding them.
func (s *Simulator) statusEnvelope(statuses [][]byte) []byte {
	var b bytes.Buffer
	b.Grow(256 + len(statuses)*320)
	s.writeEnvelopeHead(&b)
	b.WriteString(`"statuses":[`)
	for i, st := range statuses {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(st)
	}
	b.WriteString(`]},"field":"messages"}]}]}`)
	return b.Bytes()
}

// writeEnvelopeHead writes the envelope up to the inside of value, after
// metadata and its comma.
func (s *Simulator) writeEnvelopeHead(b *bytes.Buffer) {
	b.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":`)
	writeJSONString(b, s.opts.WABAID)
	b.WriteString(`,"changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":`)
	writeJSONString(b, s.opts.DisplayPhoneNumber)
	b.WriteString(`,"phone_number_id":`)
	writeJSONString(b, s.opts.PhoneNumberID)
	b.WriteString(`},`)
}

// writeJSONString writes v as a JSON string.
func writeJSONString(b *bytes.Buffer, v string) {
	enc, _ := json.Marshal(v)
	b.Write(enc)
}

// postWithRetry POSTs a status batch, retrying failures with exponential
// backoff for retryFor or until Close.
func (s *Simulator) postWithRetry(body []byte, statuses int) error {
	start := time.Now()
	wait := firstRetryWait
	for {
		err := s.post(s.ctx, body)
		if err == nil {
			s.stats.webhookPosted(statuses)
			return nil
		}
		s.stats.webhookFailed()
		if time.Since(start)+wait > retryFor {
			return fmt.Errorf("gave up after %s: %w", time.Since(start).Round(time.Second), err)
		}
		s.log.Debug("status webhook failed, will retry", slog.Duration("in", wait), slog.Any("err", err))
		select {
		case <-s.ctx.Done():
			return fmt.Errorf("simulator closed: %w", err)
		case <-time.After(wait):
		}
		wait = min(2*wait, maxRetryWait)
	}
}

// post sends one signed webhook body to sendbox; only a 200 is success, as
// with Meta.
func (s *Simulator) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(s.opts.AppSecret, body))
	req.Header.Set("User-Agent", "facebookexternalua")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// event is a scheduled stage change.
type event struct {
	due   time.Time
	seq   uint64
	m     *phoneMsg
	stage int
}

// eventHeap orders events by due time, then by scheduling order.
type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if c := h[i].due.Compare(h[j].due); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = event{}
	*h = old[:n-1]
	return x
}
