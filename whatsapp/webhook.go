package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrMalformed is wrapped by ParseWebhook's error when the body is not a
// WhatsApp webhook at all: not JSON, not a JSON object, or an "object" other
// than "whatsapp_business_account". Such a body will never parse, so the
// handler should answer 4xx and not queue it.
var ErrMalformed = errors.New("malformed webhook body")

// webhookObject is the only envelope "object" WhatsApp sends.
const webhookObject = "whatsapp_business_account"

// FieldMessages is the webhook field that carries inbound messages, statuses
// and the system-level errors of the messages channel.
const FieldMessages = "messages"

// FieldSMBMessageEchoes carries the messages the business sent from the
// WhatsApp Business app on a number that also uses the Cloud API
// (coexistence): value.message_echoes[], each a messages[] item with "to".
const FieldSMBMessageEchoes = "smb_message_echoes"

// FieldMessagesErrors is the Event.Field given to each value.errors[] item
// of a "messages" change, so they can be told apart from other fields.
const FieldMessagesErrors = "messages.errors"

// maxEditDepth bounds the nesting of edit.message parsing. Real edits nest
// once; the bound keeps a hostile body from making the parser rescan the
// same bytes once per level.
const maxEditDepth = 4

// Wire shapes: only what ParseWebhook reads. Everything else stays in the
// Raw/Value bytes handed to the caller.
type (
	wireEnvelope struct {
		Object json.RawMessage `json:"object"`
		Entry  []wireEntry     `json:"entry"`
	}
	wireEntry struct {
		ID      flexString   `json:"id"`
		Time    unixTime     `json:"time"`
		Changes []wireChange `json:"changes"`
	}
	wireChange struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	wireMetadata struct {
		DisplayPhoneNumber flexString `json:"display_phone_number"`
		PhoneNumberID      flexString `json:"phone_number_id"`
	}
	// wireMessagesValue is the value of a "messages" change. The items stay
	// raw so each InboundMessage/Status can keep its exact bytes.
	wireMessagesValue struct {
		Metadata wireMetadata      `json:"metadata"`
		Contacts []wireContact     `json:"contacts"`
		Messages []json.RawMessage `json:"messages"`
		Statuses []json.RawMessage `json:"statuses"`
		Errors   []json.RawMessage `json:"errors"`
	}
	// wireEchoesValue is the value of an "smb_message_echoes" change.
	wireEchoesValue struct {
		Metadata wireMetadata      `json:"metadata"`
		Contacts []wireContact     `json:"contacts"`
		Echoes   []json.RawMessage `json:"message_echoes"`
	}
	// wireEchoTo is what an echo adds to a messages[] item.
	wireEchoTo struct {
		To             flexString `json:"to"`
		ToUserID       flexString `json:"to_user_id"`
		ToParentUserID flexString `json:"to_parent_user_id"`
	}
	// wireEventValue is what ParseWebhook reads of any other change.
	wireEventValue struct {
		Metadata        wireMetadata    `json:"metadata"`
		Event           json.RawMessage `json:"event"`
		Decision        json.RawMessage `json:"decision"`
		UserPreferences []wireUserPref  `json:"user_preferences"`
		Contacts        []wireContact   `json:"contacts"`
	}
	wireContact struct {
		Profile struct {
			Name        string `json:"name"`
			Username    string `json:"username"`
			CountryCode string `json:"country_code"`
		} `json:"profile"`
		WaID         flexString `json:"wa_id"`
		UserID       flexString `json:"user_id"`
		ParentUserID flexString `json:"parent_user_id"`
	}
	wireUserPref struct {
		WaID      flexString `json:"wa_id"`
		UserID    flexString `json:"user_id"`
		Category  string     `json:"category"`
		Value     string     `json:"value"`
		Detail    string     `json:"detail"`
		Timestamp unixTime   `json:"timestamp"`
	}
	wireError struct {
		Code      flexInt         `json:"code"`
		Title     string          `json:"title"`
		Message   string          `json:"message"`
		ErrorData json.RawMessage `json:"error_data"`
		Href      string          `json:"href"`
	}
	wireMessage struct {
		From             flexString             `json:"from"`
		FromUserID       flexString             `json:"from_user_id"`
		FromParentUserID flexString             `json:"from_parent_user_id"`
		ID               flexString             `json:"id"`
		Timestamp        unixTime               `json:"timestamp"`
		Type             string                 `json:"type"`
		GroupID          flexString             `json:"group_id"`
		Text             *struct{ Body string } `json:"text"`
		Image            *wireMedia             `json:"image"`
		Video            *wireMedia             `json:"video"`
		Audio            *wireMedia             `json:"audio"`
		Document         *wireMedia             `json:"document"`
		Sticker          *wireMedia             `json:"sticker"`
		Location         *wireLocation          `json:"location"`
		Contacts         []json.RawMessage      `json:"contacts"`
		Interactive      *wireInteractive       `json:"interactive"`
		Button           *struct {
			Payload string `json:"payload"`
			Text    string `json:"text"`
		} `json:"button"`
		Reaction *struct {
			MessageID flexString `json:"message_id"`
			Emoji     string     `json:"emoji"`
		} `json:"reaction"`
		Order  *wireOrder  `json:"order"`
		System *wireSystem `json:"system"`
		Edit   *struct {
			OriginalMessageID flexString      `json:"original_message_id"`
			Message           json.RawMessage `json:"message"`
		} `json:"edit"`
		Revoke *struct {
			OriginalMessageID flexString `json:"original_message_id"`
		} `json:"revoke"`
		Unsupported *struct {
			Type string `json:"type"`
		} `json:"unsupported"`
		Context  *wireContext    `json:"context"`
		Referral json.RawMessage `json:"referral"`
		Errors   []wireError     `json:"errors"`
	}
	wireMedia struct {
		ID       flexString `json:"id"`
		MimeType string     `json:"mime_type"`
		SHA256   string     `json:"sha256"`
		Caption  string     `json:"caption"`
		Filename string     `json:"filename"`
		URL      string     `json:"url"`
		Voice    bool       `json:"voice"`
		Animated bool       `json:"animated"`
	}
	wireLocation struct {
		Latitude  flexFloat `json:"latitude"`
		Longitude flexFloat `json:"longitude"`
		Name      string    `json:"name"`
		Address   string    `json:"address"`
		URL       string    `json:"url"`
	}
	wireInteractive struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    flexString `json:"id"`
			Title string     `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID          flexString `json:"id"`
			Title       string     `json:"title"`
			Description string     `json:"description"`
		} `json:"list_reply"`
		NfmReply *struct {
			Name         string          `json:"name"`
			Body         string          `json:"body"`
			ResponseJSON json.RawMessage `json:"response_json"`
		} `json:"nfm_reply"`
		CallPermissionReply *struct {
			Response            string   `json:"response"`
			ExpirationTimestamp unixTime `json:"expiration_timestamp"`
			ResponseSource      string   `json:"response_source"`
		} `json:"call_permission_reply"`
	}
	wireOrder struct {
		CatalogID    flexString `json:"catalog_id"`
		Text         string     `json:"text"`
		ProductItems []struct {
			ProductRetailerID flexString `json:"product_retailer_id"`
			Quantity          flexInt    `json:"quantity"`
			ItemPrice         flexFloat  `json:"item_price"`
			Currency          string     `json:"currency"`
		} `json:"product_items"`
	}
	wireSystem struct {
		Body     string     `json:"body"`
		Type     string     `json:"type"`
		WaID     flexString `json:"wa_id"`
		NewWaID  flexString `json:"new_wa_id"` // pre-2023 spelling of wa_id
		Customer flexString `json:"customer"`
	}
	wireContext struct {
		From                flexString `json:"from"`
		ID                  flexString `json:"id"`
		Forwarded           bool       `json:"forwarded"`
		FrequentlyForwarded bool       `json:"frequently_forwarded"`
		ReferredProduct     *struct {
			CatalogID         flexString `json:"catalog_id"`
			ProductRetailerID flexString `json:"product_retailer_id"`
		} `json:"referred_product"`
	}
	wireReferral struct {
		SourceURL    string     `json:"source_url"`
		SourceID     flexString `json:"source_id"`
		SourceType   string     `json:"source_type"`
		Headline     string     `json:"headline"`
		Body         string     `json:"body"`
		MediaType    string     `json:"media_type"`
		ImageURL     string     `json:"image_url"`
		VideoURL     string     `json:"video_url"`
		ThumbnailURL string     `json:"thumbnail_url"`
		CtwaClid     string     `json:"ctwa_clid"`
	}
	wireSharedContact struct {
		Name struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
		Phones []struct {
			Phone string `json:"phone"`
		} `json:"phones"`
		Emails []struct {
			Email string `json:"email"`
		} `json:"emails"`
	}
	wireStatus struct {
		ID                     flexString `json:"id"`
		Status                 string     `json:"status"`
		Timestamp              unixTime   `json:"timestamp"`
		RecipientID            flexString `json:"recipient_id"`
		RecipientUserID        flexString `json:"recipient_user_id"`
		RecipientType          string     `json:"recipient_type"`
		RecipientParticipantID flexString `json:"recipient_participant_id"`
		BizOpaque              string     `json:"biz_opaque_callback_data"`
		Conversation           *struct {
			ID                  flexString `json:"id"`
			ExpirationTimestamp unixTime   `json:"expiration_timestamp"`
			Origin              struct {
				Type string `json:"type"`
			} `json:"origin"`
		} `json:"conversation"`
		Pricing *struct {
			Billable     *bool  `json:"billable"`
			PricingModel string `json:"pricing_model"`
			Type         string `json:"type"`
			Category     string `json:"category"`
		} `json:"pricing"`
		Errors []wireError `json:"errors"`
	}
)

// ParseWebhook parses one webhook POST body, which the caller has already
// checked with VerifySignature. It flattens every entry × change: inbound
// messages of field "messages" into Messages, their statuses into Statuses,
// and everything else (value.errors[] items, every other field) into Events.
//
// It fails, with an error wrapping ErrMalformed, only when the body is not a
// JSON object or names another "object". Anything inside a valid envelope is
// accepted: unknown message types and fields are kept raw, values of an
// unexpected JSON type are left zero. That is deliberate: an error makes
// Meta redeliver the same bytes for days, and they would fail again.
//
// Each InboundMessage.Raw, Status.Raw and Event.Value is a copy of the exact
// bytes received, so body may be reused after the call, except that invalid
// UTF-8 is replaced by U+FFFD: every string and byte slice of the result is
// valid UTF-8. ParseWebhook is safe for concurrent use.
func ParseWebhook(body []byte) (*Webhook, error) {
	if !isJSONObject(body) {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if !utf8.Valid(body) {
		// In JSON, bytes that are not UTF-8 can only sit inside strings
		// (encoding/json takes them there): replaced, the body stays the
		// same JSON, and the raw items kept from it can be written out in
		// the API's JSON, which must be UTF-8, as they are.
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	var env wireEnvelope
	if err := decodeLenient(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(env.Object) > 0 && string(env.Object) != "null" {
		if obj, _ := jsonString(env.Object); obj != webhookObject {
			return nil, fmt.Errorf("%w: object is %.64s, want %q", ErrMalformed, env.Object, webhookObject)
		}
	}

	w := &Webhook{}
	for i := range env.Entry {
		entry := &env.Entry[i]
		for j := range entry.Changes {
			ch := &entry.Changes[j]
			switch {
			case ch.Field == FieldMessages:
				w.addMessagesChange(entry, ch)
			case ch.Field == FieldSMBMessageEchoes && w.addEchoes(entry, ch):
			default:
				w.addEvent(entry, ch)
			}
		}
	}
	return w, nil
}

// isJSONObject reports whether the first non-blank byte opens an object.
// encoding/json would happily decode `null` into a struct, and an array or
// a number into nothing; neither is a webhook.
func isJSONObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// addMessagesChange flattens a "messages" change. A change that yields
// nothing (no messages, statuses or errors; or a value that is not an
// object) becomes an Event so that it is not silently dropped.
func (w *Webhook) addMessagesChange(entry *wireEntry, ch *wireChange) {
	var v wireMessagesValue
	_ = decodeLenient(ch.Value, &v) // Value is valid JSON: only type mismatches, already tolerated
	md := Metadata{
		WABAID:             string(entry.ID),
		PhoneNumberID:      string(v.Metadata.PhoneNumberID),
		DisplayPhoneNumber: string(v.Metadata.DisplayPhoneNumber),
	}
	if len(v.Messages)+len(v.Statuses)+len(v.Errors) == 0 {
		w.Events = append(w.Events, Event{
			Metadata: md,
			Field:    ch.Field,
			Time:     entry.Time.Time(),
			Value:    ch.Value,
		})
		return
	}
	if w.Messages == nil && len(v.Messages) > 0 {
		w.Messages = make([]InboundMessage, 0, len(v.Messages))
	}
	for _, raw := range v.Messages {
		w.Messages = append(w.Messages, parseMessage(raw, md, v.Contacts, 0))
	}
	if w.Statuses == nil && len(v.Statuses) > 0 {
		w.Statuses = make([]Status, 0, len(v.Statuses))
	}
	for _, raw := range v.Statuses {
		w.Statuses = append(w.Statuses, parseStatus(raw, md, v.Contacts))
	}
	for _, raw := range v.Errors {
		var we wireError
		_ = decodeLenient(raw, &we)
		e := we.toError()
		w.Events = append(w.Events, Event{
			Metadata: md,
			Field:    FieldMessagesErrors,
			Time:     entry.Time.Time(),
			Value:    raw,
			Error:    &e,
		})
	}
}

// addEchoes flattens an "smb_message_echoes" change into Echoes; it
// reports false, to keep the change as an Event, when it has none.
func (w *Webhook) addEchoes(entry *wireEntry, ch *wireChange) bool {
	var v wireEchoesValue
	_ = decodeLenient(ch.Value, &v)
	if len(v.Echoes) == 0 {
		return false
	}
	md := Metadata{
		WABAID:             string(entry.ID),
		PhoneNumberID:      string(v.Metadata.PhoneNumberID),
		DisplayPhoneNumber: string(v.Metadata.DisplayPhoneNumber),
	}
	for _, raw := range v.Echoes {
		e := Echo{InboundMessage: parseMessage(raw, md, nil, 0)}
		var to wireEchoTo
		_ = decodeLenient(raw, &to)
		e.To, e.ToUserID, e.ToParentUserID = string(to.To), string(to.ToUserID), string(to.ToParentUserID)
		// The customer is whichever end is not the business's number.
		// Meta's samples disagree on which of from and to that is, so the
		// number is compared, and the contacts entry settles the rest.
		business := digits(md.DisplayPhoneNumber)
		switch {
		case e.To != "" && (business == "" || digits(e.To) != business):
			e.CustomerWaID = e.To
		case e.From != "" && business != "" && digits(e.From) != business:
			e.CustomerWaID = e.From
		}
		e.CustomerUserID = e.ToUserID
		p := matchProfile(v.Contacts, e.CustomerWaID, e.CustomerUserID)
		if e.CustomerWaID == "" && e.CustomerUserID == "" {
			e.CustomerWaID, e.CustomerUserID = p.WaID, p.UserID
		}
		e.Profile = p
		w.Echoes = append(w.Echoes, e)
	}
	return true
}

// digits keeps the digits of a phone number.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// addEvent turns a change of any field but "messages" into one Event.
func (w *Webhook) addEvent(entry *wireEntry, ch *wireChange) {
	var v wireEventValue
	_ = decodeLenient(ch.Value, &v)
	ev := Event{
		Metadata: Metadata{
			WABAID:             string(entry.ID),
			PhoneNumberID:      string(v.Metadata.PhoneNumberID),
			DisplayPhoneNumber: string(v.Metadata.DisplayPhoneNumber),
		},
		Field: ch.Field,
		Time:  entry.Time.Time(),
		Value: ch.Value,
	}
	// Most fields name what happened in "event"; the review fields
	// (account_review_update, phone_number_name_update) in "decision".
	switch {
	case len(v.Event) > 0 && v.Event[0] == '"':
		ev.Type, _ = jsonString(v.Event)
	case len(v.Decision) > 0 && v.Decision[0] == '"':
		ev.Type, _ = jsonString(v.Decision)
	}
	if len(v.UserPreferences) > 0 {
		ev.UserPreferences = make([]UserPreference, len(v.UserPreferences))
		for i, p := range v.UserPreferences {
			ev.UserPreferences[i] = UserPreference{
				WaID:      string(p.WaID),
				UserID:    string(p.UserID),
				Category:  p.Category,
				Value:     p.Value,
				Detail:    p.Detail,
				Timestamp: p.Timestamp.Time(),
			}
		}
	}
	w.Events = append(w.Events, ev)
}

// parseMessage decodes one messages[] item. It never fails: whatever it
// cannot read is still in Raw.
func parseMessage(raw json.RawMessage, md Metadata, contacts []wireContact, depth int) InboundMessage {
	m := InboundMessage{Metadata: md, Raw: raw}
	var wm wireMessage
	_ = decodeLenient(raw, &wm)

	m.ID = string(wm.ID)
	m.From = string(wm.From)
	m.FromUserID = string(wm.FromUserID)
	m.FromParentUserID = string(wm.FromParentUserID)
	m.Timestamp = wm.Timestamp.Time()
	m.Type = wm.Type
	m.GroupID = string(wm.GroupID)
	m.Profile = matchProfile(contacts, m.From, m.FromUserID)

	if c := wm.Context; c != nil {
		m.Context = &Context{
			From:                string(c.From),
			ID:                  string(c.ID),
			Forwarded:           c.Forwarded,
			FrequentlyForwarded: c.FrequentlyForwarded,
		}
		if p := c.ReferredProduct; p != nil {
			m.Context.ReferredCatalogID = string(p.CatalogID)
			m.Context.ReferredProductRetailerID = string(p.ProductRetailerID)
		}
	}
	if len(wm.Referral) > 0 && wm.Referral[0] == '{' {
		var r wireReferral
		_ = decodeLenient(wm.Referral, &r)
		m.Referral = &Referral{
			SourceURL:    r.SourceURL,
			SourceID:     string(r.SourceID),
			SourceType:   r.SourceType,
			Headline:     r.Headline,
			Body:         r.Body,
			MediaType:    r.MediaType,
			ImageURL:     r.ImageURL,
			VideoURL:     r.VideoURL,
			ThumbnailURL: r.ThumbnailURL,
			CtwaClid:     r.CtwaClid,
			Raw:          wm.Referral,
		}
	}
	m.Errors = toErrors(wm.Errors)

	switch wm.Type {
	case "text":
		if wm.Text != nil {
			m.Text = wm.Text.Body
		}
	case "image":
		m.setMedia(wm.Image)
	case "video":
		m.setMedia(wm.Video)
	case "audio":
		m.setMedia(wm.Audio)
	case "document":
		m.setMedia(wm.Document)
	case "sticker":
		m.setMedia(wm.Sticker)
	case "location":
		if l := wm.Location; l != nil {
			m.Location = &Location{
				Latitude:  float64(l.Latitude),
				Longitude: float64(l.Longitude),
				Name:      l.Name,
				Address:   l.Address,
				URL:       l.URL,
			}
			m.Text = l.Name
			if m.Text == "" {
				m.Text = l.Address
			}
		}
	case "contacts":
		m.Contacts = parseSharedContacts(wm.Contacts)
		names := make([]string, 0, len(m.Contacts))
		for _, c := range m.Contacts {
			if c.FormattedName != "" {
				names = append(names, c.FormattedName)
			}
		}
		m.Text = strings.Join(names, ", ")
	case "interactive":
		m.Interactive = wm.Interactive.toReply()
		if m.Interactive != nil {
			switch m.Interactive.Type {
			case "button_reply", "list_reply":
				m.Text = m.Interactive.Title
			case "nfm_reply":
				m.Text = m.Interactive.FlowBody
			}
		}
	case "button":
		if b := wm.Button; b != nil {
			m.Button = &ButtonReply{Payload: b.Payload, Text: b.Text}
			m.Text = b.Text
		}
	case "reaction":
		if r := wm.Reaction; r != nil {
			m.Reaction = &Reaction{MessageID: string(r.MessageID), Emoji: r.Emoji}
			m.Text = r.Emoji
		}
	case "order":
		if o := wm.Order; o != nil {
			m.Order = &Order{CatalogID: string(o.CatalogID), Text: o.Text}
			if len(o.ProductItems) > 0 {
				m.Order.Items = make([]OrderItem, len(o.ProductItems))
				for i, it := range o.ProductItems {
					m.Order.Items[i] = OrderItem{
						ProductRetailerID: string(it.ProductRetailerID),
						Quantity:          int(it.Quantity),
						ItemPrice:         float64(it.ItemPrice),
						Currency:          it.Currency,
					}
				}
			}
			m.Text = o.Text
		}
	case "system":
		if s := wm.System; s != nil {
			m.System = &System{Type: s.Type, Body: s.Body, NewWaID: string(s.WaID)}
			if m.System.NewWaID == "" {
				m.System.NewWaID = string(s.NewWaID)
			}
			m.Text = s.Body
		}
	case "edit":
		if e := wm.Edit; e != nil {
			m.Edit = &Edit{OriginalID: string(e.OriginalMessageID)}
			if len(e.Message) > 0 && e.Message[0] == '{' {
				m.Edit.Message = parseEdited(e.Message, &m, contacts, depth)
				m.Text = m.Edit.Message.Text
			}
		}
	case "revoke":
		if r := wm.Revoke; r != nil {
			m.Revoke = &Revoke{OriginalID: string(r.OriginalMessageID)}
		}
	case "unsupported":
		if u := wm.Unsupported; u != nil {
			m.UnsupportedType = u.Type
		}
	}
	return m
}

// parseEdited parses the new content of an edit. The edit item usually
// carries neither id, from nor timestamp, so they are those of the edit
// event (outer). Past maxEditDepth only Raw is kept.
func parseEdited(raw json.RawMessage, outer *InboundMessage, contacts []wireContact, depth int) *InboundMessage {
	if depth+1 >= maxEditDepth {
		return &InboundMessage{Metadata: outer.Metadata, ID: outer.ID, From: outer.From,
			FromUserID: outer.FromUserID, FromParentUserID: outer.FromParentUserID,
			Timestamp: outer.Timestamp, Profile: outer.Profile, Raw: raw}
	}
	n := parseMessage(raw, outer.Metadata, contacts, depth+1)
	n.ID = outer.ID
	n.From = outer.From
	n.FromUserID = outer.FromUserID
	n.FromParentUserID = outer.FromParentUserID
	n.Timestamp = outer.Timestamp
	n.GroupID = outer.GroupID
	n.Profile = outer.Profile
	return &n
}

// setMedia sets the media part and, as Text, its caption.
func (m *InboundMessage) setMedia(wm *wireMedia) {
	if wm == nil {
		return
	}
	m.Media = &Media{
		ID:       string(wm.ID),
		MimeType: wm.MimeType,
		SHA256:   wm.SHA256,
		Caption:  wm.Caption,
		Filename: wm.Filename,
		URL:      wm.URL,
		Voice:    wm.Voice,
		Animated: wm.Animated,
	}
	m.Text = wm.Caption
}

func (wi *wireInteractive) toReply() *InteractiveReply {
	if wi == nil {
		return nil
	}
	r := &InteractiveReply{Type: wi.Type}
	switch wi.Type {
	case "button_reply":
		if b := wi.ButtonReply; b != nil {
			r.ID, r.Title = string(b.ID), b.Title
		}
	case "list_reply":
		if l := wi.ListReply; l != nil {
			r.ID, r.Title, r.Description = string(l.ID), l.Title, l.Description
		}
	case "nfm_reply":
		if n := wi.NfmReply; n != nil {
			r.FlowName, r.FlowBody = n.Name, n.Body
			r.FlowResponse, r.FlowToken = flowResponse(n.ResponseJSON)
		}
	case "call_permission_reply":
		if c := wi.CallPermissionReply; c != nil {
			r.Response = c.Response
			r.ResponseSource = c.ResponseSource
			r.ExpiresAt = c.ExpirationTimestamp.Time()
		}
	}
	return r
}

// flowResponse decodes nfm_reply.response_json, which Meta sends as a JSON
// string holding JSON (so it has to be decoded twice). An object in its
// place is taken as is; anything that is not JSON inside is dropped (the
// message Raw still has it).
func flowResponse(raw json.RawMessage) (json.RawMessage, string) {
	var inner []byte
	switch {
	case len(raw) == 0:
		return nil, ""
	case raw[0] == '"':
		s, ok := jsonString(raw)
		if !ok {
			return nil, ""
		}
		inner = []byte(s)
		if !json.Valid(inner) {
			return nil, ""
		}
	case raw[0] == '{':
		inner = raw
	default:
		return nil, ""
	}
	var tok struct {
		FlowToken flexString `json:"flow_token"`
	}
	if isJSONObject(inner) {
		_ = decodeLenient(inner, &tok)
	}
	return json.RawMessage(inner), string(tok.FlowToken)
}

func parseSharedContacts(raws []json.RawMessage) []SharedContact {
	if len(raws) == 0 {
		return nil
	}
	out := make([]SharedContact, len(raws))
	for i, raw := range raws {
		var c wireSharedContact
		_ = decodeLenient(raw, &c)
		sc := SharedContact{FormattedName: c.Name.FormattedName, Raw: raw}
		for _, p := range c.Phones {
			if p.Phone != "" {
				sc.Phones = append(sc.Phones, p.Phone)
			}
		}
		for _, e := range c.Emails {
			if e.Email != "" {
				sc.Emails = append(sc.Emails, e.Email)
			}
		}
		out[i] = sc
	}
	return out
}

// matchProfile picks the value.contacts[] entry of a sender (or status
// recipient): by wa_id, else by BSUID, else the only contact there is.
// Empty ids never match, since BSUID-only users have an empty wa_id.
func matchProfile(contacts []wireContact, waID, userID string) Profile {
	for i := range contacts {
		c := &contacts[i]
		if (waID != "" && string(c.WaID) == waID) || (userID != "" && string(c.UserID) == userID) {
			return c.toProfile()
		}
	}
	if len(contacts) == 1 {
		return contacts[0].toProfile()
	}
	return Profile{}
}

func (c *wireContact) toProfile() Profile {
	return Profile{
		WaID:         string(c.WaID),
		UserID:       string(c.UserID),
		ParentUserID: string(c.ParentUserID),
		Name:         c.Profile.Name,
		Username:     c.Profile.Username,
		CountryCode:  c.Profile.CountryCode,
	}
}

func parseStatus(raw json.RawMessage, md Metadata, contacts []wireContact) Status {
	var ws wireStatus
	_ = decodeLenient(raw, &ws)
	s := Status{
		Metadata:               md,
		ID:                     string(ws.ID),
		Status:                 ws.Status,
		Timestamp:              ws.Timestamp.Time(),
		RecipientID:            string(ws.RecipientID),
		RecipientUserID:        string(ws.RecipientUserID),
		RecipientType:          ws.RecipientType,
		RecipientParticipantID: string(ws.RecipientParticipantID),
		BizOpaque:              ws.BizOpaque,
		Errors:                 toErrors(ws.Errors),
		Raw:                    raw,
	}
	if len(contacts) > 0 {
		s.Profile = matchProfile(contacts, s.RecipientID, s.RecipientUserID)
	}
	if p := ws.Pricing; p != nil {
		s.PricingCategory = p.Category
		s.PricingType = p.Type
		s.PricingModel = p.PricingModel
		s.Billable = p.Billable
	}
	if c := ws.Conversation; c != nil {
		s.ConversationID = string(c.ID)
		s.ConversationOrigin = c.Origin.Type
		s.ConversationExpiresAt = c.ExpirationTimestamp.Time()
	}
	return s
}

func toErrors(ws []wireError) []Error {
	if len(ws) == 0 {
		return nil
	}
	out := make([]Error, len(ws))
	for i := range ws {
		out[i] = ws[i].toError()
	}
	return out
}

func (we *wireError) toError() Error {
	return Error{
		Code:    int(we.Code),
		Title:   we.Title,
		Message: we.Message,
		Details: errorDetails(we.ErrorData),
		Href:    we.Href,
	}
}

// errorDetails reads error_data.details; error_data is an object for
// messaging errors but a plain string in some template-management errors.
func errorDetails(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		s, _ := jsonString(raw)
		return s
	case '{':
		var d struct {
			Details string `json:"details"`
		}
		_ = decodeLenient(raw, &d)
		return d.Details
	}
	return ""
}
