// Package app wires sendbox together: it opens the store, the broker and
// the search index, starts the workers and the background jobs in order,
// hands the HTTP front (package server) what it serves, and closes it all
// in the reverse order.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sendbox/campaigns"
	"sendbox/flows"
	"sync"
	"time"

	"sendbox/assistant"
	"sendbox/business"
	"sendbox/config"
	"sendbox/contacts"
	"sendbox/embed"
	"sendbox/events"
	"sendbox/guard"
	"sendbox/inbox"
	"sendbox/indexing"
	"sendbox/knowledge"
	"sendbox/llm"
	"sendbox/media"
	"sendbox/metrics"
	"sendbox/netguard"
	"sendbox/notify"
	"sendbox/outbound"
	"sendbox/schedule"
	"sendbox/search"
	"sendbox/secrets"
	"sendbox/server"
	"sendbox/store"
	"sendbox/ui"
	"sendbox/whatsapp"
	"sendbox/whatsapp/sim"
)

// App is one running sendbox.
type App struct {
	Config *config.Config
	Log    *slog.Logger

	Store    *store.Store
	Broker   *embed.Broker
	Metrics  *metrics.Registry
	Graph    *whatsapp.Client
	Sim      *sim.Simulator // nil unless in sandbox mode
	Outbound *outbound.Service
	Panel    *ui.Panel
	Search   *search.Index
	// LLM is the Ollama client; it need not be reachable.
	LLM       *llm.Client
	KB        *knowledge.Base
	Assistant *assistant.Assistant
	// Flows runs the automation flows: the router's first answerer.
	Flows *flows.Engine
	// Mailer is the SMTP server of SENDBOX_SMTP_URL; nil without one.
	Mailer *notify.Mailer
	// Imports imports contacts from CSV files in the background.
	Imports *contacts.Importer
	// Scheduler fires durable timers (snoozes waking, and what comes next).
	Scheduler *schedule.Scheduler
	Campaigns *campaigns.Service
	// HTTP is the front: webhook, REST API, panel routes, listeners.
	HTTP *server.Server
	// Secrets keeps the named secrets (API tokens) flows send to other
	// services, encrypted under a key kept outside the database; Reveal
	// gives a value to the code that sends it.
	Secrets *secrets.Box
	// HTTPClient is for requests to addresses a business writes (a flow's
	// HTTP step): it refuses private and loopback addresses except the
	// hosts of SENDBOX_HTTP_ALLOW_HOSTS (and, in sandbox mode, sendbox's
	// own address, where the demo catalogue answers); bodies over 1 MiB
	// fail to read with *netguard.BodyTooLargeError.
	HTTPClient *http.Client

	relay    *embed.Relay
	ingest   *inbox.Ingestor
	sender   *outbound.Sender
	media    *media.Downloader
	indexer  *indexing.Indexer
	urgent   *notify.Urgent // e-mails about urgent conversations; nil without SMTP
	disk     *diskWatch
	ctl      *control
	bgCancel context.CancelFunc

	appSecret   []byte
	verifyToken string

	closeOnce sync.Once
	closeErr  error
}

// New starts everything but the HTTP server, in order: listener (so the
// simulator knows its own address), store, broker, simulator, outbox relay,
// workers. On error, what was started is closed again.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (a *App, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a = &App{Config: cfg, Log: log, Metrics: metrics.NewRegistry()}
	defer func() {
		if err != nil {
			a.Close(context.Background())
			a = nil
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return a, fmt.Errorf("data folder %s: %w", cfg.DataDir, err)
	}
	if a.HTTP, err = server.Listen(ctx, cfg, a.Metrics, log); err != nil {
		return a, err
	}

	if a.Store, err = store.Open(ctx, cfg.Path("sendbox.db"), log.With(slog.String("component", "store"))); err != nil {
		return a, err
	}
	if err := a.openSecrets(ctx); err != nil {
		return a, err
	}
	a.Broker, err = embed.Start(ctx, embed.Options{DataDir: cfg.DataDir, URL: cfg.NATSURL, Replicas: cfg.NATSReplicas,
		FsyncAlways: cfg.Fsync == "always", MaxPayload: cfg.WebhookMaxBytes, Logger: log})
	if err != nil {
		return a, err
	}
	if err := a.setupWhatsApp(); err != nil {
		return a, err
	}
	a.HTTPClient = a.outboundClient()
	if a.Search, err = search.Open(search.Options{Dir: cfg.Path("search"), DefaultLang: "en",
		Logger: log.With(slog.String("component", "search"))}); err != nil {
		return a, fmt.Errorf("search index: %w", err)
	}

	a.disk = newDiskWatch(cfg.DataDir, cfg.DiskFloor, log.With(slog.String("component", "disk")))
	a.relay = embed.NewRelay(a.Store, a.Broker, a.Metrics, log.With(slog.String("component", "relay")))
	a.relay.Hold = a.disk.critical.Load
	a.Store.Notify = a.relay.Notify
	bg, cancel := context.WithCancel(context.Background())
	a.bgCancel = cancel
	go a.relay.Run(bg)
	go a.disk.run(bg, a.healBroker(bg))
	// The scheduler's effects go out through the outbox, so it starts after
	// the relay; timers due during a downtime fire now, once each, in order.
	a.Scheduler = schedule.New(a.Store, a.Metrics, log.With(slog.String("component", "schedule")))
	a.Scheduler.Handle(store.TimerSnoozeWake, inbox.WakeSnooze)
	a.Store.Location = a.businessLocation(ctx) // segment rules count days in the business's zone
	a.Outbound = &outbound.Service{Store: a.Store, PhoneNumberID: a.Graph.PhoneNumberID, Graph: a.Graph}
	a.Flows = &flows.Engine{Store: a.Store, Outbound: a.Outbound, Location: a.businessLocation(ctx),
		HTTP: a.HTTPClient, Secret: a.Secrets.Reveal, CatalogueURL: a.SandboxCatalogueURL(),
		Log: log.With(slog.String("component", "flows"))}
	if err := a.Flows.Reload(ctx); err != nil {
		return a, fmt.Errorf("flows: %w", err)
	}
	a.Scheduler.Handle(store.TimerFlowRun, a.Flows.FireTimer)
	a.Scheduler.Handle(store.TimerFlowSchedule, a.Flows.FireSchedule)
	a.Scheduler.Handle(store.TimerFlowSilence, a.Flows.FireSilence)
	a.Campaigns = &campaigns.Service{Store: a.Store, Outbound: a.Outbound, Flows: a.Flows, Location: a.businessLocation(ctx),
		MPS: cfg.WA.MPS, BulkShare: float64(cfg.WA.BulkShare) / 100, Log: log.With(slog.String("component", "campaigns"))}
	a.Campaigns.BaseURL = func() string { return cmp.Or(a.Config.PublicURL(), a.URL()) }
	a.Campaigns.Sandbox = cfg.Sandbox()
	a.Scheduler.Handle(store.TimerCampaignLaunch, a.Campaigns.FireLaunch)
	if err := a.Flows.StartHTTPWorker(bg, a.Broker, 4); err != nil {
		return a, fmt.Errorf("flows: %w", err)
	}
	if err := a.Flows.StartTriggerWorkers(bg, a.Broker); err != nil {
		return a, fmt.Errorf("flows: %w", err)
	}
	a.Store.TimerAdded = a.Scheduler.Notify
	go a.Scheduler.Run(bg)
	// Contacts imports write through the outbox too; one interrupted by a
	// stop resumes here from its last committed batch.
	a.Imports = contacts.NewImporter(a.Store, cfg.Path("imports"), log.With(slog.String("component", "imports")))
	// The retention sweep runs once before anyone can erase a contact or
	// start an import: what a stop left behind (an ended import's file, a
	// stray upload) is deleted now. Run repeats it every hour.
	a.Imports.Sweep(ctx, time.Now())
	go a.Imports.Run(bg)

	a.ingest = inbox.NewIngestor(a.Store, a.Broker, a.Metrics, log.With(slog.String("component", "ingest")))
	if err := a.ingest.Start(ctx); err != nil {
		return a, err
	}
	a.sender = &outbound.Sender{Store: a.Store, Broker: a.Broker, Client: a.Graph, MPS: cfg.WA.MPS, BulkShare: float64(cfg.WA.BulkShare) / 100, Metrics: a.Metrics,
		Log: log.With(slog.String("component", "sender"))}
	if err := a.sender.Start(ctx); err != nil {
		return a, err
	}
	a.media = &media.Downloader{Store: a.Store, Broker: a.Broker, Client: a.Graph, DataDir: cfg.DataDir,
		MaxBytes: cfg.MediaMaxBytes, Hold: a.disk.low.Load, Metrics: a.Metrics, Log: log.With(slog.String("component", "media"))}
	if err := a.media.Start(ctx); err != nil {
		return a, err
	}
	a.indexer = &indexing.Indexer{Store: a.Store, Index: a.Search, Broker: a.Broker, Metrics: a.Metrics,
		Log: log.With(slog.String("component", "indexer"))}
	if err := a.indexer.Start(ctx); err != nil {
		return a, err
	}
	go guard.Do(log, "initial search index", func() { a.initialIndex(bg) })
	if err := a.startAssistant(ctx, bg); err != nil {
		return a, err
	}
	if err := a.startUrgentMail(ctx); err != nil {
		return a, err
	}
	a.Campaigns.Notify = notify.CampaignPaused(a.Mailer, a.Store, cmp.Or(a.Config.PublicURL(), a.URL()), log.With(slog.String("component", "campaigns")))
	a.registerGauges()
	a.Panel, err = ui.New(ui.Deps{Store: a.Store, Outbound: a.Outbound, Graph: a.Graph, Sim: a.Sim, NC: a.Broker.NC,
		Config: cfg, Log: log.With(slog.String("component", "panel")), BaseURL: a.URL(), VerifyToken: a.verifyToken,
		TLS: a.TLSEnabled(), OnKeyRevoked: a.HTTP.ForgetKey, Search: a.Search,
		Assistant: a.Assistant, KB: a.KB, LLM: a.LLM, Mailer: a.Mailer, Metrics: a.Metrics, Flows: a.Flows, Campaigns: a.Campaigns,
		Imports:     a.Imports,
		IndexStatus: func() (uint64, time.Time) { return a.indexer.Pending(), a.indexer.LastIndexed() },
		Disk:        a.disk.Low})
	if err != nil {
		return a, fmt.Errorf("panel: %w", err)
	}
	go a.jobs(bg)
	go a.Campaigns.Run(bg)
	a.HTTP.Mount(server.Deps{Store: a.Store, Broker: a.Broker, Graph: a.Graph, Sim: a.Sim, Outbound: a.Outbound,
		Panel: a.Panel, Search: a.Search, LLM: a.LLM, KB: a.KB, Assistant: a.Assistant, Flows: a.Flows, Campaigns: a.Campaigns,
		Imports: a.Imports,
		Secrets: a.Secrets, AppSecret: a.appSecret, VerifyToken: a.verifyToken, Inbound: a.sender.Inbound,
		DiskFull: func() (bool, string) {
			if !a.disk.low.Load() {
				return false, ""
			}
			return true, a.disk.reason()
		}})
	if err := a.startControl(); err != nil {
		return a, err
	}
	return a, nil
}

// startAssistant starts the Ollama client's probe, the knowledge base's
// embedder and the assistant. Ollama need not be running: the assistant
// then quotes the knowledge base, and picks the model up when it appears.
func (a *App) startAssistant(ctx, bg context.Context) error {
	var err error
	if a.LLM, err = llm.New(a.Config.OllamaURL, a.Log.With(slog.String("component", "llm"))); err != nil {
		return err
	}
	a.LLM.Registries = a.Config.OllamaRegistries
	go a.LLM.Run(bg)
	a.KB = &knowledge.Base{Store: a.Store, Index: a.Search, Embedder: a.LLM, Log: a.Log.With(slog.String("component", "knowledge"))}
	a.Assistant = &assistant.Assistant{Store: a.Store, Broker: a.Broker, Outbound: a.Outbound, KB: a.KB, Model: a.LLM,
		Typing:  func(ctx context.Context, wamid string) error { return a.Graph.MarkRead(ctx, wamid, true) },
		Busy:    a.ingestBusy(),
		Timeout: a.Config.AITimeout, Workers: a.Config.AIWorkers, Metrics: a.Metrics,
		Log: a.Log.With(slog.String("component", "assistant"))}
	a.Assistant.Router = &inbox.Router{Store: a.Store, Answerers: []inbox.Answerer{a.Flows, a.Campaigns.Replies(), a.Assistant}}
	a.KB.EmbedModel = a.Assistant.EmbedModel
	if err := a.Assistant.Start(ctx); err != nil {
		return fmt.Errorf("assistant: %w", err)
	}
	// The flows' ai steps answer with the assistant, as many at once as
	// its own turns (a local model serves one request at a time).
	a.Flows.AI = a.Assistant
	if err := a.Flows.StartAIWorker(bg, a.Broker, a.Config.AIWorkers); err != nil {
		return fmt.Errorf("flows: %w", err)
	}
	// The business profile is knowledge too: write it on first start, and
	// again when this sendbox writes it otherwise than the last one did
	// (SyncProfile changes nothing when it is written as it is).
	p, err := business.Load(ctx, a.Store)
	if err != nil {
		return err
	}
	if err := a.KB.SyncProfile(ctx, p); err != nil {
		return fmt.Errorf("knowledge base: %w", err)
	}
	go a.KB.RunEmbedder(bg)
	return nil
}

// startUrgentMail e-mails people about urgent conversations when an SMTP
// server is configured.
func (a *App) startUrgentMail(ctx context.Context) error {
	if a.Config.SMTPURL == "" {
		return nil
	}
	var err error
	if a.Mailer, err = notify.NewMailer(a.Config.SMTPURL); err != nil {
		return err
	}
	a.urgent = &notify.Urgent{Store: a.Store, Broker: a.Broker, Mailer: a.Mailer,
		BaseURL: cmp.Or(a.Config.PublicURL(), a.URL()), Metrics: a.Metrics,
		Log: a.Log.With(slog.String("component", "notify"))}
	return a.urgent.Start(ctx)
}

// healBroker returns what the disk watch calls every second: every five
// seconds while the disk has room, it has the broker reload streams that a
// failed write (the disk full) left refusing writes.
func (a *App) healBroker(ctx context.Context) func(low bool) {
	var last time.Time
	return func(low bool) {
		if low || time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		if _, err := a.Broker.Heal(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("reload the broker after a write error; will retry", slog.Any("err", err))
		}
	}
}

// ingestBusy reports, from a reading at most 200 ms old, whether more than
// 500 webhooks wait to be stored.
func (a *App) ingestBusy() func() bool {
	var mu sync.Mutex
	var at time.Time
	var busy bool
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) < 200*time.Millisecond {
			return busy
		}
		at = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := a.Broker.Depth(ctx, events.StreamInbound)
		busy = err == nil && n > 500
		return busy
	}
}

// setupWhatsApp builds the Graph client: against Meta with credentials, or
// against the built-in simulator, served by this very process, in sandbox mode.
func (a *App) setupWhatsApp() error {
	cfg := a.Config
	httpClient := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
	}}
	if !cfg.Sandbox() {
		a.appSecret, a.verifyToken = []byte(cfg.WA.AppSecret), cfg.WA.VerifyToken
		a.Graph = &whatsapp.Client{BaseURL: cfg.WA.APIURL, Version: cfg.WA.APIVersion, PhoneNumberID: cfg.WA.PhoneNumberID,
			WABAID: cfg.WA.WABAID, AppID: cfg.WA.AppID, Token: cfg.WA.Token, HTTP: httpClient}
		return nil
	}
	sec, err := loadSandboxSecrets(cfg.Path("sandbox.json"))
	if err != nil {
		return err
	}
	// Explicit values win, so a test or a developer can pin them.
	a.appSecret = []byte(cmp.Or(cfg.WA.AppSecret, sec.AppSecret))
	a.verifyToken = cmp.Or(cfg.WA.VerifyToken, sec.VerifyToken)
	a.Sim, err = sim.New(sim.Options{
		PhoneNumberID:  sim.DefaultPhoneNumberID,
		WABAID:         sim.DefaultWABAID,
		Token:          sec.Token,
		AppSecret:      a.appSecret,
		WebhookURL:     a.URL() + "/webhooks/whatsapp",
		BaseURL:        a.URL() + "/sim/graph",
		MPS:            cfg.WA.MPS,
		StatusWebhooks: true,
		StateFile:      cfg.Path("simulator.json"),
		HTTPClient:     httpClient,
		Logger:         a.Log.With(slog.String("component", "simulator")),
	})
	if err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	a.Graph = &whatsapp.Client{BaseURL: a.URL() + "/sim/graph", Version: cfg.WA.APIVersion,
		PhoneNumberID: sim.DefaultPhoneNumberID, WABAID: sim.DefaultWABAID, AppID: cmp.Or(cfg.WA.AppID, sim.DefaultAppID),
		Token: sec.Token, HTTP: httpClient}
	return nil
}

// openSecrets loads the secret key (SENDBOX_SECRET_KEY, or the key file
// of the data folder, made on the first start) and opens the secrets
// sealed with it. Secrets sealed under another key are named in the log:
// they cannot be read, only set again.
func (a *App) openSecrets(ctx context.Context) error {
	key, source, err := secrets.LoadKey(a.Config.SecretKey, a.Config.DataDir)
	if err != nil {
		return err
	}
	if a.Secrets, err = secrets.New(a.Store, key); err != nil {
		return err
	}
	lost, err := a.Secrets.Unreadable(ctx)
	if err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	if len(lost) > 0 {
		a.Log.Warn("secrets were set under another secret key and cannot be read: set them again",
			slog.Any("names", lost), slog.String("key_from", source))
	}
	return nil
}

// outboundClient is the guarded client of flows' HTTP steps. In sandbox
// mode it may also reach sendbox itself, where the demo catalogue answers:
// the guard stays on for every other private address.
func (a *App) outboundClient() *http.Client {
	var self []string
	if a.Config.Sandbox() {
		if u, err := url.Parse(a.URL()); err == nil {
			self = append(self, u.Host)
		}
	}
	return netguard.NewClient(a.Config.HTTPAllowHosts, self...)
}

// SandboxCatalogueURL is the base URL of the demo auto-parts catalogue
// (GET …/compatibility?plate=…&part=…) that ready-made flows call in
// sandbox mode, or "" with Meta credentials, where it does not exist.
func (a *App) SandboxCatalogueURL() string {
	if a.Sim == nil {
		return ""
	}
	return a.URL() + "/sandbox/catalogue"
}

// AppSecret is the secret webhooks must be signed with.
func (a *App) AppSecret() []byte { return a.appSecret }

// VerifyToken is the webhook verify token.
func (a *App) VerifyToken() string { return a.verifyToken }

// URL is where this sendbox answers, e.g. http://127.0.0.1:8080 (see
// server.Server.URL).
func (a *App) URL() string { return a.HTTP.URL() }

// TLSEnabled reports whether sendbox serves HTTPS with an automatic
// certificate (a domain is configured).
func (a *App) TLSEnabled() bool { return a.Config.TLS.Domain != "" }

// Serve serves HTTP until Close (see server.Server.Serve).
func (a *App) Serve() error { return a.HTTP.Serve() }

// registerGauges adds the scrape-time gauges that read the broker.
func (a *App) registerGauges() {
	a.Metrics.GaugeVecFunc("sendbox_queue_depth", "Messages held by each broker stream (work waiting, or events kept).",
		[]string{"stream"}, func() []metrics.Sample {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var out []metrics.Sample
			for name, n := range a.Broker.StreamDepths(ctx) {
				out = append(out, metrics.Sample{Labels: []string{name}, Value: float64(n)})
			}
			return out
		})
}

// Run serves until ctx is done, then shuts down within the configured time.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.Serve() }()
	a.Log.Info("sendbox ready", slog.String("url", a.URL()), slog.Bool("sandbox", a.Sim != nil),
		slog.String("data", a.Config.DataDir))
	select {
	case err := <-errc:
		a.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	return a.Close(sctx)
}

// Close shuts down in the reverse order of New, within ctx. It is safe to
// call twice. The sender and the simulator stop first, while HTTP still
// serves, because in sandbox mode the simulator is reached over HTTP and
// posts its last status webhooks to this very server; then HTTP stops
// accepting, the ingest worker stores what it pulled, the outbox relay
// flushes, and the broker and the store close.
func (a *App) Close(ctx context.Context) error {
	a.closeOnce.Do(func() {
		var errs []error
		if a.HTTP != nil {
			a.HTTP.Stopping()
		}
		a.stopControl(ctx)
		if a.sender != nil {
			a.sender.Stop()
		}
		if a.media != nil {
			a.media.Stop()
		}
		if a.Assistant != nil {
			a.Assistant.Stop()
		}
		if a.urgent != nil {
			a.urgent.Stop()
		}
		if a.Sim != nil {
			if err := a.Sim.Close(); err != nil {
				errs = append(errs, fmt.Errorf("simulator: %w", err))
			}
		}
		if a.Panel != nil {
			a.Panel.Close() // ends the panels' event streams, which never go idle
		}
		if a.HTTP != nil {
			if err := a.HTTP.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			}
		}
		if a.ingest != nil {
			a.ingest.Stop()
		}
		if a.indexer != nil {
			a.indexer.Stop()
		}
		if a.bgCancel != nil {
			a.bgCancel()
			if a.Scheduler != nil {
				<-a.Scheduler.Done() // its last commit's events reach the relay's final flush
			}
			if a.Imports != nil {
				<-a.Imports.Done()
			}
			<-a.relay.Done()
		}
		if a.Broker != nil {
			a.Broker.Close()
		}
		if a.Search != nil {
			if err := a.Search.Close(); err != nil {
				errs = append(errs, fmt.Errorf("search index: %w", err))
			}
		}
		if a.Store != nil {
			if err := a.Store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: %w", err))
			}
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// businessLocation returns the business profile's time zone, read again
// at most once a minute.
func (a *App) businessLocation(ctx context.Context) func() *time.Location {
	var mu sync.Mutex
	var loc *time.Location
	var read time.Time
	return func() *time.Location {
		mu.Lock()
		defer mu.Unlock()
		if loc == nil || time.Since(read) > time.Minute {
			read = time.Now()
			if p, err := business.Load(context.WithoutCancel(ctx), a.Store); err == nil {
				loc = p.Location()
			} else if loc == nil {
				loc = time.UTC
			}
		}
		return loc
	}
}
