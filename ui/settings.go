package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"sendbox/accounts"
	"sendbox/business"
	"sendbox/outbound"
	"sendbox/store"
)

type settingsView struct {
	Section string
	Me      *store.User

	// whatsapp
	Sandbox     bool
	WebhookURL  string
	VerifyToken string
	Cfg         whatsappCfg

	// profile
	Profile  *business.Profile
	Services string
	Weekdays [7]string
	// Closures and Special are the profile's dated hours as lines to edit.
	Closures, Special string

	// team
	Users   []store.User
	Teams   []store.Team
	Invite  string // a link shown once
	Roles   []string
	APIKeys []store.APIKey
	NewKey  string // shown once

	Labels    []store.Label
	Palette   []int
	Canned    []store.CannedReply
	Templates []store.Template
	// AllowUnknownConsent: the owner allowed marketing to contacts whose
	// consent is unknown.
	AllowUnknownConsent bool
	// Quiet is the marketing quiet hours (outbound.QuietHours).
	Quiet outbound.QuietHours
	// Cap is the marketing frequency cap (outbound.FrequencyCap).
	Cap outbound.FrequencyCap

	// account: the user's own choices and teams
	Notify  store.Notifications
	MyTeams []string
	MailOn  bool // an SMTP server is configured

	// email: the server (password masked) and the sender
	MailServer, MailFrom string

	Error string
}

type whatsappCfg struct {
	PhoneNumberID, WABAID, APIURL, APIVersion string
	MPS                                       int
}

var sections = map[string]bool{"whatsapp": true, "profile": true, "team": true, "api-keys": true, "labels": true,
	"canned": true, "templates": true, "account": true, "email": true}

// publicURL is where Meta and browsers reach this sendbox.
func (p *Panel) publicURL() string {
	if u := p.Config.PublicURL(); u != "" {
		return u
	}
	return p.BaseURL
}

func (p *Panel) settingsData(ctx context.Context, section string, me *store.User) (*settingsView, error) {
	v := &settingsView{Section: section, Me: me, Sandbox: p.Sim != nil, Roles: accounts.Roles}
	var err error
	switch section {
	case "whatsapp":
		v.WebhookURL = p.publicURL() + "/webhooks/whatsapp"
		v.VerifyToken = p.VerifyToken
		v.Cfg = whatsappCfg{PhoneNumberID: p.Graph.PhoneNumberID, WABAID: p.Graph.WABAID, APIURL: p.Config.WA.APIURL,
			APIVersion: p.Config.WA.APIVersion, MPS: p.Config.WA.MPS}
	case "profile":
		if v.Profile, err = business.Load(ctx, p.Store); err != nil {
			return nil, err
		}
		v.Services, v.Weekdays = business.ServicesText(v.Profile.Services), business.Weekdays
		v.Closures, v.Special = business.ClosuresText(v.Profile.Closures), business.SpecialText(v.Profile.Special)
	case "team":
		if v.Users, err = p.Store.ListUsers(ctx); err != nil {
			return nil, err
		}
		if v.Teams, err = p.Store.ListTeams(ctx); err != nil {
			return nil, err
		}
	case "api-keys":
		if v.APIKeys, err = p.Store.ListAPIKeys(ctx); err != nil {
			return nil, err
		}
	case "labels":
		if v.Labels, err = p.Store.ListLabels(ctx); err != nil {
			return nil, err
		}
		v.Palette = []int{0, 1, 2, 3, 4, 5, 6, 7}
	case "canned":
		if v.Canned, err = p.Store.ListCannedReplies(ctx); err != nil {
			return nil, err
		}
	case "templates":
		if v.Templates, err = p.Store.ListTemplates(ctx, false); err != nil {
			return nil, err
		}
		if v.AllowUnknownConsent, err = outbound.AllowUnknownConsent(ctx, p.Store); err != nil {
			return nil, err
		}
		if v.Quiet, err = outbound.LoadQuietHours(ctx, p.Store, nil); err != nil {
			return nil, err
		}
		if v.Cap, err = outbound.LoadFrequencyCap(ctx, p.Store); err != nil {
			return nil, err
		}
	case "email":
		if p.Mailer != nil {
			v.MailOn, v.MailServer, v.MailFrom = true, p.Mailer.String(), p.Mailer.From()
		}
	case "account":
		v.MailOn = p.Config.SMTPURL != ""
		if v.Notify, err = p.Store.UserNotifications(ctx, me.ID); err != nil {
			return nil, err
		}
		teams, err := p.Store.ListTeams(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range teams {
			if slices.Contains(t.Members, me.ID) {
				v.MyTeams = append(v.MyTeams, t.Name)
			}
		}
	}
	return v, nil
}

func (p *Panel) handleSettings(w http.ResponseWriter, r *http.Request) {
	section := r.PathValue("section")
	if section == "" {
		section = "whatsapp"
	}
	if !sections[section] {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	p.settingsPage(w, r, http.StatusOK, section, nil)
}

// settingsPage renders a section; edit may adjust the data (an error, a
// link to show once) before rendering.
func (p *Panel) settingsPage(w http.ResponseWriter, r *http.Request, status int, section string, edit func(*settingsView)) {
	s := sessionFrom(r)
	v, err := p.settingsData(r.Context(), section, s.User)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	if edit != nil {
		edit(v)
	}
	p.page(w, r, status, "settings", &view{Title: p.T("settings." + section), Nav: "settings", Data: v})
}

func (p *Panel) settingsError(w http.ResponseWriter, r *http.Request, section string, err error) {
	p.settingsPage(w, r, http.StatusUnprocessableEntity, section, func(v *settingsView) { v.Error = err.Error() })
}

// handleTestConnection asks Graph about the phone number with the
// configured credentials, and shows the answer or why it failed.
func (p *Panel) handleTestConnection(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	info, err := p.Graph.PhoneNumber(ctx)
	data := map[string]any{"Info": info}
	if err != nil {
		data["Error"] = whatsappError(err)
	}
	p.fragment(w, r, "settings", "connection_result", data)
}

func (p *Panel) handleProfileSave(w http.ResponseWriter, r *http.Request) {
	pr := &business.Profile{
		Name: strings.TrimSpace(r.PostFormValue("name")), About: strings.TrimSpace(r.PostFormValue("about")),
		Timezone: strings.TrimSpace(r.PostFormValue("timezone")), Address: strings.TrimSpace(r.PostFormValue("address")),
		Phone: strings.TrimSpace(r.PostFormValue("phone")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Website: strings.TrimSpace(r.PostFormValue("website")),
	}
	for i := range pr.Hours {
		k := strconv.Itoa(i)
		pr.Hours[i] = business.DayHours{Closed: r.PostFormValue("closed"+k) == "on",
			Open: r.PostFormValue("open" + k), Close: r.PostFormValue("close" + k)}
	}
	services, err := business.ParseServices(r.PostFormValue("services"))
	if err == nil {
		pr.Services = services
		pr.Closures, err = business.ParseClosures(r.PostFormValue("closures"))
	}
	if err == nil {
		pr.Special, err = business.ParseSpecial(r.PostFormValue("special"))
	}
	if err == nil {
		err = business.Save(r.Context(), p.Store, pr)
	}
	if err == nil && p.KB != nil {
		// The assistant answers from the profile: its passages follow it.
		if kerr := p.KB.SyncProfile(r.Context(), pr); kerr != nil {
			p.Log.Error("write the profile into the knowledge base", slog.Any("err", kerr))
		}
	}
	if err != nil {
		p.settingsPage(w, r, http.StatusUnprocessableEntity, "profile", func(v *settingsView) {
			v.Error, v.Profile, v.Services = err.Error(), pr, r.PostFormValue("services")
			v.Closures, v.Special = r.PostFormValue("closures"), r.PostFormValue("special")
		})
		return
	}
	http.Redirect(w, r, "/settings/profile?ok=saved", http.StatusSeeOther)
}

// mayManage reports whether me may change a user of role target: only
// owners manage owners.
func mayManage(me *store.User, targetRole string) bool {
	return targetRole != accounts.Owner || me.Role == accounts.Owner
}

func (p *Panel) inviteLink(ctx context.Context, userID int64) (string, error) {
	token, hash := accounts.NewToken()
	if err := p.Store.CreateToken(ctx, hash, "invite", userID, inviteLinkTTL); err != nil {
		return "", err
	}
	return p.publicURL() + "/invite?token=" + token, nil
}

// handleUserInvite adds a user and shows, once, the link where they set
// their password.
func (p *Panel) handleUserInvite(w http.ResponseWriter, r *http.Request) {
	me := sessionFrom(r).User
	email, err := accounts.NormalizeEmail(r.PostFormValue("email"))
	var name string
	if err == nil {
		name, err = accounts.CheckName(r.PostFormValue("name"))
	}
	role := r.PostFormValue("role")
	if err == nil && !accounts.ValidRole(role) {
		err = accounts.ErrBadRole
	}
	if err == nil && !mayManage(me, role) {
		err = errors.New(p.T("team.owner_only"))
	}
	if err != nil {
		p.settingsError(w, r, "team", err)
		return
	}
	u, err := p.Store.CreateUser(r.Context(), email, name, role, "")
	if errors.Is(err, store.ErrConflict) {
		p.settingsError(w, r, "team", errors.New(p.T("team.exists")))
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	if accounts.Can(role, accounts.Agent) {
		// The default team is everyone who answers customers.
		if err := p.Store.JoinDefaultTeam(r.Context(), u.ID); err != nil {
			p.Log.Error("add an invited user to the default team", slog.Any("err", err))
		}
	}
	link, err := p.inviteLink(r.Context(), u.ID)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	p.Log.Info("user invited", slog.String("email", email), slog.String("role", role), slog.String("by", me.Email))
	p.settingsPage(w, r, http.StatusOK, "team", func(v *settingsView) { v.Invite = link })
}

func (p *Panel) userFromPath(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return nil, false
	}
	u, err := p.Store.UserByID(r.Context(), id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return nil, false
	}
	if !mayManage(sessionFrom(r).User, u.Role) {
		p.fail(w, r, http.StatusForbidden, p.T("team.owner_only"))
		return nil, false
	}
	return u, true
}

func (p *Panel) handleUserUpdate(w http.ResponseWriter, r *http.Request) {
	me := sessionFrom(r).User
	u, ok := p.userFromPath(w, r)
	if !ok {
		return
	}
	name, err := accounts.CheckName(r.PostFormValue("name"))
	role := r.PostFormValue("role")
	disabled := r.PostFormValue("disabled") == "on"
	if err == nil && !accounts.ValidRole(role) {
		err = accounts.ErrBadRole
	}
	if err == nil && !mayManage(me, role) {
		err = errors.New(p.T("team.owner_only"))
	}
	if err == nil && u.ID == me.ID && (disabled || role != u.Role) {
		err = errors.New(p.T("team.not_yourself"))
	}
	if err == nil && u.Role == accounts.Owner && (role != accounts.Owner || disabled) {
		if n, cerr := p.Store.CountActiveOwners(r.Context()); cerr != nil || n <= 1 {
			err = errors.New(p.T("team.last_owner"))
		}
	}
	if err != nil {
		p.settingsError(w, r, "team", err)
		return
	}
	if err := p.Store.UpdateUser(r.Context(), u.ID, name, role, disabled); err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/team?ok=saved", http.StatusSeeOther)
}

// handleUserReset makes a new link where the user sets a new password.
func (p *Panel) handleUserReset(w http.ResponseWriter, r *http.Request) {
	u, ok := p.userFromPath(w, r)
	if !ok {
		return
	}
	link, err := p.inviteLink(r.Context(), u.ID)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	p.settingsPage(w, r, http.StatusOK, "team", func(v *settingsView) { v.Invite = link })
}

func (p *Panel) handleTeamCreate(w http.ResponseWriter, r *http.Request) {
	name, err := accounts.CheckName(r.PostFormValue("name"))
	if err == nil {
		_, err = p.Store.CreateTeam(r.Context(), name)
	}
	if errors.Is(err, store.ErrConflict) {
		err = errors.New(p.T("team.team_exists"))
	}
	if err != nil {
		p.settingsError(w, r, "team", err)
		return
	}
	http.Redirect(w, r, "/settings/team?ok=saved", http.StatusSeeOther)
}

func (p *Panel) handleTeamUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	if r.PostFormValue("delete") == "1" {
		if err := p.Store.DeleteTeam(r.Context(), id); err != nil {
			p.notFoundOr(w, r, err)
			return
		}
		http.Redirect(w, r, "/settings/team?ok=deleted", http.StatusSeeOther)
		return
	}
	var members []int64
	for _, v := range r.PostForm["member"] {
		if uid, err := strconv.ParseInt(v, 10, 64); err == nil {
			members = append(members, uid)
		}
	}
	if err := p.Store.SetTeamMembers(r.Context(), id, members); err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/team?ok=saved", http.StatusSeeOther)
}

func (p *Panel) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) {
	me := sessionFrom(r).User
	role := r.PostFormValue("role")
	if !accounts.ValidRole(role) || !accounts.Can(me.Role, role) {
		p.settingsError(w, r, "api-keys", errors.New(p.T("keys.role_too_high")))
		return
	}
	key, k, err := accounts.CreateAPIKey(r.Context(), p.Store, r.PostFormValue("name"), role)
	if err != nil {
		p.settingsError(w, r, "api-keys", err)
		return
	}
	p.Log.Info("API key created", slog.String("name", k.Name), slog.String("role", k.Role), slog.String("by", me.Email))
	p.settingsPage(w, r, http.StatusOK, "api-keys", func(v *settingsView) { v.NewKey = key })
}

func (p *Panel) handleAPIKeyRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	if err := accounts.RevokeAPIKey(r.Context(), p.Store, sessionFrom(r).User.Role, id); err != nil {
		if errors.Is(err, accounts.ErrOwnerKey) {
			p.fail(w, r, http.StatusForbidden, p.T("keys.owner_only"))
			return
		}
		p.notFoundOr(w, r, err)
		return
	}
	if p.OnKeyRevoked != nil {
		p.OnKeyRevoked()
	}
	http.Redirect(w, r, "/settings/api-keys?ok=revoked", http.StatusSeeOther)
}

func (p *Panel) handleLabelCreate(w http.ResponseWriter, r *http.Request) {
	name, err := accounts.CheckName(r.PostFormValue("name"))
	color, _ := strconv.Atoi(r.PostFormValue("color"))
	if color < 0 || color > 7 {
		color = 0
	}
	if err == nil {
		_, err = p.Store.CreateLabel(r.Context(), name, color)
	}
	if errors.Is(err, store.ErrConflict) {
		err = errors.New(p.T("labels.exists"))
	}
	if err != nil {
		p.settingsError(w, r, "labels", err)
		return
	}
	http.Redirect(w, r, "/settings/labels?ok=saved", http.StatusSeeOther)
}

func (p *Panel) handleLabelDelete(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := p.Store.DeleteLabel(r.Context(), id); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/labels?ok=deleted", http.StatusSeeOther)
}

func (p *Panel) handleCannedSave(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	shortcut := strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("shortcut")), "/")
	body := strings.TrimSpace(r.PostFormValue("body"))
	var err error
	switch {
	case shortcut == "" || len(shortcut) > 40 || strings.ContainsAny(shortcut, " \t\n"):
		err = errors.New(p.T("canned.bad_shortcut"))
	case body == "" || len(body) > 4096:
		err = errors.New(p.T("canned.bad_body"))
	default:
		err = p.Store.SaveCannedReply(r.Context(), id, shortcut, body)
		if errors.Is(err, store.ErrConflict) {
			err = errors.New(p.T("canned.exists"))
		}
	}
	if err != nil {
		p.settingsError(w, r, "canned", err)
		return
	}
	http.Redirect(w, r, "/settings/canned?ok=saved", http.StatusSeeOther)
}

func (p *Panel) handleCannedDelete(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := p.Store.DeleteCannedReply(r.Context(), id); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/canned?ok=deleted", http.StatusSeeOther)
}

// handleConsentSetting records the owner's choice about marketing to
// contacts whose consent is unknown: owners only, since it decides who may
// be marketed to.
func (p *Panel) handleConsentSetting(w http.ResponseWriter, r *http.Request) {
	me := sessionFrom(r).User
	allow := r.PostFormValue("allow_unknown") == "on"
	if err := outbound.SetAllowUnknownConsent(r.Context(), p.Store, allow); err != nil {
		p.internal(w, r, err)
		return
	}
	p.Log.Info("marketing to contacts of unknown consent", slog.Bool("allowed", allow), slog.String("by", me.Email))
	http.Redirect(w, r, "/settings/templates?ok=saved", http.StatusSeeOther)
}

func (p *Panel) handleTemplatesSync(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	n, err := outbound.SyncTemplates(ctx, p.Store, p.Graph)
	if err != nil {
		p.settingsError(w, r, "templates", fmt.Errorf("%s: %s", p.T("templates.sync_failed"), whatsappError(err)))
		return
	}
	p.Log.Info("templates synced", slog.Int("count", n))
	http.Redirect(w, r, "/settings/templates?ok=synced", http.StatusSeeOther)
}

// handleQuietHours records the marketing quiet hours: when marketing
// templates wait, by the customer's clock.
func (p *Panel) handleQuietHours(w http.ResponseWriter, r *http.Request) {
	q := outbound.QuietHours{On: r.PostFormValue("on") == "on", From: strings.TrimSpace(r.PostFormValue("from")),
		To: strings.TrimSpace(r.PostFormValue("to")), Sundays: r.PostFormValue("sundays") == "on"}
	if err := outbound.SaveQuietHours(r.Context(), p.Store, q); err != nil {
		p.settingsPage(w, r, http.StatusUnprocessableEntity, "templates", func(v *settingsView) {
			v.Error, v.Quiet = err.Error(), q
		})
		return
	}
	p.Log.Info("marketing quiet hours", slog.Bool("on", q.On), slog.String("from", q.From), slog.String("to", q.To),
		slog.Bool("sundays", q.Sundays), slog.String("by", sessionFrom(r).User.Email))
	http.Redirect(w, r, "/settings/templates?ok=saved", http.StatusSeeOther)
}

// handleFrequencyCap records the marketing frequency cap: at most so many
// marketing templates per customer in so many days, whoever sends them.
func (p *Panel) handleFrequencyCap(w http.ResponseWriter, r *http.Request) {
	count, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("count")))
	days, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
	f := outbound.FrequencyCap{Count: count, Days: days}
	if err := outbound.SaveFrequencyCap(r.Context(), p.Store, f); err != nil {
		p.settingsPage(w, r, http.StatusUnprocessableEntity, "templates", func(v *settingsView) {
			v.Error, v.Cap = err.Error(), f
		})
		return
	}
	p.Log.Info("marketing frequency cap", slog.Int("count", f.Count), slog.Int("days", f.Days), slog.String("by", sessionFrom(r).User.Email))
	http.Redirect(w, r, "/settings/templates?ok=saved", http.StatusSeeOther)
}
