package whatsapp

import (
	"encoding/json"
	"time"
)

// Webhook is one parsed webhook POST, flattened: every entry × change ×
// messages/statuses/errors/other field, in the order they appeared.
type Webhook struct {
	// Messages are the inbound customer messages (field "messages", value.messages[]).
	Messages []InboundMessage
	// Statuses are the status updates of messages the business sent (value.statuses[]).
	Statuses []Status
	// Echoes are the messages the business sent from the WhatsApp Business
	// app (field "smb_message_echoes", value.message_echoes[]).
	Echoes []Echo
	// Events are everything else: non-"messages" fields (template status,
	// account_update, user_preferences, smb_message_echoes, calls, …), the
	// system-level value.errors[] of a "messages" change, and a "messages"
	// change with none of messages, statuses or errors. Nothing is dropped.
	Events []Event
}

// Echo is a message the business sent from the WhatsApp Business app on a
// number shared with the Cloud API. It is a messages[] item, decoded the
// same way (Type, Text, Media, Edit, Revoke…), sent to a customer.
type Echo struct {
	InboundMessage
	To, ToUserID, ToParentUserID string // as on the wire
	// The customer it was sent to: a number's digits and/or a BSUID; both
	// empty when the echo names neither.
	CustomerWaID, CustomerUserID string
}

// Metadata identifies the business number a change is about (value.metadata)
// and the WhatsApp Business Account of its entry.
type Metadata struct {
	WABAID             string // entry[].id
	PhoneNumberID      string // value.metadata.phone_number_id: route by this
	DisplayPhoneNumber string // value.metadata.display_phone_number
}

// Profile is what the webhook tells about a customer (value.contacts[]).
// WaID may be empty for users who hide their number behind a username;
// then UserID (the business-scoped user id, BSUID) identifies them.
type Profile struct {
	WaID         string
	UserID       string
	ParentUserID string
	Name         string
	Username     string
	CountryCode  string
}

// InboundMessage is one value.messages[] item with its typed parts decoded.
// Only the part matching Type is set (Edit carries a nested message).
type InboundMessage struct {
	Metadata
	ID               string    // wamid: the dedup key
	From             string    // wa_id of the sender; may be ""
	FromUserID       string    // BSUID of the sender; may be ""
	FromParentUserID string    // parent BSUID; may be ""
	Timestamp        time.Time // messages[].timestamp (unix seconds, a string on the wire)
	Type             string    // text, image, …, or any type Meta adds later
	Profile          Profile   // the matching value.contacts[] entry (zero if none)

	// GroupID is the group the message was posted in (Groups API), else "".
	GroupID string

	// Text is the human-readable text of the message whatever its type: the
	// text body, a media caption, a reply button or list row title, a Flow
	// reply's body, a template button's text, a location's name (else its
	// address), the shared contacts' names joined by ", ", a reaction's
	// emoji, an order's text, a system body, an edit's new text or caption.
	// Empty if none (stickers, revokes, request_welcome, unsupported and
	// unknown types).
	Text string

	Media       *Media
	Location    *Location
	Contacts    []SharedContact
	Interactive *InteractiveReply
	Button      *ButtonReply
	Reaction    *Reaction
	Order       *Order
	System      *System
	Edit        *Edit
	Revoke      *Revoke
	// UnsupportedType is unsupported.type when Meta says what it was (e.g. "poll").
	UnsupportedType string

	Context  *Context
	Referral *Referral
	Errors   []Error

	// Raw is the exact JSON of this messages[] item, kept so that an unknown
	// or partly understood type is never lost.
	Raw json.RawMessage
}

// Media is an image, video, audio, document or sticker received from a customer.
type Media struct {
	ID       string // media id: resolve it with Client.MediaInfo, then download
	MimeType string
	SHA256   string // as sent by Meta (base64 in webhooks, hex from the media endpoint)
	Caption  string
	Filename string // documents
	URL      string // newer payloads include a download URL directly
	Voice    bool   // audio: a push-to-talk voice note
	Animated bool   // sticker
}

// Location is a shared location; coordinates are numbers on the wire.
type Location struct {
	Latitude  float64
	Longitude float64
	Name      string
	Address   string
	URL       string
}

// SharedContact is one vCard-like contact the customer shared. Raw keeps
// every field; the rest is what the inbox shows.
type SharedContact struct {
	FormattedName string
	Phones        []string
	Emails        []string
	Raw           json.RawMessage
}

// InteractiveReply is a tap on reply buttons or a list row, a WhatsApp Flow
// completion, or a call permission reply.
type InteractiveReply struct {
	Type        string // button_reply, list_reply, nfm_reply, call_permission_reply, …
	ID          string // button / row id
	Title       string
	Description string // list rows
	FlowName    string // nfm_reply.name
	FlowBody    string // nfm_reply.body
	// FlowResponse is nfm_reply.response_json decoded from its JSON string.
	FlowResponse json.RawMessage
	FlowToken    string // response_json.flow_token, if present
	Response     string // call_permission_reply.response ("accept", "reject")
	// ResponseSource is call_permission_reply.response_source (e.g. "user_action").
	ResponseSource string
	// ExpiresAt is call_permission_reply.expiration_timestamp: until when an
	// accepted permission lets the business call.
	ExpiresAt time.Time
}

// ButtonReply is a tap on a template quick-reply button (type "button").
type ButtonReply struct {
	Payload string
	Text    string
}

// Reaction is an emoji reaction; Emoji is "" when the customer removed it.
type Reaction struct {
	MessageID string
	Emoji     string
}

// Order is a cart sent from a catalog.
type Order struct {
	CatalogID string
	Text      string
	Items     []OrderItem
}

// OrderItem is one line of an Order.
type OrderItem struct {
	ProductRetailerID string
	Quantity          int
	ItemPrice         float64
	Currency          string
}

// System is a system notice: user_changed_number (NewWaID set) or
// customer_identity_changed.
type System struct {
	Type    string
	Body    string
	NewWaID string
}

// Edit is a customer's edit of an earlier message; Message is the new
// content, parsed like any message (its ID, From and Timestamp are those of
// the edit event).
type Edit struct {
	OriginalID string
	Message    *InboundMessage
}

// Revoke is a customer's deletion of an earlier message.
type Revoke struct {
	OriginalID string
}

// Context is what a message replies to or how it was forwarded.
type Context struct {
	From                string
	ID                  string // the wamid replied to
	Forwarded           bool
	FrequentlyForwarded bool
	// ReferredProduct is set when the customer wrote from a product.
	ReferredCatalogID         string
	ReferredProductRetailerID string
}

// Referral is the Click-to-WhatsApp ad or post the customer came from.
type Referral struct {
	SourceURL    string
	SourceID     string
	SourceType   string
	Headline     string
	Body         string
	MediaType    string
	ImageURL     string
	VideoURL     string
	ThumbnailURL string
	CtwaClid     string
	Raw          json.RawMessage
}

// Error is an asynchronous error as webhooks carry it (statuses[].errors[],
// messages[].errors[], value.errors[]).
type Error struct {
	Code    int
	Title   string
	Message string
	Details string // error_data.details
	Href    string
}

// Status is one value.statuses[] item: the fate of a message the business sent.
type Status struct {
	Metadata
	ID              string // wamid of the message the status is about
	Status          string // sent, delivered, read, played, failed (or a future value)
	Timestamp       time.Time
	RecipientID     string // wa_id; may be "" for BSUID-only users
	RecipientUserID string
	RecipientType   string // "group" for the Groups API, else ""
	// RecipientParticipantID is the group member a group status is about.
	RecipientParticipantID string
	BizOpaque              string // biz_opaque_callback_data echoed back
	// Profile is the matching value.contacts[] entry, which newer status
	// webhooks carry: it links a BSUID to a phone number. Zero if none.
	Profile Profile
	// PricingCategory, PricingType and PricingModel are pricing.category,
	// pricing.type and pricing.pricing_model ("PMP"; "CBP" before 2025-07).
	// Derive billing from type and category: billable is being deprecated.
	PricingCategory string
	PricingType     string
	PricingModel    string
	Billable        *bool
	// ConversationID, ConversationOrigin and ConversationExpiresAt come from
	// the conversation object, which v24.0+ webhooks mostly omit.
	ConversationID        string
	ConversationOrigin    string
	ConversationExpiresAt time.Time
	Errors                []Error // only on failed
	Raw                   json.RawMessage
}

// Event is any webhook content that is not an inbound message or a status:
// a whole change of another field, or one value.errors[] item of a
// "messages" change (Field "messages.errors").
type Event struct {
	Metadata
	Field string // the change's field, e.g. "message_template_status_update"
	// Type is value.event when it is a string (e.g. "APPROVED"), else
	// value.decision (account_review_update, phone_number_name_update), else "".
	Type string
	Time time.Time // entry[].time when present, else zero
	// Value is the change's whole value, or the error item for
	// "messages.errors", exactly as received.
	Value json.RawMessage
	// Error is the decoded error of a "messages.errors" event, else nil.
	Error *Error
	// UserPreferences holds the decoded items of a user_preferences change.
	UserPreferences []UserPreference
}

// UserPreference is one value.user_preferences[] item (marketing opt-out/in).
type UserPreference struct {
	WaID      string
	UserID    string
	Category  string // e.g. "marketing_messages"
	Value     string // "stop", "resume", "signup", …
	Detail    string
	Timestamp time.Time
}

// Status ranks: a message's state only moves forward, and failed is terminal.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
)
