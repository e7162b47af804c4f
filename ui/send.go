package ui

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"sendbox/outbound"
	"sendbox/whatsapp"
)

// handleContactSend starts a conversation from a contact's page: a text
// inside the 24-hour window, a template outside it. It queues through the
// same domain path as the thread (outbound.Service.Enqueue) and opens the
// conversation the message went to.
func (p *Panel) handleContactSend(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	c, err := p.Store.ContactByID(r.Context(), id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	to := c.Recipient()
	if to == "" {
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("contact_send.no_number"))
		return
	}
	var m *whatsapp.OutboundMessage
	if r.PostFormValue("tpl") != "" {
		var ok bool
		if m, ok = p.templateMessage(w, r, to); !ok {
			return
		}
	} else {
		body := strings.TrimSpace(r.PostFormValue("body"))
		if body == "" {
			p.fail(w, r, http.StatusUnprocessableEntity, p.T("reply.empty"))
			return
		}
		m = &whatsapp.OutboundMessage{To: to, Type: "text",
			Text: &whatsapp.Text{Body: body, PreviewURL: strings.Contains(body, "https://")}}
	}
	msg, err := p.enqueue(r.Context(), outbound.Request{Message: *m}, sessionFrom(r).User.ID, nil)
	if err != nil {
		p.sendError(w, r, err)
		return
	}
	where := fmt.Sprintf("/inbox/%d", msg.ConversationID)
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", where)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, where, http.StatusSeeOther)
}

// handleContactTemplateForm is the template picker's inputs and live
// preview on a contact's page, as in the thread.
func (p *Panel) handleContactTemplateForm(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	p.templateForm(w, r, fmt.Sprintf("/contacts/%d", id))
}

// refusal is the plain-words reason of an error outbound or whatsapp
// refused a message with: every error type those packages declare is a
// refusal meant for the person sending (the window, consent, an unknown
// template, a missing parameter…), so a new one shows without a change
// here; anything else (the database) is an internal error.
func refusal(err error) (string, bool) {
	for _, e := range unwrapAll(err) {
		t := reflect.TypeOf(e)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.PkgPath() {
		case "sendbox/outbound", "sendbox/whatsapp":
			var ve *whatsapp.ValidationError
			if errors.As(e, &ve) {
				return ve.Message, true
			}
			return e.Error(), true
		}
	}
	return "", false
}

// unwrapAll lists err and every error it wraps, outermost first.
func unwrapAll(err error) []error {
	var out []error
	for queue := []error{err}; len(queue) > 0; queue = queue[1:] {
		e := queue[0]
		if e == nil {
			continue
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			queue = append(queue, u.Unwrap())
		case interface{ Unwrap() []error }:
			queue = append(queue, u.Unwrap()...)
		}
	}
	return out
}
