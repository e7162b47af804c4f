// Package server is sendbox's HTTP front: the WhatsApp webhook, the REST
// API and its API-key auth, health and metrics, the panel's routes, the
// built-in Graph API simulator's in sandbox mode, and the listeners (plain
// HTTP, or HTTPS with an automatic certificate). What it serves is built
// and started by package app.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"sendbox/campaigns"
	"sendbox/flows"
	"sync/atomic"

	"sendbox/assistant"
	"sendbox/config"
	"sendbox/contacts"
	"sendbox/embed"
	"sendbox/knowledge"
	"sendbox/llm"
	"sendbox/metrics"
	"sendbox/outbound"
	"sendbox/search"
	"sendbox/secrets"
	"sendbox/store"
	"sendbox/ui"
	"sendbox/whatsapp"
	"sendbox/whatsapp/sim"
)

// Deps is what the front serves, built by package app.
type Deps struct {
	Store     *store.Store
	Broker    *embed.Broker
	Graph     *whatsapp.Client
	Sim       *sim.Simulator // nil unless in sandbox mode
	Outbound  *outbound.Service
	Panel     *ui.Panel
	Search    *search.Index
	LLM       *llm.Client
	KB        *knowledge.Base
	Assistant *assistant.Assistant
	Flows     *flows.Engine
	// Imports imports contacts from CSV files.
	Imports   *contacts.Importer
	Campaigns *campaigns.Service
	// Secrets are the named secrets flows send; the API never shows a value.
	Secrets *secrets.Box

	AppSecret   []byte // webhooks must be signed with it
	VerifyToken string // the webhook verification's token
	// Inbound counts customer messages against the number's throughput
	// as their webhooks arrive; nil counts nothing.
	Inbound func(n int)
	// DiskFull says whether the disk is too full to take webhooks, and why
	// for a person; nil: never.
	DiskFull func() (bool, string)
}

// Server is the HTTP front of one sendbox.
type Server struct {
	Deps
	Config  *config.Config
	Log     *slog.Logger
	Metrics *metrics.Registry

	handler http.Handler // every route, served by the listeners of listen.go
	lst     listeners
	baseURL string
	keys    *keyCache
	ready   atomic.Bool
	m       appMetrics
	served  chan struct{}
}

// Listen binds the listeners, first of all, so that what starts next (the
// simulator, the panel) knows the address this process reaches itself on
// (URL). Nothing is served before Mount and Serve. On error, Shutdown
// releases what was bound.
func Listen(ctx context.Context, cfg *config.Config, reg *metrics.Registry, log *slog.Logger) (*Server, error) {
	s := &Server{Config: cfg, Log: log, Metrics: reg, served: make(chan struct{}), m: newAppMetrics(reg)}
	return s, s.listen(ctx)
}

// Mount builds the routes over d; call it once, before Serve.
func (a *Server) Mount(d Deps) {
	a.Deps = d
	a.keys = newKeyCache(d.Store)
	a.handler = a.routes()
	a.newServers()
}

// ForgetKey drops the API keys remembered as valid (one was revoked).
func (a *Server) ForgetKey() {
	if a.keys != nil {
		a.keys.forget()
	}
}

// Stopping makes /readyz say "not ready" from now on: sendbox is shutting down.
func (a *Server) Stopping() { a.ready.Store(false) }

// Shutdown stops getting certificates, stops accepting connections and
// waits for the requests in flight, within ctx.
func (a *Server) Shutdown(ctx context.Context) error { return a.shutdownHTTP(ctx) }

func (a *Server) diskFull() (bool, string) {
	if a.DiskFull == nil {
		return false, ""
	}
	return a.DiskFull()
}
