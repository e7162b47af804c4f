package server

import (
	"context"
	"log/slog"
	"time"

	"sendbox/ui"
)

// jobs runs the periodic work of the panel: waking snoozed conversations,
// purging expired sessions and links, and keeping templates in sync. Each
// is idempotent, so a restart or a second process does no harm.
func (a *App) jobs(ctx context.Context) {
	a.syncTemplates(ctx)
	wake := time.NewTicker(15 * time.Second)
	defer wake.Stop()
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake.C:
			if n, err := a.Store.WakeSnoozed(ctx, time.Now()); err != nil && ctx.Err() == nil {
				a.Log.Error("wake snoozed conversations", slog.Any("err", err))
			} else if n > 0 {
				a.Log.Info("snoozed conversations reopened", slog.Int("count", n))
			}
		case <-hourly.C:
			if err := a.Store.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("purge expired sessions", slog.Any("err", err))
			}
			a.syncTemplates(ctx)
		}
	}
}

func (a *App) syncTemplates(ctx context.Context) {
	if a.Graph.WABAID == "" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := ui.SyncTemplates(sctx, a.Store, a.Graph)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Warn("sync message templates", slog.Any("err", err))
		}
		return
	}
	a.Log.Debug("message templates synced", slog.Int("count", n))
}

// SetupLink returns the one-time link where the owner account is created,
// or "" once an owner exists.
func (a *App) SetupLink(ctx context.Context) (string, error) {
	path, err := a.Panel.EnsureSetupLink(ctx)
	if err != nil || path == "" {
		return "", err
	}
	base := a.Config.PublicURL()
	if base == "" {
		base = a.baseURL
	}
	return base + path, nil
}

// PanelURL is where people open the panel.
func (a *App) PanelURL() string {
	if u := a.Config.PublicURL(); u != "" {
		return u
	}
	return a.baseURL
}
