package server

import (
	"net/http"
	"time"

	"sendbox/search"
	"sendbox/store"
	"sendbox/ui"
)

// searchHit is one result of GET /api/v1/search.
type searchHit struct {
	Kind           string         `json:"kind"` // message or contact
	ID             int64          `json:"id"`
	ConversationID int64          `json:"conversation_id,omitempty"`
	ContactID      int64          `json:"contact_id,omitempty"`
	At             time.Time      `json:"at,omitzero"`
	Score          float64        `json:"score"`
	Text           string         `json:"text,omitempty"`
	Highlights     []search.Span  `json:"highlights,omitempty"` // byte offsets into text
	Contact        *store.Contact `json:"contact,omitempty"`
	Direction      string         `json:"direction,omitempty"`
	Type           string         `json:"type,omitempty"`
}

// handleSearch searches messages and contacts: GET /api/v1/search?q=…
func (a *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	q, err := ui.ParseSearch(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	res, err := a.Search.Search(r.Context(), q)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	hits := make([]searchHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		sh := searchHit{Kind: h.Kind, ID: h.ID, ConversationID: h.ConversationID, ContactID: h.ContactID, At: h.At, Score: h.Score}
		switch h.Kind {
		case "message":
			m, err := a.Store.MessageByID(r.Context(), h.ID)
			if err != nil {
				continue // deleted since it was indexed
			}
			sh.Text, sh.Direction, sh.Type = m.Text, m.Direction, m.Type
			sh.Highlights = a.Search.Highlight(q.Q, m.Text)
		case "contact":
			c, err := a.Store.ContactByID(r.Context(), h.ID)
			if err != nil {
				continue
			}
			sh.Contact = c
		}
		hits = append(hits, sh)
	}
	out := map[string]any{"data": hits, "total": res.Total, "took_ms": res.Took.Milliseconds()}
	if q.Facets {
		out["facets"] = res.Facets
	}
	writeJSON(w, http.StatusOK, out)
}
