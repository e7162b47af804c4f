package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"sendbox/store"
	"sendbox/whatsapp"
)

// handleMarkRead marks an inbound message read at Meta (blue ticks for the
// customer, with an optional typing indicator) and clears the
// conversation's unread count.
func (a *Server) handleMarkRead(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Typing bool `json:"typing"`
	}
	if r.ContentLength != 0 && !decodeJSON(w, r, 4096, &req) {
		return
	}
	m, err := a.Store.MessageByID(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "message")
		return
	}
	if m.Direction != store.Inbound || m.WAMID == "" {
		writeError(w, http.StatusUnprocessableEntity, "not_inbound", "only a customer's message can be marked read")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := a.Graph.MarkRead(ctx, m.WAMID, req.Typing); err != nil {
		a.graphError(w, r, err)
		return
	}
	if err := a.Store.MarkConversationRead(r.Context(), m.ConversationID); err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[map[string]any]{map[string]any{"id": m.ID, "read": true, "typing": req.Typing}})
}

// handleUploadMedia forwards a file to Meta's media endpoint and returns the
// media id to send it with ({"image": {"id": "…"}}); ids live 30 days.
func (a *Server) handleUploadMedia(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, whatsapp.MaxInboundMediaBytes+1<<20)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the file is over 100 MB")
			return
		}
		writeFieldError(w, http.StatusBadRequest, "missing_file", "file", `send the file as multipart/form-data in a field named "file"`)
		return
	}
	defer file.Close()
	mimeType := r.FormValue("type")
	if mimeType == "" {
		mimeType = hdr.Header.Get("Content-Type")
	}
	if base, _, err := mime.ParseMediaType(mimeType); err != nil || !strings.Contains(base, "/") || base == "application/octet-stream" {
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_field", "type",
			"say the file's MIME type (image/jpeg, application/pdf, audio/ogg…) in a form field named \"type\"")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	mediaID, err := a.Graph.UploadMedia(ctx, hdr.Filename, mimeType, io.Reader(file))
	if err != nil {
		a.graphError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, one[map[string]string]{map[string]string{"id": mediaID, "mime_type": mimeType}})
}

// graphError reports a Graph API failure: Meta's code and explanation for
// what the caller must fix, 502 for Meta being unreachable or failing.
func (a *Server) graphError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *whatsapp.APIError
	if errors.As(err, &ae) {
		status := http.StatusBadGateway
		if whatsapp.Classify(err) == whatsapp.FixRequest {
			status = http.StatusUnprocessableEntity
		}
		msg := ae.Message
		if t := whatsapp.ErrorText(ae.Code); t != "" {
			msg = t
		}
		writeJSON(w, status, map[string]any{"error": map[string]any{"code": "whatsapp_error", "message": msg, "meta_code": ae.Code}})
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	a.Log.Warn("graph call failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	writeError(w, http.StatusBadGateway, "whatsapp_unreachable", "the WhatsApp API could not be reached: "+err.Error())
}
