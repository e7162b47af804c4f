package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sendbox/inbox"
	"sendbox/media"
	"sendbox/outbound"
	"sendbox/store"
	"sendbox/whatsapp"
)

// list is the shape of every list response.
type list[T any] struct {
	Data       []T    `json:"data"`
	Total      int    `json:"total"`
	NextCursor string `json:"next_cursor,omitempty"`
}

type one[T any] struct {
	Data T `json:"data"`
}

// decodeJSON reads a JSON body strictly: unknown fields and trailing data
// are errors, so that a typo is reported rather than silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, max int64, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body is over %d bytes", max))
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "invalid_json", "the body is empty: send a JSON object")
		default:
			writeError(w, http.StatusBadRequest, "invalid_json", "the body is not valid JSON for this endpoint: "+err.Error())
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid_json", "the body has data after the JSON object")
		return false
	}
	return true
}

// sendRequest is Meta's send body; messaging_product is accepted and
// ignored. sendbox adds who wrote the message and its sending lane.
type sendRequest struct {
	whatsapp.OutboundMessage
	MessagingProduct string `json:"messaging_product,omitempty"`
	// Lane: "transactional" (the default), "bulk" or "person".
	Lane string `json:"lane,omitempty"`
	// AuthorUserID is the sendbox user who wrote the message; Person says
	// a person wrote it without naming one. Either puts it in the person
	// lane, and only a person's message pauses the assistant.
	AuthorUserID int64 `json:"author_user_id,omitempty"`
	Person       bool  `json:"person,omitempty"`
}

// handleSendMessage queues a message: 202 with its id and state "queued",
// or 200 with the earlier message when the Idempotency-Key was used before.
func (a *Server) handleSendMessage(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	if !decodeJSON(w, r, 1<<20, &req) {
		return
	}
	if req.MessagingProduct != "" && req.MessagingProduct != "whatsapp" {
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_field", "messaging_product", `messaging_product must be "whatsapp"`)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		writeError(w, http.StatusBadRequest, "invalid_header", "Idempotency-Key is longer than 255 characters")
		return
	}
	if req.AuthorUserID != 0 {
		u, err := a.Store.UserByID(r.Context(), req.AuthorUserID)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && !u.DisabledAt.IsZero()):
			writeFieldError(w, http.StatusUnprocessableEntity, "unknown_user", "author_user_id",
				fmt.Sprintf("no active user has the id %d", req.AuthorUserID))
			return
		case err != nil:
			a.internalError(w, r, err)
			return
		}
	}
	msg, created, err := a.Outbound.Enqueue(r.Context(), outbound.Request{Message: req.OutboundMessage, IdempotencyKey: key,
		AuthorID: req.AuthorUserID, Person: req.Person, Lane: req.Lane})
	var ve *whatsapp.ValidationError
	var we *outbound.WindowError
	var ce *outbound.ConsentError
	var se *outbound.TemplateSyncError
	switch {
	case errors.As(err, &ve):
		writeFieldError(w, http.StatusUnprocessableEntity, ve.Code, ve.Field, ve.Message)
		return
	case errors.As(err, &we):
		writeError(w, http.StatusUnprocessableEntity, "outside_window", we.Error())
		return
	case errors.As(err, &ce):
		writeError(w, http.StatusUnprocessableEntity, ce.Code, ce.Error())
		return
	case errors.As(err, &se):
		writeError(w, http.StatusServiceUnavailable, "template_sync_failed", se.Error()+": try again shortly")
		return
	case err != nil:
		a.internalError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	} else {
		a.Metrics.Counter("sendbox_messages_stored_total", "Messages stored, by direction.", "direction").With(store.Outbound).Inc()
	}
	writeJSON(w, status, one[*store.Message]{msg})
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_id", "the id in the path must be a positive number")
		return 0, false
	}
	return id, true
}

// conversationID reads the id in the path of a conversation that exists,
// or answers 400 or 404.
func (a *Server) conversationID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := pathID(w, r)
	if !ok {
		return 0, false
	}
	if _, err := a.Store.ConversationByID(r.Context(), id); err != nil {
		a.notFoundOr(w, r, err, "conversation")
		return 0, false
	}
	return id, true
}

// queryInt reads an optional integer query parameter.
func queryInt(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		writeFieldError(w, http.StatusBadRequest, "invalid_query", name, name+" must be a non-negative whole number")
		return 0, false
	}
	return n, true
}

// pageParams reads ?cursor= (an id) and ?limit=.
func pageParams(w http.ResponseWriter, r *http.Request) (after int64, limit int, ok bool) {
	if after, ok = queryInt(w, r, "cursor"); !ok {
		return 0, 0, false
	}
	n, ok := queryInt(w, r, "limit")
	return after, int(n), ok
}

// writePage answers a list whose cursor is the last id of the page (0 at the end).
func writePage[T any](w http.ResponseWriter, data []T, total int, next int64) {
	out := list[T]{Data: data, Total: total}
	if next != 0 {
		out.NextCursor = strconv.FormatInt(next, 10)
	}
	if out.Data == nil {
		out.Data = []T{}
	}
	writeJSON(w, http.StatusOK, out)
}

// parseSince accepts RFC 3339 or unix seconds.
func parseSince(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, errors.New("since must be an RFC 3339 time (2026-11-21T09:00:00Z) or unix seconds")
}

// contactParam resolves ?contact= to a contact id: a number under 8 digits
// is an id, anything longer or starting with "+" a phone number, anything
// with a dot a BSUID. found is false when no such contact exists.
func (a *Server) contactParam(w http.ResponseWriter, r *http.Request) (id int64, found, ok bool) {
	v := strings.TrimSpace(r.URL.Query().Get("contact"))
	if v == "" {
		return 0, true, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && len(v) < 8 && n > 0 {
		return n, true, true
	}
	to, err := whatsapp.NormalizeRecipient(v)
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "contact", "contact must be a contact id, a phone number or a user id")
		return 0, false, false
	}
	waID, userID := strings.TrimPrefix(to, "+"), ""
	if !strings.HasPrefix(to, "+") {
		waID, userID = "", to
	}
	c, err := a.Store.ContactByRecipient(r.Context(), waID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, true
	}
	if err != nil {
		a.internalError(w, r, err)
		return 0, false, false
	}
	return c.ID, true, true
}

func (a *Server) handleListMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.MessageFilter{Direction: q.Get("direction")}
	if f.Direction != "" && f.Direction != store.Inbound && f.Direction != store.Outbound {
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "direction", "direction must be inbound or outbound")
		return
	}
	var err error
	if f.Since, err = parseSince(q.Get("since")); err != nil {
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "since", err.Error())
		return
	}
	contactID, found, ok := a.contactParam(w, r)
	if !ok {
		return
	}
	if !found {
		writePage[store.Message](w, nil, 0, 0)
		return
	}
	f.ContactID = contactID
	a.listMessages(w, r, f)
}

func (a *Server) handleConversationMessages(w http.ResponseWriter, r *http.Request) {
	id, ok := a.conversationID(w, r)
	if !ok {
		return
	}
	a.listMessages(w, r, store.MessageFilter{ConversationID: id})
}

func (a *Server) listMessages(w http.ResponseWriter, r *http.Request, f store.MessageFilter) {
	q := r.URL.Query()
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		f.Ascending = true
	default:
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "order", "order must be asc or desc")
		return
	}
	var ok bool
	if f.After, f.Limit, ok = pageParams(w, r); !ok {
		return
	}
	msgs, total, next, err := a.Store.ListMessages(r.Context(), f)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writePage(w, msgs, total, next)
}

func (a *Server) notFoundOr(w http.ResponseWriter, r *http.Request, err error, what string) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such "+what)
		return
	}
	a.internalError(w, r, err)
}

func (a *Server) handleGetMessage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	m, err := a.Store.MessageByID(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "message")
		return
	}
	writeJSON(w, http.StatusOK, one[*store.Message]{m})
}

var conversationStatuses = map[string]bool{"open": true, "pending": true, "snoozed": true, "resolved": true}

func (a *Server) handleListConversations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ConversationFilter{Status: q.Get("status"), After: q.Get("cursor")}
	if f.Status != "" && !conversationStatuses[f.Status] {
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "status", "status must be open, pending, snoozed or resolved")
		return
	}
	limit, ok := queryInt(w, r, "limit")
	if !ok {
		return
	}
	f.Limit = int(limit)
	contactID, found, ok := a.contactParam(w, r)
	if !ok {
		return
	}
	if !found {
		writeJSON(w, http.StatusOK, list[store.Conversation]{Data: []store.Conversation{}})
		return
	}
	f.ContactID = contactID
	convs, total, next, err := a.Store.ListConversations(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "cursor", "the cursor is not one this API returned")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if convs == nil {
		convs = []store.Conversation{}
	}
	writeJSON(w, http.StatusOK, list[store.Conversation]{Data: convs, Total: total, NextCursor: next})
}

func (a *Server) handleGetConversation(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	c, err := a.Store.ConversationByID(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "conversation")
		return
	}
	writeJSON(w, http.StatusOK, one[*store.Conversation]{c})
}

func (a *Server) handleListContacts(w http.ResponseWriter, r *http.Request) {
	f := store.ContactFilter{Query: r.URL.Query().Get("q")}
	var ok bool
	if f.After, f.Limit, ok = pageParams(w, r); !ok {
		return
	}
	cs, total, next, err := a.Store.ListContacts(r.Context(), f)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writePage(w, cs, total, next)
}

func (a *Server) handleGetContact(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	a.writeContact(w, r, http.StatusOK, id)
}

// handleMedia serves a message's stored media file.
func (a *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	m, err := a.Store.MessageByID(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "message")
		return
	}
	err = media.Serve(w, r, a.Config.DataDir, m)
	var ns *media.ErrNotStored
	switch {
	case errors.As(err, &ns) && ns.State == "none":
		writeError(w, http.StatusNotFound, "no_media", "this message has no media")
	case errors.As(err, &ns):
		writeError(w, http.StatusConflict, "media_"+ns.State, ns.Error())
	case err != nil:
		a.internalError(w, r, err)
	}
}

func (a *Server) handleWebhookEvents(w http.ResponseWriter, r *http.Request) {
	limit, ok := queryInt(w, r, "limit")
	if !ok {
		return
	}
	evs, err := a.Store.ListWebhookEvents(r.Context(), r.URL.Query().Get("field"), int(limit))
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if evs == nil {
		evs = []store.WebhookEvent{}
	}
	writeJSON(w, http.StatusOK, list[store.WebhookEvent]{Data: evs, Total: len(evs)})
}

// handleEraseContact erases a customer and everything about them.
func (a *Server) handleEraseContact(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := inbox.EraseContact(r.Context(), a.Store, a.Config.DataDir, id); err != nil {
		a.notFoundOr(w, r, err, "contact")
		return
	}
	a.Log.Info("contact erased", slog.Int64("contact", id), slog.String("by", principalName(r)))
	w.WriteHeader(http.StatusNoContent)
}

func (a *Server) handleDeleteMessage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := inbox.DeleteMessage(r.Context(), a.Store, a.Config.DataDir, id); err != nil {
		a.notFoundOr(w, r, err, "message")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func principalName(r *http.Request) string {
	if p, ok := r.Context().Value(principalKey{}).(*Principal); ok {
		return "api key " + p.Name
	}
	return ""
}
