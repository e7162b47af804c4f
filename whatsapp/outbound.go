package whatsapp

import "encoding/json"

// OutboundMessage is one send request in Meta's own shape, so what the REST
// API accepts, what is queued and what is posted to Graph are the same JSON
// (the client adds "messaging_product": "whatsapp"). Exactly one of the typed
// parts, the one named by Type, must be set.
type OutboundMessage struct {
	To            string `json:"to"`
	RecipientType string `json:"recipient_type,omitempty"` // "individual" (default) or "group"
	Type          string `json:"type"`

	Text        *Text         `json:"text,omitempty"`
	Template    *Template     `json:"template,omitempty"`
	Interactive *Interactive  `json:"interactive,omitempty"`
	Image       *MediaObject  `json:"image,omitempty"`
	Video       *MediaObject  `json:"video,omitempty"`
	Audio       *MediaObject  `json:"audio,omitempty"`
	Document    *MediaObject  `json:"document,omitempty"`
	Sticker     *MediaObject  `json:"sticker,omitempty"`
	Location    *LocationBody `json:"location,omitempty"`
	Contacts    []ContactCard `json:"contacts,omitempty"`
	Reaction    *ReactionBody `json:"reaction,omitempty"`
	Context     *ReplyTo      `json:"context,omitempty"`
	BizOpaque   string        `json:"biz_opaque_callback_data,omitempty"`
}

// Text is a free-form text body (≤ 4096 characters).
type Text struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

// MediaObject refers to media by uploaded id or by public https link.
type MediaObject struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`  // image, video, document (≤ 1024)
	Filename string `json:"filename,omitempty"` // document
	Voice    bool   `json:"voice,omitempty"`    // audio: send as a voice note
}

// LocationBody is a location pin.
type LocationBody struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// ContactCard is a vCard-like contact; Name.FormattedName is required. Other
// fields pass through as Meta defines them.
type ContactCard struct {
	Name      ContactName       `json:"name"`
	Phones    []json.RawMessage `json:"phones,omitempty"`
	Emails    []json.RawMessage `json:"emails,omitempty"`
	Addresses []json.RawMessage `json:"addresses,omitempty"`
	Org       json.RawMessage   `json:"org,omitempty"`
	URLs      []json.RawMessage `json:"urls,omitempty"`
	Birthday  string            `json:"birthday,omitempty"`
}

// ContactName is the name part of a ContactCard.
type ContactName struct {
	FormattedName string `json:"formatted_name"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	MiddleName    string `json:"middle_name,omitempty"`
	Suffix        string `json:"suffix,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
}

// ReactionBody reacts to a message; Emoji "" removes the reaction.
type ReactionBody struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// ReplyTo makes a send a quoted reply to an earlier message.
type ReplyTo struct {
	MessageID string `json:"message_id"`
}

// Template is an approved message template with its parameters.
type Template struct {
	Name       string              `json:"name"`
	Language   TemplateLanguage    `json:"language"`
	Components []TemplateComponent `json:"components,omitempty"`
}

// TemplateLanguage is the exact approved translation, e.g. "en_US".
type TemplateLanguage struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

// TemplateComponent fills one part of a template: header, body or a button.
type TemplateComponent struct {
	Type       string              `json:"type"`               // header, body, button
	SubType    string              `json:"sub_type,omitempty"` // quick_reply, url, copy_code, flow, …
	Index      string              `json:"index,omitempty"`    // button position, as a string
	Parameters []TemplateParameter `json:"parameters,omitempty"`
}

// TemplateParameter is one value for a template variable.
type TemplateParameter struct {
	Type          string          `json:"type"` // text, image, video, document, location, payload, currency, date_time, coupon_code, action
	ParameterName string          `json:"parameter_name,omitempty"`
	Text          string          `json:"text,omitempty"`
	Payload       string          `json:"payload,omitempty"`
	CouponCode    string          `json:"coupon_code,omitempty"`
	Image         *MediaObject    `json:"image,omitempty"`
	Video         *MediaObject    `json:"video,omitempty"`
	Document      *MediaObject    `json:"document,omitempty"`
	Location      *LocationBody   `json:"location,omitempty"`
	Currency      json.RawMessage `json:"currency,omitempty"`
	DateTime      json.RawMessage `json:"date_time,omitempty"`
	Action        json.RawMessage `json:"action,omitempty"`
}

// Interactive is a message with reply buttons, a list, or a call-to-action URL
// button (other interactive types pass through unchecked but for the body).
type Interactive struct {
	Type   string             `json:"type"` // button, list, cta_url, flow, …
	Header *InteractiveHeader `json:"header,omitempty"`
	Body   *InteractiveText   `json:"body,omitempty"`
	Footer *InteractiveText   `json:"footer,omitempty"`
	Action InteractiveAction  `json:"action"`
}

// InteractiveHeader is a text or media header.
type InteractiveHeader struct {
	Type     string       `json:"type"` // text, image, video, document
	Text     string       `json:"text,omitempty"`
	Image    *MediaObject `json:"image,omitempty"`
	Video    *MediaObject `json:"video,omitempty"`
	Document *MediaObject `json:"document,omitempty"`
}

// InteractiveText is a body or footer text.
type InteractiveText struct {
	Text string `json:"text"`
}

// InteractiveAction holds buttons (type button), the list button and its
// sections (type list), or the name and parameters of cta_url and flows.
type InteractiveAction struct {
	Buttons    []ReplyButton   `json:"buttons,omitempty"`
	Button     string          `json:"button,omitempty"`
	Sections   []ListSection   `json:"sections,omitempty"`
	Name       string          `json:"name,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// ReplyButton is one of at most three reply buttons.
type ReplyButton struct {
	Type  string     `json:"type"` // "reply"
	Reply ReplyTitle `json:"reply"`
}

// ReplyTitle is a reply button's id (≤ 256) and title (≤ 20).
type ReplyTitle struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListSection is one section of a list message.
type ListSection struct {
	Title string    `json:"title,omitempty"`
	Rows  []ListRow `json:"rows"`
}

// ListRow is one selectable row (≤ 10 rows across all sections).
type ListRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// CTAURLParameters are the parameters of a cta_url action.
type CTAURLParameters struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

// SendResult is Graph's answer to an accepted send.
type SendResult struct {
	WAMID         string // messages[0].id
	WaID          string // contacts[0].wa_id: may differ from the number sent to
	UserID        string // contacts[0].user_id (BSUID), when Meta returns it
	MessageStatus string // messages[0].message_status for paced templates ("accepted", "held_for_quality_assessment", "paused")
}
