package store

import (
	"encoding/json"
	"time"
)

// Contact is a customer.
type Contact struct {
	ID            int64     `json:"id"`
	WaID          string    `json:"wa_id"`
	UserID        string    `json:"user_id,omitempty"`
	ParentUserID  string    `json:"parent_user_id,omitempty"`
	Name          string    `json:"name"`
	Username      string    `json:"username,omitempty"`
	LastInboundAt time.Time `json:"last_inbound_at,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	Email         string            `json:"email,omitempty"`
	Notes         string            `json:"notes,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Consent       string            `json:"consent"` // unknown, opted_in, opted_out (marketing)
	ConsentAt     time.Time         `json:"consent_at,omitzero"`
	ConsentSource string            `json:"consent_source,omitempty"`
	// MarketingHoldUntil is set after Meta's 131049 (its per-user marketing
	// limit): no marketing template goes to the contact before it.
	MarketingHoldUntil time.Time `json:"marketing_hold_until,omitzero"`
	Tags               []string  `json:"tags,omitempty"`
}

// Recipient is how the contact is addressed in a send: "+" and the number,
// or the business-scoped user id of a customer known only by username.
func (c *Contact) Recipient() string {
	if c.WaID != "" {
		return "+" + c.WaID
	}
	return c.UserID
}

// Marketing consent states of a contact.
const (
	ConsentUnknown  = "unknown"
	ConsentOptedIn  = "opted_in"
	ConsentOptedOut = "opted_out"
)

// Conversation is a thread with one contact on one business number.
type Conversation struct {
	ID            int64     `json:"id"`
	ContactID     int64     `json:"contact_id"`
	PhoneNumberID string    `json:"phone_number_id"`
	Status        string    `json:"status"`
	LastMessageAt time.Time `json:"last_message_at"`
	LastInboundAt time.Time `json:"last_inbound_at,omitzero"`
	Preview       string    `json:"preview"`
	Unread        int       `json:"unread"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	Contact       *Contact  `json:"contact,omitempty"`

	AssigneeID   int64     `json:"assignee_id,omitempty"`
	AssigneeName string    `json:"assignee_name,omitempty"`
	TeamID       int64     `json:"team_id,omitempty"`
	TeamName     string    `json:"team_name,omitempty"`
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
	Labels       []Label   `json:"labels,omitempty"`

	// Bot is the assistant here: on, off (switched off) or paused (a person took over).
	Bot         string    `json:"bot"`
	Urgent      bool      `json:"urgent"`
	Escalation  string    `json:"escalation,omitempty"` // the policy category that handed it to a person
	EscalatedAt time.Time `json:"escalated_at,omitzero"`

	// Language is the language to write to the customer in, and
	// LanguageSource where it comes from (language.Resolve): agent,
	// detected, number or default.
	Language       string `json:"language"`
	LanguageSource string `json:"language_source"`
	// LanguageDetected is what the customer's messages showed ("" nothing
	// yet); LanguageChosen an agent's choice ("" none), which wins.
	LanguageDetected string `json:"language_detected,omitempty"`
	LanguageChosen   string `json:"language_chosen,omitempty"`

	// Routing is who answers the customer now and why (inbox.Router); nil
	// before the first customer message was routed.
	Routing *Routing `json:"routing,omitempty"`
}

// Routing is the router's decision for a conversation: who answers the
// customer's messages (RouteFlow, RouteAssistant, RoutePerson or
// RouteSystem), why as a stable code (docs/api.md lists them), the detail
// (a policy category, what a flow matched), and since when.
type Routing struct {
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// Who may answer a customer message.
const (
	RouteFlow      = "flow"
	RouteAssistant = "assistant"
	RoutePerson    = "person"
	RouteSystem    = "system" // sendbox itself: an opt-out or re-subscription confirmed
)

// Label tags conversations; Color indexes the panel's palette.
type Label struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Color int    `json:"color"`
}

// Message is one inbound or outbound message with its typed columns.
type Message struct {
	ID             int64           `json:"id"`
	WAMID          string          `json:"wamid,omitempty"`
	Direction      string          `json:"direction"`
	ConversationID int64           `json:"conversation_id"`
	ContactID      int64           `json:"contact_id"`
	PhoneNumberID  string          `json:"phone_number_id"`
	Type           string          `json:"type"`
	Text           string          `json:"text"`
	Media          *Media          `json:"media,omitempty"`
	Latitude       *float64        `json:"latitude,omitempty"`
	Longitude      *float64        `json:"longitude,omitempty"`
	ReplyID        string          `json:"reply_id,omitempty"`
	ContextWAMID   string          `json:"context_wamid,omitempty"`
	RelatedWAMID   string          `json:"related_wamid,omitempty"`
	EditedAt       time.Time       `json:"edited_at,omitzero"`
	RevokedAt      time.Time       `json:"revoked_at,omitzero"`
	Status         string          `json:"status"`
	StatusAt       time.Time       `json:"status_at,omitzero"`
	Error          *MessageError   `json:"error,omitempty"`
	Timestamp      time.Time       `json:"timestamp"`
	CreatedAt      time.Time       `json:"created_at"`
	IdempotencyKey string          `json:"-"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	Attempts       int             `json:"attempts,omitempty"`
	Raw            json.RawMessage `json:"raw,omitempty"`
	AuthorID       int64           `json:"author_id,omitempty"` // the agent who sent it from the panel
	Lane           string          `json:"lane,omitempty"`      // outbound: the sending lane (events.Lane*)
	Origin         string          `json:"origin,omitempty"`    // outbound: "" from sendbox, OriginBusinessApp
}

// Media is a message's attachment and where it is kept.
type Media struct {
	ID       string `json:"id,omitempty"` // Meta's media id
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Filename string `json:"filename,omitempty"`
	Path     string `json:"-"` // relative to the data folder
	Size     int64  `json:"size,omitempty"`
	State    string `json:"state,omitempty"` // pending, stored, failed
	Error    string `json:"error,omitempty"`
}

// MessageError is why a message failed.
type MessageError struct {
	Code   int    `json:"code"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Message directions and local states (Meta's statuses are added to them).
const (
	Inbound  = "inbound"
	Outbound = "outbound"

	StateReceived = "received" // inbound
	StateQueued   = "queued"   // outbound, waiting for the sender
	StateAccepted = "accepted" // Meta answered 200 with a wamid
	StateFailed   = "failed"
)

// APIKey is a stored API key (never the key itself).
type APIKey struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// WebhookEvent is a recorded non-message webhook change.
type WebhookEvent struct {
	ID            int64           `json:"id"`
	Field         string          `json:"field"`
	Type          string          `json:"type,omitempty"`
	WABAID        string          `json:"waba_id,omitempty"`
	PhoneNumberID string          `json:"phone_number_id,omitempty"`
	EventTime     time.Time       `json:"event_time,omitzero"`
	Value         json.RawMessage `json:"value"`
	ReceivedAt    time.Time       `json:"received_at"`
}
