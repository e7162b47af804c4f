// Package inbox turns what customers send into contacts, conversations and
// messages: the ingest worker that drains the webhook stream into the store.
package inbox

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
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

// Ingestor consumes signature-checked webhook bodies from the broker and
// stores them in batches, one transaction per batch, acknowledging each body
// only after its transaction committed.
type Ingestor struct {
	store  *store.Store
	broker *embed.Broker
	log    *slog.Logger

	cc   jetstream.ConsumeContext
	in   chan jetstream.Msg
	wg   sync.WaitGroup
	stop chan struct{}

	stored     *metrics.CounterVec
	duplicates *metrics.Counter
	statuses   *metrics.Counter
	events     *metrics.Counter
	failures   *metrics.Counter
	batchSize  *metrics.Histogram
	lag        *metrics.Histogram
}

// MaxBatch is the most webhooks stored in one transaction.
const MaxBatch = 512

// maxBatchBytes bounds a transaction by size as well: 512 webhooks of a few
// kilobytes are the usual flood, but 512 of the 4 MB Meta may send would
// hold gigabytes in one transaction.
const maxBatchBytes = 32 << 20

// poisonAfter is how many deliveries a webhook gets before an item of it
// that cannot be stored, for a lasting reason, is parked in the event log.
const poisonAfter = 5

// NewIngestor builds the worker; Start begins consuming.
func NewIngestor(st *store.Store, br *embed.Broker, reg *metrics.Registry, log *slog.Logger) *Ingestor {
	return &Ingestor{
		store: st, broker: br, log: log,
		stored:     reg.Counter("sendbox_messages_stored_total", "Messages stored, by direction.", "direction"),
		duplicates: reg.Counter("sendbox_messages_duplicate_total", "Inbound messages already stored (Meta retries, redeliveries).").With(),
		statuses:   reg.Counter("sendbox_statuses_stored_total", "Status updates stored for the first time.").With(),
		events:     reg.Counter("sendbox_webhook_events_stored_total", "Non-message webhook changes recorded.").With(),
		failures:   reg.Counter("sendbox_ingest_failures_total", "Webhook bodies that could not be stored at the first attempt.").With(),
		batchSize:  reg.Histogram("sendbox_ingest_batch_size", "Webhooks stored per transaction.", []float64{1, 4, 16, 64, 256, 512}).With(),
		lag:        reg.Histogram("sendbox_ingest_lag_seconds", "Time from the webhook's acceptance to its commit.", metrics.LatencyBuckets).With(),
	}
}

// Start creates the durable consumer and the batching loop.
func (g *Ingestor) Start(ctx context.Context) error {
	cons, err := g.broker.Consumer(ctx, events.StreamInbound, jetstream.ConsumerConfig{
		Durable:       "ingest",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       60 * time.Second,
		MaxAckPending: 8192,
		MaxDeliver:    -1,
		FilterSubject: events.SubjectWebhook,
	})
	if err != nil {
		return err
	}
	g.in = make(chan jetstream.Msg, 4096)
	g.stop = make(chan struct{})
	g.cc, err = cons.Consume(func(m jetstream.Msg) { g.in <- m },
		jetstream.PullMaxMessages(2048), jetstream.PullExpiry(embed.PullExpiry), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			g.log.Debug("ingest consumer", slog.Any("err", err))
		}))
	if err != nil {
		return fmt.Errorf("consume webhooks: %w", err)
	}
	g.wg.Add(1)
	go g.loop()
	return nil
}

// Stop stops pulling, stores what was already pulled, and returns.
func (g *Ingestor) Stop() {
	if g.cc == nil {
		return
	}
	g.cc.Drain()
	<-g.cc.Closed()
	close(g.stop)
	g.wg.Wait()
}

func (g *Ingestor) loop() {
	defer g.wg.Done()
	batch := make([]jetstream.Msg, 0, MaxBatch)
	for {
		batch = batch[:0]
		select {
		case m := <-g.in:
			batch = append(batch, m)
		case <-g.stop:
			// Store what the consumer delivered before it closed.
			for {
				select {
				case m := <-g.in:
					batch = append(batch, m)
					if len(batch) == MaxBatch {
						g.guarded(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						g.guarded(batch)
					}
					return
				}
			}
		}
		size := len(batch[0].Data())
	fill:
		for len(batch) < MaxBatch && size < maxBatchBytes {
			select {
			case m := <-g.in:
				batch = append(batch, m)
				size += len(m.Data())
			default:
				break fill
			}
		}
		g.guarded(batch)
	}
}

// guarded stores a batch; a panic in storing it delays the batch like a
// passing failure rather than ending the process.
func (g *Ingestor) guarded(batch []jetstream.Msg) {
	if err := guard.Do(g.log, "store webhooks", func() { g.store1(batch) }); err != nil {
		for _, m := range batch {
			m.NakWithDelay(retryDelay(m))
		}
	}
}

// store1 stores a batch of webhooks in one transaction. When that fails
// for a reason that passes (the database busy, the disk full), the batch is
// delivered again later as it is; otherwise each webhook is stored alone, so
// that one bad body cannot hold back the others.
func (g *Ingestor) store1(msgs []jetstream.Msg) {
	ctx, cancel := context.WithTimeout(events.WithActor(context.Background(), events.System("ingest")), 60*time.Second)
	defer cancel()
	var b store.IngestBatch
	for _, m := range msgs {
		g.add(&b, m.Data(), received(m))
	}
	res, err := g.store.Ingest(ctx, &b)
	if err == nil {
		g.count(res)
		g.batchSize.Observe(float64(len(msgs)))
		for _, m := range msgs {
			g.observeLag(m)
			m.Ack()
		}
		return
	}
	g.failures.Add(uint64(len(msgs)))
	if store.Transient(err) {
		g.log.Warn("store webhooks; will retry", slog.Int("webhooks", len(msgs)), slog.Any("err", err))
		for _, m := range msgs {
			m.NakWithDelay(retryDelay(m))
		}
		return
	}
	g.log.Warn("ingest batch failed; storing its webhooks one by one", slog.Int("webhooks", len(msgs)), slog.Any("err", err))
	for _, m := range msgs {
		g.storeWebhook(ctx, m)
	}
}

// storeWebhook stores one webhook whose batch failed, each of its items in a
// transaction of its own, so that a bad item cannot keep the good ones out
// of the inbox: they are stored at once. The webhook is delivered again for
// the items that failed (those stored meanwhile are duplicates then, and
// change nothing). Once it has been delivered poisonAfter times, an item
// that still fails for a lasting reason is parked alone in the event log
// with that reason; while any fails for a passing reason (the disk full),
// nothing is given up on.
func (g *Ingestor) storeWebhook(ctx context.Context, m jetstream.Msg) {
	var b store.IngestBatch
	g.add(&b, m.Data(), received(m))
	var failed []store.EventInput
	var firstErr error
	passing := false
	for _, it := range items(&b) {
		res, err := g.store.Ingest(ctx, &it.batch)
		if err == nil {
			g.count(res)
			continue
		}
		passing = passing || store.Transient(err)
		firstErr = cmp.Or(firstErr, err)
		failed = append(failed, it.parked(err.Error()))
	}
	g.batchSize.Observe(1)
	if len(failed) == 0 {
		g.observeLag(m)
		m.Ack()
		return
	}
	md, _ := m.Metadata()
	if passing || md == nil || md.NumDelivered < poisonAfter {
		g.log.Error("store webhook items; will retry", slog.Int("failed", len(failed)), slog.Any("err", firstErr))
		m.NakWithDelay(retryDelay(m))
		return
	}
	if _, err := g.store.Ingest(ctx, &store.IngestBatch{Events: failed}); err != nil {
		g.log.Error("record unstorable webhook items; will retry", slog.Any("err", err))
		m.NakWithDelay(30 * time.Second)
		return
	}
	g.log.Error("webhook items could not be stored and were set aside in the event log",
		slog.Int("items", len(failed)), slog.Any("err", firstErr))
	m.Ack()
}

// retryDelay grows with each delivery of m: 1 s, 2 s, 4 s, then 5 s. Not
// longer: what fails for a while (a full disk) must be stored within
// seconds of being possible again, and a retry costs a parse.
func retryDelay(m jetstream.Msg) time.Duration {
	n := uint64(1)
	if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
		n = min(md.NumDelivered, 4)
	}
	return min(5*time.Second, time.Second<<(n-1))
}

// item is one message, status or event of a webhook, alone in a batch.
type item struct {
	batch store.IngestBatch
	field string // where it is parked if it cannot be stored
	raw   []byte
	phone string // the business number it was sent to, if known
	waba  string
}

func items(b *store.IngestBatch) []item {
	out := make([]item, 0, len(b.Messages)+len(b.Echoes)+len(b.Statuses)+len(b.Events))
	for _, m := range b.Messages {
		out = append(out, item{batch: store.IngestBatch{Messages: []store.InboundMessage{m}}, field: events.FieldUnstoredMessage,
			raw: m.Raw, phone: m.PhoneNumberID})
	}
	for _, e := range b.Echoes {
		out = append(out, item{batch: store.IngestBatch{Echoes: []store.InboundMessage{e}}, field: events.FieldUnstoredEcho,
			raw: e.Raw, phone: e.PhoneNumberID})
	}
	for _, s := range b.Statuses {
		out = append(out, item{batch: store.IngestBatch{Statuses: []store.StatusUpdate{s}}, field: events.FieldUnstoredStatus, raw: s.Raw})
	}
	for _, e := range b.Events {
		out = append(out, item{batch: store.IngestBatch{Events: []store.EventInput{e}}, field: events.FieldUnstoredEvent,
			raw: e.Value, phone: e.PhoneNumberID, waba: e.WABAID})
	}
	return out
}

// parked is the event-log record of an item that cannot be stored. It is
// keyed, like every event, by its field and its bytes: parking the same
// item again when Meta retries the webhook records nothing new.
func (it item) parked(reason string) store.EventInput {
	return store.EventInput{Field: it.field, Type: reason, WABAID: it.waba, PhoneNumberID: it.phone, Value: it.raw}
}

func (g *Ingestor) count(res store.IngestResult) {
	g.stored.With(store.Inbound).Add(uint64(res.NewMessages))
	g.stored.With(store.Outbound).Add(uint64(res.NewEchoes))
	g.duplicates.Add(uint64(res.Duplicates))
	g.statuses.Add(uint64(res.StatusesNew))
	g.events.Add(uint64(res.EventsNew))
}

func (g *Ingestor) observeLag(m jetstream.Msg) {
	if md, err := m.Metadata(); err == nil {
		g.lag.ObserveSince(md.Timestamp)
	}
}

// received is when the broker took the webhook in: when sendbox answered
// Meta.
func received(m jetstream.Msg) time.Time {
	if md, err := m.Metadata(); err == nil && !md.Timestamp.IsZero() {
		return md.Timestamp
	}
	return time.Now()
}

// notAfter returns t, or received if t is later. Meta stamps each item with
// the time the customer acted; one later than the moment sendbox received
// it is wrong, and a year 9999 would pin a conversation on top of the inbox
// and hold its 24-hour window open for ever. No skew is allowed: the inbox
// order and the window are reckoned by this machine's clock, and by it the
// customer acted at the latest when the webhook arrived.
func notAfter(t, received time.Time) time.Time {
	if t.After(received) {
		return received
	}
	return t
}

// add parses one webhook body, received at the given time, into the batch.
// A body the parser refuses (the HTTP handler already checked it is a JSON
// object) is kept as an event.
func (g *Ingestor) add(b *store.IngestBatch, body []byte, received time.Time) {
	wh, err := whatsapp.ParseWebhook(body)
	if err != nil {
		b.Events = append(b.Events, store.EventInput{Field: events.FieldUnparsedWebhook, Type: err.Error(), Value: body})
		return
	}
	for i := range wh.Messages {
		m := &wh.Messages[i]
		in, ok := inboundRow(m)
		switch {
		case m.ID == "":
			// Without an id it cannot be told from Meta's retry of it:
			// parked at once, and the rest of the webhook stored.
			b.Events = append(b.Events, store.EventInput{Field: events.FieldUnstoredMessage, Type: "the message has no id",
				WABAID: m.WABAID, PhoneNumberID: m.PhoneNumberID, Value: m.Raw})
		case !ok:
			// Neither a number nor a BSUID: keep it whole rather than guess a sender.
			b.Events = append(b.Events, store.EventInput{Field: events.FieldUnattributedMessage, Type: m.Type,
				WABAID: m.WABAID, PhoneNumberID: m.PhoneNumberID, Value: m.Raw})
		default:
			in.Timestamp = notAfter(in.Timestamp, received)
			b.Messages = append(b.Messages, in)
		}
	}
	for i := range wh.Echoes {
		e := &wh.Echoes[i]
		in, _ := inboundRow(&e.InboundMessage)
		// Sent to the customer: theirs are the ids, and the words are the
		// business's, which say nothing of the customer's language.
		in.WaID, in.UserID, in.ParentUserID = e.CustomerWaID, e.CustomerUserID, e.ToParentUserID
		in.Lang, in.LangSure = "", false
		switch {
		case e.ID == "":
			b.Events = append(b.Events, store.EventInput{Field: events.FieldUnstoredEcho, Type: "the message has no id",
				WABAID: e.WABAID, PhoneNumberID: e.PhoneNumberID, Value: e.Raw})
		case in.WaID == "" && in.UserID == "":
			b.Events = append(b.Events, store.EventInput{Field: events.FieldUnstoredEcho, Type: "the message names no customer",
				WABAID: e.WABAID, PhoneNumberID: e.PhoneNumberID, Value: e.Raw})
		default:
			in.Timestamp = notAfter(in.Timestamp, received)
			b.Echoes = append(b.Echoes, in)
		}
	}
	for i := range wh.Statuses {
		s := &wh.Statuses[i]
		if s.ID == "" || s.Status == "" {
			b.Events = append(b.Events, store.EventInput{Field: events.FieldUnstoredStatus, Type: "the status has no message id or no status",
				WABAID: s.WABAID, PhoneNumberID: s.PhoneNumberID, Value: s.Raw})
			continue
		}
		u := statusRow(s)
		u.Timestamp = notAfter(u.Timestamp, received)
		b.Statuses = append(b.Statuses, u)
	}
	for i := range wh.Events {
		e := &wh.Events[i]
		in := store.EventInput{Field: e.Field, Type: e.Type, WABAID: e.WABAID,
			PhoneNumberID: e.PhoneNumberID, EventTime: notAfter(e.Time, received), Value: e.Value}
		for _, p := range e.UserPreferences {
			in.Preferences = append(in.Preferences, store.Preference{WaID: p.WaID, UserID: p.UserID,
				Category: p.Category, Value: p.Value, At: notAfter(p.Timestamp, received)})
		}
		b.Events = append(b.Events, in)
	}
}
