package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sendbox/accounts"
	"sendbox/inbox"
	"sendbox/language"
	"sendbox/media"
	"sendbox/outbound"
	"sendbox/search"
	"sendbox/store"
	"sendbox/whatsapp"
)

// inboxFilter reads the list filters from the query. The status "urgent"
// lists the urgent conversations that are not resolved.
func inboxFilter(r *http.Request, userID int64) (store.InboxFilter, url.Values, bool) {
	q := r.URL.Query()
	f := store.InboxFilter{Status: q.Get("status"), Assignee: q.Get("assignee"), UserID: userID,
		Query: strings.TrimSpace(q.Get("q")), After: q.Get("cursor"), Limit: 50}
	if f.Status == "" && !q.Has("status") {
		f.Status = "open"
	}
	urgent := false
	switch f.Status {
	case "open", "pending", "snoozed", "resolved", "":
	case "urgent":
		f.Status, urgent = "", true
	default:
		f.Status = "open"
	}
	switch f.Assignee {
	case "mine", "unassigned", "":
	default:
		f.Assignee = ""
	}
	f.LabelID, _ = strconv.ParseInt(q.Get("label"), 10, 64)
	keep := url.Values{}
	keep.Set("status", f.Status)
	if urgent {
		keep.Set("status", "urgent")
	}
	for _, k := range []string{"assignee", "label", "q"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	return f, keep, urgent
}

type inboxView struct {
	Hits      []resultView // full-text results when the search box has words
	Searching bool
	Filter    store.InboxFilter
	Keep      string // the filters as a query string, for links
	Counts    store.InboxCounts
	Items     []store.Conversation
	Next      string
	Labels    []store.Label
	CurrentID int64
	Conv      *convView
	// Urgent lists the urgent conversations; UrgentCount counts them.
	Urgent      bool
	UrgentCount int
	Fragment    bool // rendered alone: the counts are swapped in out of band
}

// convView is everything the thread column and the details column show.
type convView struct {
	Conv       *store.Conversation
	Contact    *store.Contact
	Items      []threadItem
	Events     []store.ConversationEvent
	Users      []store.User
	Teams      []store.Team
	Labels     []store.Label
	Canned     []store.CannedReply
	Templates  []store.Template
	WindowOpen bool
	WindowLeft string
	CanReply   bool
	CSRF       string
	// The assistant: whether it generates text (and why not).
	Generation    bool
	GenerationWhy string
	// Langs are the languages an agent may choose for the conversation,
	// and AutoLang, AutoLangSource what it speaks without a choice.
	Langs                    []string
	AutoLang, AutoLangSource string
	// Runs are the contact's flow runs in progress, which an agent may stop.
	Runs []store.FlowRun
}

func (p *Panel) list(r *http.Request, f store.InboxFilter, urgent bool) (*inboxView, error) {
	ctx := r.Context()
	v := &inboxView{Filter: f, Urgent: urgent}
	var err error
	if v.UrgentCount, err = p.Store.UrgentCount(ctx); err != nil {
		return nil, err
	}
	if urgent {
		uf := f
		uf.Status, uf.Urgent = "", true
		if v.Items, _, v.Next, err = p.Store.Inbox(ctx, uf); err != nil {
			return nil, err
		}
		v.Counts, err = p.Store.InboxCounts(ctx, f)
		return v, err
	}
	if f.Query != "" && p.Search != nil {
		// Words in the search box search every message and contact; the
		// other filters narrow it as they narrow the list.
		q := search.Query{Q: f.Query, Status: f.Status, LabelID: f.LabelID, Limit: 50}
		if f.Assignee == "mine" {
			q.AgentID = f.UserID
		}
		v.Searching = true
		if v.Hits, _, err = p.results(r, q); err != nil {
			return nil, err
		}
		v.Counts, err = p.Store.InboxCounts(ctx, store.InboxFilter{Assignee: f.Assignee, UserID: f.UserID, LabelID: f.LabelID})
		return v, err
	}
	if v.Items, _, v.Next, err = p.Store.Inbox(ctx, f); err != nil {
		return nil, err
	}
	if v.Counts, err = p.Store.InboxCounts(ctx, f); err != nil {
		return nil, err
	}
	return v, nil
}

func (p *Panel) handleInbox(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r)
	f, keep, urgent := inboxFilter(r, s.User.ID)
	v, err := p.list(r, f, urgent)
	if errors.Is(err, store.ErrBadCursor) {
		http.Redirect(w, r, "/inbox", http.StatusSeeOther)
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	v.Keep = keep.Encode()
	if v.Labels, err = p.Store.ListLabels(r.Context()); err != nil {
		p.internal(w, r, err)
		return
	}
	title := p.T("inbox.title")
	if idStr := r.PathValue("id"); idStr != "" {
		id, err := strconv.ParseInt(idStr, 10, 64)
		if err != nil {
			p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
			return
		}
		cv, err := p.conversation(r, id)
		if errors.Is(err, store.ErrNotFound) {
			p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
			return
		}
		if err != nil {
			p.internal(w, r, err)
			return
		}
		v.Conv, v.CurrentID = cv, id
		title = displayName(cv.Contact) + " · " + title
	}
	p.page(w, r, http.StatusOK, "inbox", &view{Title: title, Nav: "inbox", Data: v})
}

// handleInboxList renders the conversation list alone (filters, live updates, paging).
func (p *Panel) handleInboxList(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r)
	f, keep, urgent := inboxFilter(r, s.User.ID)
	v, err := p.list(r, f, urgent)
	if errors.Is(err, store.ErrBadCursor) {
		p.fail(w, r, http.StatusBadRequest, p.T("error.bad_request"))
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	v.Keep, v.Fragment = keep.Encode(), true
	v.CurrentID, _ = strconv.ParseInt(r.URL.Query().Get("current"), 10, 64)
	name := "conv_list"
	if f.After != "" {
		name = "conv_more" // appended below the page already shown
	}
	p.fragment(w, r, "inbox", name, v)
}

// conversation loads the thread and everything around it, and marks what
// the customer wrote as read (blue ticks for them) when an agent looks.
func (p *Panel) conversation(r *http.Request, id int64) (*convView, error) {
	ctx := r.Context()
	s := sessionFrom(r)
	conv, err := p.Store.ConversationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cv := &convView{Conv: conv, CanReply: accounts.Can(s.User.Role, accounts.Agent), CSRF: s.CSRF}
	if cv.Contact, err = p.Store.ContactWithTags(ctx, conv.ContactID); err != nil {
		return nil, err
	}
	last := cv.Contact.LastInboundAt
	cv.WindowOpen = outbound.WindowOpen(last, time.Now())
	if cv.WindowOpen {
		cv.WindowLeft = roundLeft(time.Until(last.Add(outbound.Window)))
	}
	msgs, err := p.threadMessages(ctx, id, r.URL.Query().Get("at"))
	if err != nil {
		return nil, err
	}
	if cv.Events, err = p.Store.ConversationEvents(ctx, id); err != nil {
		return nil, err
	}
	if cv.Users, err = p.Store.ListUsers(ctx); err != nil {
		return nil, err
	}
	if cv.Teams, err = p.Store.ListTeams(ctx); err != nil {
		return nil, err
	}
	if cv.Labels, err = p.Store.ListLabels(ctx); err != nil {
		return nil, err
	}
	if cv.Runs, err = p.Store.ActiveRunsOf(ctx, conv.ContactID); err != nil {
		return nil, err
	}
	if cv.CanReply {
		if cv.Canned, err = p.Store.ListCannedReplies(ctx); err != nil {
			return nil, err
		}
		if cv.Templates, err = p.Store.ListTemplates(ctx, true); err != nil {
			return nil, err
		}
	}
	names := map[int64]string{}
	for _, u := range cv.Users {
		names[u.ID] = u.Name
	}
	replies, err := p.Store.AIReplies(ctx, id)
	if err != nil {
		return nil, err
	}
	ai := make(map[int64]*store.AIReply, len(replies))
	for i := range replies {
		if replies[i].MessageID != 0 {
			ai[replies[i].MessageID] = &replies[i]
		}
	}
	cv.Items = p.thread(ctx, msgs, cv.Events, names, ai, id, cv.CanReply)
	if cv.CanReply {
		cv.Generation, cv.GenerationWhy = p.Assistant.Generation()
		cv.Langs = language.Langs
		cv.AutoLang, cv.AutoLangSource = language.Resolve("", conv.LanguageDetected, cv.Contact.WaID)
	}
	if conv.Unread > 0 && cv.CanReply {
		p.markRead(r.Context(), conv, msgs)
	}
	return cv, nil
}

// threadMessages loads a thread newest first: its last 500 messages, or,
// opened at a message (a search result), the 250 before and after it.
func (p *Panel) threadMessages(ctx context.Context, convID int64, at string) ([]store.Message, error) {
	id, err := strconv.ParseInt(at, 10, 64)
	if err != nil || id <= 0 {
		msgs, _, _, err := p.Store.ListMessages(ctx, store.MessageFilter{ConversationID: convID, Limit: 500})
		return msgs, err
	}
	older, _, _, err := p.Store.ListMessages(ctx, store.MessageFilter{ConversationID: convID, After: id + 1, Limit: 250})
	if err != nil {
		return nil, err
	}
	newer, _, _, err := p.Store.ListMessages(ctx, store.MessageFilter{ConversationID: convID, After: id, Ascending: true, Limit: 250})
	if err != nil {
		return nil, err
	}
	out := make([]store.Message, 0, len(newer)+len(older))
	for i := len(newer) - 1; i >= 0; i-- {
		out = append(out, newer[i])
	}
	return append(out, older...), nil
}

// markRead clears the unread count and tells Meta the customer's latest
// message was read, off the request path.
func (p *Panel) markRead(rctx context.Context, conv *store.Conversation, msgs []store.Message) {
	var wamid string
	for _, m := range msgs { // newest first
		if m.Direction == store.Inbound && m.WAMID != "" {
			wamid = m.WAMID
			break
		}
	}
	go func() {
		// The request's values (who read it) outlive the request, which ends first.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(rctx), 30*time.Second)
		defer cancel()
		if err := p.Store.MarkConversationRead(ctx, conv.ID); err != nil {
			p.Log.Warn("mark conversation read", slog.Any("err", err))
		}
		if wamid != "" {
			if err := p.Graph.MarkRead(ctx, wamid, false); err != nil {
				p.Log.Warn("mark read at Meta", slog.String("wamid", wamid), slog.Any("err", err))
			}
		}
	}()
}

func roundLeft(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return "<1m"
}

func (p *Panel) convID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return 0, false
	}
	return id, true
}

// handleThreadMessages renders the messages column (live updates).
func (p *Panel) handleThreadMessages(w http.ResponseWriter, r *http.Request) {
	p.convFragment(w, r, "messages")
}

// handleDetails renders the head and the details column (live updates).
func (p *Panel) handleDetails(w http.ResponseWriter, r *http.Request) {
	part := r.URL.Query().Get("part")
	switch part {
	case "head", "details", "composer":
	default:
		part = "details"
	}
	p.convFragment(w, r, part)
}

func (p *Panel) convFragment(w http.ResponseWriter, r *http.Request, name string) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	cv, err := p.conversation(r, id)
	if errors.Is(err, store.ErrNotFound) {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	p.fragment(w, r, "inbox", name, cv)
}

// done answers a successful action: the parts of the page showing the
// conversation reload (live updates would too, a moment later).
func done(w http.ResponseWriter) {
	w.Header().Set("HX-Trigger", "refresh-conv")
	w.WriteHeader(http.StatusNoContent)
}

// handleReply sends what the agent wrote (with an optional attachment), or
// adds a private note.
func (p *Panel) handleReply(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	s := sessionFrom(r)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			p.fail(w, r, http.StatusRequestEntityTooLarge, p.T("reply.too_large"))
			return
		}
	}
	body := strings.TrimSpace(r.FormValue("body"))
	conv, err := p.Store.ConversationByID(r.Context(), id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	if r.FormValue("mode") == "note" {
		if err := inbox.AddNote(r.Context(), p.Store, id, body); err != nil {
			p.commandError(w, r, err)
			return
		}
		done(w)
		return
	}
	req := outbound.Request{Message: whatsapp.OutboundMessage{To: conv.Contact.Recipient()}}
	var stored *store.Media
	if file, hdr, err := r.FormFile("file"); err == nil {
		defer file.Close()
		mimeType := hdr.Header.Get("Content-Type")
		kept, err := media.Keep(p.Config.DataDir, file, hdr.Filename, mimeType)
		if err != nil {
			p.internal(w, r, err)
			return
		}
		f, err := media.Open(p.Config.DataDir, kept)
		if err != nil {
			p.internal(w, r, err)
			return
		}
		mediaID, err := p.Graph.UploadMedia(r.Context(), hdr.Filename, mimeType, f)
		f.Close()
		if err != nil {
			p.fail(w, r, http.StatusBadGateway, p.T("reply.upload_failed", whatsappError(err)))
			return
		}
		kept.ID = mediaID
		stored = kept
		kind := media.Kind(mimeType)
		obj := &whatsapp.MediaObject{ID: mediaID}
		if kind != "audio" && kind != "sticker" {
			obj.Caption = body
		}
		if kind == "document" {
			obj.Filename = hdr.Filename
		}
		req.Message.Type = kind
		switch kind {
		case "image":
			req.Message.Image = obj
		case "video":
			req.Message.Video = obj
		case "audio":
			req.Message.Audio = obj
		case "sticker":
			req.Message.Sticker = obj
		default:
			req.Message.Document = obj
		}
	} else if body == "" {
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("reply.empty"))
		return
	} else {
		req.Message.Type = "text"
		req.Message.Text = &whatsapp.Text{Body: body, PreviewURL: strings.Contains(body, "https://")}
	}
	if _, err := p.enqueue(r.Context(), req, s.User.ID, stored); err != nil {
		p.sendError(w, r, err)
		return
	}
	done(w)
}

func (p *Panel) enqueue(ctx context.Context, req outbound.Request, author int64, m *store.Media) (*store.Message, error) {
	req.AuthorID, req.Media = author, m
	msg, _, err := p.Outbound.Enqueue(ctx, req)
	return msg, err
}

// sendError explains why a message was refused.
func (p *Panel) sendError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *whatsapp.ValidationError
	var we *outbound.WindowError
	var ce *outbound.ConsentError
	var se *outbound.TemplateSyncError
	switch {
	case errors.As(err, &ve):
		p.fail(w, r, http.StatusUnprocessableEntity, ve.Message)
	case errors.As(err, &we):
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("reply.window_closed"))
	case errors.As(err, &ce):
		p.fail(w, r, http.StatusUnprocessableEntity, p.consentRefusal(ce))
	case errors.As(err, &se):
		p.fail(w, r, http.StatusServiceUnavailable, p.T("template.sync_unavailable"))
	default:
		if msg, ok := refusal(err); ok {
			p.fail(w, r, http.StatusUnprocessableEntity, msg)
			return
		}
		p.internal(w, r, err)
	}
}

// consentRefusal explains in plain words why a template was refused for consent.
func (p *Panel) consentRefusal(ce *outbound.ConsentError) string {
	switch {
	case ce.Code == outbound.RefusedOptedOut && ce.Suppressed:
		return p.T("consent.refused_suppressed")
	case ce.Code == outbound.RefusedOptedOut:
		return p.T("consent.refused_opted_out")
	case ce.Code == outbound.RefusedUtilityOptedOut:
		return p.T("consent.refused_utility")
	case ce.Code == outbound.RefusedHold:
		return p.T("consent.refused_hold", ce.Until.Local().Format("2 Jan 2006, 15:04"))
	}
	return p.T("consent.refused_no_consent")
}

func whatsappError(err error) string {
	var ae *whatsapp.APIError
	if errors.As(err, &ae) {
		if t := whatsapp.ErrorText(ae.Code); t != "" {
			return t
		}
		return ae.Message
	}
	return err.Error()
}

func (p *Panel) notFoundOr(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	p.internal(w, r, err)
}

type templateFormView struct {
	Base     string // the page the picker is on: /inbox/{id} or /contacts/{id}
	Template *store.Template
	Spec     *whatsapp.TemplateSpec
	Values   map[string]string
	Preview  string
	Key      string
	Error    string
}

// templateFromKey finds the template a picker value ("name|language") names.
func (p *Panel) templateFromKey(ctx context.Context, key string) (*store.Template, *whatsapp.TemplateSpec, error) {
	name, lang, ok := strings.Cut(key, "|")
	if !ok {
		return nil, nil, store.ErrNotFound
	}
	tp, err := p.Store.TemplateByName(ctx, name, lang)
	if err != nil {
		return nil, nil, err
	}
	spec, err := whatsapp.ParseTemplate(tp.Components)
	return tp, spec, err
}

// handleTemplateForm renders the inputs and the preview of the chosen
// template; the picker calls it as the agent types.
func (p *Panel) handleTemplateForm(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	p.templateForm(w, r, fmt.Sprintf("/inbox/%d", id))
}

// templateForm renders the picker's inputs and preview for the page base.
func (p *Panel) templateForm(w http.ResponseWriter, r *http.Request, base string) {
	key := r.URL.Query().Get("tpl")
	v := &templateFormView{Base: base, Key: key, Values: map[string]string{}}
	if key != "" {
		tp, spec, err := p.templateFromKey(r.Context(), key)
		if err != nil {
			p.notFoundOr(w, r, err)
			return
		}
		v.Template, v.Spec = tp, spec
		for _, name := range spec.Variables() {
			v.Values[name] = r.URL.Query().Get("p_" + name)
		}
		v.Preview = spec.Render(v.Values)
		if spec.HeaderFormat != "" && spec.HeaderFormat != "TEXT" {
			v.Error = whatsapp.ErrTemplateMedia.Error()
		}
	}
	if r.URL.Query().Get("part") == "preview" {
		p.fragment(w, r, "inbox", "template_preview", v)
		return
	}
	p.fragment(w, r, "inbox", "template_fields", v)
}

// templateMessage builds the send of the template picked in a form (tpl,
// and p_<name> for each parameter) to the recipient to; on a bad choice it
// answers the request itself and returns false.
func (p *Panel) templateMessage(w http.ResponseWriter, r *http.Request, to string) (*whatsapp.OutboundMessage, bool) {
	tp, spec, err := p.templateFromKey(r.Context(), r.PostFormValue("tpl"))
	if err != nil {
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("template.choose"))
		return nil, false
	}
	values := map[string]string{}
	for _, name := range spec.Variables() {
		values[name] = r.PostFormValue("p_" + name)
	}
	m, err := spec.Message(to, tp.Name, tp.Language, values)
	if err != nil {
		p.sendError(w, r, err)
		return nil, false
	}
	return m, true
}

func (p *Panel) handleSendTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	conv, err := p.Store.ConversationByID(r.Context(), id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	m, ok := p.templateMessage(w, r, conv.Contact.Recipient())
	if !ok {
		return
	}
	if _, err := p.enqueue(r.Context(), outbound.Request{Message: *m}, sessionFrom(r).User.ID, nil); err != nil {
		p.sendError(w, r, err)
		return
	}
	done(w)
}

// handleAssign gives the conversation to a person ("me", a user id, or ""
// for no one) and/or a team (an id, or 0 for none). The details form sends
// both whenever one changes; the command leaves alone what is unchanged.
func (p *Panel) handleAssign(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	// htmx sends the CSRF token in a header, so nothing has read the form yet.
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusBadRequest, p.T("error.bad_request"))
		return
	}
	var as inbox.Assignment
	if v, has := r.PostForm["assignee"]; has {
		uid := int64(0)
		if v[0] == "me" {
			uid = sessionFrom(r).User.ID
		} else if v[0] != "" {
			var err error
			if uid, err = strconv.ParseInt(v[0], 10, 64); err != nil || uid <= 0 {
				p.fail(w, r, http.StatusUnprocessableEntity, p.T("assign.bad_user"))
				return
			}
		}
		as.UserID = &uid
	}
	if v, has := r.PostForm["team"]; has {
		tid, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil && v[0] != "" || tid < 0 {
			p.fail(w, r, http.StatusUnprocessableEntity, p.T("assign.bad_team"))
			return
		}
		as.TeamID = &tid
	}
	if err := inbox.Assign(r.Context(), p.Store, id, as); err != nil {
		p.commandError(w, r, err)
		return
	}
	done(w)
}

// handleLabels sets the conversation's labels (the checked label ids).
func (p *Panel) handleLabels(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	r.ParseForm()
	var ids []int64
	for _, v := range r.PostForm["label"] {
		lid, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			p.fail(w, r, http.StatusUnprocessableEntity, p.T("labels.unknown"))
			return
		}
		ids = append(ids, lid)
	}
	if err := inbox.SetLabels(r.Context(), p.Store, id, ids); err != nil {
		p.commandError(w, r, err)
		return
	}
	done(w)
}

// panelStatuses are the status buttons' actions.
var panelStatuses = map[string]string{"resolve": "resolved", "reopen": "open", "pending": "pending"}

// handleStatus resolves, reopens, marks pending or snoozes a conversation.
func (p *Panel) handleStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := p.convID(w, r)
	if !ok {
		return
	}
	var err error
	action := r.PostFormValue("action")
	switch status, ok := panelStatuses[action]; {
	case ok:
		err = inbox.SetStatus(r.Context(), p.Store, id, status)
	case action == "snooze":
		_, err = inbox.SnoozeConversation(r.Context(), p.Store, id,
			inbox.Snooze{Choice: r.PostFormValue("snooze"), Custom: r.PostFormValue("until")})
	default:
		p.fail(w, r, http.StatusBadRequest, p.T("error.bad_request"))
		return
	}
	if err != nil {
		p.commandError(w, r, err)
		return
	}
	done(w)
}

// commandError answers an inbox command's refusal in the panel's words
// (422; 400 for a status or state no button of the panel sends), a missing
// conversation or contact with 404, anything else 500.
func (p *Panel) commandError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *inbox.InputError
	if errors.As(err, &ie) {
		status := http.StatusUnprocessableEntity
		if ie.Code == inbox.CodeInvalidState || ie.Code == inbox.CodeInvalidStatus {
			status = http.StatusBadRequest
		}
		p.fail(w, r, status, p.inputMessage(ie))
		return
	}
	p.notFoundOr(w, r, err)
}

// inputMessage words a command's refusal for the panel; codes without
// words of their own show the command's message.
func (p *Panel) inputMessage(e *inbox.InputError) string {
	switch e.Code {
	case inbox.CodeInvalidAssignee:
		return p.T("assign.bad_user")
	case inbox.CodeInvalidTeam:
		return p.T("assign.bad_team")
	case inbox.CodeSnoozePast, inbox.CodeInvalidSnooze:
		return p.T("snooze.bad_time")
	case inbox.CodeSnoozeTooFar:
		return p.T("snooze.too_far")
	case inbox.CodeSnoozeNeverOpen:
		return p.T("snooze.never_open")
	case inbox.CodeUnknownLabel:
		return p.T("labels.unknown")
	case inbox.CodeEmptyNote:
		return p.T("reply.empty")
	case inbox.CodeNoteTooLong:
		return p.T("reply.note_too_long")
	case inbox.CodeNotesTooLong:
		return p.T("contacts.notes_too_long")
	case inbox.CodeInvalidStatus, inbox.CodeInvalidState, inbox.CodeInvalidConsent:
		return p.T("error.bad_request")
	}
	return e.Message
}

// handleMedia serves a message's file to the panel.
func (p *Panel) handleMedia(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	m, err := p.Store.MessageByID(r.Context(), id)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if err := media.Serve(w, r, p.Config.DataDir, m); err != nil {
		var ns *media.ErrNotStored
		if errors.As(err, &ns) {
			http.Error(w, ns.Error(), http.StatusNotFound)
			return
		}
		p.internal(w, r, err)
	}
}
