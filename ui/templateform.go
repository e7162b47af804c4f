package ui

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sendbox/store"
	"sendbox/templates"
	"sendbox/whatsapp"
)

// The template form's repeated parts: one row per button and one row per
// variable (its example for Meta's reviewers and what fills it for each
// customer). Rows are added and removed by submit buttons named "op", as
// in the flow editor: htmx redraws the form in place, and without
// JavaScript the same post redraws the page. Variables used in the texts
// and links get their row on their own (syncVariables), so an owner who
// types {{1}} sees where to give its example.

// maxFormRows bounds the rows read from one post.
const maxFormRows = 40

// templateForm is the create/edit form as typed, kept to show it again
// with its error.
type templateForm struct {
	Name, Language, Category string
	HeaderFormat, HeaderText string
	HeaderExample            string
	Body                     string
	Footer                   string
	Buttons                  []buttonRow
	Variables                []variableRow
	HasHandle                bool // an edited media header keeps its sample
}

// buttonRow is one button as typed. Example is the full sample link of a
// URL ending in {{1}}, or the sample code of a copy-code button.
type buttonRow struct {
	Type, Text, URL, Phone, Example string
}

// HasVariable says whether a link button's URL ends in {{1}}.
func (b buttonRow) HasVariable() bool { return b.Type == "URL" && strings.Contains(b.URL, "{{") }

// variableRow is one variable: its key ("1", "first_name", or
// "button_<index>" for the end of a link button's URL), its example, and
// its default source. From is first_name, name, phone, attribute (Value
// names it), text (Value is the text) or "" (filled when sending).
type variableRow struct {
	Key, Example, From, Value, Fallback string
	// Where the template uses it: "body", "header", "button" (Button is
	// then the button's number, from 1), or "" for a row nothing uses.
	Where  string
	Button int
}

// The choices the form offers.
var (
	templateButtonTypes = []string{"QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE"}
	variableSources     = []string{"", "first_name", "name", "phone", "attribute", "text"}
)

// fieldError is a refusal about one field of the form; Field is the id
// of the input (or fieldset) the message is shown next to.
type fieldError struct {
	Field, Message string
}

func (e *fieldError) Error() string { return e.Message }

// named says whether the texts use {{name}} variables rather than {{1}}.
func (f *templateForm) named() bool {
	for _, m := range formVarRE.FindAllStringSubmatch(f.HeaderText+" "+f.Body, -1) {
		if _, err := strconv.Atoi(strings.TrimSpace(m[1])); err != nil {
			return true
		}
	}
	return false
}

func textVars(text string) []string {
	var out []string
	for _, m := range formVarRE.FindAllStringSubmatch(text, -1) {
		if k := strings.TrimSpace(m[1]); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// usedVariables lists the variables the template uses, each once: the
// body's in order, then the header's, then the link buttons'.
func (f *templateForm) usedVariables() []variableRow {
	var out []variableRow
	have := map[string]bool{}
	for _, k := range textVars(f.Body) {
		have[k] = true
		out = append(out, variableRow{Key: k, Where: "body"})
	}
	if strings.EqualFold(f.HeaderFormat, "TEXT") {
		for _, k := range textVars(f.HeaderText) {
			if !have[k] {
				have[k] = true
				out = append(out, variableRow{Key: k, Where: "header"})
			}
		}
	}
	for i, b := range f.Buttons {
		if b.HasVariable() {
			out = append(out, variableRow{Key: "button_" + strconv.Itoa(i), Where: "button", Button: i + 1})
		}
	}
	return out
}

// syncVariables gives every variable the template uses a row, in order
// of use, keeping what was typed in the rows; rows of variables no longer
// used stay while they hold anything, so nothing typed is lost. It says
// whether the rows changed.
func (f *templateForm) syncVariables() bool {
	before := make([]string, len(f.Variables))
	for i, v := range f.Variables {
		before[i] = v.Key + "|" + v.Where
	}
	rows := f.Variables
	taken := make([]bool, len(rows))
	var out []variableRow
	for _, u := range f.usedVariables() {
		row := u
		for i, r := range rows {
			if !taken[i] && r.Key == u.Key {
				taken[i] = true
				row = r
				row.Where, row.Button = u.Where, u.Button
				break
			}
		}
		out = append(out, row)
	}
	for i, r := range rows {
		if taken[i] {
			continue
		}
		r.Where, r.Button = "", 0
		if r.Key != "" && r.Example == "" && r.From == "" && r.Value == "" && r.Fallback == "" {
			continue // an unused row nobody filled in
		}
		out = append(out, r)
	}
	f.Variables = out
	after := make([]string, len(out))
	for i, v := range out {
		after[i] = v.Key + "|" + v.Where
	}
	return !slices.Equal(before, after)
}

// apply performs one of the form's row operations: add-button:<TYPE>,
// del-button:<n>, add-variable, del-variable:<n>, or redraw (a button's
// type changed). It returns the id of the field to focus.
func (f *templateForm) apply(op string) (focus string) {
	verb, arg, _ := strings.Cut(op, ":")
	n, err := strconv.Atoi(arg)
	inRange := func(l int) bool { return err == nil && n >= 0 && n < l }
	switch verb {
	case "add-button":
		if !slices.Contains(templateButtonTypes, arg) || len(f.Buttons) >= maxFormRows {
			break
		}
		f.Buttons = append(f.Buttons, buttonRow{Type: arg})
		focus = fmt.Sprintf("b-%d-text", len(f.Buttons)-1)
		switch arg {
		case "COPY_CODE":
			focus = fmt.Sprintf("b-%d-example", len(f.Buttons)-1)
		}
	case "del-button":
		if inRange(len(f.Buttons)) {
			f.Buttons = slices.Delete(f.Buttons, n, n+1)
			// A link button's mapping is keyed by its index: the ones
			// after it move up.
			for i := range f.Variables {
				if k, ok := strings.CutPrefix(f.Variables[i].Key, "button_"); ok {
					if j, err := strconv.Atoi(k); err == nil && j > n {
						f.Variables[i].Key = "button_" + strconv.Itoa(j-1)
					} else if err == nil && j == n {
						f.Variables[i] = variableRow{}
					}
				}
			}
			f.Variables = slices.DeleteFunc(f.Variables, func(v variableRow) bool { return v == variableRow{} })
		}
	case "add-variable":
		if len(f.Variables) < maxFormRows {
			f.Variables = append(f.Variables, variableRow{})
			f.syncVariables() // rows nothing uses come last: the new one too
			focus = fmt.Sprintf("v-%d-key", len(f.Variables)-1)
		}
	case "del-variable":
		if inRange(len(f.Variables)) {
			f.Variables = slices.Delete(f.Variables, n, n+1)
		}
	}
	f.syncVariables()
	return focus
}

// check refuses, next to the field at fault, what the rows get wrong and
// what Meta's own checks (whatsapp.TemplateDefinition.Validate, run when
// the template is submitted) would name less precisely. Call it after
// syncVariables.
func (f *templateForm) check() *fieldError {
	// The message first: its variables decide the rows.
	if vars := textVars(f.Body); len(vars) > 0 {
		if !f.named() {
			for i := range vars {
				if !slices.Contains(vars, strconv.Itoa(i+1)) {
					return &fieldError{"tpl-body", fmt.Sprintf("number the variables {{1}} to {{%d}} without gaps: {{%d}} is missing", len(vars), i+1)}
				}
			}
		}
		t := strings.TrimSpace(f.Body)
		if strings.HasPrefix(t, "{{") || strings.HasSuffix(t, "}}") {
			// Meta's error 2388299.
			return &fieldError{"tpl-body", "the message cannot start or end with a variable: put some words before the first and after the last"}
		}
	}
	seen := map[string]bool{}
	for i, v := range f.Variables {
		id := func(x string) string { return fmt.Sprintf("v-%d-%s", i, x) }
		if v.Key == "" {
			if v.Example != "" || v.From != "" || v.Value != "" || v.Fallback != "" {
				return &fieldError{id("key"), "write which variable this row is for, e.g. 1 or first_name"}
			}
			continue
		}
		if seen[v.Key] {
			return &fieldError{id("key"), fmt.Sprintf("{{%s}} has two rows: remove one", v.Key)}
		}
		seen[v.Key] = true
		if v.Where == "" {
			return &fieldError{id("key"), fmt.Sprintf("{{%s}} is not in the message, the header or a link: write it there or remove this row", v.Key)}
		}
		if v.Where == "body" && v.Example == "" {
			return &fieldError{id("example"), fmt.Sprintf("the message's {{%s}} needs an example: Meta's reviewers read it", v.Key)}
		}
		switch v.From {
		case "", "first_name", "name", "phone":
		case "attribute":
			if v.Value == "" || strings.ContainsAny(v.Value, " :") {
				return &fieldError{id("value"), fmt.Sprintf("write the contact attribute that fills {{%s}}, e.g. city", v.Key)}
			}
		case "text":
			if v.Value == "" {
				return &fieldError{id("value"), fmt.Sprintf("write the fixed text that fills {{%s}}", v.Key)}
			}
		default:
			return &fieldError{id("from"), "choose where the variable is filled from"}
		}
	}
	if n := len(f.Buttons); n > 10 {
		return &fieldError{"tpl-buttons", fmt.Sprintf("a template has at most 10 buttons; this one has %d: remove %d", n, n-10)}
	}
	if i := ungroupedQuickReply(f.Buttons); i >= 0 {
		return &fieldError{"tpl-buttons", fmt.Sprintf("quick replies go together, all before or all after the other buttons: move button %d (%s)", i+1, f.Buttons[i].Text)}
	}
	return nil
}

// ungroupedQuickReply returns the index of the first button that splits
// the quick replies from each other (Meta accepts QR QR URL or URL QR QR,
// not QR URL QR), or -1.
func ungroupedQuickReply(bs []buttonRow) int {
	groups := 0
	for i, b := range bs {
		if b.Type == "QUICK_REPLY" && (i == 0 || bs[i-1].Type != "QUICK_REPLY") {
			groups++
			if groups > 1 {
				return i
			}
		}
	}
	return -1
}

// submission turns the form into Meta's definition and sendbox's default
// variable mapping.
func (f templateForm) submission(file *templates.HeaderFile) templates.Submission {
	d := whatsapp.TemplateDefinition{Name: f.Name, Language: f.Language, Category: strings.ToUpper(f.Category)}
	named := f.named()
	d.ParameterFormat = whatsapp.FormatPositional
	if named {
		d.ParameterFormat = whatsapp.FormatNamed
	}
	ex := map[string]string{}
	for _, v := range f.Variables {
		if v.Key != "" && v.Example != "" {
			ex[v.Key] = v.Example
		}
	}
	switch hf := strings.ToUpper(f.HeaderFormat); hf {
	case "":
	case "TEXT":
		c := whatsapp.TemplateDefComponent{Type: "HEADER", Format: "TEXT", Text: f.HeaderText}
		if vars := textVars(f.HeaderText); len(vars) > 0 {
			example := firstNonBlank(f.HeaderExample, ex[vars[0]])
			if example != "" && named {
				c.Example = &whatsapp.TemplateExample{HeaderTextNamedParams: []whatsapp.NamedParamExample{{ParamName: vars[0], Example: example}}}
			} else if example != "" {
				c.Example = &whatsapp.TemplateExample{HeaderText: []string{example}}
			}
		}
		d.Components = append(d.Components, c)
	default:
		d.Components = append(d.Components, whatsapp.TemplateDefComponent{Type: "HEADER", Format: hf})
	}
	body := whatsapp.TemplateDefComponent{Type: "BODY", Text: f.Body}
	if order := textVars(f.Body); len(order) > 0 {
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
	if len(f.Buttons) > 0 {
		bc := whatsapp.TemplateDefComponent{Type: "BUTTONS"}
		for _, b := range f.Buttons {
			db := whatsapp.TemplateDefButton{Type: b.Type}
			switch b.Type {
			case "URL":
				db.Text, db.URL = b.Text, b.URL
				if b.HasVariable() {
					db.Example = b.Example
				}
			case "PHONE_NUMBER":
				db.Text, db.PhoneNumber = b.Text, b.Phone
			case "COPY_CODE":
				db.Example = b.Example
			default:
				db.Text = b.Text
			}
			bc.Buttons = append(bc.Buttons, db)
		}
		d.Components = append(d.Components, bc)
	}
	sub := templates.Submission{Definition: d, HeaderFile: file}
	for _, v := range f.Variables {
		if v.Key == "" || v.From == "" {
			continue
		}
		src := store.VariableSource{From: v.From, Fallback: v.Fallback}
		switch v.From {
		case "attribute":
			src.From = "attribute:" + v.Value
		case "text":
			src.Value = v.Value
		}
		if sub.VariableMap == nil {
			sub.VariableMap = store.VariableMap{}
		}
		sub.VariableMap[v.Key] = src
	}
	return sub
}

func firstNonBlank(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

var (
	compFieldRE   = regexp.MustCompile(`^components\[(\d+)\](.*)$`)
	buttonFieldRE = regexp.MustCompile(`^\.buttons\[(\d+)\]\.(\w+)`)
)

// formField maps the field a refusal of d names (name, category,
// components[2].buttons[1].text…) to the id of the form's input.
func formField(d *whatsapp.TemplateDefinition, field string) string {
	switch field {
	case "name":
		return "tpl-name"
	case "language":
		return "tpl-lang"
	case "category":
		return "tpl-cat"
	case "variable_map":
		return "tpl-vars"
	case "components":
		return "tpl-body"
	}
	m := compFieldRE.FindStringSubmatch(field)
	if m == nil {
		return ""
	}
	i, _ := strconv.Atoi(m[1])
	if i >= len(d.Components) {
		return ""
	}
	rest := m[2]
	switch strings.ToUpper(d.Components[i].Type) {
	case "HEADER":
		switch {
		case strings.HasSuffix(rest, "header_handle"):
			return "tpl-hfile"
		case strings.HasPrefix(rest, ".example"):
			return "tpl-hx"
		case rest == ".format":
			return "tpl-hf"
		}
		return "tpl-ht"
	case "BODY":
		if strings.HasPrefix(rest, ".example") {
			return "tpl-vars"
		}
		return "tpl-body"
	case "FOOTER":
		return "tpl-footer"
	case "BUTTONS":
		if b := buttonFieldRE.FindStringSubmatch(rest); b != nil {
			name := map[string]string{"text": "text", "url": "url", "phone_number": "phone", "example": "example", "type": "type"}[b[2]]
			if name != "" {
				return "b-" + b[1] + "-" + name
			}
		}
		return "tpl-buttons"
	}
	return ""
}

// formFromTemplate fills the form from a stored template.
func formFromTemplate(tp *store.Template) templateForm {
	f := templateForm{Name: tp.Name, Language: tp.Language, Category: tp.Category}
	var comps []whatsapp.TemplateDefComponent
	_ = json.Unmarshal(tp.Components, &comps)
	ex := map[string]string{}
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
		case "FOOTER":
			f.Footer = c.Text
		case "BUTTONS":
			for _, b := range c.Buttons {
				row := buttonRow{Type: strings.ToUpper(b.Type), Text: b.Text, URL: b.URL, Phone: b.PhoneNumber, Example: b.Example}
				if row.Type == "PHONE" {
					row.Type = "PHONE_NUMBER"
				}
				f.Buttons = append(f.Buttons, row)
			}
		}
	}
	for _, u := range f.usedVariables() {
		row := variableRow{Key: u.Key, Example: ex[u.Key]}
		if src, ok := tp.VariableMap[u.Key]; ok {
			row.From, row.Fallback = src.From, src.Fallback
			switch {
			case src.From == "text":
				row.Value = src.Value
			case strings.HasPrefix(src.From, "attribute:"):
				row.From, row.Value = "attribute", strings.TrimPrefix(src.From, "attribute:")
			}
		}
		f.Variables = append(f.Variables, row)
	}
	f.syncVariables()
	return f
}
