package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
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

// templateForm is the create/edit form as typed, kept to show it again
// with its error.
type templateForm struct {
	Name, Language, Category string
	HeaderFormat, HeaderText string
	HeaderExample            string
	Body, Examples           string
	Footer, Buttons          string
	Variables                string
	HasHandle                bool // an edited media header keeps its sample
}

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
	Field    string // the form field an error is about
	Sandbox  bool
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
	p.templateFormPage(w, r, http.StatusOK, nil, f, "", "")
}

func (p *Panel) templateFormPage(w http.ResponseWriter, r *http.Request, status int, tp *store.Template, f templateForm, field, errMsg string) {
	s := sessionFrom(r)
	v := &templatesView{CanEdit: accounts.Can(s.User.Role, accounts.Admin), CSRF: s.CSRF, Template: tp, Form: f,
		Field: field, Error: errMsg, Sandbox: p.Sim != nil}
	if sub, err := f.submission(nil); err == nil {
		v.Preview = templates.PreviewOf(&sub.Definition)
	}
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
	p.templateFormPage(w, r, http.StatusOK, tp, formFromTemplate(tp), "", "")
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
	v := &templatesView{Form: f}
	if sub, err := f.submission(nil); err == nil {
		v.Preview = templates.PreviewOf(&sub.Definition)
	}
	p.fragment(w, r, "template", "template-preview", v)
}

// handleTemplateCreate submits the form's template to Meta.
func (p *Panel) handleTemplateCreate(w http.ResponseWriter, r *http.Request) {
	f := readTemplateForm(r)
	file, err := headerFile(r)
	if err != nil {
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, nil, f, "header_file", err.Error())
		return
	}
	sub, err := f.submission(file)
	if err != nil {
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, nil, f, "", err.Error())
		return
	}
	tp, err := p.templateManager().Create(r.Context(), sub)
	if err != nil {
		p.templateRefused(w, r, nil, f, err)
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
	file, err := headerFile(r)
	if err != nil {
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, cur, f, "header_file", err.Error())
		return
	}
	sub, err := f.submission(file)
	if err != nil {
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, cur, f, "", err.Error())
		return
	}
	keepHandle(&sub, cur)
	tp, err := p.templateManager().Edit(r.Context(), cur.ID, sub)
	if err != nil {
		p.templateRefused(w, r, cur, f, err)
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

// templateRefused shows the form again with what Meta or the checks said.
func (p *Panel) templateRefused(w http.ResponseWriter, r *http.Request, cur *store.Template, f templateForm, err error) {
	var te *templates.Error
	switch {
	case errors.As(err, &te):
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, cur, f, te.Field, te.Message)
	case errors.Is(err, store.ErrNotFound):
		http.NotFound(w, r)
	default:
		p.Log.Warn("template submission failed", "err", err)
		p.templateFormPage(w, r, http.StatusBadGateway, cur, f, "", p.T("templates.meta_unavailable")+" "+whatsapp.TemplateErrorMessage(err))
	}
}

// handleTemplateDelete deletes at Meta and here, once confirmed.
func (p *Panel) handleTemplateDelete(w http.ResponseWriter, r *http.Request) {
	cur, ok := p.templateParam(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != cur.Name {
		p.templateFormPage(w, r, http.StatusUnprocessableEntity, cur, formFromTemplate(cur), "confirm", p.T("templates.delete_confirm_wrong", cur.Name))
		return
	}
	if err := p.templateManager().Delete(r.Context(), cur.ID); err != nil {
		p.templateRefused(w, r, cur, formFromTemplate(cur), err)
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
	return templateForm{Name: v("name"), Language: v("language"), Category: v("category"), HeaderFormat: v("header_format"),
		HeaderText: v("header_text"), HeaderExample: v("header_example"), Body: strings.TrimSpace(r.PostFormValue("body")),
		Examples: v("examples"), Footer: v("footer"), Buttons: v("buttons"), Variables: v("variables")}
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

// pairs reads "key = value" lines.
func pairs(text string) (keys []string, vals map[string]string, err error) {
	vals = map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.Trim(strings.TrimSpace(k), "{}")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("line %d: write it as variable = value, e.g. 1 = Anna", i+1)
		}
		keys = append(keys, k)
		vals[k] = strings.TrimSpace(v)
	}
	return keys, vals, nil
}

// submission turns the form into Meta's definition.
func (f templateForm) submission(file *templates.HeaderFile) (templates.Submission, error) {
	d := whatsapp.TemplateDefinition{Name: f.Name, Language: f.Language, Category: strings.ToUpper(f.Category)}
	named := false
	for _, m := range formVarRE.FindAllStringSubmatch(f.HeaderText+" "+f.Body, -1) {
		if _, err := strconv.Atoi(strings.TrimSpace(m[1])); err != nil {
			named = true
		}
	}
	d.ParameterFormat = whatsapp.FormatPositional
	if named {
		d.ParameterFormat = whatsapp.FormatNamed
	}
	switch hf := strings.ToUpper(f.HeaderFormat); hf {
	case "":
	case "TEXT":
		c := whatsapp.TemplateDefComponent{Type: "HEADER", Format: "TEXT", Text: f.HeaderText}
		if vars := formVarRE.FindAllStringSubmatch(f.HeaderText, -1); len(vars) > 0 && f.HeaderExample != "" {
			if named {
				c.Example = &whatsapp.TemplateExample{HeaderTextNamedParams: []whatsapp.NamedParamExample{{ParamName: strings.TrimSpace(vars[0][1]), Example: f.HeaderExample}}}
			} else {
				c.Example = &whatsapp.TemplateExample{HeaderText: []string{f.HeaderExample}}
			}
		}
		d.Components = append(d.Components, c)
	default:
		d.Components = append(d.Components, whatsapp.TemplateDefComponent{Type: "HEADER", Format: hf})
	}
	body := whatsapp.TemplateDefComponent{Type: "BODY", Text: f.Body}
	_, ex, err := pairs(f.Examples)
	if err != nil {
		return templates.Submission{}, fmt.Errorf("examples: %w", err)
	}
	var order []string
	seen := map[string]bool{}
	for _, m := range formVarRE.FindAllStringSubmatch(f.Body, -1) {
		if k := strings.TrimSpace(m[1]); !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	if len(order) > 0 {
		body.Example = &whatsapp.TemplateExample{}
		if named {
			for _, k := range order {
				if ex[k] != "" {
					body.Example.BodyTextNamedParams = append(body.Example.BodyTextNamedParams, whatsapp.NamedParamExample{ParamName: k, Example: ex[k]})
				}
			}
		} else {
			sort.SliceStable(order, func(i, j int) bool { a, _ := strconv.Atoi(order[i]); b, _ := strconv.Atoi(order[j]); return a < b })
			var row []string
			for _, k := range order {
				if ex[k] == "" {
					break // the check names the first one missing
				}
				row = append(row, ex[k])
			}
			body.Example.BodyText = [][]string{row}
		}
	}
	d.Components = append(d.Components, body)
	if f.Footer != "" {
		d.Components = append(d.Components, whatsapp.TemplateDefComponent{Type: "FOOTER", Text: f.Footer})
	}
	if f.Buttons != "" {
		bc := whatsapp.TemplateDefComponent{Type: "BUTTONS"}
		for i, line := range strings.Split(f.Buttons, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			parts := strings.Split(line, "|")
			for j := range parts {
				parts[j] = strings.TrimSpace(parts[j])
			}
			get := func(n int) string {
				if n < len(parts) {
					return parts[n]
				}
				return ""
			}
			b := whatsapp.TemplateDefButton{Type: strings.ToUpper(strings.ReplaceAll(get(0), " ", "_"))}
			switch b.Type {
			case "QUICK_REPLY":
				b.Text = get(1)
			case "URL":
				b.Text, b.URL, b.Example = get(1), get(2), get(3)
			case "PHONE_NUMBER", "PHONE":
				b.Type, b.Text, b.PhoneNumber = "PHONE_NUMBER", get(1), get(2)
			case "COPY_CODE":
				b.Example = get(1)
			default:
				return templates.Submission{}, fmt.Errorf("buttons, line %d: start with QUICK_REPLY, URL, PHONE_NUMBER or COPY_CODE", i+1)
			}
			bc.Buttons = append(bc.Buttons, b)
		}
		d.Components = append(d.Components, bc)
	}
	sub := templates.Submission{Definition: d, HeaderFile: file}
	if f.Variables != "" {
		keys, vals, err := pairs(f.Variables)
		if err != nil {
			return templates.Submission{}, fmt.Errorf("variables: %w", err)
		}
		sub.VariableMap = store.VariableMap{}
		for _, k := range keys {
			from, fallback, _ := strings.Cut(vals[k], "|")
			src := store.VariableSource{From: strings.TrimSpace(from), Fallback: strings.TrimSpace(fallback)}
			if t, ok := strings.CutPrefix(src.From, "text:"); ok {
				src.From, src.Value = "text", strings.TrimSpace(t)
			}
			sub.VariableMap[k] = src
		}
	}
	return sub, nil
}

// formFromTemplate fills the form from a stored template.
func formFromTemplate(tp *store.Template) templateForm {
	f := templateForm{Name: tp.Name, Language: tp.Language, Category: tp.Category}
	var comps []whatsapp.TemplateDefComponent
	_ = json.Unmarshal(tp.Components, &comps)
	for _, c := range comps {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			f.HeaderFormat = strings.ToUpper(c.Format)
			if f.HeaderFormat == "" {
				f.HeaderFormat = "TEXT"
			}
			f.HeaderText = c.Text
			if c.Example != nil {
				if len(c.Example.HeaderText) > 0 {
					f.HeaderExample = c.Example.HeaderText[0]
				}
				for _, n := range c.Example.HeaderTextNamedParams {
					f.HeaderExample = n.Example
				}
				f.HasHandle = len(c.Example.HeaderHandle) > 0
			}
		case "BODY":
			f.Body = c.Text
			var lines []string
			if c.Example != nil {
				if len(c.Example.BodyText) > 0 {
					for i, v := range c.Example.BodyText[0] {
						lines = append(lines, fmt.Sprintf("%d = %s", i+1, v))
					}
				}
				for _, n := range c.Example.BodyTextNamedParams {
					lines = append(lines, n.ParamName+" = "+n.Example)
				}
			}
			f.Examples = strings.Join(lines, "\n")
		case "FOOTER":
			f.Footer = c.Text
		case "BUTTONS":
			var lines []string
			for _, b := range c.Buttons {
				switch strings.ToUpper(b.Type) {
				case "URL":
					lines = append(lines, strings.TrimRight(strings.Join([]string{"URL", b.Text, b.URL, b.Example}, " | "), " |"))
				case "PHONE_NUMBER":
					lines = append(lines, "PHONE_NUMBER | "+b.Text+" | "+b.PhoneNumber)
				case "COPY_CODE":
					lines = append(lines, "COPY_CODE | "+b.Example)
				default:
					lines = append(lines, strings.ToUpper(b.Type)+" | "+b.Text)
				}
			}
			f.Buttons = strings.Join(lines, "\n")
		}
	}
	var vars []string
	for k, v := range tp.VariableMap {
		from := v.From
		if from == "text" {
			from = "text:" + v.Value
		}
		line := k + " = " + from
		if v.Fallback != "" {
			line += " | " + v.Fallback
		}
		vars = append(vars, line)
	}
	sort.Strings(vars)
	f.Variables = strings.Join(vars, "\n")
	return f
}
