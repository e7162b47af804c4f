package server

import (
	"net/http"

	"sendbox/store"
	"sendbox/timeline"
)

// timelineLine is a timeline row as the API gives it: what happened (kind,
// actor, data, and a note's or a legacy row's body) for programs, and the
// line in English for people.
type timelineLine struct {
	store.ConversationEvent
	Text string `json:"text"`
}

// handleTimeline lists a conversation's timeline, oldest first.
func (a *Server) handleTimeline(w http.ResponseWriter, r *http.Request) {
	id, ok := a.conversationID(w, r)
	if !ok {
		return
	}
	rows, err := a.Store.ConversationEvents(r.Context(), id)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	out := make([]timelineLine, len(rows))
	for i, e := range rows {
		out[i] = timelineLine{e, timeline.Text(timeline.Row{Kind: e.Kind, Actor: e.Actor, Data: e.Data, Body: e.Body}, nil)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "total": len(out)})
}
