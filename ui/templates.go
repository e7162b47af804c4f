package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"sendbox/accounts"
	"sendbox/store"
	"sendbox/templates"
	"sendbox/whatsapp"
)

// The Templates page: the business's message templates with their health
// (Meta's review status, the reason of a rejection or a pause, the quality
// score), a form to create or edit one with a live preview, delete with a
// confirmation, and the catalogue's suggested wordings to submit in one
// click. Admins edit; viewers read. Every change goes through
// templates.Manager, as the API's do.

type templatesView struct {
	Rows      []store.Template
	Catalogue []templates.Template // suggested wordings not yet at Meta
	CanEdit   bool
	CSRF      string
	Error     string
	// The detail and form pages.
	Template *store.Template
	Form     templateForm
	Preview  templates.Preview
	Field    string // the id of the form field an error is about
	Sandbox  bool
	Focus    string // the id of the field to focus (a row just added)
	// VarsChanged: the live preview also redraws the variable rows (a
	// variable was written in or taken out of the texts).
	VarsChanged bool
}

// ButtonTypes are the kinds of button the form offers.
func (v *templatesView) ButtonTypes() []string { return templateButtonTypes }

// Sources are the choices of what fills a variable.
func (v *templatesView) Sources() []string { return variableSources }

// Action is where the form posts: the new template, or the edited one.
func (v *templatesView) Action() string {
	if v.Template != nil {
		return fmt.Sprintf("/templates/%d", v.Template.ID)
	}
	return "/templates"
}

// Err is the error message when it is about the field with that id.
func (v *templatesView) Err(id string) string {
	if v.Field == id {
		return v.Error
	}
	return ""
}

func (p *Panel) templateManager() *templates.Manager {
	return &templates.Manager{Store: p.Store, Graph: p.Graph}
}

func (p *Panel) handleTemplates(w http.ResponseWriter, r *http.Request) {
	p.templatesPage(w, r, http.StatusOK, "")
}

func (p *Panel) templatesPage(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	ctx := r.Context()
	s := sessionFrom(r)
	v := &templatesView{CanEdit: accounts.Can(s.User.Role, accounts.Admin), CSRF: s.CSRF, Error: errMsg, Sandbox: p.Sim != nil}
	var err error
	if v.Rows, err = p.Store.ListTemplates(ctx, false); err != nil {
		p.internal(w, r, err)
		return
	}
	have := map[string]bool{}
	for _, t := range v.Rows {
		have[t.Name+"/"+t.Language] = true
	}
	for _, c := range templates.Catalogue() {
		if !have[c.Name+"/"+c.Language] {
			v.Catalogue = append(v.Catalogue, c)
		}
	}
	p.page(w, r, status, "templates", &view{Title: p.T("templates.title"), Nav: "templates", Data: v})
}

// handleTemplateNew shows the empty form.
func (p *Panel) handleTemplateNew(w http.ResponseWriter, r *http.Request) {
	f := templateForm{Category: whatsapp.CategoryUtility, Language: "en", HeaderFormat: ""}
	p.templateFormPage(w, r, http.StatusOK, nil, f, "", "", "")
}

func (p *Panel) templateFormPage(w http.ResponseWriter, r *http.Request, status int, tp *store.Template, f templateForm, field, errMsg, focus string) {
	s := sessionFrom(r)
	v := &templatesView{CanEdit: accounts.Can(s.User.Role, accounts.Admin), CSRF: s.CSRF, Template: tp, Form: f,
		Field: field, Error: errMsg, Sandbox: p.Sim != nil, Focus: focus}
	sub := f.submission(nil)
	v.Preview = templates.PreviewOf(&sub.Definition)
	title := p.T("templates.new")
	if tp != nil {
		title = tp.Name
	}
	p.page(w, r, status, "template", &view{Title: title, Nav: "templates", Data: v})
}

// handleTemplate shows one template: its health, its preview, and for an
// admin the edit form and the delete button.
func (p *Panel) handleTemplate(w http.ResponseWriter, r *http.Request) {
	tp, ok := p.templateParam(w, r)
	if !ok {
		return
	}
	p.templateFormPage(w, r, http.StatusOK, tp, formFromTemplate(tp), "", "", "")
}

func (p *Panel) templateParam(w http.ResponseWriter, r *http.Request) (*store.Template, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return nil, false
	}
	tp, err := p.Store.TemplateByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return nil, false
	}
	if err != nil {
		p.internal(w, r, err)
		return nil, false
	}
	return tp, true
}

// handleTemplatePreview renders the live preview of the form (htmx).
func (p *Panel) handleTemplatePreview(w http.ResponseWriter, r *http.Request) {
	f := readTemplateForm(r)
	changed := f.syncVariables()
	v := &templatesView{Form: f, VarsChanged: changed}
	if id, err := strconv.ParseInt(r.PostFormValue("template_id"), 10, 64); err == nil {
		v.Template = &store.Template{ID: id} // only for the rows' form action
	}
	sub := f.submission(nil)
	v.Preview = templates.PreviewOf(&sub.Definition)
	p.fragment(w, r, "template", "template-preview-update", v)
}

// templateFormOp redraws the form after adding or removing a row (the
// form's op buttons), submitting nothing.
func (p *Panel) templateFormOp(w http.ResponseWriter, r *http.Request, cur *store.Template, f templateForm) bool {
	op := r.PostFormValue("op")
	if op == "" {
		return false
	}
	focus := f.apply(op)
	p.templateFormPage(w, r, http.StatusOK, cur, f, "", "", focus)
	return true
}

// submitForm checks the form and turns it into a submission, or shows the
// form again with what is wrong next to the field.
func (p *Panel) submitForm(w http.ResponseWriter, r *http.Request, cur *store.Template, f templateForm) (templates.Submission, bool) {
	file, err := headerFile(r)
	if err != nil {
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, cur, f, "tpl-hfile", err.Error(), "")
		return templates.Submission{}, false
	}
	if fe := f.check(); fe != nil {
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, cur, f, fe.Field, sentence(fe.Message), "")
		return templates.Submission{}, false
	}
	return f.submission(file), true
}

// handleTemplateCreate submits the form's template to Meta.
func (p *Panel) handleTemplateCreate(w http.ResponseWriter, r *http.Request) {
	f := readTemplateForm(r)
	if p.templateFormOp(w, r, nil, f) {
		return
	}
	f.syncVariables()
	sub, ok := p.submitForm(w, r, nil, f)
	if !ok {
		return
	}
	tp, err := p.templateManager().Create(r.Context(), sub)
	if err != nil {
		p.templateRefused(w, r, nil, f, &sub, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/templates/%d?ok=template_submitted", tp.ID), http.StatusSeeOther)
}

// handleTemplateEdit submits the edited template (back to review).
func (p *Panel) handleTemplateEdit(w http.ResponseWriter, r *http.Request) {
	cur, ok := p.templateParam(w, r)
	if !ok {
		return
	}
	f := readTemplateForm(r)
	f.Name, f.Language = cur.Name, cur.Language
	f.HasHandle = formFromTemplate(cur).HasHandle
	if p.templateFormOp(w, r, cur, f) {
		return
	}
	f.syncVariables()
	sub, ok := p.submitForm(w, r, cur, f)
	if !ok {
		return
	}
	keepHandle(&sub, cur)
	tp, err := p.templateManager().Edit(r.Context(), cur.ID, sub)
	if err != nil {
		p.templateRefused(w, r, cur, f, &sub, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/templates/%d?ok=template_submitted", tp.ID), http.StatusSeeOther)
}

// keepHandle gives an edited media header, sent without a new file, the
// sample handle it was approved with.
func keepHandle(sub *templates.Submission, cur *store.Template) {
	if sub.HeaderFile != nil {
		return
	}
	var old []whatsapp.TemplateDefComponent
	if err := json.Unmarshal(cur.Components, &old); err != nil {
		return
	}
	for i, c := range sub.Definition.Components {
		if c.Type != "HEADER" || c.Format == "TEXT" || c.Example != nil {
			continue
		}
		for _, o := range old {
			if strings.EqualFold(o.Type, "HEADER") && strings.EqualFold(o.Format, c.Format) && o.Example != nil && len(o.Example.HeaderHandle) > 0 {
				sub.Definition.Components[i].Example = &whatsapp.TemplateExample{HeaderHandle: o.Example.HeaderHandle}
			}
		}
	}
}

// templateRefused shows the form again with what Meta or the checks
// said, next to the field at fault when the refusal names one.
func (p *Panel) templateRefused(w http.ResponseWriter, r *http.Request, cur *store.Template, f templateForm, sub *templates.Submission, err error) {
	var te *templates.Error
	switch {
	case errors.As(err, &te):
		field := ""
		if sub != nil {
			field = formField(&sub.Definition, te.Field)
		}
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, cur, f, field, sentence(te.Message), "")
	case errors.Is(err, store.ErrNotFound):
		http.NotFound(w, r)
	default:
		p.Log.Warn("template submission failed", "err", err)
		p.templateFormPage(w, r, http.StatusBadGateway, cur, f, "", p.T("templates.meta_unavailable")+" "+whatsapp.TemplateErrorMessage(err), "")
	}
}

// handleTemplateDelete deletes at Meta and here, once confirmed.
func (p *Panel) handleTemplateDelete(w http.ResponseWriter, r *http.Request) {
	cur, ok := p.templateParam(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != cur.Name {
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, cur, formFromTemplate(cur), "tpl-confirm", p.T("templates.delete_confirm_wrong", cur.Name), "")
		return
	}
	if err := p.templateManager().Delete(r.Context(), cur.ID); err != nil {
		p.templateRefused(w, r, cur, formFromTemplate(cur), nil, err)
		return
	}
	http.Redirect(w, r, "/templates?ok=template_deleted", http.StatusSeeOther)
}

// handleTemplateCatalogue submits the catalogue's suggested wording.
func (p *Panel) handleTemplateCatalogue(w http.ResponseWriter, r *http.Request) {
	sub, ok := templates.FromCatalogue(r.PostFormValue("name"), r.PostFormValue("language"))
	if !ok {
		p.templatesPage(w, r, http.StatusUnprocessableEntity, p.T("templates.not_in_catalogue"))
		return
	}
	tp, err := p.templateManager().Create(r.Context(), sub)
	if err != nil {
		var te *templates.Error
		if errors.As(err, &te) {
			p.templatesPage(w, r, http.StatusUnprocessableEntity, te.Message)
			return
		}
		p.Log.Warn("catalogue template submission failed", "err", err)
		p.templatesPage(w, r, http.StatusBadGateway, p.T("templates.meta_unavailable")+" "+whatsapp.TemplateErrorMessage(err))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/templates/%d?ok=template_submitted", tp.ID), http.StatusSeeOther)
}

var formVarRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// maxHeaderUpload bounds the multipart form (a header sample and the texts).
const maxHeaderUpload = 17 << 20

func readTemplateForm(r *http.Request) templateForm {
	_ = r.ParseMultipartForm(maxHeaderUpload) // an urlencoded form is parsed too
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := templateForm{Name: v("name"), Language: v("language"), Category: v("category"), HeaderFormat: v("header_format"),
		HeaderText: v("header_text"), HeaderExample: v("header_example"), Body: strings.TrimSpace(r.PostFormValue("body")),
		Footer: v("footer")}
	count := func(k string, most int) int {
		n, _ := strconv.Atoi(v(k))
		return max(0, min(n, most))
	}
	for i := range count("buttons_n", maxFormRows) {
		k := func(f string) string { return v(fmt.Sprintf("b.%d.%s", i, f)) }
		f.Buttons = append(f.Buttons, buttonRow{Type: k("type"), Text: k("text"), URL: k("url"), Phone: k("phone"), Example: k("example")})
	}
	for i := range count("variables_n", maxFormRows) {
		k := func(f string) string { return v(fmt.Sprintf("v.%d.%s", i, f)) }
		f.Variables = append(f.Variables, variableRow{Key: strings.Trim(k("key"), "{} "), Example: k("example"), From: k("from"),
			Value: k("value"), Fallback: k("fallback"), Where: k("where")})
	}
	return f
}

func headerFile(r *http.Request) (*templates.HeaderFile, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	f, h, err := r.FormFile("header_file")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the header file could not be read: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxHeaderUpload))
	if err != nil {
		return nil, fmt.Errorf("the header file could not be read: %v", err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	mt := h.Header.Get("Content-Type")
	if mt == "" || mt == "application/octet-stream" {
		mt = http.DetectContentType(b)
	}
	mt, _, _ = strings.Cut(mt, ";")
	return &templates.HeaderFile{Name: h.Filename, MimeType: mt, Data: b}, nil
}
