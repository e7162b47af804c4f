package sim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"sendbox/templates"
	"sendbox/whatsapp"
)

// Template is an approved message template the simulator accepts, with the
// text the customer's phone shows once the parameters are filled in.
type Template struct {
	Name     string           `json:"name"`
	Language string           `json:"language"`         // exact code, e.g. "en_US": "en" is another translation
	Category string           `json:"category"`         // MARKETING, UTILITY or AUTHENTICATION (drives pricing in statuses)
	Header   string           `json:"header,omitempty"` // text header, may hold parameters
	Body     string           `json:"body"`             // with {{1}}… (positional) or {{name}} (named) parameters
	Footer   string           `json:"footer,omitempty"`
	Buttons  []TemplateButton `json:"buttons,omitempty"`
	// Status is Meta's review status; "" is APPROVED. A template under
	// review (PENDING), REJECTED or PAUSED is listed but cannot be sent.
	Status string `json:"status,omitempty"`
	// ID is Meta's id; "" derives a stable one from name and language.
	ID string `json:"id,omitempty"`
	// ParameterFormat is POSITIONAL or NAMED; "" derives it from the texts.
	ParameterFormat string `json:"parameter_format,omitempty"`
	// Components are the components as submitted through the API, listed
	// as they are; nil lists Header, Body, Footer and Buttons.
	Components json.RawMessage `json:"components,omitempty"`
	// Quality is the quality score: GREEN, YELLOW, RED, or "" (UNKNOWN).
	Quality string `json:"quality,omitempty"`
	// Reason is why the review rejected it.
	Reason string `json:"reason,omitempty"`
}

// TemplateButton is a button of a template as the phone shows it.
type TemplateButton struct {
	Type string `json:"type"` // QUICK_REPLY, URL or PHONE_NUMBER
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

// DefaultTemplates are the templates a fresh sandbox has: Meta's own
// hello_world sample, two that exercise both parameter styles, and the
// catalogue of the templates the ready-made flows send (package
// templates), in English, Italian and French, so that every ready-made
// flow runs end to end in the sandbox.
func DefaultTemplates() []Template {
	out := []Template{
		{
			Name: "hello_world", Language: "en_US", Category: "UTILITY",
			Header: "Hello World",
			Body:   "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.",
			Footer: "WhatsApp Business Platform sample message",
		},
		{
			Name: "order_update", Language: "en_US", Category: "UTILITY",
			Body:   "Good news: your order {{1}} has shipped and is on its way.",
			Footer: "Reply STOP to opt out",
		},
		{
			Name: "seasonal_offer", Language: "en_US", Category: "MARKETING",
			Header:  "A gift for you",
			Body:    "Hi {{first_name}}, enjoy 15% off your next visit with code {{code}}.",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Book now"}, {Type: "QUICK_REPLY", Text: "Not interested"}},
		},
	}
	for _, t := range templates.Catalogue() {
		st := Template{Name: t.Name, Language: t.Language, Category: t.Category, Header: t.Header, Body: t.Body, Footer: t.Footer}
		for _, b := range t.Buttons {
			st.Buttons = append(st.Buttons, TemplateButton{Type: b.Type, Text: b.Text, URL: b.URL})
		}
		out = append(out, st)
	}
	return out
}

// placeholderRE matches {{1}} and {{named_param}}.
var placeholderRE = regexp.MustCompile(`\{\{\s*([a-z0-9_]+)\s*\}\}`)

// placeholders lists the distinct parameters of a text in order of first use.
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

// indexTemplates checks and indexes templates by name and language.
func indexTemplates(ts []Template) (map[string]map[string]*Template, error) {
	idx := make(map[string]map[string]*Template)
	for i := range ts {
		t := ts[i]
		if t.Name == "" || t.Language == "" {
			return nil, fmt.Errorf("whatsapp simulator: template %d needs a name and a language", i)
		}
		if t.Category == "" {
			t.Category = "UTILITY"
		}
		if idx[t.Name] == nil {
			idx[t.Name] = make(map[string]*Template)
		}
		if idx[t.Name][t.Language] != nil {
			return nil, fmt.Errorf("whatsapp simulator: template %s/%s defined twice", t.Name, t.Language)
		}
		idx[t.Name][t.Language] = &t
	}
	return idx, nil
}

// templateError is a template check failure: the Meta code and its details.
type templateError struct {
	code    int
	details string
}

// checkTemplate finds the approved template a send names and checks that
// each text component gets exactly the parameters it declares. It returns the
// template and the text the phone shows.
func (s *Simulator) checkTemplate(tp *whatsapp.Template) (*Template, string, *templateError) {
	s.tplMu.RLock()
	var t *Template
	if c := s.templates[tp.Name][tp.Language.Code]; c != nil {
		cp := *c
		t = &cp
	}
	s.tplMu.RUnlock()
	if t == nil || t.Status != "" && t.Status != "APPROVED" {
		return nil, "", &templateError{CodeTemplateMissing,
			fmt.Sprintf("template name (%s) does not exist in %s", tp.Name, tp.Language.Code)}
	}
	var header, body []whatsapp.TemplateParameter
	for _, c := range tp.Components {
		switch strings.ToLower(c.Type) {
		case "header":
			header = c.Parameters
		case "body":
			body = c.Parameters
		}
	}
	hdr, terr := fill("header", t.Header, header)
	if terr != nil {
		return nil, "", terr
	}
	txt, terr := fill("body", t.Body, body)
	if terr != nil {
		return nil, "", terr
	}
	parts := make([]string, 0, 3)
	for _, p := range []string{hdr, txt, t.Footer} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return t, strings.Join(parts, "\n\n"), nil
}

// fill substitutes params into a template text. Header media parameters are
// not counted against a text header (a media header has no text here).
func fill(component, text string, params []whatsapp.TemplateParameter) (string, *templateError) {
	want := placeholders(text)
	var texts []whatsapp.TemplateParameter
	for _, p := range params {
		if component == "header" && p.Type != "text" {
			continue
		}
		texts = append(texts, p)
	}
	if len(texts) != len(want) {
		return "", &templateError{CodeTemplateParams,
			fmt.Sprintf("%s: number of localizable_params (%d) does not match the expected number of params (%d)", component, len(texts), len(want))}
	}
	if len(want) == 0 {
		return text, nil
	}
	values := make(map[string]string, len(want))
	named := want[0][0] < '0' || want[0][0] > '9'
	for i, p := range texts {
		v := paramText(p)
		if named {
			if p.ParameterName == "" {
				return "", &templateError{CodeTemplateParams,
					fmt.Sprintf("%s: parameter %d has no parameter_name; this template uses named parameters (%s)", component, i+1, strings.Join(want, ", "))}
			}
			values[p.ParameterName] = v
		} else {
			values[want[i]] = v
		}
	}
	for _, name := range want {
		if _, ok := values[name]; !ok {
			return "", &templateError{CodeTemplateParams,
				fmt.Sprintf("%s: parameter %q is missing", component, name)}
		}
	}
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		return values[placeholderRE.FindStringSubmatch(m)[1]]
	}), nil
}

// paramText is what a parameter shows as on the phone.
func paramText(p whatsapp.TemplateParameter) string {
	switch {
	case p.Text != "":
		return p.Text
	case p.Payload != "":
		return p.Payload
	case p.CouponCode != "":
		return p.CouponCode
	case len(p.Currency) > 0:
		var c struct {
			FallbackValue string `json:"fallback_value"`
		}
		if json.Unmarshal(p.Currency, &c) == nil {
			return c.FallbackValue
		}
	case len(p.DateTime) > 0:
		var d struct {
			FallbackValue string `json:"fallback_value"`
		}
		if json.Unmarshal(p.DateTime, &d) == nil {
			return d.FallbackValue
		}
	}
	return ""
}
