package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"sendbox/accounts"
	"sendbox/events"
	"sendbox/store"
)

func (a *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.handleHealthz)
	mux.HandleFunc("GET /readyz", a.handleReadyz)
	mux.HandleFunc("GET /metrics", a.handleMetrics)

	mux.HandleFunc("GET /webhooks/whatsapp", a.handleWebhookVerify)
	mux.HandleFunc("POST /webhooks/whatsapp", a.handleWebhook)

	api := func(pattern string, role string, h http.HandlerFunc) {
		mux.Handle(pattern, a.requireKey(role, h))
	}
	api("POST /api/v1/messages", "agent", a.handleSendMessage)
	api("GET /api/v1/messages", "viewer", a.handleListMessages)
	api("GET /api/v1/messages/{id}", "viewer", a.handleGetMessage)
	api("GET /api/v1/conversations", "viewer", a.handleListConversations)
	api("GET /api/v1/conversations/{id}", "viewer", a.handleGetConversation)
	api("GET /api/v1/conversations/{id}/messages", "viewer", a.handleConversationMessages)
	api("GET /api/v1/contacts", "viewer", a.handleListContacts)
	api("GET /api/v1/contacts/{id}", "viewer", a.handleGetContact)
	api("DELETE /api/v1/contacts/{id}", "admin", a.handleEraseContact)
	api("DELETE /api/v1/messages/{id}", "admin", a.handleDeleteMessage)
	api("POST /api/v1/messages/{id}/read", "agent", a.handleMarkRead)
	api("POST /api/v1/media", "agent", a.handleUploadMedia)
	api("GET /api/v1/messages/{id}/media", "viewer", a.handleMedia)
	api("GET /api/v1/webhook-events", "admin", a.handleWebhookEvents)
	api("GET /api/v1/search", "viewer", a.handleSearch)
	api("POST /api/v1/policy/check", "viewer", a.handlePolicyCheck)
	api("GET /api/v1/assistant", "viewer", a.handleAssistantStatus)
	api("GET /api/v1/knowledge", "viewer", a.handleListKnowledge)
	api("POST /api/v1/knowledge", "admin", a.handleAddKnowledge)
	api("DELETE /api/v1/knowledge/{id}", "admin", a.handleDeleteKnowledge)
	api("GET /api/v1/knowledge/retrieve", "viewer", a.handleRetrieve)
	api("PUT /api/v1/conversations/{id}/bot", "agent", a.handleSetBot)
	api("PUT /api/v1/conversations/{id}/language", "agent", a.handleSetLanguage)
	api("PUT /api/v1/conversations/{id}/assignee", "agent", a.handleAssign)
	api("PUT /api/v1/conversations/{id}/team", "agent", a.handleSetTeam)
	api("PUT /api/v1/conversations/{id}/status", "agent", a.handleSetStatus)
	api("POST /api/v1/conversations/{id}/snooze", "agent", a.handleSnooze)
	api("PUT /api/v1/conversations/{id}/labels", "agent", a.handleSetLabels)
	api("POST /api/v1/conversations/{id}/notes", "agent", a.handleAddNote)
	api("DELETE /api/v1/conversations/{id}/urgent", "agent", a.handleClearUrgent)
	api("POST /api/v1/conversations/{id}/handoff", "agent", a.handleHandoff)
	api("POST /api/v1/contacts", "agent", a.handleCreateContact)
	api("PATCH /api/v1/contacts/{id}", "agent", a.handleUpdateContact)
	api("POST /api/v1/contacts/{id}/tags", "agent", a.handleEditTags)
	api("GET /api/v1/contacts/{id}/consent", "viewer", a.handleContactConsent)
	api("POST /api/v1/contacts/{id}/consent", "agent", a.handleRecordConsent)
	api("GET /api/v1/contacts/{id}/export", "admin", a.handleExportContact)
	api("GET /api/v1/consent/verify", "admin", a.handleVerifyConsent)
	api("POST /api/v1/contacts/imports", "admin", a.handleUploadImport)
	api("GET /api/v1/contacts/imports", "admin", a.handleListImports)
	api("POST /api/v1/contacts/imports/{id}/start", "admin", a.handleStartImport)
	api("GET /api/v1/contacts/{id}/{sub}", "admin", a.handleContactsSub) // GET /api/v1/contacts/imports/{id}
	api("GET /api/v1/contacts/imports/{id}/rejected.csv", "admin", a.handleImportRejected)
	api("DELETE /api/v1/contacts/imports/{id}", "admin", a.handleDiscardImport)
	api("GET /api/v1/contacts/export", "agent", a.handleExportContacts)
	api("GET /api/v1/users", "viewer", a.handleListUsers)
	api("GET /api/v1/teams", "viewer", a.handleListTeams)
	api("GET /api/v1/labels", "viewer", a.handleListLabels)
	api("GET /api/v1/conversations/{id}/ai-replies", "viewer", a.handleAIReplies)
	api("GET /api/v1/conversations/{id}/timeline", "viewer", a.handleTimeline)

	api("GET /api/v1/campaigns", "viewer", a.handleListCampaigns)
	api("POST /api/v1/campaigns", "admin", a.handleCreateCampaign)
	api("GET /api/v1/campaigns/{id}", "viewer", a.handleGetCampaign)
	api("PUT /api/v1/campaigns/{id}", "admin", a.handleUpdateCampaign)
	api("DELETE /api/v1/campaigns/{id}", "admin", a.handleDeleteCampaign)
	api("GET /api/v1/campaigns/{id}/check", "viewer", a.handleCheckCampaign)
	api("POST /api/v1/campaigns/{id}/{action}", "admin", a.handleCampaignAction)
	api("GET /api/v1/campaigns/{id}/progress", "viewer", a.handleCampaignProgress)
	api("GET /api/v1/campaigns/{id}/recipients", "viewer", a.handleCampaignRecipients)
	api("GET /api/v1/campaigns/{id}/analytics", "viewer", a.handleCampaignAnalytics)
	api("GET /api/v1/rate-card", "viewer", a.handleRateCard)
	api("PUT /api/v1/rate-card", "admin", a.handleSetRateCard)

	api("GET /api/v1/flows", "viewer", a.handleListFlows)
	api("POST /api/v1/flows", "admin", a.handleCreateFlow)
	api("GET /api/v1/ready-flows", "viewer", a.handleReadyFlows)
	api("POST /api/v1/ready-flows/{key}", "admin", a.handleCreateReady)
	api("GET /api/v1/flows/{id}", "viewer", a.handleGetFlow)
	api("PUT /api/v1/flows/{id}", "admin", a.handleSaveFlow)
	api("DELETE /api/v1/flows/{id}", "admin", a.handleDeleteFlow)
	api("POST /api/v1/flows/{id}/publish", "admin", a.handlePublishFlow)
	api("PUT /api/v1/flows/{id}/active", "admin", a.handleFlowActive)
	api("POST /api/v1/flows/{id}/try", "admin", a.handleTryFlow)
	api("POST /api/v1/flows/{id}/move-runs", "admin", a.handleMoveRuns)
	api("GET /api/v1/flows/{id}/versions", "viewer", a.handleFlowVersions)
	api("GET /api/v1/flows/{id}/stats", "viewer", a.handleFlowStats)
	api("GET /api/v1/flows/{id}/runs", "viewer", a.handleFlowRuns)
	api("GET /api/v1/contacts/{id}/runs", "viewer", a.handleContactRuns)
	api("POST /api/v1/contacts/{id}/runs/stop", "agent", a.handleStopRuns)
	api("POST /api/v1/events", "agent", a.handleEvent)
	api("GET /api/v1/contacts/{id}/events", "viewer", a.handleContactEvents)

	api("GET /api/v1/segments", "viewer", a.handleListSegments)
	api("POST /api/v1/segments", "admin", a.handleCreateSegment)
	api("POST /api/v1/segments/count", "viewer", a.handleSegmentCount)
	api("GET /api/v1/segments/{id}", "viewer", a.handleGetSegment)
	api("PUT /api/v1/segments/{id}", "admin", a.handleSaveSegment)
	api("DELETE /api/v1/segments/{id}", "admin", a.handleDeleteSegment)
	api("GET /api/v1/segments/{id}/contacts", "viewer", a.handleSegmentContacts)
	api("POST /api/v1/segments/{id}/freeze", "admin", a.handleFreezeSegment)

	api("GET /api/v1/templates", "viewer", a.handleListTemplates)
	api("POST /api/v1/templates", "admin", a.handleCreateTemplate)
	api("POST /api/v1/templates/sync", "admin", a.handleSyncTemplates)
	api("GET /api/v1/templates/{id}", "viewer", a.handleGetTemplate)
	api("PUT /api/v1/templates/{id}", "admin", a.handleEditTemplate)
	api("DELETE /api/v1/templates/{id}", "admin", a.handleDeleteTemplate)

	api("GET /api/v1/secrets", "admin", a.handleListSecrets)
	api("PUT /api/v1/secrets/{name}", "admin", a.handlePutSecret)
	api("DELETE /api/v1/secrets/{name}", "admin", a.handleDeleteSecret)

	api("POST /api/v1/sandbox/inbound", "agent", a.handleSandboxInbound)
	api("GET /api/v1/sandbox/phone/{wa_id}", "viewer", a.handleSandboxPhone)
	api("POST /api/v1/sandbox/unreachable", "admin", a.handleSandboxUnreachable)
	api("POST /api/v1/sandbox/faults", "admin", a.handleSandboxFault)
	api("POST /api/v1/sandbox/templates/{id}", "admin", a.handleSandboxTemplate)
	// The demo catalogue stands in for a dealer's public one: no key.
	mux.HandleFunc("GET /sandbox/catalogue/compatibility", a.handleCatalogueCompatibility)
	mux.HandleFunc("GET /sandbox/catalogue/parts", a.handleCatalogueParts)
	if a.Sim != nil {
		mux.Handle("/sim/graph/", http.StripPrefix("/sim/graph", a.Sim.Handler()))
	}
	a.Panel.Register(mux)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
	return a.recoverer(securityHeaders(mux))
}

// csp allows the panel only its own scripts and styles (no inline script
// or style, no eval), no framing, and forms posting only here.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// securityHeaders are sent on every response.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a 500 with the error shape, and logs it.
func (a *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.Log.Error("panic serving request", slog.String("path", r.URL.Path), slog.Any("panic", v),
					slog.String("stack", string(debug.Stack())))
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// APIError is the one error shape of the API: {"error": {"code", "message"}}.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]APIError{"error": {Code: code, Message: msg}})
}

func writeFieldError(w http.ResponseWriter, status int, code, field, msg string) {
	writeJSON(w, status, map[string]APIError{"error": {Code: code, Message: msg, Field: field}})
}

// internalError logs err and answers 500 without leaking details.
func (a *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	a.Log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	writeError(w, http.StatusInternalServerError, "internal", "internal error; see the server log")
}

type principalKey struct{}

// Principal is who makes an API request.
type Principal struct {
	KeyID int64
	Name  string
	Role  string
}

// requireKey authenticates "Authorization: Bearer <api key>" and checks
// that the key's role is at least min.
func (a *Server) requireKey(min string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sendbox"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "send an API key as: Authorization: Bearer <key>")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		k, err := a.keys.lookup(ctx, strings.TrimSpace(token))
		cancel()
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sendbox", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "the API key is not valid or was revoked")
			return
		}
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		if !accounts.Can(k.Role, min) {
			writeError(w, http.StatusForbidden, "forbidden", "this API key's role ("+k.Role+") may not do this; it needs "+min)
			return
		}
		// The store records the key on every event the request causes.
		rctx := events.WithActor(context.WithValue(r.Context(), principalKey{}, &Principal{KeyID: k.ID, Name: k.Name, Role: k.Role}),
			events.APIKey(k.ID, k.Name))
		next(w, r.WithContext(rctx))
	})
}
