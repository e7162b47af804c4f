// Package embed runs sendbox's message broker: an embedded NATS server with
// JetStream storing its streams under the data folder, or, when a URL is
// configured, a connection to an external NATS cluster with the very same
// streams and consumers; and the relay that feeds it from the store's
// transactional outbox.
//
// Streams hold in-flight work only; SQLite is the system of record.
package embed

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"sendbox/events"
)

// PullExpiry is how long the workers' pull requests last before they are
// renewed. A worker notices a pull the server lost (the broker reloaded
// after a failed write, see Heal) when two heartbeats, half of this each,
// are missed: 10 s rather than nats.go's default of 30.
const PullExpiry = 10 * time.Second

// Options configures the broker.
type Options struct {
	DataDir  string // JetStream files go to DataDir/jetstream
	URL      string // external NATS; "" runs the embedded server
	Replicas int    // stream replicas on an external cluster
	// FsyncAlways makes the embedded server sync every write to disk before
	// acknowledging it; otherwise it syncs every second.
	FsyncAlways bool
	MaxStore    int64 // bytes of JetStream file storage (default 10 GiB)
	// MaxPayload is the largest body sendbox publishes: the webhook limit.
	// The embedded server is configured to carry it; an external server's
	// own max_payload is checked against it (0: NATS's default of 1 MiB).
	MaxPayload int64
	Logger     *slog.Logger
}

// PayloadHeadroom is what a publication carries besides its body: NATS
// counts the headers (the Nats-Msg-Id that deduplicates a webhook, and their
// framing) against max_payload too.
const PayloadHeadroom = 4 << 10

// Broker is a connected JetStream with sendbox's streams in place.
type Broker struct {
	NC *nats.Conn
	JS jetstream.JetStream
	// pubNC carries Publish (the webhooks) alone: on NC, a webhook's
	// publish and its acknowledgement queued behind the outbox relay's
	// bursts of hundreds of asynchronous publishes, the consumers' pulls
	// and acks, in both directions of one connection.
	pubNC    *nats.Conn
	pubJS    jetstream.JetStream
	srv      *server.Server // nil with an external NATS
	storeDir string         // the embedded server's StoreDir
	replicas int
	log      *slog.Logger
	healMu   sync.Mutex // one Heal at a time
	// writeFailed is set when the embedded server reports a failed write
	// to its files, until Heal reloads them.
	writeFailed atomic.Bool
}

// Start starts the embedded server (or connects to the external one) and
// creates or updates the streams.
func Start(ctx context.Context, o Options) (*Broker, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Broker{log: log}
	var err error
	if o.URL == "" {
		dir := filepath.Join(o.DataDir, "jetstream")
		b.storeDir = dir
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("broker folder: %w", err)
		}
		maxStore := o.MaxStore
		if maxStore == 0 {
			maxStore = 10 << 30
		}
		opts := &server.Options{
			ServerName:         "sendbox",
			DontListen:         true, // in-process only: nothing to secure on the network
			JetStream:          true,
			StoreDir:           dir,
			JetStreamMaxMemory: 64 << 20,
			JetStreamMaxStore:  maxStore,
			NoSigs:             true, // sendbox owns signals and closes the store itself
			SyncInterval:       time.Second,
			SyncAlways:         o.FsyncAlways,
		}
		if o.MaxPayload > 0 {
			// NATS refuses bodies over 1 MiB by default, and a webhook
			// refused for its size is refused again on every retry.
			opts.MaxPayload = int32(o.MaxPayload + PayloadHeadroom)
		}
		if b.srv, err = server.NewServer(opts); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		b.srv.SetLoggerV2(&natsLogger{log: log.With(slog.String("component", "nats")), failed: &b.writeFailed}, false, false, false)
		go b.srv.Start()
		if !b.srv.ReadyForConnections(30 * time.Second) {
			b.srv.Shutdown()
			return nil, errors.New("broker: the embedded NATS server did not become ready in 30 s")
		}
	}
	connect := func(name string) (*nats.Conn, error) {
		if b.srv != nil {
			return nats.Connect("", nats.InProcessServer(b.srv), nats.Name(name), nats.MaxReconnects(-1))
		}
		return nats.Connect(o.URL, nats.Name(name), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
			nats.ReconnectWait(time.Second))
	}
	if b.NC, err = connect("sendbox"); err == nil {
		b.pubNC, err = connect("sendbox-webhooks")
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("broker connect: %w", err)
	}
	if b.pubJS, err = jetstream.New(b.pubNC); err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	// A write the server fails (the disk full) is never answered: without
	// a timeout, the outbox relay's asynchronous publishes would wait for
	// their acknowledgements for ever, and nothing more would be relayed.
	if b.JS, err = jetstream.New(b.NC, jetstream.WithPublishAsyncTimeout(10*time.Second)); err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	replicas := max(1, o.Replicas)
	if o.URL == "" {
		replicas = 1
	}
	b.replicas = replicas
	for _, sc := range streamConfigs(replicas) {
		if err := b.ensureStream(ctx, sc); err != nil {
			b.Close()
			return nil, err
		}
	}
	// The streams answered, so the server's INFO, and its max_payload, is known.
	if err := checkPayload(b.NC.MaxPayload(), o.MaxPayload); err != nil {
		b.Close()
		return nil, err
	}
	b.dropAcked(ctx)
	return b, nil
}

// dropAcked removes from the work-queue streams what their consumers have
// already acknowledged. Such a stream deletes a message once it is
// acknowledged, but a deletion that did not reach the disk (a full disk)
// brings the message back at the next start or reload, below its
// consumer's ack floor, where no consumer will ever take it again: the
// queue then looks busy for ever, and the assistant, which waits while
// ingest has a backlog, waits for ever. Only what a consumer's filter takes
// and its ack floor covers is removed. A failure is logged and tried again
// at the next start or reload.
func (b *Broker) dropAcked(ctx context.Context) {
	for _, name := range []string{events.StreamInbound, events.StreamOutbound, events.StreamJobs} {
		s, err := b.JS.Stream(ctx, name)
		if err != nil {
			continue
		}
		infos := s.ListConsumers(ctx)
		for info := range infos.Info() {
			floor := info.AckFloor.Stream
			subjects := info.Config.FilterSubjects
			if info.Config.FilterSubject != "" {
				subjects = append(subjects, info.Config.FilterSubject)
			}
			if floor == 0 || len(subjects) == 0 || s.CachedInfo().State.FirstSeq > floor {
				continue
			}
			for _, subj := range subjects {
				if err := s.Purge(ctx, jetstream.WithPurgeSubject(subj), jetstream.WithPurgeSequence(floor+1)); err != nil {
					b.log.Warn("drop acknowledged messages left in a work queue", slog.String("stream", name),
						slog.String("consumer", info.Name), slog.Any("err", err))
				}
			}
		}
		if err := infos.Err(); err != nil {
			b.log.Warn("list the consumers of a work queue", slog.String("stream", name), slog.Any("err", err))
		}
	}
}

// checkPayload refuses an external server that cannot carry the largest
// webhook. Lowering the webhook limit to fit instead would bring back the
// bug the limit exists to prevent: Meta would get 413 for the same bytes on
// every retry, for days, and might disable the subscription, while sendbox
// looked healthy. Refusing to start puts the choice in the operator's hands
// at once, with both ways out named: raise max_payload on the server, or
// lower SENDBOX_WEBHOOK_MAX_BYTES knowingly.
func checkPayload(serverMax, need int64) error {
	if need <= 0 || serverMax >= need+PayloadHeadroom {
		return nil
	}
	return fmt.Errorf("broker: the NATS server accepts messages of at most %d bytes (its max_payload), "+
		"but webhooks up to %d bytes (SENDBOX_WEBHOOK_MAX_BYTES) must fit in one, with %d bytes of headers: "+
		"set max_payload on the NATS server to %dMB (NATS's MB are MiB), or SENDBOX_WEBHOOK_MAX_BYTES to %d or less",
		serverMax, need, PayloadHeadroom, (need+PayloadHeadroom+1<<20-1)>>20, max(0, serverMax-PayloadHeadroom))
}

func streamConfigs(replicas int) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{Name: events.StreamInbound, Subjects: []string{events.SubjectsInbound}, Storage: jetstream.FileStorage,
			Retention: jetstream.WorkQueuePolicy, Duplicates: 2 * time.Minute, MaxAge: 7 * 24 * time.Hour, Replicas: replicas,
			Description: "signature-checked webhook bodies waiting to be ingested"},
		{Name: events.StreamOutbound, Subjects: []string{events.SubjectsOutbound}, Storage: jetstream.FileStorage,
			Retention: jetstream.WorkQueuePolicy, Duplicates: 2 * time.Minute, MaxAge: 7 * 24 * time.Hour, Replicas: replicas,
			Description: "messages waiting for the sender"},
		{Name: events.StreamEvents, Subjects: []string{events.SubjectsEvents}, Storage: jetstream.FileStorage,
			Retention: jetstream.LimitsPolicy, Duplicates: 2 * time.Minute, MaxAge: 72 * time.Hour, MaxBytes: 1 << 30,
			Replicas: replicas, Description: "domain events for search, live updates and automations"},
		{Name: events.StreamJobs, Subjects: []string{events.SubjectsJobs}, Storage: jetstream.FileStorage,
			Retention: jetstream.WorkQueuePolicy, Duplicates: 2 * time.Minute, MaxAge: 7 * 24 * time.Hour, Replicas: replicas,
			Description: "background jobs"},
	}
}

// ensureStream creates the stream or updates it to the wanted config,
// retrying briefly: on a cluster the first calls may wait for a leader. A
// stream already as wanted is left alone: an update rewrites its metadata
// file, which fails on a full disk, and sendbox must start there. For the
// same reason an existing stream whose update fails is used as it is.
func (b *Broker) ensureStream(ctx context.Context, sc jetstream.StreamConfig) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, serr := b.JS.Stream(cctx, sc.Name)
		if serr == nil && sameStream(s.CachedInfo().Config, sc) {
			cancel()
			return nil
		}
		_, err = b.JS.CreateOrUpdateStream(cctx, sc)
		cancel()
		if err == nil {
			return nil
		}
		if serr == nil {
			b.log.Warn("stream kept as it is: it could not be updated", slog.String("stream", sc.Name), slog.Any("err", err))
			return nil
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("stream %s: %w", sc.Name, err)
}

// Publish stores data on subject, deduplicated by msgID within the stream's
// window, and returns once the broker has it. dup reports a duplicate.
func (b *Broker) Publish(ctx context.Context, subject string, data []byte, msgID string) (dup bool, err error) {
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	ack, err := b.pubJS.Publish(ctx, subject, data, opts...)
	if err != nil {
		return false, err
	}
	return ack.Duplicate, nil
}

// redeliverPending has every consumer deliver again, at once, what it had
// delivered and not yet seen acknowledged. After a reload, that work would
// otherwise wait out its ack wait (a minute for webhooks, five for media):
// the workers that held it lost their pulls with the reload. Consumers are
// idempotent, so work that is done twice changes nothing.
func (b *Broker) redeliverPending(ctx context.Context) {
	for _, name := range events.Streams() {
		s, err := b.JS.Stream(ctx, name)
		if err != nil {
			continue
		}
		names := s.ConsumerNames(ctx)
		for c := range names.Name() {
			// A reset without a sequence goes back to the ack floor.
			msg, err := b.NC.RequestWithContext(ctx, fmt.Sprintf("$JS.API.CONSUMER.RESET.%s.%s", name, c), []byte("{}"))
			var resp struct {
				Error *struct {
					Description string `json:"description"`
				} `json:"error"`
			}
			if err == nil {
				err = json.Unmarshal(msg.Data, &resp)
			}
			if err == nil && resp.Error != nil {
				err = errors.New(resp.Error.Description)
			}
			if err != nil {
				b.log.Warn("redeliver a consumer's pending work after the reload", slog.String("stream", name),
					slog.String("consumer", c), slog.Any("err", err))
			}
		}
	}
}

// sameStream reports whether a stream's config has everything sendbox asks
// for in want.
func sameStream(got, want jetstream.StreamConfig) bool {
	return slices.Equal(got.Subjects, want.Subjects) && got.Storage == want.Storage && got.Retention == want.Retention &&
		got.Duplicates == want.Duplicates && got.MaxAge == want.MaxAge && got.MaxBytes == cmp.Or(want.MaxBytes, -1) &&
		got.Replicas == max(1, want.Replicas) && got.Description == want.Description
}

// Consumer creates or updates a durable pull consumer on stream. One
// already as wanted is left alone, and one that cannot be updated is used
// as it is, as streams are (see ensureStream).
func (b *Broker) Consumer(ctx context.Context, stream string, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	old, oerr := b.JS.Consumer(ctx, stream, cfg.Durable)
	if oerr == nil && sameConsumer(old.CachedInfo().Config, cfg) {
		return old, nil
	}
	c, err := b.JS.CreateOrUpdateConsumer(ctx, stream, cfg)
	if err != nil && oerr == nil {
		b.log.Warn("consumer kept as it is: it could not be updated", slog.String("consumer", cfg.Durable), slog.Any("err", err))
		return old, nil
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", cfg.Durable, stream, err)
	}
	return c, nil
}

// sameConsumer reports whether a consumer's config has every field sendbox
// sets in want; those it leaves zero take the server's defaults.
func sameConsumer(got, want jetstream.ConsumerConfig) bool {
	same := func(g, w any, zero bool) bool { return zero || g == w }
	return got.AckPolicy == want.AckPolicy && got.DeliverPolicy == want.DeliverPolicy &&
		same(got.AckWait, want.AckWait, want.AckWait == 0 || len(want.BackOff) > 0) && // the server sets it to BackOff[0]
		same(got.MaxAckPending, want.MaxAckPending, want.MaxAckPending == 0) &&
		same(got.MaxDeliver, want.MaxDeliver, want.MaxDeliver == 0) &&
		got.FilterSubject == want.FilterSubject && slices.Equal(got.FilterSubjects, want.FilterSubjects) &&
		slices.Equal(got.BackOff, want.BackOff)
}

// Depth returns the number of messages held by one stream.
func (b *Broker) Depth(ctx context.Context, stream string) (uint64, error) {
	s, err := b.JS.Stream(ctx, stream)
	if err != nil {
		return 0, err
	}
	return s.CachedInfo().State.Msgs, nil
}

// StreamDepths returns the number of messages held by each stream.
func (b *Broker) StreamDepths(ctx context.Context) map[string]uint64 {
	out := map[string]uint64{}
	for _, name := range events.Streams() {
		s, err := b.JS.Stream(ctx, name)
		if err != nil {
			continue
		}
		out[name] = s.CachedInfo().State.Msgs
		if info, err := s.Info(ctx); err == nil {
			out[name] = info.State.Msgs
		}
	}
	return out
}

// Ready reports whether the broker can take work.
func (b *Broker) Ready(ctx context.Context) error {
	if b.NC == nil || !b.NC.IsConnected() {
		return errors.New("broker not connected")
	}
	if _, err := b.JS.AccountInfo(ctx); err != nil {
		return err
	}
	return b.writeError()
}

// errWriteFailed is what Ready returns after the server failed a write.
var errWriteFailed = errors.New("the broker failed to write to its files (the disk full?); it reloads them once the disk has room")

// WriteFailed reports whether the embedded server failed a write to its
// files and has not been reloaded since: a stream whose write failed (the
// disk full) refuses every later write, even once space is back, until it
// is reloaded (see Heal), and a publish to it waits for its timeout. Cheap
// enough for the webhook path.
func (b *Broker) WriteFailed() bool { return b.writeFailed.Load() }

// writeError returns the embedded server's write error, if any. A failed
// write may show only in the server's log (a stream's files refuse writes
// before the stream itself knows), or in its health check.
func (b *Broker) writeError() error {
	if b.srv == nil {
		return nil // an external server is watched by its own operator
	}
	if h := b.srv.Healthz(nil); h.Error != "" {
		return errors.New(h.Error)
	}
	if b.writeFailed.Load() {
		return errWriteFailed
	}
	return nil
}

// Heal reloads the embedded JetStream after a stream write error, so that
// it takes writes again without a restart of sendbox. The streams keep
// every message stored before the failure, and the consumers their state;
// pulls pending in workers resume within their heartbeat (30 s at most).
// Call it once the disk has room again; it does nothing while the broker
// is healthy, or with an external NATS.
func (b *Broker) Heal(ctx context.Context) (healed bool, err error) {
	b.healMu.Lock()
	defer b.healMu.Unlock()
	werr := b.writeError()
	if werr == nil || !strings.Contains(werr.Error(), "write error") && !errors.Is(werr, errWriteFailed) {
		return false, nil
	}
	b.log.Warn("reloading the broker's streams after a write error", slog.Any("err", werr))
	cfg := *b.srv.JetStreamConfig()
	cfg.StoreDir = b.storeDir  // the server reports it with the "jetstream" it appends
	b.writeFailed.Store(false) // a write failing from here on fails the reload's check
	if err := b.srv.DisableJetStream(); err != nil {
		return false, fmt.Errorf("broker: stop JetStream to reload it: %w", err)
	}
	if err := b.srv.EnableJetStream(&cfg); err != nil {
		b.writeFailed.Store(true)
		return false, fmt.Errorf("broker: reload JetStream: %w", err)
	}
	for _, sc := range streamConfigs(b.replicas) {
		if err := b.ensureStream(ctx, sc); err != nil {
			return false, err
		}
	}
	if err := b.writeError(); err != nil {
		return false, fmt.Errorf("broker: still failing after a reload: %w", err)
	}
	b.dropAcked(ctx)
	b.redeliverPending(ctx)
	b.log.Warn("broker streams reloaded: they take writes again")
	return true, nil
}

// Close drains the connection and shuts the embedded server down.
func (b *Broker) Close() {
	if b.pubNC != nil {
		b.pubNC.Close() // Publish waits for its own answer: nothing in flight to drain
	}
	if b.NC != nil {
		if err := b.NC.Drain(); err == nil {
			deadline := time.Now().Add(5 * time.Second)
			for b.NC.IsDraining() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		b.NC.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// natsLogger sends the NATS server's log lines to slog, and notes a failed
// write: the server says so only in its log, and in a stream's health once
// a publish to that stream has failed too.
type natsLogger struct {
	log    *slog.Logger
	failed *atomic.Bool
}

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.Contains(msg, "ritical write error") { // "Critical write error", "critical write error"
		l.failed.Store(true)
	}
	l.log.Error(msg)
}
func (l *natsLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Tracef(format string, v ...any) {}
