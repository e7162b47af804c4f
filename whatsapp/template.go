package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// TemplateInfo is one message template translation as Graph lists it.
type TemplateInfo struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Language        string          `json:"language"`
	Status          string          `json:"status"`
	Category        string          `json:"category"`
	ParameterFormat string          `json:"parameter_format"`
	Components      json.RawMessage `json:"components"`
	// QualityScore is quality_score.score: GREEN, YELLOW, RED or UNKNOWN.
	QualityScore struct {
		Score string `json:"score"`
	} `json:"quality_score"`
	RejectedReason string `json:"rejected_reason"`
}

// ListTemplates lists every template of the WhatsApp Business Account,
// following Graph's paging (at most 50 pages of 100).
func (c *Client) ListTemplates(ctx context.Context) ([]TemplateInfo, error) {
	if c.WABAID == "" {
		return nil, fmt.Errorf("%w: the WhatsApp Business Account id (SENDBOX_WA_WABA_ID) is not set", ErrNotConfigured)
	}
	q := url.Values{"fields": {"id,name,status,category,language,components,parameter_format,quality_score,rejected_reason"}, "limit": {"100"}}
	next := c.nodeURL(c.WABAID, "message_templates") + "?" + q.Encode()
	var out []TemplateInfo
	for page := 0; next != "" && page < 50; page++ {
		var resp struct {
			Data   []TemplateInfo `json:"data"`
			Paging struct {
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.do(ctx, "GET", next, "", nil, 0, &resp); err != nil {
			return nil, err
		}
		out = append(out, resp.Data...)
		next = resp.Paging.Next
		// Only follow Graph's own next links, never a host the answer made up.
		if next != "" && !strings.HasPrefix(next, c.baseURL()+"/") {
			next = ""
		}
	}
	return out, nil
}

// TemplateSpec is what a template asks for: its texts with their
// {{1}}/{{name}} placeholders, and the parameters to fill.
type TemplateSpec struct {
	HeaderFormat string // TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION, or "" for none
	Header       string
	Body         string
	Footer       string
	Buttons      []string // button texts, for display
	Params       []TemplateParam
	Named        bool // {{first_name}} rather than {{1}}
	// URLButtons are the buttons whose link ends in a {{1}} the send fills
	// in (a "button" component with sub_type url and the button's index).
	URLButtons []int
	// URLs are the buttons' links as approved (with the {{1}}), by index;
	// "" for buttons that are not links.
	URLs []string
}

// ButtonVariable names the variable that fills the end of URL button i's
// link, beside the header's and body's variables.
func ButtonVariable(i int) string { return "button_" + strconv.Itoa(i) }

// Variables are the names of everything a send fills in: the header's and
// body's variables, then each URL button's (ButtonVariable).
func (t *TemplateSpec) Variables() []string {
	out := make([]string, 0, len(t.Params)+len(t.URLButtons))
	for _, p := range t.Params {
		out = append(out, p.Name)
	}
	for _, i := range t.URLButtons {
		out = append(out, ButtonVariable(i))
	}
	return out
}

// TemplateParam is one placeholder to fill.
type TemplateParam struct {
	Component string // "header" or "body"
	Name      string // "1", "2"… or the parameter name
}

var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

func placeholders(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// ParseTemplate reads the components Graph returns for a template.
func ParseTemplate(components json.RawMessage) (*TemplateSpec, error) {
	var comps []struct {
		Type    string `json:"type"`
		Format  string `json:"format"`
		Text    string `json:"text"`
		Buttons []struct {
			Type string `json:"type"`
			Text string `json:"text"`
			URL  string `json:"url"`
		} `json:"buttons"`
	}
	if err := json.Unmarshal(components, &comps); err != nil {
		return nil, fmt.Errorf("template components: %w", err)
	}
	t := &TemplateSpec{}
	for _, c := range comps {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			t.HeaderFormat, t.Header = strings.ToUpper(c.Format), c.Text
			if t.HeaderFormat == "" {
				t.HeaderFormat = "TEXT"
			}
		case "BODY":
			t.Body = c.Text
		case "FOOTER":
			t.Footer = c.Text
		case "BUTTONS":
			for i, b := range c.Buttons {
				t.Buttons = append(t.Buttons, b.Text)
				t.URLs = append(t.URLs, b.URL)
				if strings.EqualFold(b.Type, "URL") && len(placeholders(b.URL)) > 0 {
					t.URLButtons = append(t.URLButtons, i)
				}
			}
		}
	}
	for _, p := range placeholders(t.Header) {
		t.Params = append(t.Params, TemplateParam{Component: "header", Name: p})
	}
	for _, p := range placeholders(t.Body) {
		t.Params = append(t.Params, TemplateParam{Component: "body", Name: p})
	}
	for _, p := range t.Params {
		if _, err := strconv.Atoi(p.Name); err != nil {
			t.Named = true
		}
	}
	return t, nil
}

// ErrTemplateMedia is returned for templates whose header needs a media file.
var ErrTemplateMedia = errors.New("this template's header needs an image, video or document: send it through the API with the header parameter")

// Message builds the send request for the template with values keyed by
// parameter name ("1", "2"… or the named parameters).
func (t *TemplateSpec) Message(to, name, language string, values map[string]string) (*OutboundMessage, error) {
	if t.HeaderFormat != "" && t.HeaderFormat != "TEXT" {
		return nil, ErrTemplateMedia
	}
	m := &OutboundMessage{To: to, Type: "template", Template: &Template{Name: name, Language: TemplateLanguage{Code: language}}}
	byComp := map[string][]TemplateParameter{}
	for _, p := range t.Params {
		v := strings.TrimSpace(values[p.Name])
		if v == "" {
			return nil, &ValidationError{Field: "template.parameters." + p.Name, Code: "missing_parameter",
				Message: fmt.Sprintf("fill in the template's {{%s}}", p.Name)}
		}
		tp := TemplateParameter{Type: "text", Text: v}
		if t.Named {
			tp.ParameterName = p.Name
		}
		byComp[p.Component] = append(byComp[p.Component], tp)
	}
	for _, c := range []string{"header", "body"} {
		if ps := byComp[c]; len(ps) > 0 {
			m.Template.Components = append(m.Template.Components, TemplateComponent{Type: c, Parameters: ps})
		}
	}
	for _, i := range t.URLButtons {
		name := ButtonVariable(i)
		v := strings.TrimSpace(values[name])
		if v == "" {
			return nil, &ValidationError{Field: "template.parameters." + name, Code: "missing_parameter",
				Message: fmt.Sprintf("fill in the end of the link of the template's button %d (%q)", i, t.Buttons[i])}
		}
		m.Template.Components = append(m.Template.Components, TemplateComponent{Type: "button", SubType: "url",
			Index: strconv.Itoa(i), Parameters: []TemplateParameter{{Type: "text", Text: v}}})
	}
	return m, m.Validate()
}

// Render returns the template's text with values filled in (missing values
// stay as their placeholder), header, body and footer on their own lines.
func (t *TemplateSpec) Render(values map[string]string) string {
	fill := func(s string) string {
		return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
			name := placeholderRE.FindStringSubmatch(m)[1]
			if v, ok := values[name]; ok && v != "" {
				return v
			}
			return m
		})
	}
	var parts []string
	if t.HeaderFormat == "TEXT" && t.Header != "" {
		parts = append(parts, fill(t.Header))
	}
	if t.Body != "" {
		parts = append(parts, fill(t.Body))
	}
	if t.Footer != "" {
		parts = append(parts, t.Footer)
	}
	return strings.Join(parts, "\n")
}

// TemplateValues extracts the parameter values of a template send, keyed as
// Render expects: by parameter name, or by position within each component.
func TemplateValues(m *OutboundMessage, spec *TemplateSpec) map[string]string {
	out := map[string]string{}
	if m == nil || m.Template == nil {
		return out
	}
	for _, c := range m.Template.Components {
		comp := strings.ToLower(c.Type)
		var names []string
		if spec != nil {
			for _, p := range spec.Params {
				if p.Component == comp {
					names = append(names, p.Name)
				}
			}
		}
		for i, p := range c.Parameters {
			key := p.ParameterName
			if key == "" && i < len(names) {
				key = names[i]
			}
			if key == "" {
				key = strconv.Itoa(i + 1)
			}
			out[key] = p.Text
		}
	}
	return out
}

// CheckParams checks the parameters of a send of this template the way Meta
// does when it is delivered (132000, 131008), so that a mistake is refused
// at once rather than failing later: every {{1}} or {{name}} of the header
// and the body gets a value (named parameters by parameter_name), nothing
// more; a media header gets its file; a URL button with a {{1}} gets it.
// The error is a *ValidationError with code "template_params" naming what
// is missing.
func (t *TemplateSpec) CheckParams(tp *Template) error {
	var header, body []TemplateParameter
	buttons := map[string][]TemplateParameter{}
	for _, c := range tp.Components {
		switch strings.ToLower(c.Type) {
		case "header":
			header = append(header, c.Parameters...)
		case "body":
			body = append(body, c.Parameters...)
		case "button":
			buttons[c.Index] = append(buttons[c.Index], c.Parameters...)
		}
	}
	switch t.HeaderFormat {
	case "IMAGE", "VIDEO", "DOCUMENT", "LOCATION":
		kind := strings.ToLower(t.HeaderFormat)
		ok := false
		for _, p := range header {
			ok = ok || (p.Type == kind && (p.Image != nil || p.Video != nil || p.Document != nil || p.Location != nil))
		}
		if !ok {
			return paramsError("header", fmt.Sprintf("the template's header needs its %s: add a header component with a %s parameter", kind, kind))
		}
	default:
		if err := t.checkText("header", header); err != nil {
			return err
		}
	}
	if err := t.checkText("body", body); err != nil {
		return err
	}
	for _, i := range t.URLButtons {
		ps := buttons[strconv.Itoa(i)]
		if len(ps) == 0 || !hasValue(ps[0]) {
			return paramsError(fmt.Sprintf("button %d", i),
				fmt.Sprintf("the template's button %d (%q) needs {{1}}, the end of its link: add a button component with sub_type url, index %q and a text parameter",
					i, t.Buttons[i], strconv.Itoa(i)))
		}
	}
	return nil
}

// checkText checks the parameters given to one text component.
func (t *TemplateSpec) checkText(component string, given []TemplateParameter) error {
	var want []string
	for _, p := range t.Params {
		if p.Component == component {
			want = append(want, p.Name)
		}
	}
	if len(want) == 0 {
		if len(given) > 0 {
			return paramsError(component, fmt.Sprintf("the template's %s takes no parameters, %d given", component, len(given)))
		}
		return nil
	}
	list := "{{" + strings.Join(want, "}}, {{") + "}}"
	if _, err := strconv.Atoi(want[0]); err != nil { // named parameters
		byName := map[string]TemplateParameter{}
		for i, p := range given {
			if p.ParameterName == "" {
				return paramsError(component, fmt.Sprintf("parameter %d of the %s has no parameter_name: this template's %s takes named parameters (%s)",
					i+1, component, component, list))
			}
			if !slices.Contains(want, p.ParameterName) {
				return paramsError(component, fmt.Sprintf("the template's %s has no {{%s}}: its parameters are %s", component, p.ParameterName, list))
			}
			byName[p.ParameterName] = p
		}
		for _, name := range want {
			if p, ok := byName[name]; !ok || !hasValue(p) {
				return paramsError(component, fmt.Sprintf("the template's %s needs {{%s}}: add a parameter with parameter_name %q and its value",
					component, name, name))
			}
		}
		return nil
	}
	for i, name := range want {
		switch {
		case i >= len(given):
			return paramsError(component, fmt.Sprintf("the template's %s needs {{%s}}: it takes %d parameters (%s), in order; %d given",
				component, name, len(want), list, len(given)))
		case !hasValue(given[i]):
			return paramsError(component, fmt.Sprintf("the template's %s needs {{%s}}: parameter %d is empty", component, name, i+1))
		}
	}
	if len(given) > len(want) {
		return paramsError(component, fmt.Sprintf("the template's %s takes %d parameters (%s), %d given", component, len(want), list, len(given)))
	}
	return nil
}

func paramsError(component, msg string) error {
	return &ValidationError{Field: "template.components." + component, Code: "template_params", Message: msg}
}

// hasValue reports whether a text parameter carries something to show.
func hasValue(p TemplateParameter) bool {
	return strings.TrimSpace(p.Text) != "" || p.Payload != "" || p.CouponCode != "" ||
		len(p.Currency) > 0 || len(p.DateTime) > 0 || p.Image != nil || p.Video != nil || p.Document != nil || p.Location != nil
}
