package sim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

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
}

// TemplateButton is a button of a template as the phone shows it.
type TemplateButton struct {
	Type string `json:"type"` // QUICK_REPLY, URL or PHONE_NUMBER
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

// DefaultTemplates are the templates a fresh sandbox has: Meta's own
// hello_world sample plus a few a small business would really use, in more
// than one language and with both parameter styles.
func DefaultTemplates() []Template {
	return []Template{
		{
			Name: "hello_world", Language: "en_US", Category: "UTILITY",
			Header: "Hello World",
			Body:   "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.",
			Footer: "WhatsApp Business Platform sample message",
		},
		{
			Name: "appointment_reminder", Language: "en", Category: "UTILITY",
			Body:    "Hi! This is a reminder of your appointment on {{1}} at {{2}}. Please let us know if you can make it.",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Confirm"}, {Type: "QUICK_REPLY", Text: "Cancel"}},
		},
		{
			Name: "appointment_reminder", Language: "it", Category: "UTILITY",
			Body:    "Ciao! Ti ricordiamo l'appuntamento del {{1}} alle {{2}}. Facci sapere se ci sarai.",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Confermo"}, {Type: "QUICK_REPLY", Text: "Disdico"}},
		},
		{
			Name: "order_update", Language: "en_US", Category: "UTILITY",
			Body:   "Good news: your order {{1}} has shipped and is on its way.",
			Footer: "Reply STOP to opt out",
		},
		{
			Name: "order_confirmation", Language: "en", Category: "UTILITY",
			Body: "Thank you for your order {{1}}! We are preparing it and will tell you as soon as it ships.",
		},
		{
			Name: "order_confirmation", Language: "it", Category: "UTILITY",
			Body: "Grazie per l'ordine {{1}}! Lo stiamo preparando e ti avviseremo appena parte.",
		},
		{
			Name: "order_confirmation", Language: "fr", Category: "UTILITY",
			Body: "Merci pour votre commande {{1}} ! Nous la préparons et vous prévenons dès son expédition.",
		},
		{
			Name: "shipping_update", Language: "en", Category: "UTILITY",
			Body: "Your order {{1}} is on its way with {{2}}. Track it here: {{3}}",
		},
		{
			Name: "shipping_update", Language: "it", Category: "UTILITY",
			Body: "Il tuo ordine {{1}} è in viaggio con {{2}}. Seguilo qui: {{3}}",
		},
		{
			Name: "shipping_update", Language: "fr", Category: "UTILITY",
			Body: "Votre commande {{1}} est en route avec {{2}}. Suivez-la ici : {{3}}",
		},
		{
			Name: "usage_tips", Language: "en", Category: "UTILITY",
			Body: "How are you getting on with {{1}}? A tip for the best results: {{2}}",
		},
		{
			Name: "usage_tips", Language: "it", Category: "UTILITY",
			Body: "Come ti trovi con {{1}}? Un consiglio per risultati migliori: {{2}}",
		},
		{
			Name: "usage_tips", Language: "fr", Category: "UTILITY",
			Body: "Comment se passe l'utilisation de {{1}} ? Un conseil pour de meilleurs résultats : {{2}}",
		},
		{
			Name: "reorder_reminder", Language: "en", Category: "MARKETING",
			Body:    "Hi {{1}}, your {{2}} may be running low. Reorder it in one tap: {{3}}",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Not now"}},
		},
		{
			Name: "reorder_reminder", Language: "it", Category: "MARKETING",
			Body:    "Ciao {{1}}, il tuo {{2}} potrebbe stare per finire. Riordinalo con un tocco: {{3}}",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Non ora"}},
		},
		{
			Name: "reorder_reminder", Language: "fr", Category: "MARKETING",
			Body:    "Bonjour {{1}}, votre {{2}} arrive peut-être à sa fin. Recommandez-le en un clic : {{3}}",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Pas maintenant"}},
		},
		{
			Name: "cross_sell", Language: "en", Category: "MARKETING",
			Body:    "Customers who love {{1}} also like {{2}}. Would you like to know more?",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Yes, tell me"}, {Type: "QUICK_REPLY", Text: "No, thanks"}},
		},
		{
			Name: "cross_sell", Language: "it", Category: "MARKETING",
			Body:    "Chi ama {{1}} apprezza anche {{2}}. Vuoi saperne di più?",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Sì, dimmi"}, {Type: "QUICK_REPLY", Text: "No, grazie"}},
		},
		{
			Name: "cross_sell", Language: "fr", Category: "MARKETING",
			Body:    "Ceux qui aiment {{1}} apprécient aussi {{2}}. Voulez-vous en savoir plus ?",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Oui, dites-moi"}, {Type: "QUICK_REPLY", Text: "Non, merci"}},
		},
		{
			Name: "quote_ready", Language: "en", Category: "UTILITY",
			Body: "Your quote {{1}} for {{2}} is ready: {{3}}. Reply to confirm the order.",
		},
		{
			Name: "quote_ready", Language: "it", Category: "UTILITY",
			Body: "Il preventivo {{1}} per {{2}} è pronto: {{3}}. Rispondi per confermare l'ordine.",
		},
		{
			Name: "quote_ready", Language: "fr", Category: "UTILITY",
			Body: "Votre devis {{1}} pour {{2}} est prêt : {{3}}. Répondez pour confirmer la commande.",
		},
		{
			Name: "return_update", Language: "en", Category: "UTILITY",
			Body: "About your return {{1}}: {{2}}",
		},
		{
			Name: "return_update", Language: "it", Category: "UTILITY",
			Body: "Sul tuo reso {{1}}: {{2}}",
		},
		{
			Name: "return_update", Language: "fr", Category: "UTILITY",
			Body: "Concernant votre retour {{1}} : {{2}}",
		},
		{
			Name: "appointment_reminder", Language: "fr", Category: "UTILITY",
			Body:    "Bonjour ! Nous vous rappelons votre rendez-vous du {{1}} à {{2}}. Dites-nous si vous serez présent.",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Je confirme"}, {Type: "QUICK_REPLY", Text: "J'annule"}},
		},
		{
			Name: "seasonal_offer", Language: "en_US", Category: "MARKETING",
			Header:  "A gift for you",
			Body:    "Hi {{first_name}}, enjoy 15% off your next visit with code {{code}}.",
			Buttons: []TemplateButton{{Type: "QUICK_REPLY", Text: "Book now"}, {Type: "QUICK_REPLY", Text: "Not interested"}},
		},
	}
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
	langs := s.templates[tp.Name]
	t := langs[tp.Language.Code]
	if t == nil {
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
