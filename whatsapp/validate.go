package whatsapp

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidationError says why Meta would refuse an OutboundMessage. Checking
// before sending saves a Graph round trip and a slot of the rate limit, and
// gives the API user an error they can act on.
type ValidationError struct {
	// Field is the JSON path of the offending field in Meta's shape, e.g.
	// "interactive.action.buttons[1].reply.title".
	Field string
	// Code is a stable snake_case identifier (e.g. "text_too_long") that
	// clients may branch on; it never changes once published.
	Code string
	// Message is plain English and states the limit.
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid message: " + e.Message
	}
	return "invalid message: " + e.Field + ": " + e.Message
}

func invalid(field, code, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Meta's limits (docs §4), in characters, counted as Unicode code points.
const (
	maxTextBody         = 4096
	maxCaption          = 1024
	maxInteractiveBody  = 1024
	maxListBody         = 4096
	maxFooter           = 60
	maxHeaderText       = 60
	maxReplyButtons     = 3
	maxButtonTitle      = 20
	maxButtonID         = 256
	maxListButton       = 20
	maxListSections     = 10
	maxListRows         = 10
	maxRowTitle         = 24
	maxRowID            = 200
	maxRowDescription   = 72
	maxSectionTitle     = 24
	maxCTADisplayText   = 20
	maxTemplateName     = 512
	minPhoneDigits      = 8
	maxPhoneDigits      = 15
	recipientIndividual = "individual"
	recipientGroup      = "group"
	interactiveButton   = "button"
	interactiveList     = "list"
	interactiveCTAURL   = "cta_url"
	templateButtonComp  = "button"
	replyButtonType     = "reply"
	ctaURLActionName    = "cta_url"
	headerText          = "text"
	maxTemplateIndexLen = 3
)

// messageTypes are the send types Validate knows, in the order of the error
// message that lists them.
var messageTypes = []string{"text", "template", "interactive", "image", "video", "audio", "document", "sticker", "location", "contacts", "reaction"}

// Validate checks m against Meta's documented limits (docs §4): a valid
// recipient, a known Type with its part (and only it) set, text ≤ 4096
// characters, captions ≤ 1024 (none on audio and stickers), media by exactly
// one of id or http(s) link, reply buttons (1–3, unique titles ≤ 20, ids ≤
// 256), lists (button ≤ 20, ≤ 10 sections, ≤ 10 rows in all, row title ≤ 24,
// row id ≤ 200, description ≤ 72, section titles ≤ 24 and required past one
// section, text header only), cta_url (display text ≤ 20, http(s) url),
// interactive bodies ≤ 1024 (lists 4096), footers and text headers ≤ 60,
// templates (name [a-z0-9_]{1,512}, a language code, header/body/button
// components, numeric button index, typed parameters), location ranges,
// contacts with a formatted name, reactions with a message id, and
// biz_opaque_callback_data ≤ 512.
//
// It returns the first problem found as a *ValidationError, or nil. Passing
// does not promise delivery: Meta still judges templates, media and the
// 24-hour window.
func (m *OutboundMessage) Validate() error {
	if m == nil {
		return invalid("", "missing_message", "the message is empty")
	}
	if err := m.validateRecipient(); err != nil {
		return err
	}
	if err := m.validateParts(); err != nil {
		return err
	}
	if err := validateOpaque(m.BizOpaque); err != nil {
		return err
	}
	if m.Context != nil {
		if m.Type == "reaction" {
			return invalid("context", "context_not_allowed", "a reaction cannot be a reply to a message")
		}
		if strings.TrimSpace(m.Context.MessageID) == "" {
			return invalid("context.message_id", "missing_context_message_id", "a reply needs the id (wamid) of the message it quotes")
		}
	}
	switch m.Type {
	case "text":
		return validateText(m.Text)
	case "image", "video", "document", "audio", "sticker":
		return validateMedia(m.Type, m.Type, m.media())
	case "location":
		return validateLocation("location", m.Location)
	case "contacts":
		for i, c := range m.Contacts {
			if strings.TrimSpace(c.Name.FormattedName) == "" {
				return invalid(fmt.Sprintf("contacts[%d].name.formatted_name", i), "missing_contact_name", "every contact needs name.formatted_name")
			}
		}
	case "reaction":
		if strings.TrimSpace(m.Reaction.MessageID) == "" {
			return invalid("reaction.message_id", "missing_message_id", "a reaction needs the id (wamid) of the message it reacts to")
		}
	case "interactive":
		return validateInteractive(m.Interactive)
	case "template":
		return validateTemplate(m.Template)
	}
	return nil
}

func (m *OutboundMessage) validateRecipient() error {
	switch m.RecipientType {
	case "", recipientIndividual:
		_, err := NormalizeRecipient(m.To)
		return err
	case recipientGroup:
		// A group id is Meta's opaque identifier: only its presence can be checked.
		if strings.TrimSpace(m.To) == "" {
			return invalid("to", "missing_recipient", "to is required: the group id")
		}
		return nil
	}
	return invalid("recipient_type", "invalid_recipient_type", "recipient_type must be %q or %q, not %q", recipientIndividual, recipientGroup, m.RecipientType)
}

// setParts lists the typed parts that are set, by their JSON names.
func (m *OutboundMessage) setParts() []string {
	var parts []string
	add := func(set bool, name string) {
		if set {
			parts = append(parts, name)
		}
	}
	add(m.Text != nil, "text")
	add(m.Template != nil, "template")
	add(m.Interactive != nil, "interactive")
	add(m.Image != nil, "image")
	add(m.Video != nil, "video")
	add(m.Audio != nil, "audio")
	add(m.Document != nil, "document")
	add(m.Sticker != nil, "sticker")
	add(m.Location != nil, "location")
	add(len(m.Contacts) > 0, "contacts")
	add(m.Reaction != nil, "reaction")
	return parts
}

func (m *OutboundMessage) validateParts() error {
	if m.Type == "" {
		return invalid("type", "missing_type", "type is required: one of %s", strings.Join(messageTypes, ", "))
	}
	known := false
	for _, t := range messageTypes {
		known = known || t == m.Type
	}
	if !known {
		return invalid("type", "unknown_type", "type %q is not one of %s", m.Type, strings.Join(messageTypes, ", "))
	}
	found := false
	for _, p := range m.setParts() {
		if p != m.Type {
			return invalid(p, "extra_part", "%s is set but type is %s: set only the %s part", p, m.Type, m.Type)
		}
		found = true
	}
	if !found {
		if m.Type == "contacts" {
			return invalid("contacts", "missing_part", "type is contacts but no contact is given: at least one is needed")
		}
		return invalid(m.Type, "missing_part", "type is %s but %s is not set", m.Type, m.Type)
	}
	return nil
}

// media returns the MediaObject named by m.Type.
func (m *OutboundMessage) media() *MediaObject {
	switch m.Type {
	case "image":
		return m.Image
	case "video":
		return m.Video
	case "audio":
		return m.Audio
	case "document":
		return m.Document
	case "sticker":
		return m.Sticker
	}
	return nil
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func validateText(t *Text) error {
	if strings.TrimSpace(t.Body) == "" {
		return invalid("text.body", "empty_text", "text.body is required (1 to %d characters)", maxTextBody)
	}
	if n := runes(t.Body); n > maxTextBody {
		return invalid("text.body", "text_too_long", "text.body is %d characters; the limit is %d", n, maxTextBody)
	}
	return nil
}

// validateMedia checks a media object of the given kind (image, video,
// audio, document, sticker) found at field.
func validateMedia(field, kind string, mo *MediaObject) error {
	if mo == nil {
		return invalid(field, "missing_media", "%s needs an id or a link", field)
	}
	id, link := strings.TrimSpace(mo.ID), strings.TrimSpace(mo.Link)
	switch {
	case id == "" && link == "":
		return invalid(field, "missing_media", "%s needs an uploaded media id or a link", field)
	case id != "" && link != "":
		return invalid(field, "ambiguous_media", "%s has both an id and a link: give exactly one", field)
	case link != "" && !isHTTPURL(link):
		return invalid(field+".link", "invalid_link", "%s.link must be a public http(s) URL", field)
	}
	if mo.Caption != "" {
		if kind == "audio" || kind == "sticker" {
			return invalid(field+".caption", "caption_not_allowed", "a%s %s cannot have a caption", article(kind), kind)
		}
		if n := runes(mo.Caption); n > maxCaption {
			return invalid(field+".caption", "caption_too_long", "%s.caption is %d characters; the limit is %d", field, n, maxCaption)
		}
	}
	if mo.Filename != "" && kind != "document" {
		return invalid(field+".filename", "filename_not_allowed", "only a document has a filename")
	}
	if mo.Voice && kind != "audio" {
		return invalid(field+".voice", "voice_not_allowed", "only audio can be sent as a voice note")
	}
	return nil
}

func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "n"
	}
	return ""
}

// isHTTPURL reports whether s is an absolute http or https URL with a host:
// Meta fetches links itself, so other schemes can never work.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "https" || scheme == "http"
}

func validateLocation(field string, l *LocationBody) error {
	if math.IsNaN(l.Latitude) || l.Latitude < -90 || l.Latitude > 90 {
		return invalid(field+".latitude", "invalid_latitude", "latitude must be between -90 and 90")
	}
	if math.IsNaN(l.Longitude) || l.Longitude < -180 || l.Longitude > 180 {
		return invalid(field+".longitude", "invalid_longitude", "longitude must be between -180 and 180")
	}
	return nil
}

func validateInteractive(in *Interactive) error {
	if in.Type == "" {
		return invalid("interactive.type", "missing_interactive_type", "interactive.type is required (button, list, cta_url, …)")
	}
	if in.Footer != nil {
		if n := runes(in.Footer.Text); n > maxFooter {
			return invalid("interactive.footer.text", "footer_too_long", "interactive.footer.text is %d characters; the limit is %d", n, maxFooter)
		}
	}
	switch in.Type {
	case interactiveButton:
		if err := validateBody(in, maxInteractiveBody, true); err != nil {
			return err
		}
		if err := validateHeader(in.Header, false); err != nil {
			return err
		}
		return validateButtons(in.Action.Buttons)
	case interactiveList:
		if err := validateBody(in, maxListBody, true); err != nil {
			return err
		}
		if err := validateHeader(in.Header, true); err != nil {
			return err
		}
		return validateList(&in.Action)
	case interactiveCTAURL:
		if err := validateBody(in, maxInteractiveBody, true); err != nil {
			return err
		}
		if err := validateHeader(in.Header, false); err != nil {
			return err
		}
		return validateCTAURL(&in.Action)
	}
	// Other interactive types (flow, product, catalog_message, …) have
	// their own rules that Meta enforces; only the common body limit here.
	return validateBody(in, maxInteractiveBody, false)
}

func validateBody(in *Interactive, limit int, required bool) error {
	body := ""
	if in.Body != nil {
		body = in.Body.Text
	}
	if required && strings.TrimSpace(body) == "" {
		return invalid("interactive.body.text", "missing_body", "interactive.body.text is required for %s messages (1 to %d characters)", in.Type, limit)
	}
	if n := runes(body); n > limit {
		return invalid("interactive.body.text", "body_too_long", "interactive.body.text is %d characters; the limit is %d", n, limit)
	}
	return nil
}

func validateHeader(h *InteractiveHeader, textOnly bool) error {
	if h == nil {
		return nil
	}
	switch h.Type {
	case headerText:
		if strings.TrimSpace(h.Text) == "" {
			return invalid("interactive.header.text", "missing_header_text", "a text header needs its text (1 to %d characters)", maxHeaderText)
		}
		if n := runes(h.Text); n > maxHeaderText {
			return invalid("interactive.header.text", "header_text_too_long", "interactive.header.text is %d characters; the limit is %d", n, maxHeaderText)
		}
		return nil
	case "image", "video", "document":
		if textOnly {
			return invalid("interactive.header.type", "invalid_header", "a list message can only have a text header")
		}
		mo := h.Image
		switch h.Type {
		case "video":
			mo = h.Video
		case "document":
			mo = h.Document
		}
		return validateMedia("interactive.header."+h.Type, h.Type, mo)
	}
	if textOnly {
		return invalid("interactive.header.type", "invalid_header", "a list message can only have a text header")
	}
	return invalid("interactive.header.type", "invalid_header", "interactive.header.type must be text, image, video or document, not %q", h.Type)
}

func validateButtons(buttons []ReplyButton) error {
	if len(buttons) == 0 {
		return invalid("interactive.action.buttons", "missing_buttons", "a button message needs 1 to %d reply buttons", maxReplyButtons)
	}
	if len(buttons) > maxReplyButtons {
		return invalid("interactive.action.buttons", "too_many_buttons", "%d reply buttons given; the limit is %d", len(buttons), maxReplyButtons)
	}
	titles := make(map[string]bool, len(buttons))
	ids := make(map[string]bool, len(buttons))
	for i, b := range buttons {
		f := fmt.Sprintf("interactive.action.buttons[%d]", i)
		if b.Type != replyButtonType {
			return invalid(f+".type", "invalid_button_type", "a reply button's type must be %q", replyButtonType)
		}
		switch n := runes(b.Reply.ID); {
		case strings.TrimSpace(b.Reply.ID) == "":
			return invalid(f+".reply.id", "missing_button_id", "every reply button needs an id (1 to %d characters)", maxButtonID)
		case n > maxButtonID:
			return invalid(f+".reply.id", "button_id_too_long", "the button id is %d characters; the limit is %d", n, maxButtonID)
		}
		switch n := runes(b.Reply.Title); {
		case strings.TrimSpace(b.Reply.Title) == "":
			return invalid(f+".reply.title", "missing_button_title", "every reply button needs a title (1 to %d characters)", maxButtonTitle)
		case n > maxButtonTitle:
			return invalid(f+".reply.title", "button_title_too_long", "the button title %q is %d characters; the limit is %d", b.Reply.Title, n, maxButtonTitle)
		}
		if titles[b.Reply.Title] {
			return invalid(f+".reply.title", "duplicate_button_title", "button titles must be unique; %q appears twice", b.Reply.Title)
		}
		if ids[b.Reply.ID] {
			return invalid(f+".reply.id", "duplicate_button_id", "button ids must be unique; %q appears twice", b.Reply.ID)
		}
		titles[b.Reply.Title], ids[b.Reply.ID] = true, true
	}
	return nil
}

func validateList(a *InteractiveAction) error {
	switch n := runes(a.Button); {
	case strings.TrimSpace(a.Button) == "":
		return invalid("interactive.action.button", "missing_list_button", "a list needs the text of its button (1 to %d characters)", maxListButton)
	case n > maxListButton:
		return invalid("interactive.action.button", "list_button_too_long", "the list button text is %d characters; the limit is %d", n, maxListButton)
	}
	if len(a.Sections) == 0 {
		return invalid("interactive.action.sections", "missing_sections", "a list needs 1 to %d sections", maxListSections)
	}
	if len(a.Sections) > maxListSections {
		return invalid("interactive.action.sections", "too_many_sections", "%d sections given; the limit is %d", len(a.Sections), maxListSections)
	}
	rows := 0
	ids := make(map[string]bool)
	for i, s := range a.Sections {
		f := fmt.Sprintf("interactive.action.sections[%d]", i)
		if n := runes(s.Title); n > maxSectionTitle {
			return invalid(f+".title", "section_title_too_long", "the section title is %d characters; the limit is %d", n, maxSectionTitle)
		}
		if len(a.Sections) > 1 && strings.TrimSpace(s.Title) == "" {
			return invalid(f+".title", "missing_section_title", "with more than one section every section needs a title")
		}
		if len(s.Rows) == 0 {
			return invalid(f+".rows", "missing_rows", "every section needs at least one row")
		}
		rows += len(s.Rows)
		if rows > maxListRows {
			return invalid(f+".rows", "too_many_rows", "a list can have at most %d rows across all sections", maxListRows)
		}
		for j, r := range s.Rows {
			rf := fmt.Sprintf("%s.rows[%d]", f, j)
			switch n := runes(r.ID); {
			case strings.TrimSpace(r.ID) == "":
				return invalid(rf+".id", "missing_row_id", "every row needs an id (1 to %d characters)", maxRowID)
			case n > maxRowID:
				return invalid(rf+".id", "row_id_too_long", "the row id is %d characters; the limit is %d", n, maxRowID)
			}
			if ids[r.ID] {
				return invalid(rf+".id", "duplicate_row_id", "row ids must be unique; %q appears twice", r.ID)
			}
			ids[r.ID] = true
			switch n := runes(r.Title); {
			case strings.TrimSpace(r.Title) == "":
				return invalid(rf+".title", "missing_row_title", "every row needs a title (1 to %d characters)", maxRowTitle)
			case n > maxRowTitle:
				return invalid(rf+".title", "row_title_too_long", "the row title %q is %d characters; the limit is %d", r.Title, n, maxRowTitle)
			}
			if n := runes(r.Description); n > maxRowDescription {
				return invalid(rf+".description", "row_description_too_long", "the row description is %d characters; the limit is %d", n, maxRowDescription)
			}
		}
	}
	return nil
}

func validateCTAURL(a *InteractiveAction) error {
	if a.Name != ctaURLActionName {
		return invalid("interactive.action.name", "invalid_action", "a cta_url message needs action.name %q", ctaURLActionName)
	}
	var p CTAURLParameters
	if len(a.Parameters) == 0 || json.Unmarshal(a.Parameters, &p) != nil {
		return invalid("interactive.action.parameters", "missing_parameters", "a cta_url message needs action.parameters with display_text and url")
	}
	switch n := runes(p.DisplayText); {
	case strings.TrimSpace(p.DisplayText) == "":
		return invalid("interactive.action.parameters.display_text", "missing_display_text", "the button needs display_text (1 to %d characters)", maxCTADisplayText)
	case n > maxCTADisplayText:
		return invalid("interactive.action.parameters.display_text", "display_text_too_long", "display_text is %d characters; the limit is %d", n, maxCTADisplayText)
	}
	if !isHTTPURL(strings.TrimSpace(p.URL)) {
		return invalid("interactive.action.parameters.url", "invalid_url", "url must be an http(s) URL")
	}
	return nil
}

func validateTemplate(t *Template) error {
	if !validTemplateName(t.Name) {
		return invalid("template.name", "invalid_template_name", "template.name must be 1 to %d characters of a-z, 0-9 and _", maxTemplateName)
	}
	if strings.TrimSpace(t.Language.Code) == "" {
		return invalid("template.language.code", "missing_language", "template.language.code is required, exactly as approved (e.g. en_US)")
	}
	for i, c := range t.Components {
		f := fmt.Sprintf("template.components[%d]", i)
		switch strings.ToLower(c.Type) {
		case "header", "body":
		case templateButtonComp:
			if strings.TrimSpace(c.SubType) == "" {
				return invalid(f+".sub_type", "missing_button_sub_type", "a button component needs its sub_type (quick_reply, url, copy_code, flow, …)")
			}
			if !isSmallIndex(c.Index) {
				return invalid(f+".index", "invalid_button_index", "a button component needs index, the button's position as a numeric string (\"0\", \"1\", …)")
			}
		default:
			return invalid(f+".type", "invalid_component_type", "a component's type must be header, body or button, not %q", c.Type)
		}
		for j, p := range c.Parameters {
			pf := fmt.Sprintf("%s.parameters[%d]", f, j)
			if strings.TrimSpace(p.Type) == "" {
				return invalid(pf+".type", "missing_parameter_type", "every parameter needs a type (text, image, payload, …)")
			}
			var err error
			switch p.Type {
			case "image":
				err = validateMedia(pf+".image", "image", p.Image)
			case "video":
				err = validateMedia(pf+".video", "video", p.Video)
			case "document":
				err = validateMedia(pf+".document", "document", p.Document)
			case "location":
				if p.Location == nil {
					err = invalid(pf+".location", "missing_location", "a location parameter needs its location")
				} else {
					err = validateLocation(pf+".location", p.Location)
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func validTemplateName(name string) bool {
	if name == "" || len(name) > maxTemplateName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isSmallIndex(s string) bool {
	if s == "" || len(s) > maxTemplateIndexLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizeRecipient turns a user-typed recipient into what Meta expects in
// "to". Phone numbers become "+" and 8 to 15 digits (E.164): spaces, dashes,
// dots and parentheses are dropped, and a leading "00" is read as the
// international prefix. The "+" matters: without it Meta prefixes the
// business number's own country code and the message may reach a stranger.
// A number that starts with 0 after that (a national format) is refused for
// the same reason. Business-scoped user ids (BSUIDs, e.g.
// "US.13491208655302741918": letters, a dot, digits) are returned unchanged.
// Errors are *ValidationError with Field "to".
func NormalizeRecipient(to string) (string, error) {
	s := strings.TrimSpace(to)
	if s == "" {
		return "", invalid("to", "missing_recipient", "to is required: a phone number with its country code, or a BSUID")
	}
	if isBSUID(s) {
		return s, nil
	}
	digits := make([]byte, 0, 16)
	plus := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+':
			if plus || len(digits) > 0 {
				return "", invalid("to", "invalid_recipient", "%q is not a phone number: + may only lead it", to)
			}
			plus = true
		case r == '-' || r == '.' || r == '(' || r == ')' || unicode.IsSpace(r):
		default:
			return "", invalid("to", "invalid_recipient", "%q is not a phone number (international format, e.g. +16505551234) or a BSUID", to)
		}
	}
	if !plus && len(digits) > 2 && digits[0] == '0' && digits[1] == '0' {
		digits = digits[2:]
	}
	if len(digits) > 0 && digits[0] == '0' {
		return "", invalid("to", "invalid_recipient", "%q lacks a country code: write it in international format, e.g. +16505551234", to)
	}
	if len(digits) < minPhoneDigits || len(digits) > maxPhoneDigits {
		return "", invalid("to", "invalid_recipient", "%q has %d digits; a phone number with its country code has %d to %d", to, len(digits), minPhoneDigits, maxPhoneDigits)
	}
	return "+" + string(digits), nil
}

// isBSUID reports whether s looks like a business-scoped user id: one or
// more dot-separated groups of ASCII letters (a country code, sometimes
// "ENT"), then a dot and digits.
func isBSUID(s string) bool {
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return false
	}
	for i := dot + 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	prefix := s[:dot]
	letters := 0
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			letters++
		case c == '.':
			if letters == 0 {
				return false
			}
			letters = 0
		default:
			return false
		}
	}
	return letters > 0 && len(prefix) >= 2
}
