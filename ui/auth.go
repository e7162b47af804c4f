package ui

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"sendbox/accounts"
	"sendbox/events"
	"sendbox/store"
)

const (
	sessionTTL     = 14 * 24 * time.Hour // sliding: a session lasts two weeks after its last use
	touchEvery     = 10 * time.Minute
	setupLinkTTL   = 7 * 24 * time.Hour
	inviteLinkTTL  = 7 * 24 * time.Hour
	maxFormBytes   = 1 << 20
	maxUploadBytes = 100<<20 + 1<<20
)

var crossOrigin = http.NewCrossOriginProtection()

type sessionKey struct{}

type startKey struct{}

func sessionFrom(r *http.Request) *store.Session {
	s, _ := r.Context().Value(sessionKey{}).(*store.Session)
	return s
}

func (p *Panel) cookieName(base string) string {
	if p.TLS {
		return "__Host-" + base // bound to this host, Secure, Path=/
	}
	return base
}

func (p *Panel) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: p.cookieName(name), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: p.TLS, SameSite: http.SameSiteLaxMode,
	})
}

func (p *Panel) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: p.cookieName(name), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: p.TLS, SameSite: http.SameSiteLaxMode})
}

// authed wraps a panel handler: it needs a live session whose user has at
// least the role need, and, for anything but GET, the session's CSRF token
// (header X-CSRF-Token from htmx, or the form field csrf) from the same origin.
func (p *Panel) authed(need string, h http.HandlerFunc) http.Handler {
	return crossOrigin.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), startKey{}, time.Now()))
		s := p.loadSession(w, r)
		if s == nil {
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", "/login")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "Your session has ended: sign in again.", http.StatusUnauthorized)
			return
		}
		// The store records the signed-in person on every event the request causes.
		ctx := events.WithActor(context.WithValue(r.Context(), sessionKey{}, s), events.User(s.User.ID, s.User.Name))
		r = r.WithContext(ctx)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			limit := int64(maxFormBytes)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				limit = maxUploadBytes
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				token = r.PostFormValue("csrf")
			}
			if subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) != 1 {
				p.Log.Warn("panel request refused: missing or wrong CSRF token", slog.String("path", r.URL.Path))
				p.fail(w, r, http.StatusForbidden, p.T("error.csrf"))
				return
			}
		}
		if !accounts.Can(s.User.Role, need) {
			p.fail(w, r, http.StatusForbidden, p.T("error.forbidden"))
			return
		}
		h(w, r)
	}))
}

// loadSession returns the session of the request's cookie, sliding its
// expiry forward now and then, or nil.
func (p *Panel) loadSession(w http.ResponseWriter, r *http.Request) *store.Session {
	c, err := r.Cookie(p.cookieName("sendbox_session"))
	if err != nil || c.Value == "" || len(c.Value) > 200 {
		return nil
	}
	s, err := p.Store.SessionByID(r.Context(), accounts.HashToken(c.Value))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.Log.Error("load session", slog.Any("err", err))
		}
		return nil
	}
	if time.Since(s.SeenAt) > touchEvery {
		if err := p.Store.TouchSession(r.Context(), s.ID, sessionTTL); err == nil {
			p.setCookie(w, "sendbox_session", c.Value, sessionTTL)
		}
	}
	return s
}

// startSession signs a user in on this browser.
func (p *Panel) startSession(w http.ResponseWriter, r *http.Request, u *store.User) error {
	token, hash := accounts.NewToken()
	csrf, _ := accounts.NewToken()
	ip := clientAddr(r, p.Config.TrustedProxies).String()
	ua := r.UserAgent()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	if err := p.Store.CreateSession(r.Context(), hash, u.ID, csrf, sessionTTL, ip, ua); err != nil {
		return err
	}
	p.setCookie(w, "sendbox_session", token, sessionTTL)
	p.clearCookie(w, "sendbox_csrf")
	return nil
}

// preCSRF is the double-submit token of the forms shown before sign-in:
// the same random value in a cookie and in the form.
func (p *Panel) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.cookieName("sendbox_csrf")); err == nil && len(c.Value) >= 32 && len(c.Value) < 100 {
		return c.Value
	}
	t, _ := accounts.NewToken()
	p.setCookie(w, "sendbox_csrf", t, time.Hour)
	return t
}

// checkPreCSRF guards the forms shown before sign-in.
func (p *Panel) checkPreCSRF(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c, err := r.Cookie(p.cookieName("sendbox_csrf"))
	form := r.PostFormValue("csrf")
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		p.Log.Warn("form refused: missing or wrong CSRF token", slog.String("path", r.URL.Path))
		p.fail(w, r, http.StatusForbidden, p.T("error.csrf"))
		return false
	}
	return true
}

// EnsureSetupLink makes a fresh one-time setup link while no user exists and
// returns its path ("" once the owner exists). Each start makes a new link
// and voids the old one.
func (p *Panel) EnsureSetupLink(ctx context.Context) (string, error) {
	p.setupOnce.Lock()
	defer p.setupOnce.Unlock()
	n, err := p.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	token, hash := accounts.NewToken()
	if err := p.Store.CreateToken(ctx, hash, "setup", 0, setupLinkTTL); err != nil {
		return "", err
	}
	return "/setup?token=" + token, nil
}

type authForm struct {
	CSRF, Token, Email, Name, Next string
	NoOwner                        bool
	InviteName                     string
}

func (p *Panel) authPage(w http.ResponseWriter, r *http.Request, status int, name, title string, f *authForm, errMsg string) {
	f.CSRF = p.preCSRF(w, r)
	p.page(w, r, status, name, &view{Title: title, Narrow: true, Data: f, Error: errMsg})
}

func (p *Panel) handleSetupForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if _, err := p.Store.TokenUser(r.Context(), accounts.HashToken(token), "setup"); err != nil {
		p.page(w, r, http.StatusNotFound, "error", &view{Title: p.T("setup.title"), Narrow: true, Error: p.T("setup.invalid")})
		return
	}
	p.authPage(w, r, http.StatusOK, "setup", p.T("setup.title"), &authForm{Token: token}, "")
}

func (p *Panel) handleSetup(w http.ResponseWriter, r *http.Request) {
	if !p.checkPreCSRF(w, r) {
		return
	}
	f := &authForm{Token: r.PostFormValue("token"), Email: r.PostFormValue("email"), Name: r.PostFormValue("name")}
	// The link first: hashing a password takes 19 MiB and a hashing slot,
	// which someone without a link must not be able to spend.
	if _, err := p.Store.TokenUser(r.Context(), accounts.HashToken(f.Token), "setup"); err != nil {
		p.linkGone(w, r, err, "setup")
		return
	}
	email, err := accounts.NormalizeEmail(f.Email)
	if err == nil {
		f.Name, err = accounts.CheckName(f.Name)
	}
	pw := r.PostFormValue("password")
	if err == nil {
		err = accounts.CheckNewPassword(pw)
	}
	if err == nil && pw != r.PostFormValue("password2") {
		err = errors.New(p.T("password.mismatch"))
	}
	if err != nil {
		p.authPage(w, r, http.StatusUnprocessableEntity, "setup", p.T("setup.title"), f, err.Error())
		return
	}
	u, err := p.Store.SetupOwner(r.Context(), accounts.HashToken(f.Token), email, f.Name, accounts.HashPassword(pw))
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		p.page(w, r, http.StatusGone, "error", &view{Title: p.T("setup.title"), Narrow: true, Error: p.T("setup.invalid")})
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	p.Log.Info("owner account created", slog.String("email", u.Email))
	p.defaultTeam(r.Context())
	if err := p.startSession(w, r, u); err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/whatsapp?ok=welcome", http.StatusSeeOther)
}

// linkGone answers a set-password form whose link is spent, expired or
// never was (kind: setup or invite).
func (p *Panel) linkGone(w http.ResponseWriter, r *http.Request, err error, kind string) {
	if !errors.Is(err, store.ErrNotFound) {
		p.internal(w, r, err)
		return
	}
	p.page(w, r, http.StatusGone, "error", &view{Title: p.T(kind + ".title"), Narrow: true, Error: p.T(kind + ".invalid")})
}

func (p *Panel) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if s := p.loadSession(w, r); s != nil {
		http.Redirect(w, r, "/inbox", http.StatusSeeOther)
		return
	}
	f := &authForm{Next: safeNext(r.URL.Query().Get("next"))}
	if n, err := p.Store.CountUsers(r.Context()); err == nil && n == 0 {
		f.NoOwner = true
	}
	p.authPage(w, r, http.StatusOK, "login", p.T("login.title"), f, "")
}

// safeNext keeps a redirect after login inside this site: a clean path of
// its own, with its query, or "/inbox". Browsers drop tabs and newlines
// from a URL and read "\\" as "/", so those are refused anywhere (escaped
// too), and the path is cleaned so that nothing is left to read as a host.
func safeNext(next string) string {
	const home = "/inbox"
	if next == "" || len(next) > 2000 || strings.ContainsFunc(next, unsafeInURL) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Opaque != "" || u.User != nil || u.Host != "" || strings.HasPrefix(next, "//") ||
		!strings.HasPrefix(u.Path, "/") || strings.ContainsFunc(u.Path, unsafeInURL) {
		return home
	}
	// path.Clean never leaves a leading "//".
	return (&url.URL{Path: path.Clean(u.Path), RawQuery: u.RawQuery}).String()
}

// unsafeInURL is a character a browser may drop from a URL or read as a
// slash.
func unsafeInURL(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }

func (p *Panel) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !p.checkPreCSRF(w, r) {
		return
	}
	f := &authForm{Email: r.PostFormValue("email"), Next: safeNext(r.PostFormValue("next"))}
	client := clientAddr(r, p.Config.TrustedProxies)
	vouchers := p.deviceVouchers(r)
	att := accounts.Attempt{Email: strings.ToLower(strings.TrimSpace(f.Email)), Client: clientKey(client)}
	att.Device = p.devices.Known(r.Context(), att.Email, vouchers)
	// The attempt counts before its password is checked: of many sent at
	// once, only those the guard admits cost a hash.
	if wait := p.loginGuard.Admit(att, time.Now()); wait > 0 {
		p.countLogin("throttled")
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		p.Log.Warn("login refused: too many attempts", slog.String("client", client.String()), slog.Duration("wait", wait))
		p.authPage(w, r, http.StatusTooManyRequests, "login", p.T("login.title"), f, p.throttledMessage(secs))
		return
	}
	u, err := accounts.Login(r.Context(), p.Store, f.Email, r.PostFormValue("password"))
	switch {
	case errors.Is(err, accounts.ErrBadCredentials):
		p.countLogin("wrong")
		p.authPage(w, r, http.StatusUnauthorized, "login", p.T("login.title"), f, p.T("login.wrong"))
		return
	case errors.Is(err, accounts.ErrBusy):
		p.loginGuard.Cancel(att)
		p.countLogin("busy")
		w.Header().Set("Retry-After", "1")
		p.authPage(w, r, http.StatusTooManyRequests, "login", p.T("login.title"), f, p.T("login.busy"))
		return
	case err != nil:
		p.loginGuard.Cancel(att)
		p.internal(w, r, err)
		return
	}
	p.loginGuard.Succeeded(att)
	p.countLogin("signed_in")
	p.rememberDevice(w, r, u.Email, vouchers, att.Device != "")
	if err := p.startSession(w, r, u); err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// throttledMessage says how long to wait, in seconds or minutes.
func (p *Panel) throttledMessage(secs int) string {
	switch {
	case secs <= 1:
		return p.T("login.throttled_second")
	case secs < 120:
		return p.T("login.throttled_seconds", secs)
	}
	return p.T("login.throttled", (secs+59)/60)
}

// deviceCookieTTL is how long a browser stays known after a sign-in; each
// sign-in from it renews it.
const (
	deviceCookieTTL = 365 * 24 * time.Hour
	maxVouchers     = 5 // a shared desk computer signs in as several people
)

// deviceVouchers are the vouchers of the browser's device cookie.
func (p *Panel) deviceVouchers(r *http.Request) []string {
	c, err := r.Cookie(p.cookieName("sendbox_device"))
	if err != nil || c.Value == "" || len(c.Value) > 400 {
		return nil
	}
	v := strings.Split(c.Value, "~")
	return v[:min(len(v), maxVouchers)]
}

// rememberDevice adds a voucher for email to the browser's device cookie
// (unless it has one: known), so that a distributed guess of the address
// does not slow this browser, and renews the cookie.
func (p *Panel) rememberDevice(w http.ResponseWriter, r *http.Request, email string, vouchers []string, known bool) {
	if !known {
		v, err := p.devices.Vouch(r.Context(), email)
		if err != nil {
			p.Log.Error("remember the browser of a sign-in", slog.Any("err", err))
			return
		}
		vouchers = append([]string{v}, vouchers...)
	}
	p.setCookie(w, "sendbox_device", strings.Join(vouchers[:min(len(vouchers), maxVouchers)], "~"), deviceCookieTTL)
}

func (p *Panel) handleLogout(w http.ResponseWriter, r *http.Request) {
	if s := sessionFrom(r); s != nil {
		if err := p.Store.DeleteSession(r.Context(), s.ID); err != nil {
			p.internal(w, r, err)
			return
		}
	}
	p.clearCookie(w, "sendbox_session")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (p *Panel) handleInviteForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	uid, err := p.Store.TokenUser(r.Context(), accounts.HashToken(token), "invite")
	if err != nil {
		p.page(w, r, http.StatusNotFound, "error", &view{Title: p.T("invite.title"), Narrow: true, Error: p.T("invite.invalid")})
		return
	}
	u, err := p.Store.UserByID(r.Context(), uid)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	p.authPage(w, r, http.StatusOK, "invite", p.T("invite.title"), &authForm{Token: token, InviteName: u.Name, Email: u.Email}, "")
}

func (p *Panel) handleInvite(w http.ResponseWriter, r *http.Request) {
	if !p.checkPreCSRF(w, r) {
		return
	}
	f := &authForm{Token: r.PostFormValue("token")}
	if _, err := p.Store.TokenUser(r.Context(), accounts.HashToken(f.Token), "invite"); err != nil {
		p.linkGone(w, r, err, "invite")
		return
	}
	pw := r.PostFormValue("password")
	err := accounts.CheckNewPassword(pw)
	if err == nil && pw != r.PostFormValue("password2") {
		err = errors.New(p.T("password.mismatch"))
	}
	if err != nil {
		p.authPage(w, r, http.StatusUnprocessableEntity, "invite", p.T("invite.title"), f, err.Error())
		return
	}
	u, err := p.Store.AcceptInvite(r.Context(), accounts.HashToken(f.Token), accounts.HashPassword(pw))
	if errors.Is(err, store.ErrNotFound) {
		p.page(w, r, http.StatusGone, "error", &view{Title: p.T("invite.title"), Narrow: true, Error: p.T("invite.invalid")})
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	if err := p.startSession(w, r, u); err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}

// handlePasswordChange lets any user change their own password; their other
// sessions end.
func (p *Panel) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r)
	if !accounts.CheckPassword(s.User.PasswordHash, r.PostFormValue("current")) {
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("password.wrong_current"))
		return
	}
	pw := r.PostFormValue("password")
	if err := accounts.CheckNewPassword(pw); err != nil {
		p.fail(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if pw != r.PostFormValue("password2") {
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("password.mismatch"))
		return
	}
	if err := p.Store.SetPassword(r.Context(), s.User.ID, accounts.HashPassword(pw), s.ID); err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/account?ok=password", http.StatusSeeOther)
}
