package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"sendbox/accounts"
	"sendbox/notify"
	"sendbox/store"
)

// handleAccount is "My account": each user's own page, whatever their
// role: name and address, password, and how they hear about urgent
// conversations.
func (p *Panel) handleAccount(w http.ResponseWriter, r *http.Request) {
	p.settingsPage(w, r, http.StatusOK, "account", nil)
}

// handleAccountSave changes the user's own name and address. A new address
// is where they sign in and receive alerts, so it needs their password.
func (p *Panel) handleAccountSave(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r)
	me := s.User
	name, err := accounts.CheckName(r.PostFormValue("name"))
	var email string
	if err == nil {
		email, err = accounts.NormalizeEmail(r.PostFormValue("email"))
	}
	if err == nil && email != me.Email && !accounts.CheckPassword(me.PasswordHash, r.PostFormValue("current")) {
		err = errors.New(p.T("password.wrong_current"))
	}
	if err == nil {
		err = p.Store.SetUserProfile(r.Context(), me.ID, name, email)
		if errors.Is(err, store.ErrConflict) {
			err = errors.New(p.T("team.exists"))
		} else if err != nil {
			p.internal(w, r, err)
			return
		}
	}
	if err != nil {
		p.settingsError(w, r, "account", err)
		return
	}
	if email != me.Email {
		p.Log.Info("user changed their address", slog.Int64("user", me.ID), slog.String("from", me.Email), slog.String("to", email))
	}
	http.Redirect(w, r, "/settings/account?ok=saved", http.StatusSeeOther)
}

// handleNotificationsSave stores how the user wants to hear about urgent
// conversations. The page's script posts here too, with htmx, when the
// user turns browser notifications on or off.
func (p *Panel) handleNotificationsSave(w http.ResponseWriter, r *http.Request) {
	me := sessionFrom(r).User
	n := store.Notifications{Browser: r.PostFormValue("browser") == "on", Sound: r.PostFormValue("sound") == "on",
		Email: r.PostFormValue("email_urgent")}
	switch n.Email {
	case store.EmailTeam, store.EmailAlways, store.EmailNever:
	default:
		p.settingsError(w, r, "account", errors.New(p.T("error.bad_request")))
		return
	}
	if !accounts.Can(me.Role, accounts.Agent) {
		// Viewers cannot act on a conversation: nothing to alert them to.
		n = store.Notifications{Email: store.EmailNever}
	}
	if err := p.Store.SetUserNotifications(r.Context(), me.ID, n); err != nil {
		p.internal(w, r, err)
		return
	}
	if r.Header.Get("HX-Request") == "true" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/settings/account?ok=saved", http.StatusSeeOther)
}

// defaultTeam gives a new install its team, with the owner in it, and
// sends the assistant's escalations to it, so that they are assigned to
// someone from the first day. Setup goes on if it fails: the owner can
// make a team by hand.
func (p *Panel) defaultTeam(ctx context.Context) {
	id, err := p.Store.EnsureDefaultTeam(ctx)
	if err != nil {
		p.Log.Error("create the default team", slog.Any("err", err))
		return
	}
	if id != 0 && p.Assistant != nil {
		// The assistant keeps its settings in memory: read the new team.
		if err := p.Assistant.Reload(ctx); err != nil {
			p.Log.Error("reload the assistant's settings", slog.Any("err", err))
		}
	}
}

// handleTestEmail sends a test e-mail to the admin who asks, and shows
// whether the server took it or why not.
func (p *Panel) handleTestEmail(w http.ResponseWriter, r *http.Request) {
	me := sessionFrom(r).User
	data := map[string]any{"To": me.Email}
	if p.Mailer == nil {
		data["Error"] = notify.ErrNotConfigured.Error()
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), 40*time.Second)
		defer cancel()
		err := p.Mailer.Send(ctx, notify.Message{To: me.Email, Subject: p.T("email.test_subject"),
			Body: p.T("email.test_body", p.publicURL()+"/settings/account")})
		if err != nil {
			p.Log.Warn("test e-mail failed", slog.String("smtp", p.Mailer.String()), slog.Any("err", err))
			data["Error"] = err.Error()
		}
	}
	p.fragment(w, r, "settings", "email_result", data)
}
