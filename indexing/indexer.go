// Package indexing keeps the search index in step with the store: it reads
// the domain events behind the webhook path, loads what changed from SQLite
// in batches and applies it to the bleve index. It also feeds full rebuilds.
package indexing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/embed"
	"sendbox/events"
	"sendbox/guard"
	"sendbox/knowledge"
	"sendbox/metrics"
	"sendbox/search"
	"sendbox/store"
)

// Indexer applies domain events to the search index.
type Indexer struct {
	Store   *store.Store
	Index   *search.Index
	Broker  *embed.Broker
	Log     *slog.Logger
	Metrics *metrics.Registry

	cons     jetstream.Consumer
	cc       jetstream.ConsumeContext
	in       chan jetstream.Msg
	stop     chan struct{}
	wg       sync.WaitGroup
	lastAt   atomic.Int64 // unix ms of the newest event applied
	indexed  *metrics.CounterVec
	lag      *metrics.Histogram
	failures *metrics.Counter
}

// maxBatch is how many events one index batch takes.
const maxBatch = 4000

// How long a batch waits for more events after its first: briefly when
// changes trickle in, so a message is searchable at once; longer while a
// flood goes on, because every batch writes a segment that must later be
// merged, and a few large batches cost far less than many small ones.
const (
	quietWait = 20 * time.Millisecond
	busyWait  = 250 * time.Millisecond
	busyRate  = 800 // events per second while gathering: a flood
)

// Start creates the durable consumer and the batching loop.
func (x *Indexer) Start(ctx context.Context) error {
	if x.Log == nil {
		x.Log = slog.New(slog.DiscardHandler)
	}
	if x.Metrics == nil {
		x.Metrics = metrics.NewRegistry()
	}
	x.indexed = x.Metrics.Counter("sendbox_search_indexed_total", "Documents written to or removed from the search index.", "kind", "op")
	x.lag = x.Metrics.Histogram("sendbox_search_lag_seconds", "Time from a change in the store to its being searchable.", metrics.LatencyBuckets).With()
	x.failures = x.Metrics.Counter("sendbox_search_failures_total", "Index batches that failed and were retried.").With()
	var err error
	x.cons, err = x.Broker.Consumer(ctx, events.StreamEvents, jetstream.ConsumerConfig{
		Durable:        "search",
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        2 * time.Minute,
		MaxAckPending:  20000,
		MaxDeliver:     -1,
		FilterSubjects: []string{events.SubjectMessageEvents, events.SubjectContactEvents, events.SubjectConversationEvents, events.SubjectKBEvents},
	})
	if err != nil {
		return err
	}
	x.Metrics.GaugeFunc("sendbox_search_pending", "Changes not yet applied to the search index.", func() float64 {
		return float64(x.Pending())
	})
	x.in = make(chan jetstream.Msg, 4096)
	x.stop = make(chan struct{})
	x.cc, err = x.cons.Consume(func(m jetstream.Msg) { x.in <- m }, jetstream.PullMaxMessages(2000), jetstream.PullExpiry(embed.PullExpiry),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { x.Log.Debug("search consumer", slog.Any("err", err)) }))
	if err != nil {
		return fmt.Errorf("consume events for search: %w", err)
	}
	x.wg.Add(1)
	go x.loop()
	return nil
}

// Stop stops consuming and applies what was already pulled.
func (x *Indexer) Stop() {
	if x.cc == nil {
		return
	}
	x.cc.Drain()
	<-x.cc.Closed()
	close(x.stop)
	x.wg.Wait()
}

// Pending is how many changes wait to be indexed.
func (x *Indexer) Pending() uint64 {
	if x.cons == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := x.cons.Info(ctx)
	if err != nil {
		return 0
	}
	return info.NumPending + uint64(info.NumAckPending)
}

// LastIndexed is when the newest applied change happened in the store.
func (x *Indexer) LastIndexed() time.Time {
	if ms := x.lastAt.Load(); ms > 0 {
		return time.UnixMilli(ms)
	}
	return time.Time{}
}

func (x *Indexer) loop() {
	defer x.wg.Done()
	batch := make([]jetstream.Msg, 0, maxBatch)
	wait := quietWait
	for {
		batch = batch[:0]
		select {
		case m := <-x.in:
			batch = append(batch, m)
		case <-x.stop:
			for {
				select {
				case m := <-x.in:
					batch = append(batch, m)
				default:
					if len(batch) > 0 {
						x.guarded(batch)
					}
					return
				}
			}
		}
		// A short wait gathers a burst into one index batch: the index
		// writes segments per batch, so bigger batches cost much less.
		timer := time.NewTimer(wait)
	fill:
		for len(batch) < maxBatch {
			select {
			case m := <-x.in:
				batch = append(batch, m)
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		gathered := float64(len(batch)) / wait.Seconds()
		wait = quietWait
		if gathered >= busyRate {
			wait = busyWait
		}
		x.guarded(batch)
	}
}

// guarded applies a batch; a panic in applying it has the batch retried
// like a failure rather than end the process.
func (x *Indexer) guarded(batch []jetstream.Msg) {
	if err := guard.Do(x.Log, "index changes", func() { x.apply(batch) }); err != nil {
		x.failures.Inc()
		for _, m := range batch {
			m.NakWithDelay(5 * time.Second)
		}
	}
}

// changes is what a batch of events asks the index to refresh.
type changes struct {
	messages, contacts, conversations, kb map[int64]bool
	newest                                time.Time
}

func (x *Indexer) apply(msgs []jetstream.Msg) {
	ch := changes{messages: map[int64]bool{}, contacts: map[int64]bool{}, conversations: map[int64]bool{}, kb: map[int64]bool{}}
	for _, m := range msgs {
		var ev events.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			continue
		}
		if ev.At.After(ch.newest) {
			ch.newest = ev.At
		}
		switch {
		case ev.Type == events.MessageStatus:
			// Delivery states are not searched.
		case strings.HasPrefix(ev.Type, "message."):
			ch.messages[ev.MessageID] = true
		case strings.HasPrefix(ev.Type, "contact."):
			ch.contacts[ev.ContactID] = true
		case ev.Type == events.KBChanged:
			ch.kb[ev.DocID] = true
		case ev.Type == events.ConversationUpdated && searched[ev.Status]:
			// Status, labels and assignment are searchable on every
			// message of the conversation; who answers it, being read or
			// noted, and the rest are not.
			ch.conversations[ev.ConversationID] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := x.refresh(ctx, ch); err != nil {
		x.failures.Inc()
		x.Log.Error("update the search index; will retry", slog.Any("err", err))
		for _, m := range msgs {
			m.NakWithDelay(5 * time.Second)
		}
		return
	}
	for _, m := range msgs {
		m.Ack()
	}
	if !ch.newest.IsZero() {
		x.lastAt.Store(ch.newest.UnixMilli())
		x.lag.ObserveSince(ch.newest)
	}
}

// searched are the conversation changes a search filter looks at: they
// change the status, the labels or the assignee that every message's
// document carries (an escalation and a handoff reopen the conversation).
// Any other change re-indexes nothing: the router's decision, recorded on
// every new conversation, re-indexed each one's messages for no filter. A
// change that comes to move one of those fields must be added here.
var searched = map[string]bool{events.ChangeAssigned: true, events.ChangeStatus: true, events.ChangeLabels: true,
	events.ChangeWoke: true, events.ChangeEscalated: true, events.ChangeHandoff: true}

// refresh loads the changed rows and writes them to the index; rows that
// are gone (deleted, erased) are removed from it.
func (x *Indexer) refresh(ctx context.Context, ch changes) error {
	var b search.Batch
	if ids := keys(ch.messages); len(ids) > 0 {
		rows, err := x.Store.IndexMessagesByID(ctx, ids)
		if err != nil {
			return err
		}
		found := map[int64]bool{}
		for _, r := range rows {
			found[r.ID] = true
			b.Messages = append(b.Messages, Message(r))
		}
		for _, id := range ids {
			if !found[id] {
				b.DeleteMessages = append(b.DeleteMessages, id)
			}
		}
	}
	for conv := range ch.conversations {
		for after := int64(0); ; {
			rows, err := x.Store.IndexConversationMessages(ctx, conv, after, 1000)
			if err != nil {
				return err
			}
			for _, r := range rows {
				b.Messages = append(b.Messages, Message(r))
			}
			if len(rows) < 1000 {
				break
			}
			after = rows[len(rows)-1].ID
		}
	}
	if ids := keys(ch.contacts); len(ids) > 0 {
		rows, err := x.Store.IndexContactsByID(ctx, ids)
		if err != nil {
			return err
		}
		found := map[int64]bool{}
		for _, r := range rows {
			found[r.ID] = true
			b.Contacts = append(b.Contacts, Contact(r))
		}
		for _, id := range ids {
			if !found[id] {
				b.DeleteContacts = append(b.DeleteContacts, id)
			}
		}
	}
	var removedKB []int64
	if len(ch.kb) > 0 {
		rows, err := x.Store.KBChunksOfDocs(ctx, keys(ch.kb))
		if err != nil {
			return err
		}
		for _, r := range rows {
			b.KB = append(b.KB, knowledge.SearchDoc(r))
		}
		if removedKB, err = x.Store.KBRemoved(ctx); err != nil {
			return err
		}
		for _, id := range removedKB {
			b.DeleteKB = append(b.DeleteKB, knowledge.ChunkID(id))
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := x.Index.Apply(ctx, &b); err != nil {
		return err
	}
	if err := x.Store.ClearKBRemoved(ctx, removedKB); err != nil {
		return err
	}
	x.indexed.With("kb", "upsert").Add(uint64(len(b.KB)))
	x.indexed.With("kb", "delete").Add(uint64(len(b.DeleteKB)))
	x.indexed.With("message", "upsert").Add(uint64(len(b.Messages)))
	x.indexed.With("message", "delete").Add(uint64(len(b.DeleteMessages)))
	x.indexed.With("contact", "upsert").Add(uint64(len(b.Contacts)))
	x.indexed.With("contact", "delete").Add(uint64(len(b.DeleteContacts)))
	return nil
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		if k != 0 {
			out = append(out, k)
		}
	}
	return out
}

// Message maps a store row to a search document.
func Message(r store.IndexMessage) search.Message {
	return search.Message{ID: r.ID, ConversationID: r.ConversationID, ContactID: r.ContactID, AgentID: r.AgentID,
		Direction: r.Direction, Type: r.Type, Status: r.Status, Labels: r.Labels, Text: r.Text, At: r.At}
}

// Contact maps a store row to a search document.
func Contact(r store.IndexContact) search.Contact {
	phone := ""
	if r.Phone != "" {
		phone = "+" + r.Phone
	}
	return search.Contact{ID: r.ID, Name: r.Name, Phone: phone, Username: r.Username, Email: r.Email, Notes: r.Notes,
		Tags: r.Tags, Attributes: r.Attributes}
}

// Source reads the store for a full rebuild of the index.
type Source struct{ Store *store.Store }

// Messages implements search.Source.
func (s Source) Messages(ctx context.Context, afterID int64, limit int) ([]search.Message, error) {
	rows, err := s.Store.IndexMessages(ctx, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]search.Message, len(rows))
	for i, r := range rows {
		out[i] = Message(r)
	}
	return out, nil
}

// Contacts implements search.Source.
func (s Source) Contacts(ctx context.Context, afterID int64, limit int) ([]search.Contact, error) {
	rows, err := s.Store.IndexContacts(ctx, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]search.Contact, len(rows))
	for i, r := range rows {
		out[i] = Contact(r)
	}
	return out, nil
}

// KB implements search.Source.
func (s Source) KB(ctx context.Context, afterID string, limit int) ([]search.KBChunk, error) {
	after := int64(0)
	if afterID != "" {
		var err error
		if after, err = knowledge.ParseChunkID(afterID); err != nil {
			return nil, err
		}
	}
	rows, err := s.Store.IndexKB(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]search.KBChunk, len(rows))
	for i, r := range rows {
		out[i] = knowledge.SearchDoc(r)
	}
	return out, nil
}

// Count implements search.Source.
func (s Source) Count(ctx context.Context) (messages, contacts, kb int, err error) {
	if messages, contacts, err = s.Store.CountForIndex(ctx); err != nil {
		return 0, 0, 0, err
	}
	kb, err = s.Store.CountKB(ctx)
	return messages, contacts, kb, err
}
