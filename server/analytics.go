package server

import (
	"net/http"

	"sendbox/campaigns"
	"sendbox/store"
)

// Campaign analytics (funnel, cost estimated and actual, pacing holds,
// failures, the timeline) and the rate card the cost is priced with.

func (a *Server) handleCampaignAnalytics(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	an, err := a.Campaigns.Analytics(r.Context(), id)
	if err != nil {
		a.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*campaigns.Analytics]{an})
}

func (a *Server) handleRateCard(w http.ResponseWriter, r *http.Request) {
	card, err := a.Store.RateCard(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.RateCard]{card})
}

// handleSetRateCard replaces the whole card (rows left out are removed).
func (a *Server) handleSetRateCard(w http.ResponseWriter, r *http.Request) {
	var card store.RateCard
	if !decodeJSON(w, r, 256<<10, &card) {
		return
	}
	out, err := a.Campaigns.SetRateCard(r.Context(), &card, principalName(r))
	if err != nil {
		a.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.RateCard]{out})
}
