package server

import (
	"errors"
	"net/http"
	"strings"

	"sendbox/outbound"
	"sendbox/store"
	"sendbox/templates"
	"sendbox/whatsapp"
)

// The template API: list the message templates with their review status
// and quality, create and submit one to Meta, edit it, delete it, change
// its default variable mapping, and sync the list from Meta. Creating and
// editing take Meta's own definition (name, language, category,
// parameter_format, components) plus sendbox's variable_map and, for a
// media header, the sample file.

// maxTemplateBody leaves room for a base64 header sample.
const maxTemplateBody = 24 << 20

type templateRequest struct {
	Name            string                          `json:"name"`
	Language        string                          `json:"language"`
	Category        string                          `json:"category"`
	ParameterFormat string                          `json:"parameter_format"`
	Components      []whatsapp.TemplateDefComponent `json:"components"`
	VariableMap     store.VariableMap               `json:"variable_map"`
	HeaderFile      *struct {
		Data     []byte `json:"data"` // base64 in JSON
		MimeType string `json:"mime_type"`
		Filename string `json:"filename"`
	} `json:"header_file"`
	// FromCatalogue submits the catalogue's suggested wording of the
	// template named (with language) instead of components.
	FromCatalogue bool `json:"from_catalogue"`
}

func (req *templateRequest) submission() templates.Submission {
	sub := templates.Submission{Definition: whatsapp.TemplateDefinition{Name: req.Name, Language: req.Language,
		Category: req.Category, ParameterFormat: req.ParameterFormat, Components: req.Components}, VariableMap: req.VariableMap}
	if f := req.HeaderFile; f != nil {
		sub.HeaderFile = &templates.HeaderFile{Name: f.Filename, MimeType: f.MimeType, Data: f.Data}
	}
	return sub
}

func (a *Server) templateManager() *templates.Manager {
	return &templates.Manager{Store: a.Store, Graph: a.Graph}
}

// templateError answers a template command's failure.
func (a *Server) templateError(w http.ResponseWriter, r *http.Request, err error) {
	var te *templates.Error
	switch {
	case errors.As(err, &te):
		status := http.StatusUnprocessableEntity
		if te.Code == "template_exists" || te.Code == "not_editable" {
			status = http.StatusConflict
		}
		writeFieldError(w, status, te.Code, te.Field, te.Message)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such template")
	case errors.As(err, new(*whatsapp.APIError)) || strings.HasPrefix(err.Error(), "graph:"):
		a.Log.Warn("template call to Meta failed", "err", err)
		writeError(w, http.StatusBadGateway, "graph_unavailable", "Meta did not answer the template request; try again: "+whatsapp.TemplateErrorMessage(err))
	default:
		a.internalError(w, r, err)
	}
}

func (a *Server) handleListTemplates(w http.ResponseWriter, r *http.Request) {
	status := strings.ToUpper(r.URL.Query().Get("status"))
	ts, err := a.Store.ListTemplates(r.Context(), false)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	out := make([]store.Template, 0, len(ts))
	for _, t := range ts {
		if status == "" || t.Status == status {
			out = append(out, t)
		}
	}
	writeJSON(w, http.StatusOK, list[store.Template]{Data: out, Total: len(out)})
}

func (a *Server) handleGetTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	t, err := a.Store.TemplateByID(r.Context(), id)
	if err != nil {
		a.templateError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.Template]{t})
}

func (a *Server) handleCreateTemplate(w http.ResponseWriter, r *http.Request) {
	var req templateRequest
	if !decodeJSON(w, r, maxTemplateBody, &req) {
		return
	}
	sub := req.submission()
	if req.FromCatalogue {
		s, ok := templates.FromCatalogue(req.Name, req.Language)
		if !ok {
			writeFieldError(w, http.StatusUnprocessableEntity, "not_in_catalogue", "name", "the catalogue has no suggested wording for "+req.Name+" in "+req.Language)
			return
		}
		s.VariableMap = req.VariableMap
		sub = s
	}
	t, err := a.templateManager().Create(r.Context(), sub)
	if err != nil {
		a.templateError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, one[*store.Template]{t})
}

func (a *Server) handleEditTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req templateRequest
	if !decodeJSON(w, r, maxTemplateBody, &req) {
		return
	}
	if req.Name != "" || req.Language != "" {
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_template", "name", "a template's name and language cannot change: create a new template")
		return
	}
	var t *store.Template
	var err error
	if req.Components == nil {
		// Only the variable mapping: nothing goes to Meta.
		t, err = a.templateManager().SetVariables(r.Context(), id, req.VariableMap)
	} else {
		t, err = a.templateManager().Edit(r.Context(), id, req.submission())
	}
	if err != nil {
		a.templateError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, one[*store.Template]{t})
}

func (a *Server) handleDeleteTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.templateManager().Delete(r.Context(), id); err != nil {
		a.templateError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleSyncTemplates fetches the list from Meta now.
func (a *Server) handleSyncTemplates(w http.ResponseWriter, r *http.Request) {
	n, err := outbound.SyncTemplates(r.Context(), a.Store, a.Graph)
	if err != nil {
		if errors.Is(err, whatsapp.ErrNotConfigured) {
			writeError(w, http.StatusConflict, "not_configured", whatsapp.TemplateErrorMessage(err))
			return
		}
		a.templateError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"synced": n})
}

// handleSandboxTemplate plays Meta's later decisions about a template in
// sandbox mode: the simulator changes it and posts the webhook Meta would
// (status: PAUSED, DISABLED, APPROVED, REJECTED…; quality: GREEN, YELLOW,
// RED; category: MARKETING, UTILITY).
func (a *Server) handleSandboxTemplate(w http.ResponseWriter, r *http.Request) {
	if !a.needSandboxFor(w, "changing a template's review") {
		return
	}
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Status   string `json:"status"`
		Reason   string `json:"reason"`
		Quality  string `json:"quality"`
		Category string `json:"category"`
	}
	if !decodeJSON(w, r, 4096, &req) {
		return
	}
	t, err := a.Store.TemplateByID(r.Context(), id)
	if err != nil {
		a.templateError(w, r, err)
		return
	}
	if req.Status == "" && req.Quality == "" && req.Category == "" {
		writeError(w, http.StatusUnprocessableEntity, "missing_field", "give status, quality or category")
		return
	}
	for _, step := range []struct {
		v  string
		fn func(name, lang, v string) error
	}{
		{req.Category, a.Sim.SetTemplateCategory},
		{req.Quality, a.Sim.SetTemplateQuality},
		{req.Status, func(n, l, v string) error { return a.Sim.SetTemplateStatus(n, l, v, req.Reason) }},
	} {
		if step.v == "" {
			continue
		}
		if err := step.fn(t.Name, t.Language, step.v); err != nil {
			writeError(w, http.StatusUnprocessableEntity, "unknown_template", err.Error())
			return
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]bool{"ok": true})
}
