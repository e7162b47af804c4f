package ui

import (
	"errors"
	"log/slog"
	"net/http"

	"sendbox/campaigns"
)

// handleTrackedLink opens a campaign's tracked link (campaigns/links.go):
// the recipient is marked clicked and the customer's browser goes on to
// the page the campaign names. Customers see this, not agents: no session,
// and a plain page when the link is not known. A HEAD request (a link
// checker) is redirected without counting a click.
func (p *Panel) handleTrackedLink(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	var dest string
	var err error
	if r.Method == http.MethodHead {
		dest, err = p.Campaigns.LinkDestination(r.Context(), r.PathValue("token"))
	} else {
		dest, err = p.Campaigns.Click(r.Context(), r.PathValue("token"))
	}
	switch {
	case errors.Is(err, campaigns.ErrUnknownLink):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(err.Error() + "\n"))
	case err != nil:
		p.Log.Error("open a tracked link", slog.Any("err", err))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("this link cannot be opened right now: try again in a minute\n"))
	default:
		http.Redirect(w, r, dest, http.StatusFound)
	}
}
