package templates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"sendbox/store"
	"sendbox/whatsapp"
)

// Manager creates, edits and deletes the business's message templates at
// Meta and keeps the store's templates table in step. The panel and the
// API both call it: the rules (what Meta accepts, the sample upload of a
// media header, what is stored) live here once.
type Manager struct {
	Store *store.Store
	Graph *whatsapp.Client
}

// Submission is a template to create or edit: Meta's definition, the
// sample file of a media header (uploaded through the Resumable Upload API
// when given), and sendbox's default variable mapping.
type Submission struct {
	Definition  whatsapp.TemplateDefinition
	HeaderFile  *HeaderFile
	VariableMap store.VariableMap
}

// HeaderFile is the sample image, video or document of a media header.
type HeaderFile struct {
	Name     string
	MimeType string
	Data     []byte
}

// Error is a refusal to show the person who submitted the template: Code
// is stable ("invalid_template", "meta_refused", "not_configured",
// "not_editable"), Field names the part at fault when known.
type Error struct {
	Code    string
	Field   string
	Message string
	Err     error // the underlying error, if any
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// refusal turns an error of the Graph client into an *Error when it is one
// a person can act on; transport failures stay as they are.
func refusal(err error) error {
	var ve *whatsapp.ValidationError
	if errors.As(err, &ve) {
		return &Error{Code: "invalid_template", Field: ve.Field, Message: ve.Message, Err: err}
	}
	if errors.Is(err, whatsapp.ErrNotConfigured) {
		return &Error{Code: "not_configured", Message: whatsapp.TemplateErrorMessage(err), Err: err}
	}
	var ae *whatsapp.APIError
	if errors.As(err, &ae) && whatsapp.Classify(err) != whatsapp.Retry {
		return &Error{Code: "meta_refused", Message: whatsapp.TemplateErrorMessage(err), Err: err}
	}
	return err
}

// prepare settles the parameter format, uploads a media header's sample
// and checks the definition. create says whether name and language count.
func (m *Manager) prepare(ctx context.Context, sub *Submission, create bool) error {
	d := &sub.Definition
	d.Category = strings.ToUpper(strings.TrimSpace(d.Category))
	d.ParameterFormat = strings.ToUpper(strings.TrimSpace(d.ParameterFormat))
	if d.ParameterFormat == "" {
		d.ParameterFormat = whatsapp.FormatPositional
		for _, c := range d.Components {
			for _, v := range varRE.FindAllStringSubmatch(c.Text, -1) {
				if _, err := strconv.Atoi(strings.TrimSpace(v[1])); err != nil {
					d.ParameterFormat = whatsapp.FormatNamed
				}
			}
		}
	}
	for i := range d.Components {
		c := &d.Components[i]
		c.Type = strings.ToUpper(c.Type)
		c.Format = strings.ToUpper(c.Format)
		if c.Type != "HEADER" || (c.Format != "IMAGE" && c.Format != "VIDEO" && c.Format != "DOCUMENT") {
			continue
		}
		hasHandle := c.Example != nil && len(c.Example.HeaderHandle) > 0 && c.Example.HeaderHandle[0] != ""
		if hasHandle && sub.HeaderFile == nil {
			continue
		}
		if m.Graph.AppID == "" {
			return &Error{Code: "not_configured", Field: fmt.Sprintf("components[%d].example.header_handle", i),
				Message: "a " + strings.ToLower(c.Format) + " header needs a sample file, which Meta takes only through the Meta app's upload API: set SENDBOX_WA_APP_ID (the app id shown in Meta's App Dashboard), or use a text header"}
		}
		if sub.HeaderFile == nil {
			return &Error{Code: "invalid_template", Field: fmt.Sprintf("components[%d].example.header_handle", i),
				Message: "a " + strings.ToLower(c.Format) + " header needs a sample file: attach one"}
		}
		if err := d.Validate(create); err != nil && !isHandleError(err) {
			return refusal(err) // refuse before uploading anything
		}
		h, err := m.Graph.UploadHeaderSample(ctx, sub.HeaderFile.Name, sub.HeaderFile.MimeType, sub.HeaderFile.Data)
		if err != nil {
			return refusal(err)
		}
		if c.Example == nil {
			c.Example = &whatsapp.TemplateExample{}
		}
		c.Example.HeaderHandle = []string{h}
	}
	if err := sub.VariableMap.Check(); err != nil {
		return &Error{Code: "invalid_template", Field: "variable_map", Message: err.Error()}
	}
	if err := d.Validate(create); err != nil {
		return refusal(err)
	}
	return nil
}

func isHandleError(err error) bool {
	var ve *whatsapp.ValidationError
	return errors.As(err, &ve) && strings.HasSuffix(ve.Field, "header_handle")
}

var varRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// Create submits a new template for Meta's review and records it,
// usually PENDING; the review's outcome arrives by webhook.
func (m *Manager) Create(ctx context.Context, sub Submission) (*store.Template, error) {
	sub.Definition.Name = strings.TrimSpace(sub.Definition.Name)
	sub.Definition.Language = strings.TrimSpace(sub.Definition.Language)
	if err := m.prepare(ctx, &sub, true); err != nil {
		return nil, err
	}
	d := sub.Definition
	if old, err := m.Store.TemplateByName(ctx, d.Name, d.Language); err == nil {
		return nil, &Error{Code: "template_exists", Field: "name",
			Message: fmt.Sprintf("the template %s already exists in %s (status %s): edit it instead", old.Name, old.Language, old.Status)}
	}
	submitted := time.Now()
	res, err := m.Graph.CreateTemplate(ctx, &d)
	if err != nil {
		return nil, refusal(err)
	}
	comps, _ := json.Marshal(d.Components)
	return m.Store.SaveSubmittedTemplate(ctx, store.Template{Name: d.Name, Language: d.Language,
		Category: firstNonEmpty(res.Category, d.Category), Status: firstNonEmpty(res.Status, store.TemplatePending),
		Components: comps, MetaID: res.ID, ParameterFormat: d.ParameterFormat, VariableMap: sub.VariableMap}, submitted)
}

// Edit replaces a template's components (and category while Meta has not
// approved it) and sends it back to review. Name and language cannot
// change. Meta edits only approved, rejected or paused templates.
func (m *Manager) Edit(ctx context.Context, id int64, sub Submission) (*store.Template, error) {
	cur, err := m.Store.TemplateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	switch cur.Status {
	case store.TemplateApproved, store.TemplateRejected, store.TemplatePaused, "":
	default:
		return nil, &Error{Code: "not_editable", Message: fmt.Sprintf("the template is %s: Meta lets you edit only approved, rejected or paused templates", cur.Status)}
	}
	if cur.MetaID == "" {
		return nil, &Error{Code: "not_editable", Message: "sendbox does not know Meta's id of this template: refresh the templates from Meta first"}
	}
	sub.Definition.Name, sub.Definition.Language = cur.Name, cur.Language
	if sub.Definition.Category == "" {
		sub.Definition.Category = cur.Category
	}
	if err := m.prepare(ctx, &sub, false); err != nil {
		return nil, err
	}
	d := sub.Definition
	if cur.Status == store.TemplateApproved && d.Category != cur.Category {
		return nil, &Error{Code: "invalid_template", Field: "category", Message: "Meta does not let the category of an approved template change"}
	}
	edit := d
	if edit.Category == cur.Category {
		edit.Category = "" // unchanged: not sent
	}
	// In review from now: the review's webhook may come before Meta's
	// answer to the edit.
	submitted := time.Now()
	prev, err := m.Store.MarkTemplateSubmitted(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := m.Graph.EditTemplate(ctx, cur.MetaID, &edit); err != nil {
		if rerr := m.Store.RestoreTemplateState(context.WithoutCancel(ctx), prev, submitted); rerr != nil {
			return nil, errors.Join(refusal(err), rerr)
		}
		return nil, refusal(err)
	}
	comps, _ := json.Marshal(d.Components)
	return m.Store.SaveSubmittedTemplate(ctx, store.Template{Name: cur.Name, Language: cur.Language, Category: d.Category,
		Status: store.TemplatePending, Components: comps, MetaID: cur.MetaID, ParameterFormat: d.ParameterFormat, VariableMap: sub.VariableMap}, submitted)
}

// SetVariables changes only the default variable mapping: a sendbox
// setting, nothing goes to Meta.
func (m *Manager) SetVariables(ctx context.Context, id int64, vm store.VariableMap) (*store.Template, error) {
	if err := vm.Check(); err != nil {
		return nil, &Error{Code: "invalid_template", Field: "variable_map", Message: err.Error()}
	}
	if err := m.Store.SetTemplateVariables(ctx, id, vm); err != nil {
		return nil, err
	}
	return m.Store.TemplateByID(ctx, id)
}

// Delete deletes the template's translation at Meta (by name and id) and
// its row.
func (m *Manager) Delete(ctx context.Context, id int64) error {
	cur, err := m.Store.TemplateByID(ctx, id)
	if err != nil {
		return err
	}
	if err := m.Graph.DeleteTemplate(ctx, cur.Name, cur.MetaID); err != nil {
		return refusal(err)
	}
	return m.Store.DeleteTemplateRow(ctx, id)
}

// FromCatalogue is the catalogue's suggested wording of a template, ready
// to submit, with its examples.
func FromCatalogue(name, language string) (Submission, bool) {
	t, ok := Find(name, language)
	if !ok {
		return Submission{}, false
	}
	d := whatsapp.TemplateDefinition{Name: t.Name, Language: t.Language, Category: t.Category, ParameterFormat: whatsapp.FormatPositional}
	if t.Header != "" {
		d.Components = append(d.Components, whatsapp.TemplateDefComponent{Type: "HEADER", Format: "TEXT", Text: t.Header})
	}
	// Submitted exactly as the catalogue words it, so that what the flow
	// editor and the Templates page show is what Meta reviews
	// (TestCatalogueWordingsPassReview keeps every wording acceptable).
	body := whatsapp.TemplateDefComponent{Type: "BODY", Text: t.Body}
	if len(t.Example) > 0 {
		body.Example = &whatsapp.TemplateExample{BodyText: [][]string{append([]string(nil), t.Example...)}}
	}
	d.Components = append(d.Components, body)
	if t.Footer != "" {
		d.Components = append(d.Components, whatsapp.TemplateDefComponent{Type: "FOOTER", Text: t.Footer})
	}
	if len(t.Buttons) > 0 {
		bc := whatsapp.TemplateDefComponent{Type: "BUTTONS"}
		for _, b := range t.Buttons {
			db := whatsapp.TemplateDefButton{Type: b.Type, Text: b.Text, URL: b.URL}
			if strings.Contains(b.URL, "{{1}}") {
				db.Example = strings.ReplaceAll(b.URL, "{{1}}", "example")
			}
			bc.Buttons = append(bc.Buttons, db)
		}
		d.Components = append(d.Components, bc)
	}
	return Submission{Definition: d}, true
}

// Preview is a template as the customer's phone shows it, variables
// filled with their examples.
type Preview struct {
	HeaderFormat string // TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION or ""
	Header       string
	Body         string
	Footer       string
	Buttons      []PreviewButton
}

// PreviewButton is a button of a preview.
type PreviewButton struct {
	Type, Text string
}

// PreviewOf renders a definition with its examples in place of its
// variables (a variable without an example stays as {{…}}).
func PreviewOf(d *whatsapp.TemplateDefinition) Preview {
	var p Preview
	for _, c := range d.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			p.HeaderFormat = strings.ToUpper(firstNonEmpty(c.Format, "TEXT"))
			ex := map[string]string{}
			if c.Example != nil {
				if len(c.Example.HeaderText) > 0 {
					ex["1"] = c.Example.HeaderText[0]
				}
				for _, n := range c.Example.HeaderTextNamedParams {
					ex[n.ParamName] = n.Example
				}
			}
			p.Header = fillExamples(c.Text, ex)
		case "BODY":
			ex := map[string]string{}
			if c.Example != nil {
				if len(c.Example.BodyText) > 0 {
					for i, v := range c.Example.BodyText[0] {
						ex[strconv.Itoa(i+1)] = v
					}
				}
				for _, n := range c.Example.BodyTextNamedParams {
					ex[n.ParamName] = n.Example
				}
			}
			p.Body = fillExamples(c.Text, ex)
		case "FOOTER":
			p.Footer = c.Text
		case "BUTTONS":
			for _, b := range c.Buttons {
				text := b.Text
				if strings.EqualFold(b.Type, "COPY_CODE") && text == "" {
					text = "Copy code"
				}
				p.Buttons = append(p.Buttons, PreviewButton{Type: strings.ToUpper(b.Type), Text: text})
			}
		}
	}
	return p
}

func fillExamples(text string, ex map[string]string) string {
	return varRE.ReplaceAllStringFunc(text, func(m string) string {
		k := strings.TrimSpace(varRE.FindStringSubmatch(m)[1])
		if v := ex[k]; v != "" {
			return v
		}
		return m
	})
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// ParamsFor fills a template's parameters for one recipient with its
// default variable mapping (store.Template.VariableMap): the components to
// send (header and body text parameters, named or positional as the
// template is; the suffix of a URL button whose link ends in {{1}}, mapped
// under the key "button_<index>"), and the variables that could not be
// filled, in order. A campaign sends when missing is empty and reports the
// others before launch. A media header's file is not a variable: the
// caller adds it.
func ParamsFor(tp *store.Template, c store.ContactFields) (comps []whatsapp.TemplateComponent, missing []string, err error) {
	spec, err := whatsapp.ParseTemplate(tp.Components)
	if err != nil {
		return nil, nil, fmt.Errorf("template %s/%s: %w", tp.Name, tp.Language, err)
	}
	values, missing := tp.FillVariables(c)
	byComp := map[string][]whatsapp.TemplateParameter{}
	for _, p := range spec.Params {
		v, ok := values[p.Name]
		if !ok {
			continue
		}
		tpp := whatsapp.TemplateParameter{Type: "text", Text: v}
		if spec.Named {
			tpp.ParameterName = p.Name
		}
		byComp[p.Component] = append(byComp[p.Component], tpp)
	}
	for _, name := range []string{"header", "body"} {
		if ps := byComp[name]; len(ps) > 0 {
			comps = append(comps, whatsapp.TemplateComponent{Type: name, Parameters: ps})
		}
	}
	for _, i := range spec.URLButtons {
		key := whatsapp.ButtonVariable(i)
		one := *tp
		one.VariableMap = store.VariableMap{"1": tp.VariableMap[key]}
		one.Components = []byte(`[{"type":"BODY","text":"{{1}}"}]`)
		v, miss := one.FillVariables(c)
		if len(miss) > 0 {
			missing = append(missing, key)
			continue
		}
		comps = append(comps, whatsapp.TemplateComponent{Type: "button", SubType: "url", Index: strconv.Itoa(i),
			Parameters: []whatsapp.TemplateParameter{{Type: "text", Text: v["1"]}}})
	}
	return comps, missing, nil
}
