package server

import (
	"errors"
	"net/http"

	"sendbox/store"
)

// segmentBody is what a client sends to create or replace a segment.
type segmentBody struct {
	Name string            `json:"name"`
	Kind string            `json:"kind"`
	Rule store.SegmentRule `json:"rule"`
}

// segmentOut is a segment with its size now.
type segmentOut struct {
	*store.Segment
	Count int `json:"count"`
}

// segmentError answers a store error about a segment: a rule or a field
// refused (422, with where), a taken name (409), a segment campaigns still
// use (409), a missing segment (404).
func (a *Server) segmentError(w http.ResponseWriter, r *http.Request, err error) {
	var se *store.SegmentError
	var inUse *store.SegmentInUseError
	switch {
	case errors.As(err, &se):
		field := se.Field
		if se.Path != "" || (field != "name" && field != "kind") {
			field = "rule"
			if se.Path != "" {
				field += "." + se.Path
			}
			if se.Field != "" {
				field += "." + se.Field
			}
		}
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_segment", field, se.Error())
	case errors.As(err, &inUse):
		// The usual error, and the campaigns to change first.
		writeJSON(w, http.StatusConflict, map[string]any{"error": struct {
			APIError
			Campaigns []store.SegmentUser `json:"campaigns"`
		}{APIError{Code: "segment_in_use", Message: inUse.Error()}, inUse.Campaigns}})
	case errors.Is(err, store.ErrSegmentName):
		writeFieldError(w, http.StatusConflict, "name_taken", "name", "another segment has this name")
	default:
		a.notFoundOr(w, r, err, "segment")
	}
}

func (a *Server) handleListSegments(w http.ResponseWriter, r *http.Request) {
	all, err := a.Store.ListSegments(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[store.Segment]{Data: all, Total: len(all)})
}

func (a *Server) writeSegment(w http.ResponseWriter, r *http.Request, status int, g *store.Segment) {
	n, err := a.Store.SegmentSize(r.Context(), g)
	if err != nil {
		a.segmentError(w, r, err)
		return
	}
	writeJSON(w, status, one[segmentOut]{segmentOut{g, n}})
}

func (a *Server) handleCreateSegment(w http.ResponseWriter, r *http.Request) {
	var req segmentBody
	if !decodeJSON(w, r, 64<<10, &req) {
		return
	}
	g, err := a.Store.CreateSegment(r.Context(), store.SegmentInput{Name: req.Name, Kind: req.Kind, Rule: req.Rule})
	if err != nil {
		a.segmentError(w, r, err)
		return
	}
	a.writeSegment(w, r, http.StatusCreated, g)
}

func (a *Server) handleGetSegment(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	g, err := a.Store.SegmentByID(r.Context(), id)
	if err != nil {
		a.segmentError(w, r, err)
		return
	}
	a.writeSegment(w, r, http.StatusOK, g)
}

func (a *Server) handleSaveSegment(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req segmentBody
	if !decodeJSON(w, r, 64<<10, &req) {
		return
	}
	g, err := a.Store.UpdateSegment(r.Context(), id, store.SegmentInput{Name: req.Name, Kind: req.Kind, Rule: req.Rule})
	if err != nil {
		a.segmentError(w, r, err)
		return
	}
	a.writeSegment(w, r, http.StatusOK, g)
}

func (a *Server) handleDeleteSegment(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.Store.DeleteSegment(r.Context(), id); err != nil {
		a.segmentError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleFreezeSegment fixes a segment's members to those its rule finds now.
func (a *Server) handleFreezeSegment(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	g, err := a.Store.FreezeSegment(r.Context(), id)
	if err != nil {
		a.segmentError(w, r, err)
		return
	}
	a.writeSegment(w, r, http.StatusOK, g)
}

// handleSegmentCount counts the contacts a rule matches now: the live
// count while a rule is edited. Nothing is stored.
func (a *Server) handleSegmentCount(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Rule store.SegmentRule `json:"rule"`
	}
	if !decodeJSON(w, r, 64<<10, &req) {
		return
	}
	n, err := a.Store.SegmentCount(r.Context(), req.Rule)
	if err != nil {
		a.segmentError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[map[string]int]{map[string]int{"count": n}})
}

// handleSegmentContacts is a page of a segment's members, newest first.
func (a *Server) handleSegmentContacts(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	after, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	g, err := a.Store.SegmentByID(r.Context(), id)
	if err != nil {
		a.segmentError(w, r, err)
		return
	}
	cs, total, next, err := a.Store.SegmentContacts(r.Context(), g, after, limit)
	if err != nil {
		a.segmentError(w, r, err)
		return
	}
	writePage(w, cs, total, next)
}

// handleContactEvents lists the events kept for a contact, newest first.
func (a *Server) handleContactEvents(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	n, ok := queryInt(w, r, "limit")
	if !ok {
		return
	}
	if _, err := a.Store.ContactByID(r.Context(), id); err != nil {
		a.notFoundOr(w, r, err, "contact")
		return
	}
	evs, err := a.Store.ContactEvents(r.Context(), id, int(n))
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[store.ContactEvent]{Data: evs, Total: len(evs)})
}
