package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"sendbox/events"
	"sendbox/outbound"
	"sendbox/store"
	"sendbox/whatsapp"
)

// threadItem is one line of a thread: a day heading, a message, or a
// timeline event (notes are shown as bubbles).
type threadItem struct {
	Day   string
	Msg   *msgView
	Event *store.ConversationEvent
	Note  *store.ConversationEvent
	At    time.Time // when sendbox received or made it: the thread's order
	Seq   int64     // message id, for ties
}

// msgView is a message as the thread shows it.
type msgView struct {
	ID        int64
	Dir       string // in, out
	Type      string
	Author    string
	Text      string
	At        time.Time
	Media     *mediaView
	Location  *locationView
	Contacts  []string
	Tapped    string // the button or row the customer tapped, its title
	TappedOn  string // what it was: "button", "list" or "" (another reply, e.g. a form)
	Quote     string // the text of the message this one replies to
	Buttons   []string
	Reactions string
	Tick      string // clock, sent, delivered, read, failed, uncertain
	TickLabel string
	Failure   string
	Uncertain bool // sent, maybe, but never confirmed by Meta, and not sent again
	Edited    bool
	Revoked   bool
	System    bool
	Order     []string
	// AI is set on what the assistant sent: how, and from which passages.
	AI        *aiView
	Assistant bool
	// ConvID and Copilot let an agent translate what the customer wrote.
	ConvID  int64
	Copilot bool
}

// aiView is how the assistant came to send a message.
type aiView struct {
	Outcome   string
	Mode      string // model, quote, rules
	Model     string
	Latency   time.Duration
	ModelTime time.Duration
	Passages  []store.AIPassage
	Detail    string
}

type mediaView struct {
	URL, Kind, Filename, Mime string
	Size                      int64
	State                     string // stored, pending, failed
	Error                     string
}

type locationView struct {
	Name, Address, MapURL string
	Lat, Lon              float64
}

// thread merges messages (newest first in msgs) and timeline events into
// chronological items with day headings. ai holds the assistant's turns by
// the message each sent; copilot lets the reader translate messages.
func (p *Panel) thread(ctx context.Context, msgs []store.Message, timeline []store.ConversationEvent, users map[int64]string,
	ai map[int64]*store.AIReply, convID int64, copilot bool) []threadItem {
	byWAMID := map[string]*store.Message{}
	reactions := map[string][]string{}
	for i := range msgs {
		m := &msgs[i]
		if m.WAMID != "" {
			byWAMID[m.WAMID] = m
		}
	}
	// Reactions decorate their target; the latest reaction of each side wins,
	// and an empty emoji removes it.
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i]
		if m.Type == "reaction" && m.RelatedWAMID != "" {
			reactions[m.RelatedWAMID+"/"+m.Direction] = []string{m.Text}
		}
	}
	specs := map[string]*whatsapp.TemplateSpec{}
	var items []threadItem
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i]
		if m.Type == "reaction" || m.Type == "edit" || m.Type == "revoke" || m.Type == "request_welcome" {
			continue
		}
		v := p.messageView(ctx, m, byWAMID, users, specs)
		v.ConvID, v.Copilot = convID, copilot
		if m.Direction == store.Outbound && m.AuthorID == 0 {
			// The assistant's sends carry an "ai:" key; its record, which
			// follows a moment later, says how it answered.
			if r := ai[m.ID]; r != nil {
				v.AI = &aiView{Outcome: r.Outcome, Mode: r.Mode, Model: r.Model, Latency: r.Latency, ModelTime: r.ModelTime,
					Passages: r.Passages, Detail: r.Detail}
			}
			if v.AI != nil || strings.HasPrefix(m.IdempotencyKey, "ai:") {
				v.Assistant, v.Author = true, p.T("thread.assistant")
			}
		}
		var rs []string
		for _, dir := range []string{store.Inbound, store.Outbound} {
			for _, e := range reactions[m.WAMID+"/"+dir] {
				if e != "" {
					rs = append(rs, e)
				}
			}
		}
		v.Reactions = strings.Join(rs, " ")
		at := m.CreatedAt
		if m.Direction == store.Inbound {
			at = store.OrderTime(m.Timestamp, m.CreatedAt)
		}
		items = append(items, threadItem{Msg: v, At: at, Seq: m.ID})
	}
	for i := range timeline {
		e := &timeline[i]
		if e.Kind == events.ChangeNote {
			items = append(items, threadItem{Note: e, At: e.CreatedAt})
		} else {
			items = append(items, threadItem{Event: e, At: e.CreatedAt})
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].At.Equal(items[j].At) {
			return items[i].At.Before(items[j].At)
		}
		return items[i].Seq < items[j].Seq
	})
	out := make([]threadItem, 0, len(items)+8)
	lastDay := ""
	for _, it := range items {
		if d := day(it.At); d != lastDay {
			out = append(out, threadItem{Day: d})
			lastDay = d
		}
		out = append(out, it)
	}
	return out
}

func (p *Panel) messageView(ctx context.Context, m *store.Message, byWAMID map[string]*store.Message,
	users map[int64]string, specs map[string]*whatsapp.TemplateSpec) *msgView {
	v := &msgView{ID: m.ID, Dir: "in", Type: m.Type, Text: m.Text, At: m.Timestamp, Edited: !m.EditedAt.IsZero(),
		Revoked: !m.RevokedAt.IsZero()}
	if m.Direction == store.Outbound {
		v.Dir, v.At = "out", m.CreatedAt
		v.Author = users[m.AuthorID]
		switch {
		case m.AuthorID != 0:
		case m.Origin == store.OriginBusinessApp:
			v.Author = p.T("thread.via_business_app")
		case m.Origin == store.OriginFlow:
			v.Author = p.T("thread.via_flow")
		case m.Lane == events.LanePerson:
			v.Author = p.T("thread.via_api_person")
		default:
			v.Author = p.T("thread.via_api")
		}
		v.Tick, v.TickLabel = p.tick(m)
		if m.Status == store.StateFailed && m.Error != nil {
			v.Failure = p.failure(m.Error)
		}
		v.Uncertain = m.Status == store.StateUncertain
	}
	if m.ContextWAMID != "" {
		if q := byWAMID[m.ContextWAMID]; q != nil {
			v.Quote = q.Text
			if v.Quote == "" {
				v.Quote = "[" + q.Type + "]"
			}
		}
	}
	if md := m.Media; md != nil {
		v.Media = &mediaView{URL: fmt.Sprintf("/media/%d", m.ID), Kind: m.Type, Filename: md.Filename, Mime: md.MimeType,
			Size: md.Size, State: md.State, Error: md.Error}
		if m.Type == "edit" || v.Media.Kind == "template" {
			v.Media = nil
		}
	}
	var raw map[string]json.RawMessage
	if m.Direction == store.Inbound {
		json.Unmarshal(m.Raw, &raw)
	}
	switch m.Type {
	case "location":
		if m.Latitude != nil && m.Longitude != nil {
			l := &locationView{Lat: *m.Latitude, Lon: *m.Longitude}
			var loc struct{ Name, Address string }
			json.Unmarshal(raw["location"], &loc)
			l.Name, l.Address = loc.Name, loc.Address
			// OpenStreetMap: no tracking by a third party's map service.
			l.MapURL = fmt.Sprintf("https://www.openstreetmap.org/?mlat=%f&mlon=%f#map=17/%f/%f", l.Lat, l.Lon, l.Lat, l.Lon)
			v.Location = l
			v.Text = ""
		}
	case "contacts":
		var cards []struct {
			Name struct {
				FormattedName string `json:"formatted_name"`
			} `json:"name"`
			Phones []struct{ Phone string } `json:"phones"`
		}
		json.Unmarshal(raw["contacts"], &cards)
		for _, c := range cards {
			line := c.Name.FormattedName
			for _, ph := range c.Phones {
				line += " · " + ph.Phone
			}
			v.Contacts = append(v.Contacts, line)
		}
	case "interactive", "button":
		// A customer's tap shows as a marker and its title, once. A
		// business message of this type (buttons, a list) is its text and
		// its buttons, drawn by outboundView below.
		if m.Direction == store.Inbound {
			v.Tapped, v.TappedOn, v.Text = m.Text, tappedOn(m.Type, raw), ""
		}
	case "order":
		var o struct {
			Text  string
			Items []struct {
				ID       string  `json:"product_retailer_id"`
				Quantity int     `json:"quantity"`
				Price    float64 `json:"item_price"`
				Currency string  `json:"currency"`
			} `json:"product_items"`
		}
		json.Unmarshal(raw["order"], &o)
		for _, it := range o.Items {
			v.Order = append(v.Order, fmt.Sprintf("%d × %s — %.2f %s", it.Quantity, it.ID, it.Price*float64(it.Quantity), it.Currency))
		}
	case "system":
		v.System = true
	case "unsupported":
		v.Text = p.T("thread.unsupported")
	}
	if m.Direction == store.Outbound {
		p.outboundView(ctx, m, v, specs)
	}
	return v
}

// outboundView shows what the business sent as the customer sees it.
func (p *Panel) outboundView(ctx context.Context, m *store.Message, v *msgView, specs map[string]*whatsapp.TemplateSpec) {
	var om whatsapp.OutboundMessage
	if json.Unmarshal(m.Payload, &om) != nil {
		return
	}
	switch {
	case om.Template != nil:
		key := om.Template.Name + "|" + om.Template.Language.Code
		spec, ok := specs[key]
		if !ok {
			if tp, err := p.Store.TemplateByName(ctx, om.Template.Name, om.Template.Language.Code); err == nil {
				spec, _ = whatsapp.ParseTemplate(tp.Components)
			}
			specs[key] = spec
		}
		if spec != nil {
			v.Text = spec.Render(whatsapp.TemplateValues(&om, spec))
			v.Buttons = spec.Buttons
		}
	case om.Interactive != nil:
		if om.Interactive.Body != nil {
			v.Text = om.Interactive.Body.Text
		}
		for _, b := range om.Interactive.Action.Buttons {
			v.Buttons = append(v.Buttons, b.Reply.Title)
		}
		if om.Interactive.Action.Button != "" {
			v.Buttons = append(v.Buttons, "☰ "+om.Interactive.Action.Button)
		}
	case om.Text != nil:
		v.Text = om.Text.Body
	case om.Location != nil:
		v.Location = &locationView{Lat: om.Location.Latitude, Lon: om.Location.Longitude, Name: om.Location.Name,
			Address: om.Location.Address,
			MapURL: "https://www.openstreetmap.org/?mlat=" + url.QueryEscape(fmt.Sprint(om.Location.Latitude)) +
				"&mlon=" + url.QueryEscape(fmt.Sprint(om.Location.Longitude))}
		v.Text = ""
	default:
		for _, mo := range []*whatsapp.MediaObject{om.Image, om.Video, om.Document, om.Audio, om.Sticker} {
			if mo != nil {
				v.Text = mo.Caption
				if v.Media == nil && mo.Link != "" {
					v.Media = &mediaView{URL: mo.Link, Kind: om.Type, State: "link", Filename: mo.Filename}
				}
			}
		}
	}
}

// tick is the delivery mark of an outbound message, and its spoken label.
func (p *Panel) tick(m *store.Message) (string, string) {
	switch m.Status {
	case store.StateQueued, store.StateSending, store.StateAccepted:
		return "clock", p.T("tick.pending")
	case "sent":
		return "sent", p.T("tick.sent")
	case "delivered":
		return "delivered", p.T("tick.delivered")
	case "read", "played":
		return "read", p.T("tick.read")
	case store.StateFailed:
		return "failed", p.T("tick.failed")
	case store.StateUncertain:
		return "uncertain", p.T("tick.uncertain")
	}
	return "", ""
}

// failure explains a failed send in plain words.
func (p *Panel) failure(e *store.MessageError) string {
	if d, ok := strings.CutSuffix(e.Detail, outbound.CheckedBeforeMeta); ok {
		// sendbox refused it at send time and says why in full.
		return d
	}
	if t := whatsapp.ErrorText(e.Code); t != "" {
		if e.Code != 0 {
			return fmt.Sprintf("%s (%d)", t, e.Code)
		}
		return t
	}
	msg := e.Title
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Code != 0 {
		msg += fmt.Sprintf(" (%d)", e.Code)
	}
	return msg
}

// tappedOn says what an inbound tap was on: a reply button (of a message
// or a template), a list row, or "" for another interactive reply.
func tappedOn(typ string, raw map[string]json.RawMessage) string {
	if typ == "button" {
		return "button"
	}
	var it struct{ Type string }
	json.Unmarshal(raw["interactive"], &it)
	switch it.Type {
	case "button_reply":
		return "button"
	case "list_reply":
		return "list"
	}
	return ""
}
