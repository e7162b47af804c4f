package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Template management (docs §5.1): create, edit and delete message
// templates of the WhatsApp Business Account, and upload the sample file of
// a media header through Meta's Resumable Upload API. The request shapes
// are Meta's: TemplateDefinition marshals to the body of
// POST /{waba-id}/message_templates.

// Template categories and parameter formats, as Meta spells them.
const (
	CategoryMarketing      = "MARKETING"
	CategoryUtility        = "UTILITY"
	CategoryAuthentication = "AUTHENTICATION"
	FormatPositional       = "POSITIONAL"
	FormatNamed            = "NAMED"
)

// Limits Meta enforces on a template's parts (template management page,
// and the character-limit error 2388040).
const (
	maxTplName        = 512
	maxTplHeaderText  = 60
	maxBodyText       = 1024
	maxFooterText     = 60
	maxButtonText     = 25
	maxButtons        = 10
	maxURLButtons     = 2
	maxPhoneButtons   = 1
	maxCopyCodeButton = 1
	maxCopyCode       = 15
	maxButtonURL      = 2000
)

// TemplateDefinition is a template as submitted to Meta: the body of a
// create (name, language, category, parameter_format, components) or of an
// edit (category and components only).
type TemplateDefinition struct {
	Name            string                 `json:"name,omitempty"`
	Language        string                 `json:"language,omitempty"`
	Category        string                 `json:"category,omitempty"`
	ParameterFormat string                 `json:"parameter_format,omitempty"` // POSITIONAL (default) or NAMED
	Components      []TemplateDefComponent `json:"components"`
}

// TemplateDefComponent is one component of a submitted template.
type TemplateDefComponent struct {
	Type    string              `json:"type"`             // HEADER, BODY, FOOTER or BUTTONS
	Format  string              `json:"format,omitempty"` // HEADER: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION
	Text    string              `json:"text,omitempty"`
	Example *TemplateExample    `json:"example,omitempty"`
	Buttons []TemplateDefButton `json:"buttons,omitempty"`
}

// TemplateExample holds the sample values Meta's reviewers read: one per
// variable, positional or named, and the uploaded file of a media header.
type TemplateExample struct {
	HeaderText            []string            `json:"header_text,omitempty"`
	HeaderTextNamedParams []NamedParamExample `json:"header_text_named_params,omitempty"`
	HeaderHandle          []string            `json:"header_handle,omitempty"`
	BodyText              [][]string          `json:"body_text,omitempty"`
	BodyTextNamedParams   []NamedParamExample `json:"body_text_named_params,omitempty"`
}

// NamedParamExample is the sample value of a {{name}} variable.
type NamedParamExample struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// TemplateDefButton is a button of a submitted template. Example is the
// full sample link of a URL button whose link ends in {{1}}, or the sample
// code of a COPY_CODE button: Meta wants the first as an array of one
// string and the second as a plain string, which MarshalJSON writes.
type TemplateDefButton struct {
	Type        string `json:"type"` // QUICK_REPLY, URL, PHONE_NUMBER or COPY_CODE
	Text        string `json:"text,omitempty"`
	URL         string `json:"url,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	Example     string `json:"-"`
}

type defButtonWire struct {
	Type        string          `json:"type"`
	Text        string          `json:"text,omitempty"`
	URL         string          `json:"url,omitempty"`
	PhoneNumber string          `json:"phone_number,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
}

// MarshalJSON writes Example in the shape Meta wants for the button's type.
func (b TemplateDefButton) MarshalJSON() ([]byte, error) {
	w := defButtonWire{Type: b.Type, Text: b.Text, URL: b.URL, PhoneNumber: b.PhoneNumber}
	if b.Example != "" {
		var v any = []string{b.Example}
		if strings.EqualFold(b.Type, "COPY_CODE") {
			v = b.Example
		}
		w.Example, _ = json.Marshal(v)
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads Example as a string or an array of strings.
func (b *TemplateDefButton) UnmarshalJSON(data []byte) error {
	var w defButtonWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*b = TemplateDefButton{Type: w.Type, Text: w.Text, URL: w.URL, PhoneNumber: w.PhoneNumber}
	if len(w.Example) > 0 {
		var s string
		var list []string
		switch {
		case json.Unmarshal(w.Example, &s) == nil:
			b.Example = s
		case json.Unmarshal(w.Example, &list) == nil && len(list) > 0:
			b.Example = list[0]
		}
	}
	return nil
}

// TemplateCreated is Graph's answer to a create.
type TemplateCreated struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Category string `json:"category"`
}

var (
	templateNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)
	languageRE     = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z]{2,4})?$`)
	namedParamRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	anyVarRE       = regexp.MustCompile(`\{\{([^{}]*)\}\}`)
)

func tplInvalid(field, code, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validate checks a definition against Meta's rules before it is sent, so
// that the mistakes Meta would refuse at once (a bad name, a variable
// without its example, too many buttons…) are named with the field at
// fault. create says whether name and language are required (an edit
// sends neither). Errors are *ValidationError.
func (d *TemplateDefinition) Validate(create bool) error {
	if create {
		switch {
		case d.Name == "":
			return tplInvalid("name", "missing_name", "give the template a name")
		case len(d.Name) > maxTplName:
			return tplInvalid("name", "name_too_long", "the name is %d characters long; Meta allows %d", len(d.Name), maxTplName)
		case !templateNameRE.MatchString(d.Name):
			return tplInvalid("name", "invalid_name", "the name %q may hold only lowercase letters a-z, digits and underscores (e.g. order_update)", d.Name)
		case d.Language == "":
			return tplInvalid("language", "missing_language", "give the language code, e.g. en, en_US, it, fr")
		case !languageRE.MatchString(d.Language):
			return tplInvalid("language", "invalid_language", "%q is not a language code Meta knows the shape of (e.g. en, en_US, pt_BR)", d.Language)
		}
	}
	switch d.Category {
	case CategoryMarketing, CategoryUtility:
	case "":
		if create {
			return tplInvalid("category", "missing_category", "choose the category: MARKETING or UTILITY")
		}
	case CategoryAuthentication:
		return tplInvalid("category", "unsupported_category", "authentication (one-time password) templates have their own shape and are not managed by sendbox: create them in WhatsApp Manager")
	default:
		return tplInvalid("category", "invalid_category", "the category must be MARKETING or UTILITY, not %q", d.Category)
	}
	switch d.ParameterFormat {
	case "", FormatPositional, FormatNamed:
	default:
		return tplInvalid("parameter_format", "invalid_parameter_format", "parameter_format must be POSITIONAL or NAMED")
	}
	named := d.ParameterFormat == FormatNamed
	var seen = map[string]bool{}
	var body *TemplateDefComponent
	for i := range d.Components {
		c := &d.Components[i]
		field := fmt.Sprintf("components[%d]", i)
		typ := strings.ToUpper(c.Type)
		if seen[typ] {
			return tplInvalid(field, "duplicate_component", "a template has at most one %s", typ)
		}
		seen[typ] = true
		switch typ {
		case "HEADER":
			if err := validateTplHeader(c, field, named); err != nil {
				return err
			}
		case "BODY":
			body = c
			if err := validateTplBody(c, field, named); err != nil {
				return err
			}
		case "FOOTER":
			if c.Text == "" {
				return tplInvalid(field+".text", "missing_text", "the footer is empty: remove it or write its text")
			}
			if n := utf8.RuneCountInString(c.Text); n > maxFooterText {
				return tplInvalid(field+".text", "text_too_long", "the footer is %d characters long; Meta allows %d", n, maxFooterText)
			}
			if anyVarRE.MatchString(c.Text) {
				return tplInvalid(field+".text", "variable_not_allowed", "a footer cannot hold variables")
			}
		case "BUTTONS":
			if err := validateTplButtons(c, field); err != nil {
				return err
			}
		default:
			return tplInvalid(field+".type", "invalid_component", "a component is HEADER, BODY, FOOTER or BUTTONS, not %q", c.Type)
		}
	}
	if body == nil {
		return tplInvalid("components", "missing_body", "a template needs a BODY with its text")
	}
	return nil
}

// variables lists the {{…}} of a text in order of first use, checking
// each against the parameter format.
func variables(text, field string, named bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, m := range anyVarRE.FindAllStringSubmatch(text, -1) {
		v := strings.TrimSpace(m[1])
		if named {
			if !namedParamRE.MatchString(v) {
				return nil, tplInvalid(field, "invalid_variable", "{{%s}}: with named parameters each variable is a lowercase name such as {{first_name}}", m[1])
			}
		} else if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return nil, tplInvalid(field, "invalid_variable", "{{%s}}: with positional parameters variables are {{1}}, {{2}}… (or set parameter_format to NAMED)", m[1])
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if !named {
		// Meta numbers them 1…n without gaps.
		for i := range out {
			if !seen[strconv.Itoa(i+1)] {
				return nil, tplInvalid(field, "variables_not_sequential", "positional variables must be {{1}} to {{%d}} without gaps", len(out))
			}
		}
	}
	return out, nil
}

func validateTplHeader(c *TemplateDefComponent, field string, named bool) error {
	switch strings.ToUpper(c.Format) {
	case "TEXT", "":
		if c.Text == "" {
			return tplInvalid(field+".text", "missing_text", "a text header needs its text")
		}
		if n := utf8.RuneCountInString(c.Text); n > maxTplHeaderText {
			return tplInvalid(field+".text", "text_too_long", "the header is %d characters long; Meta allows %d", n, maxTplHeaderText)
		}
		vars, err := variables(c.Text, field+".text", named)
		if err != nil {
			return err
		}
		if len(vars) > 1 {
			return tplInvalid(field+".text", "too_many_variables", "a text header holds at most one variable")
		}
		if len(vars) == 1 {
			ok := c.Example != nil && (!named && len(c.Example.HeaderText) == 1 && strings.TrimSpace(c.Example.HeaderText[0]) != "" ||
				named && len(c.Example.HeaderTextNamedParams) == 1 && c.Example.HeaderTextNamedParams[0].ParamName == vars[0] &&
					strings.TrimSpace(c.Example.HeaderTextNamedParams[0].Example) != "")
			if !ok {
				return tplInvalid(field+".example", "missing_example", "the header's {{%s}} needs an example value: Meta's reviewers read it", vars[0])
			}
		}
	case "IMAGE", "VIDEO", "DOCUMENT":
		if c.Example == nil || len(c.Example.HeaderHandle) == 0 || c.Example.HeaderHandle[0] == "" {
			return tplInvalid(field+".example.header_handle", "missing_example", "a %s header needs a sample file: upload it first (Resumable Upload API) and give its handle", strings.ToLower(c.Format))
		}
	case "LOCATION":
	default:
		return tplInvalid(field+".format", "invalid_format", "a header's format is TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION, not %q", c.Format)
	}
	return nil
}

func validateTplBody(c *TemplateDefComponent, field string, named bool) error {
	text := c.Text
	if strings.TrimSpace(text) == "" {
		return tplInvalid(field+".text", "missing_text", "the body needs its text")
	}
	if n := utf8.RuneCountInString(text); n > maxBodyText {
		return tplInvalid(field+".text", "text_too_long", "the body is %d characters long; Meta allows %d", n, maxBodyText)
	}
	vars, err := variables(text, field+".text", named)
	if err != nil {
		return err
	}
	if len(vars) == 0 {
		return nil
	}
	// Meta refuses these at once (error subcode 2388299).
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "{{") || strings.HasSuffix(t, "}}") {
		return tplInvalid(field+".text", "variable_at_edge", "the body cannot start or end with a variable: put some words before the first and after the last")
	}
	if named {
		got := map[string]string{}
		if c.Example != nil {
			for _, p := range c.Example.BodyTextNamedParams {
				got[p.ParamName] = p.Example
			}
		}
		for _, v := range vars {
			if strings.TrimSpace(got[v]) == "" {
				return tplInvalid(field+".example.body_text_named_params", "missing_example", "the body's {{%s}} needs an example value: Meta's reviewers read it", v)
			}
		}
		return nil
	}
	var ex []string
	if c.Example != nil && len(c.Example.BodyText) > 0 {
		ex = c.Example.BodyText[0]
	}
	for i, v := range vars {
		if i >= len(ex) || strings.TrimSpace(ex[i]) == "" {
			return tplInvalid(field+".example.body_text", "missing_example", "the body's {{%s}} needs an example value: Meta's reviewers read it", v)
		}
	}
	if len(ex) > len(vars) {
		return tplInvalid(field+".example.body_text", "too_many_examples", "the body has %d variables but %d examples", len(vars), len(ex))
	}
	return nil
}

func validateTplButtons(c *TemplateDefComponent, field string) error {
	if len(c.Buttons) == 0 {
		return tplInvalid(field+".buttons", "missing_buttons", "a BUTTONS component needs at least one button")
	}
	if len(c.Buttons) > maxButtons {
		return tplInvalid(field+".buttons", "too_many_buttons", "a template has at most %d buttons, this one has %d", maxButtons, len(c.Buttons))
	}
	count := map[string]int{}
	for i, b := range c.Buttons {
		bf := fmt.Sprintf("%s.buttons[%d]", field, i)
		typ := strings.ToUpper(b.Type)
		count[typ]++
		if typ != "COPY_CODE" {
			if strings.TrimSpace(b.Text) == "" {
				return tplInvalid(bf+".text", "missing_text", "button %d needs its label", i+1)
			}
			if n := utf8.RuneCountInString(b.Text); n > maxButtonText {
				return tplInvalid(bf+".text", "text_too_long", "button %d's label is %d characters long; Meta allows %d", i+1, n, maxButtonText)
			}
		}
		switch typ {
		case "QUICK_REPLY":
		case "URL":
			u, err := url.Parse(strings.ReplaceAll(b.URL, "{{1}}", "x"))
			if b.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return tplInvalid(bf+".url", "invalid_url", "button %d needs a web link starting with https://", i+1)
			}
			if len(b.URL) > maxButtonURL {
				return tplInvalid(bf+".url", "url_too_long", "button %d's link is over %d characters", i+1, maxButtonURL)
			}
			vars := anyVarRE.FindAllString(b.URL, -1)
			switch {
			case len(vars) > 1 || len(vars) == 1 && (vars[0] != "{{1}}" || !strings.HasSuffix(b.URL, "{{1}}")):
				return tplInvalid(bf+".url", "invalid_variable", "a button's link may hold one variable, {{1}}, at its very end")
			case len(vars) == 1 && b.Example == "":
				return tplInvalid(bf+".example", "missing_example", "button %d's link ends in {{1}}: give an example of the full link", i+1)
			}
		case "PHONE_NUMBER":
			if _, err := NormalizeRecipient(b.PhoneNumber); err != nil || !strings.HasPrefix(strings.TrimSpace(b.PhoneNumber), "+") {
				return tplInvalid(bf+".phone_number", "invalid_phone", "button %d needs a phone number with its country code, e.g. +393331234567", i+1)
			}
		case "COPY_CODE":
			if b.Example == "" || utf8.RuneCountInString(b.Example) > maxCopyCode {
				return tplInvalid(bf+".example", "invalid_example", "a copy-code button needs a sample code of at most %d characters", maxCopyCode)
			}
		default:
			return tplInvalid(bf+".type", "invalid_button", "a button is QUICK_REPLY, URL, PHONE_NUMBER or COPY_CODE, not %q", b.Type)
		}
	}
	// Meta shows quick replies and the other buttons as two groups and
	// refuses a quick reply on each side of another button.
	groups := 0
	for i, b := range c.Buttons {
		if strings.EqualFold(b.Type, "QUICK_REPLY") && (i == 0 || !strings.EqualFold(c.Buttons[i-1].Type, "QUICK_REPLY")) {
			if groups++; groups > 1 {
				return tplInvalid(fmt.Sprintf("%s.buttons[%d]", field, i), "buttons_not_grouped", "quick replies go together, all before or all after the other buttons: move button %d", i+1)
			}
		}
	}
	switch {
	case count["URL"] > maxURLButtons:
		return tplInvalid(field+".buttons", "too_many_buttons", "a template has at most %d link buttons", maxURLButtons)
	case count["PHONE_NUMBER"] > maxPhoneButtons:
		return tplInvalid(field+".buttons", "too_many_buttons", "a template has at most one phone button")
	case count["COPY_CODE"] > maxCopyCodeButton:
		return tplInvalid(field+".buttons", "too_many_buttons", "a template has at most one copy-code button")
	}
	return nil
}

func (c *Client) needWABA() error {
	if c.WABAID == "" {
		return fmt.Errorf("%w: the WhatsApp Business Account id (SENDBOX_WA_WABA_ID) is not set", ErrNotConfigured)
	}
	return nil
}

// CreateTemplate submits a template for Meta's review:
// POST /{waba-id}/message_templates. Meta answers with its id and status
// (PENDING, or at once APPROVED or REJECTED); the review's outcome comes
// later in a message_template_status_update webhook.
func (c *Client) CreateTemplate(ctx context.Context, d *TemplateDefinition) (*TemplateCreated, error) {
	if err := c.needWABA(); err != nil {
		return nil, err
	}
	if err := d.Validate(true); err != nil {
		return nil, err
	}
	body, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	var out TemplateCreated
	if err := c.do(ctx, http.MethodPost, c.nodeURL(c.WABAID, "message_templates"), "application/json", bytes.NewReader(body), int64(len(body)), &out); err != nil {
		return nil, err
	}
	if out.ID == "" {
		return nil, fmt.Errorf("%w: no template id in the answer", ErrBadResponse)
	}
	return &out, nil
}

// EditTemplate replaces a template's components (and category, which Meta
// lets change only before approval): POST /{template-id}. The template
// goes back to review. Name and language cannot change: d's are ignored.
func (c *Client) EditTemplate(ctx context.Context, templateID string, d *TemplateDefinition) error {
	if templateID == "" {
		return tplInvalid("id", "missing_id", "the template has no Meta id: sync the templates first")
	}
	if err := d.Validate(false); err != nil {
		return err
	}
	e := *d
	e.Name, e.Language = "", ""
	body, err := json.Marshal(&e)
	if err != nil {
		return fmt.Errorf("encode template: %w", err)
	}
	var out struct {
		Success bool `json:"success"`
	}
	if err := c.do(ctx, http.MethodPost, c.nodeURL(templateID, ""), "application/json", bytes.NewReader(body), int64(len(body)), &out); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("%w: the edit was not confirmed", ErrBadResponse)
	}
	return nil
}

// DeleteTemplate deletes a template: DELETE /{waba-id}/message_templates
// ?name=… removes every language of the name; with templateID (hsm_id)
// only that translation.
func (c *Client) DeleteTemplate(ctx context.Context, name, templateID string) error {
	if err := c.needWABA(); err != nil {
		return err
	}
	if name == "" {
		return tplInvalid("name", "missing_name", "name the template to delete")
	}
	q := url.Values{"name": {name}}
	if templateID != "" {
		q.Set("hsm_id", templateID)
	}
	var out struct {
		Success bool `json:"success"`
	}
	if err := c.do(ctx, http.MethodDelete, c.nodeURL(c.WABAID, "message_templates")+"?"+q.Encode(), "", nil, 0, &out); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("%w: the delete was not confirmed", ErrBadResponse)
	}
	return nil
}

// UploadFileTypes are the types the Resumable Upload API takes.
var UploadFileTypes = map[string]bool{"image/jpeg": true, "image/jpg": true, "image/png": true, "video/mp4": true, "application/pdf": true}

// maxHeaderSample bounds a media header's sample (Meta's media limits: 16 MB video, 100 MB documents; a sample needs far less).
const maxHeaderSample = 16 << 20

// UploadHeaderSample uploads the sample file of a media header through
// Meta's Resumable Upload API and returns its handle, for
// example.header_handle: POST /{app-id}/uploads?file_length=&file_type=
// opens an upload session, then POST /{upload-session-id} with the bytes,
// a "file_offset: 0" header and "Authorization: OAuth <token>" answers
// {"h": handle}. It needs the app id (SENDBOX_WA_APP_ID).
func (c *Client) UploadHeaderSample(ctx context.Context, fileName, fileType string, data []byte) (string, error) {
	if c.AppID == "" {
		return "", fmt.Errorf("%w: a media header's sample is uploaded to the Meta app: set SENDBOX_WA_APP_ID, the app id shown in the App Dashboard", ErrNotConfigured)
	}
	if !UploadFileTypes[fileType] {
		return "", tplInvalid("file_type", "invalid_file_type", "a header sample is a JPEG or PNG image, an MP4 video or a PDF document, not %q", fileType)
	}
	if len(data) == 0 {
		return "", tplInvalid("file", "empty_file", "the file is empty")
	}
	if len(data) > maxHeaderSample {
		return "", fmt.Errorf("%w: %d bytes, a header sample may have %d", ErrTooLarge, len(data), maxHeaderSample)
	}
	q := url.Values{"file_length": {strconv.Itoa(len(data))}, "file_type": {fileType}}
	if fileName != "" {
		q.Set("file_name", fileName)
	}
	var session struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, c.nodeURL(c.AppID, "uploads")+"?"+q.Encode(), "", nil, 0, &session); err != nil {
		return "", err
	}
	// The session id ("upload:…?sig=…") is used as it comes: its query is
	// part of it.
	if !strings.HasPrefix(session.ID, "upload:") || strings.ContainsAny(session.ID, "/#") {
		return "", fmt.Errorf("%w: upload session id %q", ErrBadResponse, c.snippet([]byte(session.ID)))
	}
	v := c.Version
	if v == "" {
		v = DefaultVersion
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL()+"/"+url.PathEscape(v)+"/"+session.ID, bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("graph: build request: %w", err)
	}
	req.ContentLength = int64(len(data))
	// The upload takes the token as "OAuth", not "Bearer".
	req.Header.Set("Authorization", "OAuth "+c.Token)
	req.Header.Set("file_offset", "0")
	req.Header.Set("User-Agent", "sendbox")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("graph: %w", err)
	}
	defer closeBody(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", c.apiError(resp)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxJSONResponse))
	var out struct {
		H string `json:"h"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.H == "" {
		return "", fmt.Errorf("%w: no handle in the upload answer: %s", ErrBadResponse, c.snippet(b))
	}
	return out.H, nil
}

// templateSubcodes explain the error subcodes Meta gives a template it
// refuses at once (code 100 or 192 with error_subcode 2388xxx), for when
// the answer carries no error_user_msg. Meta's error-code page lists
// only the messaging codes; these meanings come from the answers
// template-management clients report (third-party, see the notes).
var templateSubcodes = map[int]string{
	2388019: "the WhatsApp Business Account has reached its limit of message templates: delete unused ones",
	2388023: "this language of the template is being deleted: wait (up to four weeks) or use another name",
	2388024: "a template with this name already exists in this language: edit it, or choose another name",
	2388040: "a part of the template is over its character limit (header 60, body 1024, footer 60, button 25)",
	2388047: "the header's format is wrong (a text header holds at most one variable, with an example)",
	2388072: "the body's format is wrong: check its variables and their examples",
	2388073: "the footer's format is wrong: it holds plain text of at most 60 characters, without variables",
	2388293: "the template has too many variables for its length: add text around them",
	2388299: "the body cannot start or end with a variable",
}

// TemplateErrorMessage is what to tell the person who submitted a template
// that Meta refused: Meta's own title and message for the user when it
// sent them, else the meaning of its subcode, else the error itself.
func TemplateErrorMessage(err error) string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Message
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		if errors.Is(err, ErrNotConfigured) {
			return strings.TrimPrefix(err.Error(), ErrNotConfigured.Error()+": ")
		}
		return err.Error()
	}
	var parts []string
	if ae.Title != "" {
		parts = append(parts, strings.TrimRight(ae.Title, "."))
	}
	if ae.UserMessage != "" && strings.TrimRight(ae.UserMessage, ".") != strings.TrimRight(ae.Title, ".") {
		parts = append(parts, ae.UserMessage)
	}
	if len(parts) == 0 {
		if m, ok := templateSubcodes[ae.Subcode]; ok {
			parts = append(parts, m)
		} else if ae.Details != "" {
			parts = append(parts, ae.Details)
		}
	}
	if len(parts) == 0 {
		return "Meta refused the template: " + strings.TrimPrefix(ae.Error(), "graph: ")
	}
	msg := "Meta refused the template: " + strings.Join(parts, ": ")
	if ae.Subcode != 0 {
		msg += fmt.Sprintf(" (error %d/%d)", ae.Code, ae.Subcode)
	}
	return msg
}
