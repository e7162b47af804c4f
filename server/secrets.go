package server

import (
	"errors"
	"net/http"

	"sendbox/secrets"
)

// The secrets API: admins name the secrets a flow's HTTP step sends (API
// tokens) and set or delete them. No answer carries a value: it goes in
// and never comes back out (package secrets).

// maxSecretBody leaves room for the longest value, JSON-escaped.
const maxSecretBody = 8 * secrets.MaxValue

func (a *Server) handleListSecrets(w http.ResponseWriter, r *http.Request) {
	all, err := a.Secrets.List(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[secrets.Info]{Data: all, Total: len(all)})
}

func (a *Server) handlePutSecret(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Value string `json:"value"`
	}
	if !decodeJSON(w, r, maxSecretBody, &req) {
		return
	}
	info, created, err := a.Secrets.Set(r.Context(), r.PathValue("name"), req.Value)
	if err != nil {
		a.secretError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, one[secrets.Info]{info})
}

func (a *Server) handleDeleteSecret(w http.ResponseWriter, r *http.Request) {
	if err := a.Secrets.Delete(r.Context(), r.PathValue("name")); err != nil {
		a.secretError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *Server) secretError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *secrets.InvalidError
	switch {
	case errors.As(err, &ie):
		writeFieldError(w, http.StatusUnprocessableEntity, ie.Code, ie.Field, ie.Message)
	case errors.Is(err, secrets.ErrUnknown):
		writeError(w, http.StatusNotFound, "not_found", "no such secret")
	default:
		a.internalError(w, r, err)
	}
}
