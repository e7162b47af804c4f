package inbox

import (
	"cmp"
	"strings"

	"sendbox/search"
	"sendbox/store"
	"sendbox/whatsapp"
)

// inboundRow maps a parsed message to its row. ok is false when the sender
// can be identified neither by number nor by business-scoped user id.
func inboundRow(m *whatsapp.InboundMessage) (store.InboundMessage, bool) {
	r := store.InboundMessage{
		WAMID:         m.ID,
		PhoneNumberID: m.PhoneNumberID,
		WaID:          cmp.Or(m.From, m.Profile.WaID),
		UserID:        cmp.Or(m.FromUserID, m.Profile.UserID),
		ParentUserID:  cmp.Or(m.FromParentUserID, m.Profile.ParentUserID),
		ProfileName:   m.Profile.Name,
		Username:      m.Profile.Username,
		Type:          m.Type,
		Text:          m.Text,
		Timestamp:     m.Timestamp,
		Raw:           m.Raw,
	}
	if r.WaID == "" && r.UserID == "" {
		return r, false
	}
	if md := m.Media; md != nil {
		r.MediaID, r.MediaMime, r.MediaSHA256, r.MediaFilename = md.ID, md.MimeType, md.SHA256, md.Filename
	}
	if l := m.Location; l != nil {
		lat, lon := l.Latitude, l.Longitude
		r.Latitude, r.Longitude = &lat, &lon
	}
	switch {
	case m.Interactive != nil:
		r.ReplyID = m.Interactive.ID
		if r.ReplyID == "" {
			r.ReplyID = m.Interactive.FlowToken
		}
	case m.Button != nil:
		r.ReplyID = m.Button.Payload
	}
	if m.Context != nil {
		r.ContextWAMID = m.Context.ID
	}
	if len(m.Errors) > 0 {
		e := m.Errors[0]
		r.Error = &store.MessageError{Code: e.Code, Title: e.Title, Detail: cmp.Or(e.Details, e.Message)}
	}
	switch {
	case m.Reaction != nil:
		r.RelatedWAMID, r.Silent = m.Reaction.MessageID, true
	case m.Edit != nil:
		r.RelatedWAMID, r.Effect, r.Silent = m.Edit.OriginalID, store.EffectEdit, true
		r.MediaID = "" // the edited original keeps its media
	case m.Revoke != nil:
		r.RelatedWAMID, r.Effect, r.Silent = m.Revoke.OriginalID, store.EffectRevoke, true
	case m.System != nil:
		r.Silent = true
		if m.System.Type == "user_changed_number" && m.System.NewWaID != "" {
			r.Effect, r.NewWaID = store.EffectNumberChanged, m.System.NewWaID
		}
	case m.Type == "request_welcome":
		r.Silent = true
	}
	r.Preview = Preview(m.Type, m.Text, r.MediaFilename)
	switch m.Type {
	case "text", "image", "video", "document":
		// The customer's own words; a button's or a list row's title is
		// the business's, in the language the business chose.
		g := search.GuessLang(m.Text)
		r.Lang, r.LangSure = g.Lang, g.Sure
	}
	return r, true
}

// Preview is the one-line summary a conversation list shows for a message.
func Preview(typ, text, filename string) string {
	label := ""
	switch typ {
	case "text", "interactive", "button":
	case "image":
		label = "Photo"
	case "video":
		label = "Video"
	case "audio":
		label = "Audio"
	case "document":
		label = cmp.Or(filename, "Document")
	case "sticker":
		label = "Sticker"
	case "location":
		label = "Location"
	case "contacts":
		label = "Contact card"
	case "order":
		label = "Order"
	case "template":
		label = "Template"
	case "unsupported":
		label = "Unsupported message"
	default:
		if text == "" {
			label = typ
		}
	}
	text = strings.Join(strings.Fields(text), " ")
	switch {
	case label == "":
		return truncate(text, 140)
	case text == "":
		return label
	default:
		return truncate(label+": "+text, 140)
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func statusRow(s *whatsapp.Status) store.StatusUpdate {
	u := store.StatusUpdate{
		WAMID:           s.ID,
		Status:          s.Status,
		Timestamp:       s.Timestamp,
		RecipientID:     cmp.Or(s.RecipientID, s.RecipientUserID),
		PricingCategory: s.PricingCategory,
		PricingType:     s.PricingType,
		PricingModel:    s.PricingModel,
		PricingBillable: s.Billable,
		Raw:             s.Raw,
	}
	u.SendID, _ = whatsapp.SplitOpaque(s.BizOpaque)
	if len(s.Errors) > 0 {
		e := s.Errors[0]
		u.Error = &store.MessageError{Code: e.Code, Title: e.Title, Detail: cmp.Or(e.Details, e.Message)}
	}
	return u
}
