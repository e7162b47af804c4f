package sim

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"sendbox/whatsapp"
)

// Message directions on the phone view.
const (
	DirectionIn  = "in"  // customer → business (SendInbound)
	DirectionOut = "out" // business → customer (the send endpoint)
)

// PhoneMessage is one message as the customer's phone shows it.
type PhoneMessage struct {
	ID        string          `json:"id"`        // wamid
	Direction string          `json:"direction"` // DirectionIn or DirectionOut
	Type      string          `json:"type"`      // text, image, template, interactive, reaction, …
	Text      string          `json:"text"`      // what the bubble reads (template text filled in, caption, button title…)
	Body      json.RawMessage `json:"body"`      // Meta's JSON of the message: the send body, or the webhook's messages[] item
	Time      time.Time       `json:"time"`
	// Status is, for the business's messages, accepted, sent, delivered,
	// read or failed; for the customer's, "" until the business marks it
	// read ("read"), or "failed" if sendbox did not accept the webhook.
	Status    string `json:"status,omitempty"`
	ErrorCode int    `json:"error_code,omitempty"` // failed: Meta's code
	ReplyTo   string `json:"reply_to,omitempty"`   // context.message_id / context.id
	MediaID   string `json:"media_id,omitempty"`
	// Buttons are what the customer can tap on a business message: reply
	// buttons, list rows, template buttons.
	Buttons []PhoneButton `json:"buttons,omitempty"`
}

// PhoneButton is one tappable choice on a business message.
type PhoneButton struct {
	Kind        string `json:"kind"` // reply (reply button), row (list row), quick_reply (template), url
	ID          string `json:"id,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"` // list rows
	URL         string `json:"url,omitempty"`         // url buttons
	// Reply is the Inbound.Message a tap sends, in Meta's shape and quoting
	// this message (button_reply, list_reply or a template "button"); nil
	// for url buttons, which open a browser instead.
	Reply json.RawMessage `json:"reply,omitempty"`
}

// PhoneChat is one customer the simulator knows, as a chat list shows it.
type PhoneChat struct {
	WaID        string       `json:"wa_id"`             // "" for a customer known only by BSUID
	UserID      string       `json:"user_id,omitempty"` // BSUID
	Name        string       `json:"name,omitempty"`
	LastMessage PhoneMessage `json:"last_message"`
	// Unread counts the business's messages the customer has not opened yet.
	Unread int `json:"unread"`
	// Typing is true while the business shows a typing indicator.
	Typing bool `json:"typing"`
	// WindowOpenUntil is when the 24-hour customer service window closes
	// (zero if the customer never wrote).
	WindowOpenUntil time.Time `json:"window_open_until,omitzero"`
	Unreachable     bool      `json:"unreachable,omitempty"`
}

// chat is a customer's conversation with the business. Guarded by s.mu.
type chat struct {
	key         string
	waID        string
	userID      string
	name        string
	msgs        []*phoneMsg // oldest first, at most maxChatMessages
	lastActive  time.Time
	typingUntil time.Time
}

// phoneMsg is a PhoneMessage plus what the status machine needs.
type phoneMsg struct {
	PhoneMessage
	chat *chat
	// stage orders the business message's statuses; readWanted records an
	// open of the chat that came before "delivered" was posted.
	stage      int
	readWanted bool
	reaction   bool // reactions only ever get "sent"
	ev         statusEvent
}

// Stages of an outbound message.
const (
	stageAccepted = iota
	stageSent
	stageDelivered
	stageRead
	stageFailed
)

var stageNames = [...]string{"accepted", "sent", "delivered", "read", "failed"}

// chatKey turns a phone number in any notation into the wa_id digits, and
// leaves anything else (a BSUID such as "US.1234…") alone.
func chatKey(id string) string {
	id = strings.TrimSpace(id)
	digits := make([]byte, 0, len(id))
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' || c == '-' || c == ' ' || c == '(' || c == ')' || c == '.':
		default:
			return id
		}
	}
	return string(digits)
}

// chatFor returns the chat for key, creating it. Called with s.mu held.
func (s *Simulator) chatFor(key string, now time.Time) *chat {
	c := s.chats[key]
	if c == nil {
		c = &chat{key: key}
		if isPhone(key) {
			c.waID = key
		} else {
			c.userID = key
		}
		s.chats[key] = c
		if len(s.chats) > maxChats {
			s.evictChats()
		}
	}
	c.lastActive = now
	return c
}

// isPhone reports whether a chat key is a wa_id rather than a BSUID.
func isPhone(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return false
		}
	}
	return true
}

// evictChats forgets the least recently active tenth of the chats, so that
// the scan is paid once per many new customers. Called with s.mu held.
func (s *Simulator) evictChats() {
	all := make([]*chat, 0, len(s.chats))
	for _, c := range s.chats {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *chat) int { return a.lastActive.Compare(b.lastActive) })
	for _, c := range all[:len(all)/10+1] {
		for _, m := range c.msgs {
			delete(s.byWAMID, m.ID)
		}
		delete(s.chats, c.key)
	}
}

// appendMsg adds m to c, dropping the oldest message past the bound.
// Called with s.mu held.
func (s *Simulator) appendMsg(c *chat, m *phoneMsg) {
	m.chat = c
	if len(c.msgs) >= maxChatMessages {
		old := c.msgs[0]
		delete(s.byWAMID, old.ID)
		copy(c.msgs, c.msgs[1:])
		c.msgs[len(c.msgs)-1] = nil
		c.msgs = c.msgs[:len(c.msgs)-1]
	}
	c.msgs = append(c.msgs, m)
	s.byWAMID[m.ID] = m
	s.markDirty()
}

// Phone returns the chat with a customer as their phone shows it, oldest
// first, both directions. waID is the customer's number (any notation) or
// BSUID. open=true is the customer opening the chat: the business's
// delivered messages turn read and "read" status webhooks are posted (after
// "delivered" for messages not delivered yet).
func (s *Simulator) Phone(waID string, open bool) []PhoneMessage {
	key := chatKey(waID)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[key]
	if c == nil {
		return nil
	}
	if open {
		for _, m := range c.msgs {
			if m.Direction != DirectionOut || m.reaction {
				continue
			}
			switch m.stage {
			case stageAccepted, stageSent:
				m.readWanted = true
			case stageDelivered:
				s.advance(m, stageRead) // called with s.mu held, as it requires
			}
		}
	}
	out := make([]PhoneMessage, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = m.PhoneMessage
	}
	return out
}

// Chats lists the customers the simulator knows, most recently active first.
func (s *Simulator) Chats() []PhoneChat {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*chat, 0, len(s.chats))
	for _, c := range s.chats {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *chat) int { return b.lastActive.Compare(a.lastActive) })
	out := make([]PhoneChat, 0, len(all))
	for _, c := range all {
		pc := PhoneChat{
			WaID:        c.waID,
			UserID:      c.userID,
			Name:        c.name,
			Typing:      now.Before(c.typingUntil),
			Unreachable: s.unreachable[c.key],
		}
		if n := len(c.msgs); n > 0 {
			pc.LastMessage = c.msgs[n-1].PhoneMessage
		}
		for _, m := range c.msgs {
			if m.Direction == DirectionOut && !m.reaction && m.stage < stageRead {
				pc.Unread++
			}
		}
		if ts, ok := s.windows[c.key]; ok {
			pc.WindowOpenUntil = time.Unix(ts, 0).Add(windowDuration)
		}
		out = append(out, pc)
	}
	return out
}

// SetUnreachable makes sends to waID fail with 131026 (message
// undeliverable), as for a number without WhatsApp, until turned off.
func (s *Simulator) SetUnreachable(waID string, on bool) {
	key := chatKey(waID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.unreachable[key] = true
	} else {
		delete(s.unreachable, key)
	}
	s.markDirty()
}

// markRead records the business marking a customer's message (and every
// earlier one in that chat) read, with an optional typing indicator. It
// reports false for a message the simulator does not know.
func (s *Simulator) markRead(wamid string, typing bool, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byWAMID[wamid]
	if m == nil || m.Direction != DirectionIn {
		return false
	}
	c := m.chat
	for _, x := range c.msgs {
		if x.Direction == DirectionIn && x.Status == "" {
			x.Status = "read"
		}
		if x == m {
			break
		}
	}
	if typing {
		c.typingUntil = now.Add(typingDuration)
	}
	s.markDirty()
	return true
}

// outboundText is what the phone shows for a message the business sent.
func outboundText(m *whatsapp.OutboundMessage) (text, mediaID string) {
	media := func(kind string, o *whatsapp.MediaObject) (string, string) {
		if o == nil {
			return "[" + kind + "]", ""
		}
		t := o.Caption
		if t == "" && o.Filename != "" {
			t = o.Filename
		}
		if t == "" {
			t = "[" + kind + "]"
		}
		return t, o.ID
	}
	switch m.Type {
	case "text":
		if m.Text != nil {
			return m.Text.Body, ""
		}
	case "image":
		return media("image", m.Image)
	case "video":
		return media("video", m.Video)
	case "audio":
		return media("audio", m.Audio)
	case "document":
		return media("document", m.Document)
	case "sticker":
		return media("sticker", m.Sticker)
	case "location":
		if m.Location != nil {
			if m.Location.Name != "" {
				return m.Location.Name, ""
			}
			return "[location]", ""
		}
	case "contacts":
		names := make([]string, 0, len(m.Contacts))
		for _, c := range m.Contacts {
			names = append(names, c.Name.FormattedName)
		}
		return strings.Join(names, ", "), ""
	case "reaction":
		if m.Reaction != nil {
			return m.Reaction.Emoji, ""
		}
	case "interactive":
		if m.Interactive != nil && m.Interactive.Body != nil {
			return m.Interactive.Body.Text, ""
		}
	}
	return "[" + m.Type + "]", ""
}

// inboundText is what the phone shows for a customer's message, read from
// its Meta JSON: the text, a caption, the tapped button's title, …
func inboundText(typ string, msg map[string]json.RawMessage) string {
	var part map[string]json.RawMessage
	if json.Unmarshal(msg[typ], &part) != nil {
		return "[" + typ + "]"
	}
	str := func(m map[string]json.RawMessage, k string) string {
		var v string
		json.Unmarshal(m[k], &v)
		return v
	}
	switch typ {
	case "text":
		return str(part, "body")
	case "button":
		return str(part, "text")
	case "reaction":
		return str(part, "emoji")
	case "location":
		if n := str(part, "name"); n != "" {
			return n
		}
	case "interactive":
		for _, k := range []string{"button_reply", "list_reply"} {
			var r map[string]json.RawMessage
			if json.Unmarshal(part[k], &r) == nil && r != nil {
				return str(r, "title")
			}
		}
	case "image", "video", "audio", "document", "sticker":
		if t := str(part, "caption"); t != "" {
			return t
		}
		if t := str(part, "filename"); t != "" {
			return t
		}
	}
	return "[" + typ + "]"
}

// The inbound messages a tap produces, in Meta's shape (shared docs §3.2).
type (
	tapContext struct {
		From string `json:"from"` // the business's display number
		ID   string `json:"id"`   // the wamid tapped on
	}
	tapChoice struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description,omitempty"`
	}
	tapInteractive struct {
		Type        string     `json:"type"`
		ButtonReply *tapChoice `json:"button_reply,omitempty"`
		ListReply   *tapChoice `json:"list_reply,omitempty"`
	}
	tapButton struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	}
	tapMessage struct {
		Context     tapContext      `json:"context"`
		Type        string          `json:"type"`
		Interactive *tapInteractive `json:"interactive,omitempty"`
		Button      *tapButton      `json:"button,omitempty"`
	}
)

// phoneButtons lists the tappable choices of a business message, each with
// the inbound message its tap produces: button_reply, list_reply, or
// "button" for a template quick reply, quoting the message.
func phoneButtons(m *whatsapp.OutboundMessage, tpl *Template, wamid, display string) []PhoneButton {
	c := tapContext{From: display, ID: wamid}
	encode := func(t tapMessage) json.RawMessage {
		b, _ := json.Marshal(t)
		return b
	}
	var out []PhoneButton
	switch {
	case m.Type == "interactive" && m.Interactive != nil:
		a := m.Interactive.Action
		switch m.Interactive.Type {
		case "button":
			for _, b := range a.Buttons {
				ch := &tapChoice{ID: b.Reply.ID, Title: b.Reply.Title}
				out = append(out, PhoneButton{Kind: "reply", ID: ch.ID, Title: ch.Title,
					Reply: encode(tapMessage{Context: c, Type: "interactive", Interactive: &tapInteractive{Type: "button_reply", ButtonReply: ch}})})
			}
		case "list":
			for _, sec := range a.Sections {
				for _, row := range sec.Rows {
					ch := &tapChoice{ID: row.ID, Title: row.Title, Description: row.Description}
					out = append(out, PhoneButton{Kind: "row", ID: ch.ID, Title: ch.Title, Description: ch.Description,
						Reply: encode(tapMessage{Context: c, Type: "interactive", Interactive: &tapInteractive{Type: "list_reply", ListReply: ch}})})
				}
			}
		case "cta_url":
			var p whatsapp.CTAURLParameters
			if json.Unmarshal(a.Parameters, &p) == nil && p.URL != "" {
				out = append(out, PhoneButton{Kind: "url", Title: p.DisplayText, URL: p.URL})
			}
		}
	case tpl != nil && m.Template != nil:
		// Button components point at the template's buttons by index.
		params := map[int]whatsapp.TemplateParameter{}
		for _, comp := range m.Template.Components {
			if strings.EqualFold(comp.Type, "button") && len(comp.Parameters) > 0 {
				if i, err := strconv.Atoi(comp.Index); err == nil {
					params[i] = comp.Parameters[0]
				}
			}
		}
		for i, b := range tpl.Buttons {
			switch strings.ToUpper(b.Type) {
			case "QUICK_REPLY":
				payload := b.Text // Meta's default payload is the label
				if p, ok := params[i]; ok && p.Payload != "" {
					payload = p.Payload
				}
				out = append(out, PhoneButton{Kind: "quick_reply", ID: payload, Title: b.Text,
					Reply: encode(tapMessage{Context: c, Type: "button", Button: &tapButton{Payload: payload, Text: b.Text}})})
			case "URL":
				u := b.URL
				if p, ok := params[i]; ok {
					u = placeholderRE.ReplaceAllLiteralString(u, p.Text)
				}
				out = append(out, PhoneButton{Kind: "url", Title: b.Text, URL: u})
			}
		}
	}
	return out
}
