package app

import (
	"context"
	"log/slog"
	"time"

	"sendbox/indexing"
	"sendbox/outbound"
)

// jobs runs the periodic work of the panel: purging expired sessions and
// links, and keeping templates in sync. Each is idempotent, so a restart or
// a second process does no harm. Snoozes wake through the scheduler.
func (a *App) jobs(ctx context.Context) {
	a.syncTemplates(ctx)
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	for {
		select {
		case <-ctx.Done():
			return
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
		a.Log.Warn("SENDBOX_WA_WABA_ID is not set: templates cannot be listed, so sendbox cannot check their category and parameters and refuses to send them")
		return
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := outbound.SyncTemplates(sctx, a.Store, a.Graph)
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
		base = a.URL()
	}
	return base + path, nil
}

// PanelURL is where people open the panel.
func (a *App) PanelURL() string {
	if u := a.Config.PublicURL(); u != "" {
		return u
	}
	return a.URL()
}

// initialIndex builds the search index from the store when it is empty but
// the store is not: the first start after an upgrade, or after the index
// folder was deleted. Searches answer from what is indexed meanwhile.
func (a *App) initialIndex(ctx context.Context) {
	if st := a.Search.Stats(); !st.NeedsRebuild && (st.Messages > 0 || st.Contacts > 0) {
		return
	}
	msgs, contacts, err := a.Store.CountForIndex(ctx)
	if err != nil || msgs+contacts == 0 {
		return
	}
	a.Log.Info("building the search index from the database", slog.Int("messages", msgs), slog.Int("contacts", contacts))
	start := time.Now()
	if err := a.Search.Rebuild(ctx, indexing.Source{Store: a.Store}, nil); err != nil {
		if ctx.Err() == nil {
			a.Log.Error("build the search index", slog.Any("err", err))
		}
		return
	}
	a.Log.Info("search index built", slog.Duration("in", time.Since(start)))
}
