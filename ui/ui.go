// Package ui is sendbox's admin panel: server-rendered HTML (html/template)
// with htmx for partial updates and server-sent events for live ones, all
// embedded in the binary. Strings live in locales/en.json.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"sendbox/campaigns"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"sendbox/accounts"
	"sendbox/assistant"
	"sendbox/config"
	"sendbox/contacts"
	"sendbox/events"
	"sendbox/flows"
	"sendbox/knowledge"
	"sendbox/llm"
	"sendbox/metrics"
	"sendbox/notify"
	"sendbox/outbound"
	"sendbox/search"
	"sendbox/store"
	"sendbox/timeline"
	"sendbox/whatsapp"
	"sendbox/whatsapp/sim"
)

//go:embed templates/*.html
var templateFS embed.FS

// The urgent alert's sound is synthesised, not recorded: see tools/chime.
//
//go:generate go run ../tools/chime -o static/urgent.wav
//go:embed static
var staticFS embed.FS

//go:embed locales/*.json
var localeFS embed.FS

// Deps is what the panel works with.
type Deps struct {
	Store    *store.Store
	Outbound *outbound.Service
	Graph    *whatsapp.Client
	Sim      *sim.Simulator // nil when connected to Meta
	NC       *nats.Conn     // live events
	Config   *config.Config
	Log      *slog.Logger
	// BaseURL is how this process is reached when no domain is configured.
	BaseURL     string
	VerifyToken string
	TLS         bool // cookies are Secure and __Host- prefixed under TLS
	// OnKeyRevoked lets the API forget cached keys at once.
	OnKeyRevoked func()
	Search       *search.Index
	// IndexStatus reports the changes waiting to be indexed and when the
	// newest indexed one happened.
	IndexStatus func() (pending uint64, last time.Time)
	// Disk reports whether the data folder's free space is under the floor
	// at which webhooks are refused, with the figures; nil: never.
	Disk func() (low bool, free, floor int64)
	// The assistant, its knowledge base and the Ollama client.
	Assistant *assistant.Assistant
	KB        *knowledge.Base
	LLM       *llm.Client
	// Mailer sends e-mail; nil when no SMTP server is configured.
	Mailer *notify.Mailer
	// Metrics counts sign-ins by outcome; nil counts nothing.
	Metrics *metrics.Registry
	// Flows edits, publishes and counts the automation flows.
	Flows *flows.Engine
	// Imports imports contacts from CSV files.
	Imports *contacts.Importer
	// Campaigns creates, launches and follows the campaigns.
	Campaigns *campaigns.Service
}

// Panel serves the admin panel.
type Panel struct {
	Deps
	pages        map[string]*template.Template
	assetVersion string
	static       http.Handler
	strings      map[string]string
	loginGuard   *accounts.LoginGuard
	optinGuard   optinGuard
	devices      *accounts.Devices
	logins       *metrics.CounterVec // sign-in attempts by result; nil without Metrics
	live         *hub
	setupOnce    sync.Mutex // guards setup token creation
	segCounts    segCounts  // the list of segments' recent counts
}

// New parses the templates and prepares the panel.
func New(d Deps) (*Panel, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	p := &Panel{Deps: d,
		loginGuard: accounts.NewLoginGuard(),
		devices:    &accounts.Devices{Store: d.Store},
	}
	b, err := localeFS.ReadFile("locales/en.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &p.strings); err != nil {
		return nil, fmt.Errorf("locales/en.json: %w", err)
	}
	sub, _ := fs.Sub(staticFS, "static")
	h := sha256.New()
	fs.WalkDir(sub, ".", func(name string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			b, _ := fs.ReadFile(sub, name)
			h.Write(b)
		}
		return nil
	})
	p.assetVersion = hex.EncodeToString(h.Sum(nil))[:10]
	p.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	if err := p.parse(); err != nil {
		return nil, err
	}
	if d.Metrics != nil {
		p.logins = d.Metrics.Counter("sendbox_logins_total",
			"Sign-in attempts by result: signed_in, wrong (the password was checked), throttled, busy (both refused before any check).", "result")
		d.Metrics.GaugeFunc("sendbox_password_hashes_running", "Password hashes (argon2id, 19 MiB each) running now.",
			func() float64 { _, running, _ := accounts.HashStats(); return float64(running) })
	}
	p.live = newHub(d.NC, d.Log, p.urgentAlert)
	return p, nil
}

// countLogin records a sign-in attempt's result.
func (p *Panel) countLogin(result string) {
	if p.logins != nil {
		p.logins.With(result).Inc()
	}
}

// Close stops the live event hub.
func (p *Panel) Close() { p.live.close() }

// T returns the English string for key, formatted with args.
func (p *Panel) T(key string, args ...any) string {
	s, ok := p.strings[key]
	if !ok {
		p.Log.Warn("missing panel string", slog.String("key", key))
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

func (p *Panel) funcs() template.FuncMap {
	return template.FuncMap{
		"t":        p.T,
		"asset":    func(name string) string { return "/static/" + name + "?v=" + p.assetVersion },
		"initials": initials,
		"avatar":   func(id int64) string { return fmt.Sprintf("a%d", id%6) },
		"ago":      ago,
		"clock":    func(t time.Time) string { return t.Local().Format("15:04") },
		"when":     func(t time.Time) string { return t.Local().Format("2 Jan 2006, 15:04") },
		"day":      day,
		"linkify":  linkify,
		"join":     strings.Join,
		"contains": func(list []int64, id int64) bool {
			for _, x := range list {
				if x == id {
					return true
				}
			}
			return false
		},
		"can":     accounts.Can,
		"bytes":   humanBytes,
		"json":    func(v any) string { b, _ := json.Marshal(v); return string(b) },
		"add":     func(a, b int) int { return a + b },
		"rateOf":  rateOf,
		"money":   campaigns.FormatMoney,
		"dict":    dict,
		"digits":  digits,
		"display": displayName,
		"haslabel": func(c *store.Conversation, id int64) bool {
			for _, l := range c.Labels {
				if l.ID == id {
					return true
				}
			}
			return false
		},
		"list_statuses": func() []string { return []string{"open", "pending", "snoozed", "resolved"} },
		"list":          func(v ...string) []string { return v },
		"facetlabel":    p.facetLabel,
		"faceturl":      facetURL,
		"category":      p.categoryName,
		"routingReason": p.routingReason,
		"actor":         p.actorName,
		"timeline":      p.timelineText,
		"tlkind":        timelineKind,
		"ms":            duration,
		"excerpt":       excerpt,
		"percent":       percent,
		"upper":         strings.ToUpper,
		"sentence":      sentence,
		"attrKey":       func(s string) string { return strings.TrimPrefix(s, contacts.AttrPrefix) },
	}
}

// parse builds one template set per page: the layout, the shared
// partials and the page itself.
func (p *Panel) parse() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	var shared, pages []string
	for _, n := range names {
		base := path.Base(n)
		if strings.HasPrefix(base, "_") || base == "layout.html" {
			shared = append(shared, n)
		} else {
			pages = append(pages, n)
		}
	}
	p.pages = map[string]*template.Template{}
	for _, page := range pages {
		t, err := template.New(path.Base(page)).Funcs(p.funcs()).ParseFS(templateFS, append(shared, page)...)
		if err != nil {
			return fmt.Errorf("template %s: %w", page, err)
		}
		p.pages[strings.TrimSuffix(path.Base(page), ".html")] = t
	}
	return nil
}

// view is what every page template receives.
type view struct {
	Title   string
	Nav     string
	User    *store.User
	CSRF    string
	Sandbox bool
	Unread  int
	Urgent  int // urgent conversations not resolved
	// DiskLow, with the free space and the floor, has admins told that
	// webhooks are refused until space is freed.
	DiskLow         bool
	DiskFree, Floor int64
	Flash           string
	Error           string
	Data            any
	Narrow          bool // pages without the app shell (login, setup)
	Now             time.Time
	Template        string
	// Alerts are the user's choices about urgent conversations; nil for
	// those who cannot act on one (viewers).
	Alerts *store.Notifications
}

// page renders a whole page with the app shell.
func (p *Panel) page(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	if s := sessionFrom(r); s != nil {
		v.User, v.CSRF = s.User, s.CSRF
		if n, err := p.Store.UnreadConversations(r.Context()); err == nil {
			v.Unread = n
		}
		if n, err := p.Store.UrgentCount(r.Context()); err == nil {
			v.Urgent = n
		}
		if accounts.Can(s.User.Role, accounts.Agent) {
			if n, err := p.Store.UserNotifications(r.Context(), s.User.ID); err == nil {
				v.Alerts = &n
			}
		}
		if p.Disk != nil && accounts.Can(s.User.Role, accounts.Admin) {
			v.DiskLow, v.DiskFree, v.Floor = p.Disk()
		}
	} else {
		v.Narrow = true // no app shell without someone signed in
	}
	v.Sandbox = p.Sim != nil
	v.Now = time.Now()
	if ok := r.URL.Query().Get("ok"); ok != "" && v.Flash == "" {
		if s, found := p.strings["flash."+ok]; found {
			v.Flash = s
		}
	}
	p.exec(w, r, status, name, "layout", v)
}

// fragment renders one named template of a page for htmx.
func (p *Panel) fragment(w http.ResponseWriter, r *http.Request, page, name string, data any) {
	p.exec(w, r, http.StatusOK, page, name, data)
}

func (p *Panel) exec(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	t := p.pages[page]
	if t == nil {
		p.Log.Error("no such page template", slog.String("page", page))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		p.Log.Error("render", slog.String("page", page), slog.String("template", name), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	serverTiming(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// serverTiming reports how long the server took, from the session check to
// the rendered page, in the Server-Timing header that browsers' developer
// tools show.
func serverTiming(w http.ResponseWriter, r *http.Request) {
	if start, ok := r.Context().Value(startKey{}).(time.Time); ok {
		w.Header().Set("Server-Timing", fmt.Sprintf("app;dur=%.2f", float64(time.Since(start).Microseconds())/1000))
	}
}

// fail answers a failed panel action: for htmx with the message in a
// header (app.js shows it by the form), else as a plain error page.
func (p *Panel) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("X-Sendbox-Error", headerSafe(msg))
		w.Header().Set("HX-Reswap", "none")
		w.WriteHeader(status)
		return
	}
	p.page(w, r, status, "error", &view{Title: p.T("error.title"), Error: msg})
}

// headerSafe keeps a message usable as a header value.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// internal logs err and answers 500.
func (p *Panel) internal(w http.ResponseWriter, r *http.Request, err error) {
	p.Log.Error("panel request failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	p.fail(w, r, http.StatusInternalServerError, p.T("error.internal"))
}

// Register adds the panel's routes to mux.
func (p *Panel) Register(mux *http.ServeMux) {
	mux.Handle("GET /static/", p.cacheStatic(p.static))
	mux.HandleFunc("GET /{$}", p.handleRoot)
	mux.HandleFunc("GET /setup", p.handleSetupForm)
	mux.HandleFunc("POST /setup", p.handleSetup)
	mux.HandleFunc("GET /login", p.handleLoginForm)
	mux.HandleFunc("POST /login", p.handleLogin)
	mux.HandleFunc("GET /optin", p.handleOptinForm)
	mux.HandleFunc("POST /optin", p.handleOptin)
	mux.HandleFunc("GET "+campaigns.LinkPath+"{token}", p.handleTrackedLink)
	mux.HandleFunc("GET /invite", p.handleInviteForm)
	mux.HandleFunc("POST /invite", p.handleInvite)
	mux.Handle("POST /logout", p.authed(accounts.Viewer, p.handleLogout))
	mux.Handle("GET /events", p.authed(accounts.Viewer, p.handleEvents))

	mux.Handle("GET /inbox", p.authed(accounts.Viewer, p.handleInbox))
	mux.Handle("GET /inbox/list", p.authed(accounts.Viewer, p.handleInboxList))
	mux.Handle("GET /inbox/{id}", p.authed(accounts.Viewer, p.handleInbox))
	mux.Handle("GET /inbox/{id}/messages", p.authed(accounts.Viewer, p.handleThreadMessages))
	mux.Handle("GET /inbox/{id}/details", p.authed(accounts.Viewer, p.handleDetails))
	mux.Handle("GET /inbox/{id}/template", p.authed(accounts.Agent, p.handleTemplateForm))
	mux.Handle("POST /inbox/{id}/reply", p.authed(accounts.Agent, p.handleReply))
	mux.Handle("POST /inbox/{id}/template", p.authed(accounts.Agent, p.handleSendTemplate))
	mux.Handle("POST /inbox/{id}/assign", p.authed(accounts.Agent, p.handleAssign))
	mux.Handle("POST /inbox/{id}/labels", p.authed(accounts.Agent, p.handleLabels))
	mux.Handle("POST /inbox/{id}/status", p.authed(accounts.Agent, p.handleStatus))
	mux.Handle("POST /inbox/{id}/bot", p.authed(accounts.Agent, p.handleBot))
	mux.Handle("POST /inbox/{id}/runs/stop", p.authed(accounts.Agent, p.handleStopRun))
	mux.Handle("POST /inbox/{id}/language", p.authed(accounts.Agent, p.handleLanguage))
	mux.Handle("POST /inbox/{id}/urgent/clear", p.authed(accounts.Agent, p.handleClearUrgent))
	mux.Handle("POST /inbox/{id}/suggest", p.authed(accounts.Agent, p.handleSuggest))
	mux.Handle("POST /inbox/{id}/summarise", p.authed(accounts.Agent, p.handleSummarise))
	mux.Handle("POST /inbox/{id}/translate", p.authed(accounts.Agent, p.handleTranslate))
	mux.Handle("GET /media/{id}", p.authed(accounts.Viewer, p.handleMedia))

	mux.Handle("GET /search", p.authed(accounts.Viewer, p.handleSearch))
	mux.Handle("GET /contacts", p.authed(accounts.Viewer, p.handleContacts))
	mux.Handle("GET /contacts/{id}", p.authed(accounts.Viewer, p.handleContact))
	mux.Handle("GET /imports", p.authed(accounts.Admin, p.handleImports))
	mux.Handle("POST /imports", p.authed(accounts.Admin, p.handleImportUpload))
	mux.Handle("GET /imports/{id}", p.authed(accounts.Admin, p.handleImport))
	mux.Handle("POST /imports/{id}/start", p.authed(accounts.Admin, p.handleImportStart))
	mux.Handle("GET /imports/{id}/progress", p.authed(accounts.Admin, p.handleImportProgress))
	mux.Handle("GET /imports/{id}/rejected.csv", p.authed(accounts.Admin, p.handleImportRejected))
	mux.Handle("POST /imports/{id}/discard", p.authed(accounts.Admin, p.handleImportDiscard))
	mux.Handle("GET /contacts/export", p.authed(accounts.Agent, p.handleContactsExport))
	mux.Handle("POST /contacts/{id}", p.authed(accounts.Agent, p.handleContactSave))
	mux.Handle("POST /contacts/{id}/erase", p.authed(accounts.Admin, p.handleContactErase))
	mux.Handle("POST /contacts/{id}/send", p.authed(accounts.Agent, p.handleContactSend))
	mux.Handle("GET /contacts/{id}/template", p.authed(accounts.Agent, p.handleContactTemplateForm))

	mux.Handle("GET /segments", p.authed(accounts.Viewer, p.handleSegments))
	mux.Handle("GET /segments/new", p.authed(accounts.Admin, p.handleSegmentNew))
	mux.Handle("POST /segments/new", p.authed(accounts.Admin, p.handleSegmentSave))
	mux.Handle("POST /segments/builder", p.authed(accounts.Admin, p.handleSegmentBuilder))
	mux.Handle("POST /segments/live", p.authed(accounts.Viewer, p.handleSegmentLive))
	mux.Handle("GET /segments/{id}", p.authed(accounts.Viewer, p.handleSegment))
	mux.Handle("GET /segments/{id}/count", p.authed(accounts.Viewer, p.handleSegmentListCount))
	mux.Handle("POST /segments/{id}", p.authed(accounts.Admin, p.handleSegmentSave))
	mux.Handle("POST /segments/{id}/freeze", p.authed(accounts.Admin, p.handleSegmentFreeze))
	mux.Handle("POST /segments/{id}/delete", p.authed(accounts.Admin, p.handleSegmentDelete))

	mux.Handle("GET /knowledge", p.authed(accounts.Viewer, p.handleKnowledge))
	mux.Handle("GET /knowledge/try", p.authed(accounts.Viewer, p.handleKBTry))
	mux.Handle("GET /knowledge/{id}", p.authed(accounts.Viewer, p.handleKBDoc))
	mux.Handle("POST /knowledge/documents", p.authed(accounts.Admin, p.handleKBPaste))
	mux.Handle("POST /knowledge/upload", p.authed(accounts.Admin, p.handleKBUpload))
	mux.Handle("POST /knowledge/faq", p.authed(accounts.Admin, p.handleKBFAQ))
	mux.Handle("POST /knowledge/{id}/delete", p.authed(accounts.Admin, p.handleKBDelete))

	mux.Handle("GET /templates", p.authed(accounts.Viewer, p.handleTemplates))
	mux.Handle("GET /templates/new", p.authed(accounts.Admin, p.handleTemplateNew))
	mux.Handle("POST /templates", p.authed(accounts.Admin, p.handleTemplateCreate))
	mux.Handle("POST /templates/preview", p.authed(accounts.Viewer, p.handleTemplatePreview))
	mux.Handle("POST /templates/catalogue", p.authed(accounts.Admin, p.handleTemplateCatalogue))
	mux.Handle("GET /templates/{id}", p.authed(accounts.Viewer, p.handleTemplate))
	mux.Handle("POST /templates/{id}", p.authed(accounts.Admin, p.handleTemplateEdit))
	mux.Handle("POST /templates/{id}/delete", p.authed(accounts.Admin, p.handleTemplateDelete))
	mux.Handle("GET /campaigns", p.authed(accounts.Viewer, p.handleCampaigns))
	mux.Handle("POST /campaigns", p.authed(accounts.Admin, p.handleCampaignCreate))
	mux.Handle("GET /campaigns/{id}", p.authed(accounts.Viewer, p.handleCampaign))
	mux.Handle("POST /campaigns/{id}", p.authed(accounts.Admin, p.handleCampaignSave))
	mux.Handle("GET /campaigns/{id}/progress", p.authed(accounts.Viewer, p.handleCampaignProgress))
	mux.Handle("GET /campaigns/{id}/recipients.csv", p.authed(accounts.Viewer, p.handleCampaignCSV))
	mux.Handle("POST /campaigns/{id}/{action}", p.authed(accounts.Admin, p.handleCampaignAction))
	mux.Handle("GET /flows", p.authed(accounts.Viewer, p.handleFlows))
	mux.Handle("POST /flows", p.authed(accounts.Admin, p.handleFlowCreate))
	mux.Handle("POST /flows/import", p.authed(accounts.Admin, p.handleFlowImport))
	mux.Handle("POST /flows/ready", p.authed(accounts.Admin, p.handleFlowReady))
	mux.Handle("GET /flows/{id}", p.authed(accounts.Viewer, p.handleFlow))
	mux.Handle("POST /flows/{id}", p.authed(accounts.Admin, p.handleFlowSave))
	mux.Handle("GET /flows/{id}/export", p.authed(accounts.Viewer, p.handleFlowExport))
	mux.Handle("GET /flows/{id}/stats", p.authed(accounts.Viewer, p.handleFlowStats))
	mux.Handle("POST /flows/{id}/active", p.authed(accounts.Admin, p.handleFlowActive))
	mux.Handle("POST /flows/{id}/delete", p.authed(accounts.Admin, p.handleFlowDelete))
	mux.Handle("POST /flows/{id}/try", p.authed(accounts.Admin, p.handleFlowTry))

	mux.Handle("GET /phone", p.authed(accounts.Viewer, p.handlePhone))
	mux.Handle("GET /phone/{wa_id}/messages", p.authed(accounts.Viewer, p.handlePhoneMessages))
	mux.Handle("POST /phone/send", p.authed(accounts.Agent, p.handlePhoneSend))

	mux.Handle("GET /settings/account", p.authed(accounts.Viewer, p.handleAccount))
	mux.Handle("POST /settings/account", p.authed(accounts.Viewer, p.handleAccountSave))
	mux.Handle("POST /settings/account/notifications", p.authed(accounts.Viewer, p.handleNotificationsSave))
	mux.Handle("GET /settings", p.authed(accounts.Admin, p.handleSettings))
	mux.Handle("GET /settings/{section}", p.authed(accounts.Admin, p.handleSettings))
	mux.Handle("GET /settings/assistant", p.authed(accounts.Admin, p.handleAssistantSettings))
	mux.Handle("POST /settings/assistant", p.authed(accounts.Admin, p.handleAssistantSave))
	mux.Handle("POST /settings/assistant/pull", p.authed(accounts.Admin, p.handlePull))
	mux.Handle("GET /settings/assistant/pulls", p.authed(accounts.Admin, p.handlePulls))
	mux.Handle("POST /settings/assistant/pulls/cancel", p.authed(accounts.Admin, p.handlePullCancel))
	mux.Handle("GET /settings/policy", p.authed(accounts.Admin, p.handlePolicy))
	mux.Handle("GET /settings/rate-card", p.authed(accounts.Admin, p.handleRateCard))
	mux.Handle("POST /settings/rate-card", p.authed(accounts.Admin, p.handleRateCardSave))
	mux.Handle("POST /settings/policy", p.authed(accounts.Admin, p.handlePolicySave))
	mux.Handle("POST /settings/policy/reset", p.authed(accounts.Admin, p.handlePolicyReset))
	mux.Handle("POST /settings/policy/try", p.authed(accounts.Admin, p.handlePolicyTry))
	mux.Handle("POST /settings/whatsapp/test", p.authed(accounts.Admin, p.handleTestConnection))
	mux.Handle("POST /settings/email/test", p.authed(accounts.Admin, p.handleTestEmail))
	mux.Handle("POST /settings/profile", p.authed(accounts.Admin, p.handleProfileSave))
	mux.Handle("POST /settings/users", p.authed(accounts.Admin, p.handleUserInvite))
	mux.Handle("POST /settings/users/{id}", p.authed(accounts.Admin, p.handleUserUpdate))
	mux.Handle("POST /settings/users/{id}/reset", p.authed(accounts.Admin, p.handleUserReset))
	mux.Handle("POST /settings/teams", p.authed(accounts.Admin, p.handleTeamCreate))
	mux.Handle("POST /settings/teams/{id}", p.authed(accounts.Admin, p.handleTeamUpdate))
	mux.Handle("POST /settings/api-keys", p.authed(accounts.Admin, p.handleAPIKeyCreate))
	mux.Handle("POST /settings/api-keys/{id}/revoke", p.authed(accounts.Admin, p.handleAPIKeyRevoke))
	mux.Handle("POST /settings/labels", p.authed(accounts.Admin, p.handleLabelCreate))
	mux.Handle("POST /settings/labels/{id}/delete", p.authed(accounts.Admin, p.handleLabelDelete))
	mux.Handle("POST /settings/canned", p.authed(accounts.Admin, p.handleCannedSave))
	mux.Handle("POST /settings/canned/{id}/delete", p.authed(accounts.Admin, p.handleCannedDelete))
	mux.Handle("POST /settings/templates/sync", p.authed(accounts.Admin, p.handleTemplatesSync))
	mux.Handle("POST /settings/templates/consent", p.authed(accounts.Owner, p.handleConsentSetting))
	mux.Handle("POST /settings/templates/quiet", p.authed(accounts.Admin, p.handleQuietHours))
	mux.Handle("GET /settings/consent", p.authed(accounts.Admin, p.handleConsentSettings))
	mux.Handle("POST /settings/consent", p.authed(accounts.Admin, p.handleConsentSave))
	mux.Handle("GET /settings/consent/{format}", p.authed(accounts.Admin, p.handleConsentQR))
	mux.Handle("POST /settings/templates/cap", p.authed(accounts.Admin, p.handleFrequencyCap))
	mux.Handle("POST /settings/password", p.authed(accounts.Viewer, p.handlePasswordChange))
}

// cacheStatic lets browsers keep versioned assets for a year.
func (p *Panel) cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") == p.assetVersion {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Panel) handleRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}

// words looks a sentence of the timeline up in the panel's strings.
func (p *Panel) words(key string) (string, bool) {
	s, ok := p.strings[key]
	return s, ok
}

// timelineText words a timeline line in the panel's language.
func (p *Panel) timelineText(e store.ConversationEvent) string {
	return timeline.Text(timeline.Row{Kind: e.Kind, Actor: e.Actor, Data: e.Data, Body: e.Body}, p.words)
}

// actorName is who a note is by, as the end of "Private note by …": the
// person, the assistant, an API key or a flow by its name.
func (p *Panel) actorName(e store.ConversationEvent) string {
	switch e.Actor.Kind {
	case events.ActorAssistant:
		return p.T("thread.assistant")
	case events.ActorAPIKey:
		return p.T("thread.by_api_key", e.Actor.Name)
	case events.ActorFlow:
		return p.T("thread.by_flow", e.Actor.Name)
	}
	return timeline.ActorName(e.Actor, p.words)
}

// timelineKind is the kind of a line, a legacy one's as it was, so that
// the thread marks an old escalation as it marks a new one.
func timelineKind(e store.ConversationEvent) string {
	if k, _ := e.Data[events.DataOldKind].(string); e.Kind == events.ChangeLegacy && k != "" {
		return k
	}
	return e.Kind
}

// facetLabel names a facet's term for people: a label's name, a message
// type, a status, a date bucket.
func (p *Panel) facetLabel(facet, term string, labels []store.Label) string {
	switch facet {
	case "label":
		for _, l := range labels {
			if strconv.FormatInt(l.ID, 10) == term {
				return l.Name
			}
		}
	case "type", "status", "direction", "date":
		if s, ok := p.strings[facet+"."+term]; ok {
			return s
		}
	}
	return term
}
