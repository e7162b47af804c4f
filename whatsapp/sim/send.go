package sim

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"sendbox/whatsapp"
)

// Fault makes sends fail on purpose, to exercise a sender's error handling.
type Fault struct {
	To         string // only sends to this recipient (any notation); "" = any
	Code       int    // Meta error code; 0 = 131000 (something went wrong)
	HTTPStatus int    // 0 = the status Graph uses for Code (500 for 131000, else mostly 400)
	Count      int    // how many sends fail; 0 = 1
	Details    string // error_data.details; "" = a generic text for Code
}

// InjectFault makes the next f.Count sends (to f.To if set) fail with
// f.Code and a Meta-shaped error body. Faults are checked before any other
// rule and consumed in the order they were injected.
func (s *Simulator) InjectFault(f Fault) {
	if f.Code == 0 {
		f.Code = CodeGeneric
	}
	if f.HTTPStatus == 0 {
		f.HTTPStatus = httpStatusFor(f.Code)
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.To != "" {
		f.To = chatKey(f.To)
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// takeFault consumes one matching injected fault, if any.
func (s *Simulator) takeFault(to string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.To != "" && f.To != to {
			continue
		}
		out := *f
		if f.Count--; f.Count == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return out, true
	}
	return Fault{}, false
}

// sendRequest is the body of POST /{pnid}/messages: a message, or a
// mark-as-read (status + message_id, optional typing indicator).
type sendRequest struct {
	MessagingProduct string `json:"messaging_product"`
	Status           string `json:"status"`
	MessageID        string `json:"message_id"`
	TypingIndicator  *struct {
		Type string `json:"type"`
	} `json:"typing_indicator"`
	whatsapp.OutboundMessage
}

// maxSendBody bounds a send request; Meta's largest message (an interactive
// list or a template with many parameters) is a few kilobytes.
const maxSendBody = 1 << 20

// handleSend serves POST /{version}/{pnid}/messages.
func (s *Simulator) handleSend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSendBody+1))
	if err != nil {
		writeError(w, messagingError(CodeInvalidParameter, "could not read the request body: "+err.Error()))
		return
	}
	if len(body) > maxSendBody {
		writeError(w, messagingError(CodeInvalidParameter, "request body too large"))
		return
	}
	var req sendRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, messagingError(CodeInvalidParameter, "the request body is not valid JSON: "+err.Error()))
		return
	}
	switch req.MessagingProduct {
	case "whatsapp":
	case "":
		writeError(w, paramError(CodeInvalidParameter, "The parameter messaging_product is required.", "messaging_product is required"))
		return
	default:
		writeError(w, paramError(CodeInvalidParameter, fmt.Sprintf("Param messaging_product must be one of {WHATSAPP} - got %q.", req.MessagingProduct),
			"messaging_product must be \"whatsapp\""))
		return
	}
	now := s.now()
	if req.Status != "" {
		s.handleMarkRead(w, &req, now)
		return
	}
	msg := &req.OutboundMessage
	if err := msg.Validate(); err != nil {
		s.stats.send(now, msg.To, validationCode(err))
		writeError(w, validationError(err))
		return
	}
	to, err := whatsapp.NormalizeRecipient(msg.To)
	if err != nil {
		s.stats.send(now, msg.To, CodeInvalidValue)
		writeError(w, messagingError(CodeInvalidValue, "to: "+err.Error()))
		return
	}
	to = chatKey(to)

	if f, ok := s.takeFault(to); ok {
		s.reject(w, now, to, f.HTTPStatus, f.Code, cmp.Or(f.Details, title(f.Code)))
		return
	}
	var ok bool
	if now, ok = s.takeNumber(); !ok {
		s.reject(w, now, to, 0, CodeThroughput, throughputDetails)
		return
	}
	s.mu.Lock()
	unreachable := s.unreachable[to]
	s.mu.Unlock()
	if unreachable {
		s.reject(w, now, to, 0, CodeUndeliverable, undeliverableDetails)
		return
	}
	if !s.takePair(now, to) {
		s.reject(w, now, to, 0, CodePairRate, pairRateDetails)
		return
	}
	text, mediaID := "", ""
	var tpl *Template
	if msg.Type == "template" {
		var terr *templateError
		if tpl, text, terr = s.checkTemplate(msg.Template); terr != nil {
			s.reject(w, now, to, 0, terr.code, terr.details)
			return
		}
	} else {
		text, mediaID = outboundText(msg)
	}

	wamid := newWAMID(to, true)
	s.accept(now, to, wamid, msg, body, tpl, text, mediaID)
	s.stats.send(now, to, 0)

	var b bytes.Buffer
	b.Grow(160)
	b.WriteString(`{"messaging_product":"whatsapp","contacts":[{"input":`)
	writeJSONString(&b, msg.To)
	if isPhone(to) {
		b.WriteString(`,"wa_id":`)
		writeJSONString(&b, to)
	} else {
		b.WriteString(`,"user_id":`)
		writeJSONString(&b, to)
	}
	b.WriteString(`}],"messages":[{"id":`)
	writeJSONString(&b, wamid)
	if tpl != nil {
		b.WriteString(`,"message_status":`)
		writeJSONString(&b, s.takePacing(tpl.Name))
	}
	b.WriteString(`}]}`)
	writeRaw(w, http.StatusOK, b.Bytes())
}

// accept records an accepted send on the phone view and starts its status
// life: sent → delivered (→ read), only sent for reactions, or failed with
// 131047 for a free-form message outside the customer service window.
func (s *Simulator) accept(now time.Time, to, wamid string, msg *whatsapp.OutboundMessage, body []byte, tpl *Template, text, mediaID string) {
	stored := make(json.RawMessage, len(body))
	copy(stored, body)
	m := &phoneMsg{
		PhoneMessage: PhoneMessage{
			ID:        wamid,
			Direction: DirectionOut,
			Type:      msg.Type,
			Text:      text,
			Body:      stored,
			Time:      now,
			Status:    stageNames[stageAccepted],
			MediaID:   mediaID,
		},
		reaction: msg.Type == "reaction",
	}
	if msg.Context != nil {
		m.ReplyTo = msg.Context.MessageID
	}
	if msg.Type == "interactive" || tpl != nil {
		m.Buttons = phoneButtons(msg, tpl, wamid, s.opts.DisplayPhoneNumber)
	}
	ev := statusEvent{bizOpaque: msg.BizOpaque, category: "service", pricingType: "free_customer_service"}
	if isPhone(to) {
		ev.recipientID = to
	} else {
		ev.recipientUserID = to
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	last, seen := s.windows[to]
	inWindow := seen && now.Unix()-last < int64(windowDuration/time.Second)
	switch {
	case tpl != nil:
		ev.category = strings.ToLower(tpl.Category)
		// Utility templates are free inside an open window (shared docs §10).
		if !(inWindow && ev.category == "utility") {
			ev.pricingType, ev.billable = "regular", true
		}
	case !inWindow:
		ev.failCode = CodeReEngagement
	}
	m.ev = ev
	c := s.chatFor(to, now)
	c.typingUntil = time.Time{} // a reply dismisses the typing indicator
	s.appendMsg(c, m)

	if s.hooks == nil {
		// No status webhooks: move the phone view straight to the end state.
		switch {
		case ev.failCode != 0:
			s.advance(m, stageFailed)
		case m.reaction:
			s.advance(m, stageSent)
		default:
			s.advance(m, stageDelivered)
		}
		return
	}
	base := time.Now()
	if ev.failCode != 0 {
		// Meta accepts, then fails it asynchronously, a little later.
		s.hooks.schedule(base.Add(s.opts.SentDelay), m, stageFailed)
		return
	}
	s.hooks.schedule(base.Add(s.opts.SentDelay), m, stageSent)
	if !m.reaction {
		s.hooks.schedule(base.Add(s.opts.DeliveredDelay), m, stageDelivered)
	}
}

// reject answers a refused send and records it. status 0 means the one
// Graph uses for code.
func (s *Simulator) reject(w http.ResponseWriter, now time.Time, to string, status, code int, details string) {
	s.stats.send(now, to, code)
	if status == 0 {
		status = httpStatusFor(code)
	}
	writeErrorStatus(w, status, messagingError(code, details))
}

// handleMarkRead serves the mark-as-read (and typing indicator) form of the
// send endpoint.
func (s *Simulator) handleMarkRead(w http.ResponseWriter, req *sendRequest, now time.Time) {
	if req.Status != "read" {
		writeError(w, paramError(CodeInvalidParameter, fmt.Sprintf("Param status must be one of {READ} - got %q.", req.Status),
			"status must be \"read\""))
		return
	}
	if req.MessageID == "" {
		writeError(w, paramError(CodeInvalidParameter, "The parameter message_id is required.", "message_id is required"))
		return
	}
	typing := false
	if t := req.TypingIndicator; t != nil {
		if t.Type != "text" {
			writeError(w, paramError(CodeInvalidParameter, fmt.Sprintf("Param typing_indicator[type] must be one of {TEXT} - got %q.", t.Type),
				"typing_indicator.type must be \"text\""))
			return
		}
		typing = true
	}
	if !s.markRead(req.MessageID, typing, now) {
		writeError(w, messagingError(CodeInvalidParameter, fmt.Sprintf("message_id %s is not a message this number received", req.MessageID)))
		return
	}
	writeRaw(w, http.StatusOK, []byte(`{"success":true}`))
}

// paramError is Graph's error for a malformed parameter: the message names
// the parameter, as Graph's does.
func paramError(code int, message, details string) *graphError {
	e := messagingError(code, details)
	e.Message = fmt.Sprintf("(#%d) %s", code, message)
	return e
}

// validationCode is the Meta code a Validate error maps to: Graph answers
// an unknown type or recipient_type with 100 (invalid parameter), a missing
// field with 131008 and a value out of bounds with 131009.
func validationCode(err error) int {
	var ve *whatsapp.ValidationError
	if !errors.As(err, &ve) {
		return CodeInvalidParameter
	}
	switch c := ve.Code; {
	case c == "unknown_type", c == "missing_type", c == "invalid_recipient_type", c == "missing_message":
		return CodeInvalidParameter
	case strings.HasPrefix(c, "missing_"), strings.HasPrefix(c, "empty_"):
		return CodeMissingParameter
	default:
		return CodeInvalidValue
	}
}

// validationError turns a Validate error into Graph's error body; the
// details name the field, as Graph's do.
func validationError(err error) *graphError {
	details := err.Error()
	var ve *whatsapp.ValidationError
	if errors.As(err, &ve) {
		details = ve.Message
		if ve.Field != "" {
			details = ve.Field + ": " + details
		}
	}
	return messagingError(validationCode(err), details)
}

// newWAMID imitates the shape of Meta's message ids: "wamid." and the
// base64 of a small binary record holding the customer's number and a
// random hex id (outbound ids have 18 hex characters, inbound 20).
func newWAMID(waID string, outbound bool) string {
	n, tag := 20, byte(0x12)
	if outbound {
		n, tag = 18, 0x11
	}
	var rnd [10]byte
	rand.Read(rnd[:])
	const hexd = "0123456789ABCDEF"
	b := make([]byte, 0, 16+len(waID)+n)
	b = append(b, 0x1c, 0x18, byte(len(waID)))
	b = append(b, waID...)
	b = append(b, 0x15, 0x02, 0x00, tag, 0x18, byte(n))
	for i := 0; i < n/2; i++ {
		b = append(b, hexd[rnd[i]>>4], hexd[rnd[i]&15])
	}
	b = append(b, 0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}
