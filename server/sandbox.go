package server

import (
	"encoding/json"
	"net/http"
	"strings"

	"sendbox/whatsapp/sim"
)

// The sandbox endpoints drive the built-in simulator: a "test phone" that
// writes as a customer through the real webhook path. They exist only in
// sandbox mode.

func (a *Server) needSandbox(w http.ResponseWriter) bool {
	return a.needSandboxFor(w, "the test phone")
}

// needSandboxFor answers 404 not_sandbox, naming what exists only in
// sandbox mode, and false when sendbox is connected to Meta.
func (a *Server) needSandboxFor(w http.ResponseWriter, what string) bool {
	if a.Sim == nil {
		writeError(w, http.StatusNotFound, "not_sandbox", "sendbox is connected to Meta: "+what+" exists only in sandbox mode")
		return false
	}
	return true
}

// inboundRequest is a customer message: the messages[] item in Meta's shape
// (type and its object, optional context) plus who sends it.
type inboundRequest struct {
	From   string `json:"from"`
	UserID string `json:"user_id,omitempty"`
	Name   string `json:"name,omitempty"`
	Media  *struct {
		Data     []byte `json:"data"` // base64 in JSON
		MimeType string `json:"mime_type"`
		Filename string `json:"filename,omitempty"`
	} `json:"media,omitempty"`
}

func (a *Server) handleSandboxInbound(w http.ResponseWriter, r *http.Request) {
	if !a.needSandbox(w) {
		return
	}
	var raw map[string]json.RawMessage
	if !decodeJSON(w, r, 20<<20, &raw) {
		return
	}
	var req inboundRequest
	head := map[string]json.RawMessage{}
	for _, k := range []string{"from", "user_id", "name", "media"} {
		if v, ok := raw[k]; ok {
			head[k] = v
			delete(raw, k)
		}
	}
	hb, _ := json.Marshal(head)
	if err := json.Unmarshal(hb, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "from, user_id, name and media must be strings (media an object): "+err.Error())
		return
	}
	if strings.TrimSpace(req.From) == "" && strings.TrimSpace(req.UserID) == "" {
		writeFieldError(w, http.StatusUnprocessableEntity, "missing_field", "from", "say who writes: from (a phone number) or user_id")
		return
	}
	if _, ok := raw["type"]; !ok {
		writeFieldError(w, http.StatusUnprocessableEntity, "missing_field", "type", `give the message type and its object, e.g. "type":"text","text":{"body":"hi"}`)
		return
	}
	msg, _ := json.Marshal(raw)
	in := sim.Inbound{From: req.From, UserID: req.UserID, Name: req.Name, Message: msg}
	if req.Media != nil {
		in.Media = &sim.InboundMedia{Data: req.Media.Data, MimeType: req.Media.MimeType, Filename: req.Media.Filename}
	}
	wamid, err := a.Sim.SendInbound(r.Context(), in)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "inbound_failed", err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, one[map[string]string]{map[string]string{"wamid": wamid}})
}

// handleSandboxPhone shows the chat as the customer's phone does; ?open=1
// opens it, which marks the business's messages read.
func (a *Server) handleSandboxPhone(w http.ResponseWriter, r *http.Request) {
	if !a.needSandbox(w) {
		return
	}
	open := r.URL.Query().Get("open")
	msgs := a.Sim.Phone(r.PathValue("wa_id"), open == "1" || open == "true")
	if msgs == nil {
		msgs = []sim.PhoneMessage{}
	}
	writeJSON(w, http.StatusOK, list[sim.PhoneMessage]{Data: msgs, Total: len(msgs)})
}

func (a *Server) handleSandboxUnreachable(w http.ResponseWriter, r *http.Request) {
	if !a.needSandbox(w) {
		return
	}
	var req struct {
		WaID        string `json:"wa_id"`
		Unreachable bool   `json:"unreachable"`
	}
	if !decodeJSON(w, r, 4096, &req) {
		return
	}
	if req.WaID == "" {
		writeFieldError(w, http.StatusUnprocessableEntity, "missing_field", "wa_id", "wa_id is required")
		return
	}
	a.Sim.SetUnreachable(req.WaID, req.Unreachable)
	writeJSON(w, http.StatusOK, one[any]{req})
}

func (a *Server) handleSandboxFault(w http.ResponseWriter, r *http.Request) {
	if !a.needSandbox(w) {
		return
	}
	var req struct {
		To         string `json:"to,omitempty"`
		Code       int    `json:"code"`
		HTTPStatus int    `json:"http_status,omitempty"`
		Count      int    `json:"count,omitempty"`
		Details    string `json:"details,omitempty"`
	}
	if !decodeJSON(w, r, 4096, &req) {
		return
	}
	if req.Count < 0 || req.Count > 10000 || (req.HTTPStatus != 0 && (req.HTTPStatus < 400 || req.HTTPStatus > 599)) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_field", "count must be 0..10000 and http_status 400..599")
		return
	}
	a.Sim.InjectFault(sim.Fault{To: req.To, Code: req.Code, HTTPStatus: req.HTTPStatus, Count: req.Count, Details: req.Details})
	writeJSON(w, http.StatusOK, one[any]{req})
}
