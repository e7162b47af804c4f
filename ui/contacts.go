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
	// Ledger is the contact's consent records, newest first.
	Ledger []store.ConsentRecord
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
	if v.Ledger, err = p.Store.ConsentLedger(r.Context(), id); err != nil {
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

// parseAttributes reads the form's "key = value" lines; inbox.CheckAttributes
// judges them.
func parseAttributes(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, &inbox.InputError{Field: "attributes", Code: inbox.CodeInvalidAttr,
				Message: fmt.Sprintf("line %d: write attributes as key = value", i+1)}
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// parseTags reads tags separated by commas or lines; inbox.CheckTags
// judges them.
func parseTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' })
}

// handleContactSave saves the contact form: every field, and the consent
// when one is chosen.
func (p *Panel) handleContactSave(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	name, email, notes := r.PostFormValue("name"), r.PostFormValue("email"), r.PostFormValue("notes")
	tags := parseTags(r.PostFormValue("tags"))
	ch := inbox.ContactChange{Name: &name, Email: &email, Notes: &notes, Tags: &tags}
	attrs, err := parseAttributes(r.PostFormValue("attributes"))
	if err == nil {
		ch.Attributes = &attrs
		if consent := r.PostFormValue("consent"); consent != "" {
			ch.Consent = &consent
		}
		err = inbox.UpdateContact(r.Context(), p.Store, id, ch, p.T)
	}
	var ie *inbox.InputError
	if errors.As(err, &ie) || errors.Is(err, store.ErrConsentRefused) {
		status := http.StatusUnprocessableEntity
		v, lerr := p.loadContact(r, id)
		if lerr != nil {
			p.notFoundOr(w, r, lerr)
			return
		}
		if ie != nil {
			v.Error = p.inputMessage(ie)
		} else {
			// The rest is saved; the opt-in is in the ledger as refused.
			status, v.Error = http.StatusConflict, p.T("contacts.consent_refused")
		}
		v.Attributes, v.Tags = r.PostFormValue("attributes"), r.PostFormValue("tags")
		p.page(w, r, status, "contact", &view{Title: displayName(v.Contact), Nav: "contacts", Data: v})
		return
	}
	if err != nil {
		p.notFoundOr(w, r, err)
		return
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
