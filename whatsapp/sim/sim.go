// Package sim is a local stand-in for Meta's WhatsApp Cloud API.
//
// In sandbox mode (no Meta credentials) sendbox serves the simulator's
// Handler in place of graph.facebook.com: the sender calls it over real HTTP,
// it answers with Meta's bodies and error codes, and it posts signed status
// webhooks back to sendbox's real webhook endpoint. The admin panel's "test
// phone" and the REST API write as a customer through SendInbound, which goes
// through the same webhook path Meta would use. Tests and benchmarks use it as
// "the local Graph endpoint".
//
// What is simulated follows the shared docs (whatsapp-cloud-api.md): the send
// endpoint with its validation, throughput on a sliding one-second window
// of inbound and outbound arrivals (130429), pair rate (131056),
// undeliverable recipients (131026), template checks (132000/132001) and the
// 24-hour window (asynchronous 131047); mark-as-read and typing indicators;
// media upload, info, download and delete; the phone-number node; and sent →
// delivered → read status webhooks.
//
// Locking: Simulator.mu guards the customer state (chats, messages, windows,
// unreachable numbers, faults); Simulator.tplMu guards the templates.
// Simulator.rateMu guards the throughput window and the pair-rate buckets;
// the media store, the stats and each webhook queue have their own lock.
// The only nesting is s.mu, then a webhook queue's lock or the stats lock:
// a status is queued under s.mu so that a message's statuses keep their
// order. No lock is held across network I/O.
package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options, chosen to look like a freshly created test number.
const (
	DefaultPhoneNumberID       = "100000000000001"
	DefaultDisplayPhoneNumber  = "15550000001"
	DefaultWABAID              = "200000000000001"
	DefaultMPS                 = 80
	DefaultSentDelay           = 50 * time.Millisecond
	DefaultDeliveredDelay      = 250 * time.Millisecond
	DefaultAppID               = "300000000000001"
	DefaultTemplateReviewDelay = 3 * time.Second
)

// Bounds that keep the simulator's memory flat however long it runs.
const (
	maxChats         = 1000             // customers kept in the phone view (least recently active evicted)
	maxChatMessages  = 100              // messages kept per chat (oldest dropped)
	maxRecent        = 10000            // recent send requests kept for Stats
	maxMediaBytes    = 256 << 20        // media kept in memory (oldest evicted)
	windowDuration   = 24 * time.Hour   // customer service window
	typingDuration   = 25 * time.Second // a typing indicator is dismissed after this
	mediaURLTTL      = 5 * time.Minute  // media download URLs expire, like Meta's
	uploadedMediaTTL = 30 * 24 * time.Hour
)

// Options configure a Simulator. The zero value works: every field has a
// default suited to a local sandbox.
type Options struct {
	// PhoneNumberID, DisplayPhoneNumber and WABAID identify the simulated
	// business number (defaults DefaultPhoneNumberID, DefaultDisplayPhoneNumber,
	// DefaultWABAID).
	PhoneNumberID, DisplayPhoneNumber, WABAID string
	// Token is the Bearer token every Graph call must carry; a missing or
	// different one gets Meta's 401 code-190 OAuthException. "" disables the
	// check (only sensible in tests).
	Token string
	// AppSecret signs the webhooks the simulator posts (X-Hub-Signature-256).
	AppSecret []byte
	// WebhookURL is sendbox's POST /webhooks/whatsapp; "" posts no webhooks.
	WebhookURL string
	// BaseURL is the simulator's own external base, used to build media
	// download URLs, e.g. "http://127.0.0.1:8080/sim/graph".
	BaseURL string
	// MPS is the per-number throughput (default DefaultMPS): at most MPS
	// messages, inbound and outbound together, may arrive in any sliding
	// one-second window; a send beyond it gets 130429. A sender that spaces
	// its departures evenly still trips it when network jitter bunches the
	// arrivals, as with Meta.
	MPS int
	// NoPairRate turns off Meta's pair rate limit, which is on by default
	// (a plain "PairRate bool" could not default to on): per recipient, one
	// message per 6 s with bursts up to 45, beyond which sends get 131056.
	// Load tests that hammer a few recipients turn it off.
	NoPairRate bool
	// StatusWebhooks posts sent, then delivered (then read) status webhooks
	// for each accepted send, and failed ones for asynchronous errors.
	StatusWebhooks bool
	// SentDelay and DeliveredDelay are measured from acceptance (defaults
	// DefaultSentDelay, DefaultDeliveredDelay); a negative value means at once.
	SentDelay, DeliveredDelay time.Duration
	// AutoReadAfter > 0 also posts "read" this long after "delivered"; 0 posts
	// it only when the phone opens the chat (Phone with open=true).
	AutoReadAfter time.Duration
	// Templates are the approved templates; nil means DefaultTemplates().
	Templates []Template
	// AppID is the Meta app's id, for the Resumable Upload API (default
	// DefaultAppID).
	AppID string
	// TemplateReviewDelay is how long a created or edited template stays
	// PENDING before the simulated review approves or rejects it and posts
	// the message_template_status_update webhook (default
	// DefaultTemplateReviewDelay; negative: never on its own, tests decide
	// with SetTemplateStatus).
	TemplateReviewDelay time.Duration
	// StateFile, if set, persists chats, windows and unreachable numbers as
	// JSON (at most one write per second, and on Close) and is loaded by New.
	StateFile string
	// HTTPClient posts webhooks (default: a client with timeouts).
	HTTPClient *http.Client
	// Logger receives the simulator's log lines (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock for timestamps, windows and rate limits (default
	// time.Now); tests set it to step time without sleeping. Webhook delays
	// are real time.
	Now func() time.Time
}

// Simulator is a local, Graph-compatible WhatsApp Cloud API. It is safe for
// concurrent use. Create it with New and release it with Close.
type Simulator struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	ownHTTP  bool   // client was created here, so Close may drop its idle connections
	mediaKey []byte // signs media download URLs

	ctx    context.Context // cancelled by Close: stops retries and posters
	cancel context.CancelFunc
	closed atomic.Bool
	wg     sync.WaitGroup

	// tplMu guards templates, uploads and reviews: templates are created,
	// edited, reviewed and deleted through the management endpoints.
	tplMu         sync.RWMutex
	templates     map[string]map[string]*Template // name → language → template
	tplDeleted    map[string]bool                 // name/language of default templates deleted
	uploads       map[string]int                  // open upload session → its declared length
	review        time.Duration                   // see Options.TemplateReviewDelay
	tplHooks      chan templateHook               // template webhooks, posted in order; nil without a webhook URL
	scheduleLater []string                        // templates loaded PENDING, reviewed once started

	// mu guards everything below it up to rateMu.
	mu          sync.Mutex
	chats       map[string]*chat // by chat key (wa_id, or BSUID when the number is hidden)
	windows     map[string]int64 // chat key → unix seconds of the last inbound message
	windowsMax  int              // prune closed windows when the map grows past this
	unreachable map[string]bool
	byWAMID     map[string]*phoneMsg // messages still in some chat's ring
	faults      []Fault
	pacings     []Pacing     // guarded by mu
	pacingN     atomic.Int32 // len(pacings): sends skip the lock when 0
	dirty       bool         // state changed since the last save

	rateMu  sync.Mutex
	number  window
	pairs   map[string]*bucket
	pruneAt time.Time

	media *mediaStore

	stats statsRecorder

	hooks *poster // nil when no status webhooks are posted

	saveMu sync.Mutex // serialises state file writes
}

// New creates a Simulator, loading Options.StateFile if it exists, and
// starts its webhook workers when Options.StatusWebhooks and WebhookURL ask
// for them.
func New(opts Options) (*Simulator, error) {
	if opts.PhoneNumberID == "" {
		opts.PhoneNumberID = DefaultPhoneNumberID
	}
	if opts.DisplayPhoneNumber == "" {
		opts.DisplayPhoneNumber = DefaultDisplayPhoneNumber
	}
	if opts.WABAID == "" {
		opts.WABAID = DefaultWABAID
	}
	if opts.MPS <= 0 {
		opts.MPS = DefaultMPS
	}
	if opts.SentDelay == 0 {
		opts.SentDelay = DefaultSentDelay
	}
	if opts.DeliveredDelay == 0 {
		opts.DeliveredDelay = DefaultDeliveredDelay
	}
	opts.SentDelay = max(opts.SentDelay, 0)
	opts.DeliveredDelay = max(opts.DeliveredDelay, opts.SentDelay)
	if opts.Templates == nil {
		opts.Templates = DefaultTemplates()
	}
	if opts.AppID == "" {
		opts.AppID = DefaultAppID
	}
	if opts.TemplateReviewDelay == 0 {
		opts.TemplateReviewDelay = DefaultTemplateReviewDelay
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Simulator{
		opts:        opts,
		log:         opts.Logger.With(slog.String("component", "whatsapp-sim")),
		now:         opts.Now,
		client:      opts.HTTPClient,
		chats:       make(map[string]*chat),
		windows:     make(map[string]int64),
		windowsMax:  1024,
		unreachable: make(map[string]bool),
		byWAMID:     make(map[string]*phoneMsg),
		pairs:       make(map[string]*bucket),
		media:       newMediaStore(maxMediaBytes),
		uploads:     make(map[string]int),
		tplDeleted:  make(map[string]bool),
		review:      opts.TemplateReviewDelay,
	}
	if s.client == nil {
		s.client = defaultHTTPClient()
		s.ownHTTP = true
	}
	s.mediaKey = make([]byte, 32)
	rand.Read(s.mediaKey)
	var err error
	if s.templates, err = indexTemplates(opts.Templates); err != nil {
		return nil, err
	}
	if opts.StateFile != "" {
		if err := s.load(); err != nil {
			return nil, fmt.Errorf("whatsapp simulator: load %s: %w", opts.StateFile, err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.WebhookURL != "" {
		s.tplHooks = make(chan templateHook, 1024)
		s.wg.Add(1)
		go s.templateHookWorker()
	}
	for _, id := range s.scheduleLater {
		s.scheduleReview(id)
	}
	s.scheduleLater = nil
	if opts.StatusWebhooks && opts.WebhookURL != "" {
		s.hooks = newPoster(s, statusShards)
		s.hooks.start()
	}
	if opts.StateFile != "" {
		s.wg.Add(1)
		go s.saveLoop()
	}
	return s, nil
}

// defaultHTTPClient has timeouts so that a hung sendbox cannot pin a worker.
func defaultHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 nil, // webhooks go to sendbox itself, never through a proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// ErrClosed is returned by SendInbound after Close.
var ErrClosed = errors.New("whatsapp simulator: closed")

// closeDrainTimeout bounds how long Close waits for queued webhooks.
var closeDrainTimeout = 5 * time.Second

// Close stops the webhook workers, waiting up to a few seconds for queued
// and scheduled status webhooks to be posted, then saves the state file. It
// is safe to call more than once.
func (s *Simulator) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	if s.hooks != nil {
		s.hooks.drain(closeDrainTimeout)
	}
	s.cancel()
	if s.hooks != nil {
		s.hooks.wait()
	}
	s.wg.Wait()
	var err error
	if s.opts.StateFile != "" {
		err = s.save()
	}
	if s.ownHTTP {
		s.client.CloseIdleConnections()
	}
	return err
}

// markDirty notes that persisted state changed; called with s.mu held.
func (s *Simulator) markDirty() {
	s.dirty = true
}
