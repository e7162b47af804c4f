package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"sendbox/flows"
	"sendbox/inbox"
	"sendbox/store"
	"sendbox/whatsapp"
)

// The flow API: create, edit, validate, publish, switch and delete flows,
// read their runs and analytics, stop a contact's runs, and start runs
// from the business's own events (POST /api/v1/events).

const maxFlowBody = 1 << 20

type flowRequest struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

// flowError answers a flow command's refusal: 422 with its problems.
func (a *Server) flowError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *flows.InvalidError
	if errors.As(err, &ie) {
		body := map[string]any{"error": map[string]any{"code": ie.Code, "message": ie.Message, "problems": ie.Problems}}
		if ie.Problems == nil {
			body["error"].(map[string]any)["problems"] = []flows.Problem{}
		}
		writeJSON(w, http.StatusUnprocessableEntity, body)
		return
	}
	a.notFoundOr(w, r, err, "flow")
}

func (a *Server) handleListFlows(w http.ResponseWriter, r *http.Request) {
	fs, err := a.Store.Flows(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	out := make([]*flows.Flow, 0, len(fs))
	for _, f := range fs {
		ff, err := a.Flows.Get(r.Context(), f.ID)
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		out = append(out, ff)
	}
	writeJSON(w, http.StatusOK, list[*flows.Flow]{Data: out, Total: len(out)})
}

func (a *Server) handleCreateFlow(w http.ResponseWriter, r *http.Request) {
	var req flowRequest
	if !decodeJSON(w, r, maxFlowBody, &req) {
		return
	}
	f, err := a.Flows.Create(r.Context(), req.Name, req.Definition)
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, one[*flows.Flow]{f})
}

func (a *Server) handleGetFlow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	f, err := a.Flows.Get(r.Context(), id)
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	missing, err := a.Flows.MissingTemplates(r.Context(), f.DraftDef)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[flowDetail]{flowDetail{f, missing}})
}

// flowDetail is a flow as GET /flows/{id} shows it: with the templates its
// draft sends that Meta has not approved, and their wording to submit.
type flowDetail struct {
	*flows.Flow
	MissingTemplates []flows.MissingTemplate `json:"missing_templates"`
}

func (a *Server) handleSaveFlow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req flowRequest
	if !decodeJSON(w, r, maxFlowBody, &req) {
		return
	}
	f, err := a.Flows.SaveDraft(r.Context(), id, req.Name, req.Definition)
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*flows.Flow]{f})
}

func (a *Server) handlePublishFlow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 && !decodeJSON(w, r, 4<<10, &req) {
		return
	}
	f, err := a.Flows.Publish(r.Context(), id, req.Note)
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*flows.Flow]{f})
}

func (a *Server) handleFlowActive(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Active *bool `json:"active"`
	}
	if !decodeJSON(w, r, 1<<10, &req) {
		return
	}
	if req.Active == nil {
		writeFieldError(w, http.StatusUnprocessableEntity, "required", "active", "active is true or false")
		return
	}
	f, err := a.Flows.SetActive(r.Context(), id, *req.Active)
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*flows.Flow]{f})
}

func (a *Server) handleDeleteFlow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.Flows.Delete(r.Context(), id); err != nil {
		a.flowError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *Server) handleFlowVersions(w http.ResponseWriter, r *http.Request) {
	listOf(a, w, r, a.Store.FlowByID, a.flowError, a.Store.FlowVersions)
}

func (a *Server) handleFlowStats(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeFieldError(w, http.StatusBadRequest, "invalid_version", "version", "version is a version number")
			return
		}
		version = n
	}
	st, err := a.Flows.Stats(r.Context(), id, version)
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*flows.Stats]{st})
}

func (a *Server) handleFlowRuns(w http.ResponseWriter, r *http.Request) {
	listOf(a, w, r, a.Store.FlowByID, a.flowError, func(ctx context.Context, id int64) ([]store.FlowRun, error) {
		return a.Store.RunsOfFlow(ctx, id, 100)
	})
}

func (a *Server) handleContactRuns(w http.ResponseWriter, r *http.Request) {
	listOf(a, w, r, a.Store.ContactByID, func(w http.ResponseWriter, r *http.Request, err error) { a.notFoundOr(w, r, err, "contact") },
		func(ctx context.Context, id int64) ([]store.FlowRun, error) {
			return a.Store.RunsOfContact(ctx, id, 100)
		})
}

// listOf answers a list that belongs to the row in the path: 404 when
// the row (found by owner) does not exist, else the list, never null.
func listOf[O, T any](a *Server, w http.ResponseWriter, r *http.Request, owner func(context.Context, int64) (O, error),
	missing func(http.ResponseWriter, *http.Request, error), items func(context.Context, int64) ([]T, error)) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if _, err := owner(r.Context(), id); err != nil {
		missing(w, r, err)
		return
	}
	out, err := items(r.Context(), id)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if out == nil {
		out = []T{}
	}
	writeJSON(w, http.StatusOK, list[T]{Data: out, Total: len(out)})
}

// handleStopRuns ends a contact's runs: {"flow_id": 3}, or every flow's
// without a body.
func (a *Server) handleStopRuns(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		FlowID int64 `json:"flow_id"`
	}
	if r.ContentLength != 0 && !decodeJSON(w, r, 1<<10, &req) {
		return
	}
	if _, err := a.Store.ContactByID(r.Context(), id); err != nil {
		a.notFoundOr(w, r, err, "contact")
		return
	}
	n, err := a.Flows.Stop(r.Context(), id, req.FlowID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[map[string]int]{map[string]int{"stopped": n}})
}

// handleEvent takes an event from the business's own system (an order, a
// shipment, a booking) about a customer: it ends the runs of flows that
// exit on it, resumes the runs waiting for it, and starts the flows it
// triggers. The key makes it safe to send again: the same key moves and
// starts nothing twice. A customer sendbox does not know yet is added.
// The event is also kept for the contact (segments read it), and in
// the same transaction converts the recipients of the campaigns that
// count it (once per key).
func (a *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name    string            `json:"name"`
		Contact string            `json:"contact"` // a phone number with its country code
		Key     string            `json:"key"`
		Data    map[string]string `json:"data"`
	}
	if !decodeJSON(w, r, 64<<10, &req) {
		return
	}
	switch {
	case !flows.ValidEventName(req.Name):
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_name", "name",
			"an event name is 1 to 64 letters, digits, '.', '_' or '-' (order.created)")
		return
	case req.Key == "" || len(req.Key) > 200:
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_key", "key",
			"key is 1 to 200 characters that identify this event (an order number): the same key starts nothing twice")
		return
	case len(req.Data) > 50:
		writeFieldError(w, http.StatusUnprocessableEntity, "too_much_data", "data", "at most 50 data fields")
		return
	}
	for k, v := range req.Data {
		if !eventFieldOK(k) || len(v) > 1000 {
			writeFieldError(w, http.StatusUnprocessableEntity, "invalid_data", "data",
				"data fields are lowercase names (letters, digits, _) with values of at most 1,000 characters: "+strconv.Quote(k))
			return
		}
	}
	to, err := whatsapp.NormalizeRecipient(req.Contact)
	if err != nil || !strings.HasPrefix(to, "+") {
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_contact", "contact",
			"contact is the customer's phone number with its country code (+393471234567)")
		return
	}
	ctx := r.Context()
	contactID, err := inbox.ContactForPhone(r.Context(), a.Store, to, a.words(r))
	if err != nil {
		a.commandError(w, r, err, "contact")
		return
	}
	res, err := a.Flows.Deliver(ctx, req.Name, contactID, req.Name+":"+req.Key, req.Data)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, one[map[string]any]{map[string]any{"contact_id": contactID, "runs_started": res.Started,
		"runs_resumed": res.Resumed, "runs_exited": res.Exited, "recorded": res.Recorded}})
}

func eventFieldOK(k string) bool {
	if k == "" || len(k) > 40 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (a *Server) handleReadyFlows(w http.ResponseWriter, r *http.Request) {
	all, err := a.Flows.ReadyFlows()
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[flows.ReadyFlow]{Data: all, Total: len(all)})
}

// handleCreateReady adds a draft from a ready-made flow, to change and publish.
func (a *Server) handleCreateReady(w http.ResponseWriter, r *http.Request) {
	f, err := a.Flows.CreateReady(r.Context(), r.PathValue("key"))
	if errors.Is(err, flows.ErrNoReadyFlow) {
		writeError(w, http.StatusNotFound, "not_found", "no ready-made flow is called "+strconv.Quote(r.PathValue("key"))+": see GET /api/v1/ready-flows")
		return
	}
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, one[*flows.Flow]{f})
}

// handleTryFlow runs the draft for one contact (the test phone), without
// publishing it.
func (a *Server) handleTryFlow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Contact string `json:"contact"`
	}
	if !decodeJSON(w, r, 1<<10, &req) {
		return
	}
	to, err := whatsapp.NormalizeRecipient(req.Contact)
	if err != nil || !strings.HasPrefix(to, "+") {
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_contact", "contact",
			"contact is the phone number to try the flow on, with its country code (the test phone's in the sandbox)")
		return
	}
	contactID, err := inbox.ContactForPhone(r.Context(), a.Store, to, a.words(r))
	if err != nil {
		a.commandError(w, r, err, "contact")
		return
	}
	run, err := a.Flows.Try(r.Context(), id, contactID)
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, one[*store.FlowRun]{run})
}

// handleMoveRuns moves the runs at a step of one version onto another:
// {"from_version": 1, "step": "budget", "to_version": 2}.
func (a *Server) handleMoveRuns(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		From int    `json:"from_version"`
		Step string `json:"step"`
		To   int    `json:"to_version"`
	}
	if !decodeJSON(w, r, 1<<10, &req) {
		return
	}
	n, err := a.Flows.MoveRuns(r.Context(), id, req.From, req.Step, req.To)
	if err != nil {
		a.flowError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[map[string]int]{map[string]int{"moved": n}})
}
