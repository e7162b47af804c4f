// Package inbox turns what customers send into contacts, conversations and
// messages: the ingest worker that drains the webhook stream into the store.
package inbox

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/embed"
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

// poisonAfter is how many deliveries a webhook that cannot be stored gets
// before it is set aside in the event log.
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
	cons, err := g.broker.Consumer(ctx, embed.StreamInbound, jetstream.ConsumerConfig{
		Durable:       "ingest",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       60 * time.Second,
		MaxAckPending: 8192,
		MaxDeliver:    -1,
		FilterSubject: embed.SubjectWebhook,
	})
	if err != nil {
		return err
	}
	g.in = make(chan jetstream.Msg, 4096)
	g.stop = make(chan struct{})
	g.cc, err = cons.Consume(func(m jetstream.Msg) { g.in <- m },
		jetstream.PullMaxMessages(2048), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
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
						g.store1(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						g.store1(batch)
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
		g.store1(batch)
	}
}

// store1 stores one batch; if the batch fails as a whole, each webhook is
// retried alone so one bad body cannot hold back the others.
func (g *Ingestor) store1(msgs []jetstream.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var b store.IngestBatch
	for _, m := range msgs {
		g.add(&b, m.Data())
	}
	if res, err := g.store.Ingest(ctx, &b); err == nil {
		g.count(res, len(msgs))
		for _, m := range msgs {
			g.observeLag(m)
			m.Ack()
		}
		return
	} else {
		g.failures.Add(uint64(len(msgs)))
		g.log.Warn("ingest batch failed; retrying its webhooks one by one", slog.Int("webhooks", len(msgs)), slog.Any("err", err))
	}
	for _, m := range msgs {
		var one store.IngestBatch
		g.add(&one, m.Data())
		res, err := g.store.Ingest(ctx, &one)
		if err == nil {
			g.count(res, 1)
			g.observeLag(m)
			m.Ack()
			continue
		}
		g.setAside(ctx, m, err)
	}
}

// setAside retries a webhook that cannot be stored a few times, then records
// its raw body in the event log so that nothing is dropped silently.
func (g *Ingestor) setAside(ctx context.Context, m jetstream.Msg, cause error) {
	md, _ := m.Metadata()
	if md == nil || md.NumDelivered < poisonAfter {
		g.log.Error("store webhook; will retry", slog.Any("err", cause))
		m.NakWithDelay(5 * time.Second)
		return
	}
	rec := &store.IngestBatch{Events: []store.EventInput{{Field: "sendbox.unstored_webhook", Type: cause.Error(), Value: m.Data()}}}
	if _, err := g.store.Ingest(ctx, rec); err != nil {
		g.log.Error("record unstorable webhook; will retry", slog.Any("err", err))
		m.NakWithDelay(30 * time.Second)
		return
	}
	g.log.Error("webhook could not be stored and was set aside in the event log", slog.Any("err", cause))
	m.Ack()
}

func (g *Ingestor) count(res store.IngestResult, n int) {
	g.stored.With(store.Inbound).Add(uint64(res.NewMessages))
	g.duplicates.Add(uint64(res.Duplicates))
	g.statuses.Add(uint64(res.StatusesNew))
	g.events.Add(uint64(res.EventsNew))
	g.batchSize.Observe(float64(n))
}

func (g *Ingestor) observeLag(m jetstream.Msg) {
	if md, err := m.Metadata(); err == nil {
		g.lag.ObserveSince(md.Timestamp)
	}
}

// add parses one webhook body into the batch. A body the parser refuses
// (the HTTP handler already checked it is a JSON object) is kept as an event.
func (g *Ingestor) add(b *store.IngestBatch, body []byte) {
	wh, err := whatsapp.ParseWebhook(body)
	if err != nil {
		b.Events = append(b.Events, store.EventInput{Field: "sendbox.unparsed_webhook", Type: err.Error(), Value: body})
		return
	}
	for i := range wh.Messages {
		m := &wh.Messages[i]
		if in, ok := inboundRow(m); ok {
			b.Messages = append(b.Messages, in)
		} else {
			// Neither a number nor a BSUID: keep it whole rather than guess a sender.
			b.Events = append(b.Events, store.EventInput{Field: "messages.unattributed", Type: m.Type,
				WABAID: m.WABAID, PhoneNumberID: m.PhoneNumberID, Value: m.Raw})
		}
	}
	for i := range wh.Statuses {
		b.Statuses = append(b.Statuses, statusRow(&wh.Statuses[i]))
	}
	for i := range wh.Events {
		e := &wh.Events[i]
		in := store.EventInput{Field: e.Field, Type: e.Type, WABAID: e.WABAID,
			PhoneNumberID: e.PhoneNumberID, EventTime: e.Time, Value: e.Value}
		for _, p := range e.UserPreferences {
			in.Preferences = append(in.Preferences, store.Preference{WaID: p.WaID, UserID: p.UserID,
				Category: p.Category, Value: p.Value, At: p.Timestamp})
		}
		b.Events = append(b.Events, in)
	}
}
