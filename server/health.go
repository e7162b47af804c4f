package server

import (
	"context"
	"net/http"
	"time"

	"sendbox/metrics"
)

type appMetrics struct {
	webhooks       *metrics.CounterVec
	rejected       *metrics.CounterVec
	webhookLatency *metrics.Histogram
}

func newAppMetrics(reg *metrics.Registry) appMetrics {
	return appMetrics{
		webhooks:       reg.Counter("sendbox_webhooks_received_total", "Signed webhooks stored in the broker (accepted) or recognised as repeats (duplicate).", "result"),
		rejected:       reg.Counter("sendbox_webhooks_rejected_total", "Webhooks refused, by reason.", "reason"),
		webhookLatency: reg.Histogram("sendbox_webhook_latency_seconds", "Time to acknowledge a webhook.", metrics.LatencyBuckets).With(),
	}
}

func (a *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz says whether sendbox can take traffic: serving, store and
// broker up, and room on the disk for what Meta sends.
func (a *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"http": "ok", "store": "ok", "broker": "ok", "disk": "ok"}
	ok := true
	if !a.ready.Load() {
		checks["http"], ok = "starting or stopping", false
	}
	if err := a.Store.Ping(ctx); err != nil {
		checks["store"], ok = err.Error(), false
	}
	if err := a.Broker.Ready(ctx); err != nil {
		checks["broker"], ok = err.Error(), false
	}
	if full, reason := a.diskFull(); full {
		checks["disk"], ok = reason, false
	}
	status, code := "ready", http.StatusOK
	if !ok {
		status, code = "not ready", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}

func (a *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	a.Metrics.WriteText(w)
}
