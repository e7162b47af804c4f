package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"sendbox/inbox"
	"sendbox/store"
)

// The REST side of inbox's commands: each handler reads its JSON, calls
// the command the panel calls too, and answers the conversation or the
// contact as it is now. The rules, and the refusals, are the command's.

// words words what a contact command stores as text (a consent's source)
// as the panel does, saying it came through the API and from which key.
func (a *Server) words(r *http.Request) inbox.Words {
	return func(key string, args ...any) string {
		return a.Panel.T(key, args...) + " through the API (" + principalName(r) + ")"
	}
}

// commandError answers an inbox command's refusal with 422 and its code
// and field, a request the handler refused with its own status, a missing
// row with 404, anything else with 500.
func (a *Server) commandError(w http.ResponseWriter, r *http.Request, err error, what string) {
	var ie *inbox.InputError
	var re *requestError
	switch {
	case errors.As(err, &ie):
		writeFieldError(w, http.StatusUnprocessableEntity, ie.Code, ie.Field, ie.Message)
	case errors.As(err, &re):
		writeFieldError(w, re.status, re.code, re.field, re.msg)
	case errors.Is(err, store.ErrConsentRefused):
		writeFieldError(w, http.StatusConflict, "consent_suppressed", "consent",
			"the other fields are saved, the opt-in is recorded as refused: "+err.Error()+
				" (POST /api/v1/contacts/{id}/consent with proof)")
	default:
		a.notFoundOr(w, r, err, what)
	}
}

// requestError is a body a handler refuses before the command sees it.
type requestError struct {
	status           int
	code, field, msg string
}

func (e *requestError) Error() string { return e.msg }

// writeConversation answers the conversation as it is after a command.
func (a *Server) writeConversation(w http.ResponseWriter, r *http.Request, status int, id int64) {
	c, err := a.Store.ConversationByID(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "conversation")
		return
	}
	writeJSON(w, status, one[*store.Conversation]{c})
}

// conversationCommand serves an inbox command on the conversation in the
// path: it reads a JSON body of at most max bytes into a T (no body when
// max is 0), runs do, and answers the conversation as it now is.
func conversationCommand[T any](a *Server, w http.ResponseWriter, r *http.Request, max int64, status int,
	do func(id int64, req *T) error) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req T
	if max > 0 && !decodeJSON(w, r, max, &req) {
		return
	}
	if err := do(id, &req); err != nil {
		a.commandError(w, r, err, "conversation")
		return
	}
	a.writeConversation(w, r, status, id)
}

// optionalID reads an id field that must be present and may be null or 0
// (none): {"user_id": 5}, {"user_id": null}.
func optionalID(raw json.RawMessage, field, code string) (int64, error) {
	if len(raw) == 0 {
		return 0, &requestError{http.StatusUnprocessableEntity, code, field, "give " + field + ": an id, or null for none"}
	}
	var id *int64
	if err := json.Unmarshal(raw, &id); err != nil || id != nil && *id < 0 {
		return 0, &requestError{http.StatusBadRequest, "invalid_json", field, field + " must be a positive whole number or null"}
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}

// handleAssign gives a conversation to a person: {"user_id": 5}, or to no
// one: {"user_id": null}.
func (a *Server) handleAssign(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 1<<10, http.StatusOK, func(id int64, req *struct {
		UserID json.RawMessage `json:"user_id"`
	}) error {
		uid, err := optionalID(req.UserID, "user_id", inbox.CodeInvalidAssignee)
		if err != nil {
			return err
		}
		return inbox.Assign(r.Context(), a.Store, id, inbox.Assignment{UserID: &uid})
	})
}

// handleSetTeam gives a conversation to a team: {"team_id": 2}, or to
// none: {"team_id": null}.
func (a *Server) handleSetTeam(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 1<<10, http.StatusOK, func(id int64, req *struct {
		TeamID json.RawMessage `json:"team_id"`
	}) error {
		tid, err := optionalID(req.TeamID, "team_id", inbox.CodeInvalidTeam)
		if err != nil {
			return err
		}
		return inbox.Assign(r.Context(), a.Store, id, inbox.Assignment{TeamID: &tid})
	})
}

// handleSetStatus opens, marks pending or resolves a conversation:
// {"status": "resolved"}.
func (a *Server) handleSetStatus(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 1<<10, http.StatusOK, func(id int64, req *struct {
		Status string `json:"status"`
	}) error {
		return inbox.SetStatus(r.Context(), a.Store, id, req.Status)
	})
}

// handleSnooze snoozes a conversation until a time, {"until": RFC 3339},
// or for one of the panel's choices, {"for": "1h"|"tomorrow"|"week"|"open"}.
func (a *Server) handleSnooze(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 1<<10, http.StatusOK, func(id int64, req *struct {
		Until *time.Time `json:"until"`
		For   string     `json:"for"`
	}) error {
		var s inbox.Snooze
		switch {
		case req.Until != nil && req.For == "":
			s.Until = *req.Until
		case req.Until == nil && req.For != "" && req.For != "custom":
			s.Choice = req.For
		default:
			return &requestError{http.StatusUnprocessableEntity, inbox.CodeInvalidSnooze, "until",
				`give either "until" (an RFC 3339 time) or "for" (1h, tomorrow, week or open)`}
		}
		_, err := inbox.SnoozeConversation(r.Context(), a.Store, id, s)
		return err
	})
}

// handleSetLabels replaces a conversation's labels: {"label_ids": [1, 4]}
// ([] removes them all).
func (a *Server) handleSetLabels(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 4<<10, http.StatusOK, func(id int64, req *struct {
		LabelIDs *[]int64 `json:"label_ids"`
	}) error {
		if req.LabelIDs == nil {
			return &requestError{http.StatusUnprocessableEntity, inbox.CodeUnknownLabel, "label_ids",
				`give "label_ids": the ids of the labels, [] for none`}
		}
		return inbox.SetLabels(r.Context(), a.Store, id, *req.LabelIDs)
	})
}

// handleAddNote adds a private note: {"body": "…"}.
func (a *Server) handleAddNote(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 64<<10, http.StatusCreated, func(id int64, req *struct {
		Body string `json:"body"`
	}) error {
		return inbox.AddNote(r.Context(), a.Store, id, req.Body)
	})
}

// handleSetBot switches the assistant on or off in a conversation:
// {"state": "on"|"off"}.
func (a *Server) handleSetBot(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 1<<10, http.StatusOK, func(id int64, req *struct {
		State string `json:"state"`
	}) error {
		return inbox.SetBot(r.Context(), a.Store, id, req.State)
	})
}

// handleClearUrgent takes the urgent flag off a conversation.
func (a *Server) handleClearUrgent(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 0, http.StatusOK, func(id int64, _ *struct{}) error {
		return inbox.ClearUrgent(r.Context(), a.Store, id)
	})
}

// handleHandoff asks a person to take a conversation over, as the
// assistant does when it cannot answer: {"reason": "…"}, optionally with
// "team_id" and "urgent".
func (a *Server) handleHandoff(w http.ResponseWriter, r *http.Request) {
	conversationCommand(a, w, r, 4<<10, http.StatusOK, func(id int64, req *struct {
		Reason string `json:"reason"`
		TeamID int64  `json:"team_id"`
		Urgent bool   `json:"urgent"`
	}) error {
		if req.TeamID < 0 {
			return &requestError{http.StatusBadRequest, "invalid_json", "team_id", "team_id must be a positive whole number"}
		}
		return inbox.HandOff(r.Context(), a.Store, id, inbox.Handoff{Reason: req.Reason, TeamID: req.TeamID, Urgent: req.Urgent})
	})
}

// writeContact answers a contact as it is now, with its tags.
func (a *Server) writeContact(w http.ResponseWriter, r *http.Request, status int, id int64) {
	c, err := a.Store.ContactWithTags(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "contact")
		return
	}
	writeJSON(w, status, one[*store.Contact]{c})
}

// handleUpdateContact changes the fields of a contact the body names:
// name, email, notes, attributes (replaced whole), tags (replaced whole),
// consent.
func (a *Server) handleUpdateContact(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Name       *string            `json:"name"`
		Email      *string            `json:"email"`
		Notes      *string            `json:"notes"`
		Attributes *map[string]string `json:"attributes"`
		Tags       *[]string          `json:"tags"`
		Consent    *string            `json:"consent"`
	}
	if !decodeJSON(w, r, 256<<10, &req) {
		return
	}
	ch := inbox.ContactChange{Name: req.Name, Email: req.Email, Notes: req.Notes, Attributes: req.Attributes,
		Tags: req.Tags, Consent: req.Consent}
	if err := inbox.UpdateContact(r.Context(), a.Store, id, ch, a.words(r)); err != nil {
		a.commandError(w, r, err, "contact")
		return
	}
	a.writeContact(w, r, http.StatusOK, id)
}

// handleEditTags adds and removes some of a contact's tags:
// {"add": ["vip"], "remove": ["lead"]}.
func (a *Server) handleEditTags(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Add    []string `json:"add"`
		Remove []string `json:"remove"`
	}
	if !decodeJSON(w, r, 16<<10, &req) {
		return
	}
	if err := inbox.EditTags(r.Context(), a.Store, id, req.Add, req.Remove); err != nil {
		a.commandError(w, r, err, "contact")
		return
	}
	a.writeContact(w, r, http.StatusOK, id)
}

// handleCreateContact adds a contact by phone number, with the fields
// PATCH takes: {"phone": "+39 347 123 4567", "name": "…", …}.
func (a *Server) handleCreateContact(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Phone      string             `json:"phone"`
		Name       *string            `json:"name"`
		Email      *string            `json:"email"`
		Notes      *string            `json:"notes"`
		Attributes *map[string]string `json:"attributes"`
		Tags       *[]string          `json:"tags"`
		Consent    *string            `json:"consent"`
	}
	if !decodeJSON(w, r, 256<<10, &req) {
		return
	}
	ch := inbox.ContactChange{Name: req.Name, Email: req.Email, Notes: req.Notes, Attributes: req.Attributes,
		Tags: req.Tags, Consent: req.Consent}
	id, err := inbox.CreateContact(r.Context(), a.Store, req.Phone, ch, a.words(r))
	if errors.Is(err, inbox.ErrContactExists) {
		writeFieldError(w, http.StatusConflict, "contact_exists", "phone", err.Error()+": find it with GET /api/v1/contacts?q=")
		return
	}
	if err != nil {
		a.commandError(w, r, err, "contact")
		return
	}
	c, err := a.Store.ContactWithTags(r.Context(), id)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, one[*store.Contact]{c})
}

// member is a user as the API shows them: enough to assign, nothing to
// sign in with.
type member struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Active bool   `json:"active"`
}

// handleListUsers lists the users, for the ids conversations are assigned to.
func (a *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	users, err := a.Store.ListUsers(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	out := []member{}
	for _, u := range users {
		out = append(out, member{ID: u.ID, Name: u.Name, Role: u.Role, Active: u.Active()})
	}
	writeJSON(w, http.StatusOK, one[[]member]{out})
}

// handleListTeams lists the teams and their members.
func (a *Server) handleListTeams(w http.ResponseWriter, r *http.Request) {
	teams, err := a.Store.ListTeams(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if teams == nil {
		teams = []store.Team{}
	}
	writeJSON(w, http.StatusOK, one[[]store.Team]{teams})
}

// handleListLabels lists the labels conversations can have.
func (a *Server) handleListLabels(w http.ResponseWriter, r *http.Request) {
	labels, err := a.Store.ListLabels(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if labels == nil {
		labels = []store.Label{}
	}
	writeJSON(w, http.StatusOK, one[[]store.Label]{labels})
}
