package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"sendbox/events"
	"sendbox/whatsapp"
)

// handleWebhookVerify answers Meta's subscription handshake: the raw
// challenge as plain text when the verify token matches.
func (a *Server) handleWebhookVerify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" {
		writeError(w, http.StatusBadRequest, "bad_mode", `hub.mode must be "subscribe"`)
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(a.VerifyToken)) != 1 || a.VerifyToken == "" {
		a.Log.Warn("webhook verification refused: wrong verify token")
		writeError(w, http.StatusForbidden, "bad_verify_token", "the verify token does not match SENDBOX_WA_VERIFY_TOKEN")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, q.Get("hub.challenge"))
}

// handleWebhook checks the signature on the raw bytes, stores the body in
// the broker (deduplicated by its hash) and only then answers 200: a
// webhook Meta sees acknowledged is never lost. Everything else happens
// behind the stream.
func (a *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.Config.WebhookMaxBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.reject(w, http.StatusRequestEntityTooLarge, "body_too_large",
				fmt.Sprintf("the webhook body is over %d bytes (SENDBOX_WEBHOOK_MAX_BYTES)", a.Config.WebhookMaxBytes))
			return
		}
		a.reject(w, http.StatusBadRequest, "bad_body", "could not read the body")
		return
	}
	if err := whatsapp.VerifySignature(a.AppSecret, body, r.Header.Get(whatsapp.SignatureHeader)); err != nil {
		code := "bad_signature"
		if errors.Is(err, whatsapp.ErrNoSignature) {
			code = "missing_signature"
		}
		a.Log.Warn("webhook refused", slog.String("reason", code), slog.String("remote", r.RemoteAddr))
		a.reject(w, http.StatusUnauthorized, code, err.Error())
		return
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' || !json.Valid(body) {
		a.reject(w, http.StatusBadRequest, "malformed_json", "the body is not a JSON object")
		return
	}
	if full, reason := a.diskFull(); full {
		// Not stored, so not acknowledged: Meta delivers it again later.
		w.Header().Set("Retry-After", "60")
		a.reject(w, http.StatusServiceUnavailable, "disk_full", reason)
		return
	}
	if a.Broker.WriteFailed() {
		// A publish would wait its whole timeout for a stream that refuses
		// writes until the broker is reloaded, in a few seconds.
		w.Header().Set("Retry-After", "10")
		a.reject(w, http.StatusServiceUnavailable, "unavailable", "the broker is being reloaded after a failed write; retry")
		return
	}
	// Meta counted these messages against the number's throughput as they
	// arrived: the sender must leave room for them now, not once ingested.
	if n := whatsapp.CountMessages(body); n > 0 && a.Inbound != nil {
		a.Inbound(n)
	}
	sum := sha256.Sum256(body)
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	dup, err := a.Broker.Publish(ctx, events.SubjectWebhook, body, hex.EncodeToString(sum[:]))
	cancel()
	if err != nil {
		// No 200: Meta will send it again.
		a.Log.Error("webhook not stored", slog.Any("err", err))
		a.reject(w, http.StatusServiceUnavailable, "unavailable", "the webhook could not be stored; retry")
		return
	}
	if dup {
		a.m.webhooks.With("duplicate").Inc()
	} else {
		a.m.webhooks.With("accepted").Inc()
	}
	a.m.webhookLatency.ObserveSince(start)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"ok":true}`)
}

func (a *Server) reject(w http.ResponseWriter, status int, code, msg string) {
	a.m.rejected.With(code).Inc()
	writeError(w, status, code, msg)
}
