package flows

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"sendbox/whatsapp"
)

// A send step's media (an image, a video, a document by link) and link
// button (WhatsApp's cta_url), checked against Meta's limits when the flow
// is published and built when the step runs.

// Meta's limits on media and link buttons (whatsapp/validate.go checks
// the message built).
const (
	maxCaptionRunes  = 1024
	maxFilenameRunes = 240
	maxCTALabelRunes = 20
	maxLinkBytes     = 2000
)

func (s *Step) validateMediaCTA(vars map[string]bool) []Problem {
	var ps []Problem
	bad := func(field, code, msg string) { ps = append(ps, Problem{Field: field, Code: code, Message: msg}) }
	if m := s.Media; m != nil {
		switch m.Type {
		case MediaImage, MediaVideo, MediaDocument:
		default:
			bad("media", "invalid_media_type", fmt.Sprintf("%q is not a media type: use image, video or document", m.Type))
		}
		if code, msg := checkLink(m.Link, vars); code != "" {
			bad("media", code, "the media's link: "+msg)
		}
		if n := utf8.RuneCountInString(m.Caption); n > maxCaptionRunes {
			bad("media", "too_long", fmt.Sprintf("the caption is %d characters; WhatsApp allows %d", n, maxCaptionRunes))
		}
		for _, p := range unknownVars(m.Caption, vars) {
			bad("media", "unknown_variable", p)
		}
		switch n := utf8.RuneCountInString(m.Filename); {
		case m.Filename != "" && m.Type != MediaDocument:
			bad("media", "unexpected", "only a document has a file name")
		case n > maxFilenameRunes:
			bad("media", "too_long", fmt.Sprintf("the file name is %d characters; at most %d", n, maxFilenameRunes))
		}
		for _, p := range unknownVars(m.Filename, vars) {
			bad("media", "unknown_variable", p)
		}
		if strings.TrimSpace(s.Text) != "" {
			bad("text", "unexpected", "a media message has no text of its own: write it as the caption")
		}
		if len(s.Buttons) > 0 || s.Template != nil || s.CTA != nil {
			bad("media", "unexpected", "a media message goes alone, without buttons, a template or a link button")
		}
	}
	if c := s.CTA; c != nil {
		switch n := utf8.RuneCountInString(c.DisplayText); {
		case strings.TrimSpace(c.DisplayText) == "":
			bad("cta", "required", "the link button needs its label (display_text)")
		case n > maxCTALabelRunes:
			bad("cta", "too_long", fmt.Sprintf("the button's label is %d characters; WhatsApp allows %d", n, maxCTALabelRunes))
		}
		for _, p := range unknownVars(c.DisplayText, vars) {
			bad("cta", "unknown_variable", p)
		}
		if code, msg := checkLink(c.URL, vars); code != "" {
			bad("cta", code, "the button's link: "+msg)
		}
		if len(s.Buttons) > 0 {
			bad("cta", "unexpected", "a message has reply buttons or a link button, not both")
		}
		if s.Template != nil {
			bad("cta", "unexpected", "a template has the buttons Meta approved with it")
		}
	}
	return ps
}

// checkLink says what is wrong with a link WhatsApp is to open or fetch:
// https only, its host written out ({{variables}} may follow it), known
// variables. It returns a code and a message, "" when it is fine.
func checkLink(link string, vars map[string]bool) (string, string) {
	link = strings.TrimSpace(link)
	if link == "" {
		return "required", "a link is required: https://…"
	}
	if len(link) > maxLinkBytes {
		return "too_long", fmt.Sprintf("a link is at most %d characters", maxLinkBytes)
	}
	rest, ok := strings.CutPrefix(link, "https://")
	if !ok {
		return "invalid_link", "a link starts with https:// (WhatsApp opens and fetches only secure links)"
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	if host == "" || strings.Contains(host, "{") || strings.Contains(host, "}") {
		return "invalid_link", "write the link's host out (https://shop.example.com/…); variables go after it"
	}
	u, err := url.Parse(tmplRE.ReplaceAllString(link, "x"))
	if err != nil || u.Host == "" || strings.ContainsAny(u.String(), " \t\n") {
		return "invalid_link", fmt.Sprintf("%q is not a link", link)
	}
	if ms := unknownVars(link, vars); len(ms) > 0 {
		return "unknown_variable", ms[0]
	}
	return "", ""
}

// RenderURL fills a link's {{variables}}, each escaped for a URL (a space
// becomes %20, "/" and "&" are escaped): a value cannot change the link's
// host or add parameters to it.
func (e *Env) RenderURL(link string) string {
	return tmplRE.ReplaceAllStringFunc(strings.TrimSpace(link), func(m string) string {
		v, _ := e.Lookup(tmplRE.FindStringSubmatch(m)[1])
		return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
	})
}

// mediaMessage is a send step's media message, its variables filled in.
func mediaMessage(env *Env, m *MediaRef) whatsapp.OutboundMessage {
	mo := &whatsapp.MediaObject{Link: env.RenderURL(m.Link), Caption: strings.TrimSpace(env.Render(m.Caption))}
	out := whatsapp.OutboundMessage{To: env.Phone, Type: m.Type}
	switch m.Type {
	case MediaImage:
		out.Image = mo
	case MediaVideo:
		out.Video = mo
	case MediaDocument:
		mo.Filename = strings.TrimSpace(env.Render(m.Filename))
		out.Document = mo
	}
	return out
}

// ctaMessage is a send step's text with its link button.
func ctaMessage(env *Env, body string, c *CTAButton) whatsapp.OutboundMessage {
	params, _ := json.Marshal(whatsapp.CTAURLParameters{DisplayText: strings.TrimSpace(env.Render(c.DisplayText)), URL: env.RenderURL(c.URL)})
	return whatsapp.OutboundMessage{To: env.Phone, Type: "interactive", Interactive: &whatsapp.Interactive{
		Type: "cta_url", Body: &whatsapp.InteractiveText{Text: body},
		Action: whatsapp.InteractiveAction{Name: "cta_url", Parameters: params}}}
}
