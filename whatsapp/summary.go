package whatsapp

import (
	"strconv"
	"strings"
)

// IsTemplate reports whether m is a template send, the only kind Meta
// delivers outside the 24-hour customer service window.
func (m *OutboundMessage) IsTemplate() bool {
	return m != nil && m.Type == "template"
}

// Summary is the one-line text an inbox or a log shows for m, in plain
// words rather than icons: the text body; "[image] caption" (likewise
// video, document with its caption or filename, "[audio]", "[voice note]",
// "[sticker]"); "[template hello_world en_US] Jessica, SKBUP2" with the text
// parameters of the header and body; an interactive message's body (else its
// header, else "[interactive list]"); "[location] name, address" (or the
// coordinates); "[contact] Ann Lee, Bob Stone"; a reaction's emoji ("[reaction
// removed]" for ""). An unknown or incomplete message gives "[type]".
func (m *OutboundMessage) Summary() string {
	if m == nil {
		return ""
	}
	tag := "[" + m.Type + "]"
	switch m.Type {
	case "text":
		if m.Text != nil {
			return m.Text.Body
		}
	case "image", "video", "document", "audio", "sticker":
		mo := m.media()
		if mo == nil {
			return tag
		}
		if m.Type == "audio" && mo.Voice {
			tag = "[voice note]"
		}
		text := mo.Caption
		if text == "" && m.Type == "document" {
			text = mo.Filename
		}
		return joinNonEmpty(" ", tag, text)
	case "template":
		if t := m.Template; t != nil {
			head := "[template " + joinNonEmpty(" ", t.Name, t.Language.Code) + "]"
			var params []string
			for _, c := range t.Components {
				if c.Type != "header" && c.Type != "body" {
					continue
				}
				for _, p := range c.Parameters {
					if p.Type == "text" && p.Text != "" {
						params = append(params, p.Text)
					}
				}
			}
			return joinNonEmpty(" ", head, strings.Join(params, ", "))
		}
	case "interactive":
		if in := m.Interactive; in != nil {
			if in.Body != nil && in.Body.Text != "" {
				return in.Body.Text
			}
			if in.Header != nil && in.Header.Text != "" {
				return in.Header.Text
			}
			return "[interactive " + in.Type + "]"
		}
	case "location":
		if l := m.Location; l != nil {
			place := joinNonEmpty(", ", l.Name, l.Address)
			if place == "" {
				place = strconv.FormatFloat(l.Latitude, 'f', -1, 64) + ", " + strconv.FormatFloat(l.Longitude, 'f', -1, 64)
			}
			return "[location] " + place
		}
	case "contacts":
		names := make([]string, 0, len(m.Contacts))
		for _, c := range m.Contacts {
			names = append(names, c.Name.FormattedName)
		}
		return joinNonEmpty(" ", "[contact]", joinNonEmpty(", ", names...))
	case "reaction":
		if r := m.Reaction; r != nil {
			if r.Emoji == "" {
				return "[reaction removed]"
			}
			return r.Emoji
		}
	}
	return tag
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += sep
		}
		out += p
	}
	return out
}
