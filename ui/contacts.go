package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"log/slog"

	"sendbox/accounts"
	"sendbox/inbox"
	"sendbox/outbound"
	"sendbox/store"
)

type contactsView struct {
	Query, Tag, Consent string
	Items               []store.Contact
	Total               int
	Next                int64
	Tags                []string
	Keep                string
}

func (p *Panel) handleContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ContactFilter{Query: q.Get("q"), Tag: q.Get("tag"), Consent: q.Get("consent"), Limit: 50}
	switch f.Consent {
	case "", store.ConsentUnknown, store.ConsentOptedIn, store.ConsentOptedOut:
	default:
		f.Consent = ""
	}
	f.After, _ = strconv.ParseInt(q.Get("cursor"), 10, 64)
	v := &contactsView{Query: f.Query, Tag: f.Tag, Consent: f.Consent}
	var err error
	if v.Items, v.Total, v.Next, err = p.Store.ListContacts(r.Context(), f); err != nil {
		p.internal(w, r, err)
		return
	}
	tags, err := p.Store.AllTags(r.Context())
	if err != nil {
		p.internal(w, r, err)
		return
	}
	for t := range tags {
		v.Tags = append(v.Tags, t)
	}
	sort.Strings(v.Tags)
	keep := url.Values{}
	for k, val := range map[string]string{"q": f.Query, "tag": f.Tag, "consent": f.Consent} {
		if val != "" {
			keep.Set(k, val)
		}
	}
	v.Keep = keep.Encode()
	p.page(w, r, http.StatusOK, "contacts", &view{Title: p.T("contacts.title"), Nav: "contacts", Data: v})
}

type contactView struct {
	Contact       *store.Contact
	Conversations []store.Conversation
	Attributes    string // key = value lines, for editing
	Tags          string
	CanEdit       bool
	Error         string
	// Send a message: a text inside the 24-hour window, else a template.
	WindowOpen bool
	WindowLeft string
	Templates  []store.Template
	// Suppressed: the number opted out before an earlier contact of it was
	// erased, so marketing stays refused until the customer opts in.
	Suppressed bool
	// MarketingHold: Meta's 131049 holds marketing until MarketingHoldUntil.
	MarketingHold bool
}

func (p *Panel) loadContact(r *http.Request, id int64) (*contactView, error) {
	c, err := p.Store.ContactWithTags(r.Context(), id)
	if err != nil {
		return nil, err
	}
	v := &contactView{Contact: c, CanEdit: accounts.Can(sessionFrom(r).User.Role, accounts.Agent),
		MarketingHold: time.Now().Before(c.MarketingHoldUntil)}
	if c.Consent != store.ConsentOptedIn {
		if v.Suppressed, err = p.Store.Suppressed(r.Context(), c.WaID, c.UserID); err != nil {
			return nil, err
		}
	}
	if v.Conversations, _, _, err = p.Store.ListConversations(r.Context(), store.ConversationFilter{ContactID: id, Limit: 100}); err != nil {
		return nil, err
	}
	if v.CanEdit {
		v.WindowOpen = outbound.WindowOpen(c.LastInboundAt, time.Now())
		if v.WindowOpen {
			v.WindowLeft = roundLeft(time.Until(c.LastInboundAt.Add(outbound.Window)))
		}
		if v.Templates, err = p.Store.ListTemplates(r.Context(), true); err != nil {
			return nil, err
		}
	}
	keys := make([]string, 0, len(c.Attributes))
	for k := range c.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, k+" = "+c.Attributes[k])
	}
	v.Attributes = strings.Join(lines, "\n")
	v.Tags = strings.Join(c.Tags, ", ")
	return v, nil
}

func (p *Panel) handleContact(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	v, err := p.loadContact(r, id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	p.page(w, r, http.StatusOK, "contact", &view{Title: displayName(v.Contact), Nav: "contacts", Data: v})
}

// parseAttributes reads "key = value" lines.
func parseAttributes(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: write attributes as key = value", i+1)
		}
		if utf8.RuneCountInString(k) > 60 || utf8.RuneCountInString(v) > 500 {
			return nil, fmt.Errorf("line %d: keys have at most 60 characters, values 500", i+1)
		}
		out[k] = v
	}
	if len(out) > 50 {
		return nil, errors.New("at most 50 attributes")
	}
	return out, nil
}

func parseTags(s string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		if utf8.RuneCountInString(t) > 40 {
			return nil, fmt.Errorf("the tag %q is longer than 40 characters", t)
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	if len(out) > 30 {
		return nil, errors.New("at most 30 tags")
	}
	return out, nil
}

func (p *Panel) handleContactSave(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	u := store.ContactUpdate{Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Notes: strings.TrimSpace(r.PostFormValue("notes"))}
	var perr error
	if utf8.RuneCountInString(u.Name) > 100 {
		perr = accounts.ErrBadName
	}
	if perr == nil && u.Email != "" {
		u.Email, perr = accounts.NormalizeEmail(u.Email)
	}
	if perr == nil && utf8.RuneCountInString(u.Notes) > 5000 {
		perr = errors.New(p.T("contacts.notes_too_long"))
	}
	if perr == nil {
		u.Attributes, perr = parseAttributes(r.PostFormValue("attributes"))
	}
	if perr == nil {
		u.Tags, perr = parseTags(r.PostFormValue("tags"))
	}
	consent := r.PostFormValue("consent")
	if perr == nil && consent != "" && consent != store.ConsentUnknown && consent != store.ConsentOptedIn && consent != store.ConsentOptedOut {
		perr = errors.New(p.T("error.bad_request"))
	}
	if perr != nil {
		v, err := p.loadContact(r, id)
		if err != nil {
			p.notFoundOr(w, r, err)
			return
		}
		v.Error = perr.Error()
		v.Attributes, v.Tags = r.PostFormValue("attributes"), r.PostFormValue("tags")
		p.page(w, r, http.StatusUnprocessableEntity, "contact", &view{Title: displayName(v.Contact), Nav: "contacts", Data: v})
		return
	}
	if err := p.Store.UpdateContact(r.Context(), id, u); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	if consent != "" {
		c, err := p.Store.ContactByID(r.Context(), id)
		if err != nil {
			p.internal(w, r, err)
			return
		}
		if c.Consent != consent {
			src := p.T("contacts.consent_by", sessionFrom(r).User.Name)
			if err := p.Store.SetConsent(r.Context(), id, consent, src, time.Now()); err != nil {
				p.internal(w, r, err)
				return
			}
		}
	}
	http.Redirect(w, r, fmt.Sprintf("/contacts/%d?ok=saved", id), http.StatusSeeOther)
}

// handleContactErase erases a customer and everything about them.
func (p *Panel) handleContactErase(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	if err := inbox.EraseContact(r.Context(), p.Store, p.Config.DataDir, id); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	p.Log.Info("contact erased", slog.Int64("contact", id), slog.String("by", sessionFrom(r).User.Email))
	http.Redirect(w, r, "/contacts?ok=erased", http.StatusSeeOther)
}
