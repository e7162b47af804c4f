package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"sendbox/consent"
	"sendbox/store"
)

// consentView is Settings → Consent: the wording per language, the wa.me
// links with their QR codes, the hosted page, double opt-in.
type consentView struct {
	Section  string
	Me       *store.User
	Settings *consent.Settings
	Langs    []consentLang
	FormURL  string
	Error    string
}

type consentLang struct {
	Lang    string
	Wording consent.Wording
	Link    string // "" without a business number
	FormURL string
}

func (p *Panel) consentPage(w http.ResponseWriter, r *http.Request, status int, s *consent.Settings, errMsg string) {
	if s == nil {
		var err error
		if s, err = consent.Load(r.Context(), p.Store); err != nil {
			p.internal(w, r, err)
			return
		}
	}
	v := &consentView{Section: "consent", Me: sessionFrom(r).User, Settings: s, Error: errMsg,
		FormURL: p.publicURL() + "/optin"}
	for _, l := range consent.Langs {
		v.Langs = append(v.Langs, consentLang{Lang: l, Wording: s.Wordings[l], Link: s.Link(l), FormURL: v.FormURL + "?lang=" + l})
	}
	p.page(w, r, status, "consent", &view{Title: p.T("settings.consent"), Nav: "settings", Data: v})
}

func (p *Panel) handleConsentSettings(w http.ResponseWriter, r *http.Request) {
	p.consentPage(w, r, http.StatusOK, nil, "")
}

// handleConsentSave stores the wording, the number and double opt-in; a
// changed wording gets its next version.
func (p *Panel) handleConsentSave(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s := &consent.Settings{Number: r.PostFormValue("number"), DoubleOptIn: r.PostFormValue("double_opt_in") == "on",
		Wordings: map[string]consent.Wording{}}
	for _, l := range consent.Langs {
		s.Wordings[l] = consent.Wording{Text: r.PostFormValue("text." + l), Button: r.PostFormValue("button." + l),
			Keyword: r.PostFormValue("keyword." + l)}
	}
	if err := consent.Save(r.Context(), p.Store, s); err != nil {
		p.consentPage(w, r, http.StatusUnprocessableEntity, s, err.Error())
		return
	}
	http.Redirect(w, r, "/settings/consent?ok=saved", http.StatusSeeOther)
}

// handleConsentQR serves a language's wa.me link as a QR code, PNG or SVG.
func (p *Panel) handleConsentQR(w http.ResponseWriter, r *http.Request) {
	s, err := consent.Load(r.Context(), p.Store)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	lang := r.URL.Query().Get("lang")
	link := s.Link(lang)
	if link == "" || !slices.Contains(consent.Langs, lang) {
		p.fail(w, r, http.StatusNotFound, p.T("consent.no_link"))
		return
	}
	var b []byte
	switch r.PathValue("format") {
	case "qr.png":
		b, err = consent.QRPNG(link, 10)
		w.Header().Set("Content-Type", "image/png")
	case "qr.svg":
		b, err = consent.QRSVG(link)
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="whatsapp-optin-`+lang+"."+r.PathValue("format")[3:]+`"`)
	}
	w.Write(b)
}

// optinView is the hosted opt-in page.
type optinView struct {
	Lang, CSRF, Phone, Name string
	Wording                 consent.Wording
	Words                   consent.FormText
	Langs                   []string
	Done                    string // the thanks, once signed up
}

// optinLimit is how many submissions one client address may make per
// optinWindow: enough for a family on one connection, too few to sign up
// a list of strangers' numbers.
const (
	optinLimit  = 5
	optinWindow = 10 * time.Minute
)

// optinGuard counts the hosted page's submissions per client.
type optinGuard struct {
	mu   sync.Mutex
	hits map[string][]time.Time
}

// admit records a submission and returns how long to wait, 0 if it may go.
func (g *optinGuard) admit(client string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hits == nil {
		g.hits = map[string][]time.Time{}
	}
	if len(g.hits) > 10000 { // a flood of addresses: forget the old ones
		for k, v := range g.hits {
			if now.Sub(v[len(v)-1]) > optinWindow {
				delete(g.hits, k)
			}
		}
	}
	recent := g.hits[client][:0:0]
	for _, t := range g.hits[client] {
		if now.Sub(t) < optinWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= optinLimit {
		g.hits[client] = recent
		return optinWindow - now.Sub(recent[0])
	}
	g.hits[client] = append(recent, now)
	return 0
}

func (p *Panel) optinPage(w http.ResponseWriter, r *http.Request, status int, v *optinView, errMsg string) {
	s, err := consent.Load(r.Context(), p.Store)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	v.Lang, v.Wording = s.Wording(v.Lang)
	v.Words, v.CSRF, v.Langs = consent.FormWords[v.Lang], p.preCSRF(w, r), consent.Langs
	p.page(w, r, status, "optin", &view{Title: v.Words.Title, Narrow: true, Data: v, Error: errMsg})
}

// handleOptinForm shows the hosted opt-in page (public).
func (p *Panel) handleOptinForm(w http.ResponseWriter, r *http.Request) {
	p.optinPage(w, r, http.StatusOK, &optinView{Lang: r.URL.Query().Get("lang")}, "")
}

// handleOptin records the hosted page's opt-in: CSRF-checked, rate-limited
// per client address, the number normalised, the address and browser kept
// as proof.
func (p *Panel) handleOptin(w http.ResponseWriter, r *http.Request) {
	if !p.checkPreCSRF(w, r) {
		return
	}
	v := &optinView{Lang: r.PostFormValue("lang"), Phone: r.PostFormValue("phone"), Name: r.PostFormValue("name")}
	if len(v.Name) > 200 {
		v.Name = v.Name[:200]
	}
	words := consent.FormWords[v.Lang]
	if words.Title == "" {
		words = consent.FormWords["en"]
	}
	client := clientAddr(r, p.Config.TrustedProxies)
	if wait := p.optinGuard.admit(clientKey(client), time.Now()); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		p.Log.Warn("opt-in form refused: too many submissions", slog.String("client", client.String()))
		p.optinPage(w, r, http.StatusTooManyRequests, v, words.TooMany)
		return
	}
	s, err := consent.Load(r.Context(), p.Store)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	res, err := consent.Submit(r.Context(), p.Store, p.Outbound, s, consent.Form{Phone: v.Phone, Name: v.Name, Lang: v.Lang,
		Agreed: r.PostFormValue("agree") == "on", IP: client.String(), UserAgent: r.UserAgent()}, p.T)
	switch {
	case errors.Is(err, consent.ErrNotAgreed):
		p.optinPage(w, r, http.StatusUnprocessableEntity, v, words.NotAgreed)
		return
	case consent.IsBadPhone(err):
		p.optinPage(w, r, http.StatusUnprocessableEntity, v, words.BadPhone)
		return
	case res != nil && res.Record != nil && err != nil:
		// Recorded; only the confirmation could not go (logged): the
		// customer can still write the keyword.
		p.Log.Warn("opt-in form: the double opt-in request", slog.Any("err", err))
	case err != nil:
		p.internal(w, r, err)
		return
	}
	v.Done = words.Thanks
	if s.DoubleOptIn {
		v.Done = words.ThanksConfirm
	}
	p.optinPage(w, r, http.StatusOK, v, "")
}
