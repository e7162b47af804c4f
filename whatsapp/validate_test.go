package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// s returns a string of n runes; multi-byte runes prove that limits count
// characters, not bytes.
func s(n int) string { return strings.Repeat("é", n) }

func textMsg(body string) *OutboundMessage {
	return &OutboundMessage{To: "+16505551234", Type: "text", Text: &Text{Body: body}}
}

func imageMsg(mo *MediaObject) *OutboundMessage {
	return &OutboundMessage{To: "+16505551234", Type: "image", Image: mo}
}

func buttonsMsg(buttons ...ReplyButton) *OutboundMessage {
	return &OutboundMessage{To: "+16505551234", Type: "interactive", Interactive: &Interactive{
		Type: "button", Body: &InteractiveText{Text: "Pick one"}, Action: InteractiveAction{Buttons: buttons},
	}}
}

func btn(id, title string) ReplyButton {
	return ReplyButton{Type: "reply", Reply: ReplyTitle{ID: id, Title: title}}
}

func rows(n int) []ListRow {
	out := make([]ListRow, n)
	for i := range out {
		out[i] = ListRow{ID: fmt.Sprint("r", i), Title: fmt.Sprint("Row ", i)}
	}
	return out
}

func listMsg(sections ...ListSection) *OutboundMessage {
	return &OutboundMessage{To: "+16505551234", Type: "interactive", Interactive: &Interactive{
		Type: "list", Body: &InteractiveText{Text: "Menu"}, Action: InteractiveAction{Button: "Choose", Sections: sections},
	}}
}

func ctaMsg(display, url string) *OutboundMessage {
	p, _ := json.Marshal(CTAURLParameters{DisplayText: display, URL: url})
	return &OutboundMessage{To: "+16505551234", Type: "interactive", Interactive: &Interactive{
		Type: "cta_url", Body: &InteractiveText{Text: "See our site"}, Action: InteractiveAction{Name: "cta_url", Parameters: p},
	}}
}

func tplMsg(t *Template) *OutboundMessage {
	return &OutboundMessage{To: "+16505551234", Type: "template", Template: t}
}

// with applies f to m and returns it, for one-off variations.
func with(m *OutboundMessage, f func(m *OutboundMessage)) *OutboundMessage {
	f(m)
	return m
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    *OutboundMessage
		code string // "" = valid
	}{
		{"nil", nil, "missing_message"},
		// recipient
		{"to missing", with(textMsg("hi"), func(m *OutboundMessage) { m.To = " " }), "missing_recipient"},
		{"to letters", with(textMsg("hi"), func(m *OutboundMessage) { m.To = "call me" }), "invalid_recipient"},
		{"to formatted", with(textMsg("hi"), func(m *OutboundMessage) { m.To = "+1 (650) 555-1234" }), ""},
		{"to BSUID", with(textMsg("hi"), func(m *OutboundMessage) { m.To = "US.13491208655302741918" }), ""},
		{"group recipient", with(textMsg("hi"), func(m *OutboundMessage) { m.RecipientType, m.To = "group", "Y2FwaV9ncm91cDox" }), ""},
		{"group without id", with(textMsg("hi"), func(m *OutboundMessage) { m.RecipientType, m.To = "group", "" }), "missing_recipient"},
		{"bad recipient_type", with(textMsg("hi"), func(m *OutboundMessage) { m.RecipientType = "broadcast" }), "invalid_recipient_type"},
		// type and parts
		{"type missing", with(textMsg("hi"), func(m *OutboundMessage) { m.Type = "" }), "missing_type"},
		{"type unknown", with(textMsg("hi"), func(m *OutboundMessage) { m.Type = "poll" }), "unknown_type"},
		{"part missing", &OutboundMessage{To: "+16505551234", Type: "text"}, "missing_part"},
		{"contacts missing", &OutboundMessage{To: "+16505551234", Type: "contacts"}, "missing_part"},
		{"extra part", with(textMsg("hi"), func(m *OutboundMessage) { m.Image = &MediaObject{ID: "1"} }), "extra_part"},
		{"wrong part", &OutboundMessage{To: "+16505551234", Type: "text", Video: &MediaObject{ID: "1"}}, "extra_part"},
		// text
		{"text 1", textMsg("x"), ""},
		{"text empty", textMsg(""), "empty_text"},
		{"text blank", textMsg(" \n "), "empty_text"},
		{"text 4096", textMsg(s(4096)), ""},
		{"text 4097", textMsg(s(4097)), "text_too_long"},
		// context
		{"reply", with(textMsg("hi"), func(m *OutboundMessage) { m.Context = &ReplyTo{MessageID: "wamid.X"} }), ""},
		{"reply without id", with(textMsg("hi"), func(m *OutboundMessage) { m.Context = &ReplyTo{} }), "missing_context_message_id"},
		// media
		{"image id", imageMsg(&MediaObject{ID: "123"}), ""},
		{"image https", imageMsg(&MediaObject{Link: "https://example.com/a.jpg"}), ""},
		{"image http", imageMsg(&MediaObject{Link: "http://example.com/a.jpg"}), ""},
		{"image ftp", imageMsg(&MediaObject{Link: "ftp://example.com/a.jpg"}), "invalid_link"},
		{"image relative", imageMsg(&MediaObject{Link: "/a.jpg"}), "invalid_link"},
		{"image id and link", imageMsg(&MediaObject{ID: "1", Link: "https://example.com/a.jpg"}), "ambiguous_media"},
		{"image neither", imageMsg(&MediaObject{Caption: "x"}), "missing_media"},
		{"caption 1024", imageMsg(&MediaObject{ID: "1", Caption: s(1024)}), ""},
		{"caption 1025", imageMsg(&MediaObject{ID: "1", Caption: s(1025)}), "caption_too_long"},
		{"video caption 1025", &OutboundMessage{To: "+16505551234", Type: "video", Video: &MediaObject{ID: "1", Caption: s(1025)}}, "caption_too_long"},
		{"document with filename", &OutboundMessage{To: "+16505551234", Type: "document", Document: &MediaObject{ID: "1", Filename: "a.pdf", Caption: s(1024)}}, ""},
		{"image with filename", imageMsg(&MediaObject{ID: "1", Filename: "a.jpg"}), "filename_not_allowed"},
		{"sticker caption", &OutboundMessage{To: "+16505551234", Type: "sticker", Sticker: &MediaObject{ID: "1", Caption: "x"}}, "caption_not_allowed"},
		{"audio caption", &OutboundMessage{To: "+16505551234", Type: "audio", Audio: &MediaObject{ID: "1", Caption: "x"}}, "caption_not_allowed"},
		{"audio voice", &OutboundMessage{To: "+16505551234", Type: "audio", Audio: &MediaObject{ID: "1", Voice: true}}, ""},
		{"image voice", imageMsg(&MediaObject{ID: "1", Voice: true}), "voice_not_allowed"},
		// reply buttons
		{"buttons 1", buttonsMsg(btn("a", "A")), ""},
		{"buttons 3", buttonsMsg(btn("a", "A"), btn("b", "B"), btn("c", "C")), ""},
		{"buttons 0", buttonsMsg(), "missing_buttons"},
		{"buttons 4", buttonsMsg(btn("a", "A"), btn("b", "B"), btn("c", "C"), btn("d", "D")), "too_many_buttons"},
		{"button titles equal", buttonsMsg(btn("a", "Yes"), btn("b", "Yes")), "duplicate_button_title"},
		{"button ids equal", buttonsMsg(btn("a", "Yes"), btn("a", "No")), "duplicate_button_id"},
		{"button title 20", buttonsMsg(btn("a", s(20))), ""},
		{"button title 21", buttonsMsg(btn("a", s(21))), "button_title_too_long"},
		{"button title empty", buttonsMsg(btn("a", "")), "missing_button_title"},
		{"button id 256", buttonsMsg(btn(s(256), "A")), ""},
		{"button id 257", buttonsMsg(btn(s(257), "A")), "button_id_too_long"},
		{"button id empty", buttonsMsg(btn("", "A")), "missing_button_id"},
		{"button type", buttonsMsg(ReplyButton{Reply: ReplyTitle{ID: "a", Title: "A"}}), "invalid_button_type"},
		{"button body 1024", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Body.Text = s(1024) }), ""},
		{"button body 1025", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Body.Text = s(1025) }), "body_too_long"},
		{"button body missing", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Body = nil }), "missing_body"},
		{"footer 60", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Footer = &InteractiveText{Text: s(60)} }), ""},
		{"footer 61", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Footer = &InteractiveText{Text: s(61)} }), "footer_too_long"},
		{"header text 60", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Header = &InteractiveHeader{Type: "text", Text: s(60)} }), ""},
		{"header text 61", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Header = &InteractiveHeader{Type: "text", Text: s(61)} }), "header_text_too_long"},
		{"header image", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) {
			m.Interactive.Header = &InteractiveHeader{Type: "image", Image: &MediaObject{Link: "https://example.com/a.png"}}
		}), ""},
		{"header image missing", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Header = &InteractiveHeader{Type: "image"} }), "missing_media"},
		{"header type unknown", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Header = &InteractiveHeader{Type: "gif"} }), "invalid_header"},
		{"interactive type missing", with(buttonsMsg(btn("a", "A")), func(m *OutboundMessage) { m.Interactive.Type = "" }), "missing_interactive_type"},
		// lists
		{"list ok", listMsg(ListSection{Rows: rows(10)}), ""},
		{"list 11 rows", listMsg(ListSection{Rows: rows(11)}), "too_many_rows"},
		{"list 11 rows across sections", listMsg(ListSection{Title: "A", Rows: rows(5)}, ListSection{Title: "B", Rows: rows(6)}), "too_many_rows"},
		{"list no sections", listMsg(), "missing_sections"},
		{"list 11 sections", listMsg(func() []ListSection {
			out := make([]ListSection, 11)
			for i := range out {
				out[i] = ListSection{Title: fmt.Sprint("S", i), Rows: []ListRow{{ID: fmt.Sprint(i), Title: "x"}}}
			}
			return out
		}()...), "too_many_sections"},
		{"list empty section", listMsg(ListSection{}), "missing_rows"},
		{"list 2 sections, one untitled", listMsg(ListSection{Title: "A", Rows: rows(1)}, ListSection{Rows: []ListRow{{ID: "z", Title: "Z"}}}), "missing_section_title"},
		{"section title 24", listMsg(ListSection{Title: s(24), Rows: rows(1)}), ""},
		{"section title 25", listMsg(ListSection{Title: s(25), Rows: rows(1)}), "section_title_too_long"},
		{"row title 24", listMsg(ListSection{Rows: []ListRow{{ID: "a", Title: s(24)}}}), ""},
		{"row title 25", listMsg(ListSection{Rows: []ListRow{{ID: "a", Title: s(25)}}}), "row_title_too_long"},
		{"row title empty", listMsg(ListSection{Rows: []ListRow{{ID: "a"}}}), "missing_row_title"},
		{"row id 200", listMsg(ListSection{Rows: []ListRow{{ID: s(200), Title: "A"}}}), ""},
		{"row id 201", listMsg(ListSection{Rows: []ListRow{{ID: s(201), Title: "A"}}}), "row_id_too_long"},
		{"row id empty", listMsg(ListSection{Rows: []ListRow{{Title: "A"}}}), "missing_row_id"},
		{"row ids equal", listMsg(ListSection{Rows: []ListRow{{ID: "a", Title: "A"}, {ID: "a", Title: "B"}}}), "duplicate_row_id"},
		{"row description 72", listMsg(ListSection{Rows: []ListRow{{ID: "a", Title: "A", Description: s(72)}}}), ""},
		{"row description 73", listMsg(ListSection{Rows: []ListRow{{ID: "a", Title: "A", Description: s(73)}}}), "row_description_too_long"},
		{"list button 20", with(listMsg(ListSection{Rows: rows(1)}), func(m *OutboundMessage) { m.Interactive.Action.Button = s(20) }), ""},
		{"list button 21", with(listMsg(ListSection{Rows: rows(1)}), func(m *OutboundMessage) { m.Interactive.Action.Button = s(21) }), "list_button_too_long"},
		{"list button missing", with(listMsg(ListSection{Rows: rows(1)}), func(m *OutboundMessage) { m.Interactive.Action.Button = "" }), "missing_list_button"},
		{"list body 4096", with(listMsg(ListSection{Rows: rows(1)}), func(m *OutboundMessage) { m.Interactive.Body.Text = s(4096) }), ""},
		{"list body 4097", with(listMsg(ListSection{Rows: rows(1)}), func(m *OutboundMessage) { m.Interactive.Body.Text = s(4097) }), "body_too_long"},
		{"list text header", with(listMsg(ListSection{Rows: rows(1)}), func(m *OutboundMessage) { m.Interactive.Header = &InteractiveHeader{Type: "text", Text: "Hi"} }), ""},
		{"list image header", with(listMsg(ListSection{Rows: rows(1)}), func(m *OutboundMessage) {
			m.Interactive.Header = &InteractiveHeader{Type: "image", Image: &MediaObject{ID: "1"}}
		}), "invalid_header"},
		// cta_url
		{"cta ok", ctaMsg(s(20), "https://example.com/x?y=1"), ""},
		{"cta http", ctaMsg("Visit", "http://example.com"), ""},
		{"cta display 21", ctaMsg(s(21), "https://example.com"), "display_text_too_long"},
		{"cta display empty", ctaMsg("", "https://example.com"), "missing_display_text"},
		{"cta url scheme", ctaMsg("Visit", "javascript:alert(1)"), "invalid_url"},
		{"cta url missing", ctaMsg("Visit", ""), "invalid_url"},
		{"cta no parameters", with(ctaMsg("Visit", "https://example.com"), func(m *OutboundMessage) { m.Interactive.Action.Parameters = nil }), "missing_parameters"},
		{"cta action name", with(ctaMsg("Visit", "https://example.com"), func(m *OutboundMessage) { m.Interactive.Action.Name = "" }), "invalid_action"},
		{"cta body 1025", with(ctaMsg("Visit", "https://example.com"), func(m *OutboundMessage) { m.Interactive.Body.Text = s(1025) }), "body_too_long"},
		{"flow body only checked", &OutboundMessage{To: "+16505551234", Type: "interactive", Interactive: &Interactive{Type: "flow", Action: InteractiveAction{Name: "flow"}}}, ""},
		{"flow body 1025", &OutboundMessage{To: "+16505551234", Type: "interactive", Interactive: &Interactive{Type: "flow", Body: &InteractiveText{Text: s(1025)}}}, "body_too_long"},
		// templates
		{"template ok", tplMsg(&Template{Name: "hello_world", Language: TemplateLanguage{Code: "en_US"}}), ""},
		{"template name 512", tplMsg(&Template{Name: strings.Repeat("a", 512), Language: TemplateLanguage{Code: "en"}}), ""},
		{"template name 513", tplMsg(&Template{Name: strings.Repeat("a", 513), Language: TemplateLanguage{Code: "en"}}), "invalid_template_name"},
		{"template name upper", tplMsg(&Template{Name: "Hello", Language: TemplateLanguage{Code: "en"}}), "invalid_template_name"},
		{"template name dash", tplMsg(&Template{Name: "hello-world", Language: TemplateLanguage{Code: "en"}}), "invalid_template_name"},
		{"template name empty", tplMsg(&Template{Language: TemplateLanguage{Code: "en"}}), "invalid_template_name"},
		{"template language", tplMsg(&Template{Name: "hello"}), "missing_language"},
		{"template components", tplMsg(&Template{Name: "order_confirmation", Language: TemplateLanguage{Code: "en_US"}, Components: []TemplateComponent{
			{Type: "header", Parameters: []TemplateParameter{{Type: "image", Image: &MediaObject{ID: "1"}}}},
			{Type: "body", Parameters: []TemplateParameter{{Type: "text", ParameterName: "first_name", Text: "Jessica"}}},
			{Type: "button", SubType: "quick_reply", Index: "0", Parameters: []TemplateParameter{{Type: "payload", Payload: "CANCEL_42"}}},
			{Type: "button", SubType: "url", Index: "1", Parameters: []TemplateParameter{{Type: "text", Text: "abc123"}}},
		}}), ""},
		{"template component type", tplMsg(&Template{Name: "t", Language: TemplateLanguage{Code: "en"}, Components: []TemplateComponent{{Type: "footer"}}}), "invalid_component_type"},
		{"template button index", tplMsg(&Template{Name: "t", Language: TemplateLanguage{Code: "en"}, Components: []TemplateComponent{{Type: "button", SubType: "url", Index: "one"}}}), "invalid_button_index"},
		{"template button no index", tplMsg(&Template{Name: "t", Language: TemplateLanguage{Code: "en"}, Components: []TemplateComponent{{Type: "button", SubType: "url"}}}), "invalid_button_index"},
		{"template button sub_type", tplMsg(&Template{Name: "t", Language: TemplateLanguage{Code: "en"}, Components: []TemplateComponent{{Type: "button", Index: "0"}}}), "missing_button_sub_type"},
		{"template parameter type", tplMsg(&Template{Name: "t", Language: TemplateLanguage{Code: "en"}, Components: []TemplateComponent{{Type: "body", Parameters: []TemplateParameter{{Text: "x"}}}}}), "missing_parameter_type"},
		{"template image parameter", tplMsg(&Template{Name: "t", Language: TemplateLanguage{Code: "en"}, Components: []TemplateComponent{{Type: "header", Parameters: []TemplateParameter{{Type: "image"}}}}}), "missing_media"},
		// location
		{"location edges", &OutboundMessage{To: "+16505551234", Type: "location", Location: &LocationBody{Latitude: -90, Longitude: 180}}, ""},
		{"latitude 90.1", &OutboundMessage{To: "+16505551234", Type: "location", Location: &LocationBody{Latitude: 90.1}}, "invalid_latitude"},
		{"latitude NaN", &OutboundMessage{To: "+16505551234", Type: "location", Location: &LocationBody{Latitude: math.NaN()}}, "invalid_latitude"},
		{"longitude -180.5", &OutboundMessage{To: "+16505551234", Type: "location", Location: &LocationBody{Longitude: -180.5}}, "invalid_longitude"},
		// contacts
		{"contacts ok", &OutboundMessage{To: "+16505551234", Type: "contacts", Contacts: []ContactCard{{Name: ContactName{FormattedName: "Ann Lee"}}}}, ""},
		{"contact unnamed", &OutboundMessage{To: "+16505551234", Type: "contacts", Contacts: []ContactCard{{Name: ContactName{FirstName: "Ann"}}}}, "missing_contact_name"},
		// reaction
		{"reaction", &OutboundMessage{To: "+16505551234", Type: "reaction", Reaction: &ReactionBody{MessageID: "wamid.X", Emoji: "👍"}}, ""},
		{"reaction removal", &OutboundMessage{To: "+16505551234", Type: "reaction", Reaction: &ReactionBody{MessageID: "wamid.X"}}, ""},
		{"reaction without id", &OutboundMessage{To: "+16505551234", Type: "reaction", Reaction: &ReactionBody{Emoji: "👍"}}, "missing_message_id"},
		{"reaction as reply", &OutboundMessage{To: "+16505551234", Type: "reaction", Reaction: &ReactionBody{MessageID: "w"}, Context: &ReplyTo{MessageID: "w"}}, "context_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.m.Validate()
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError %s", err, tt.code)
			}
			if ve.Code != tt.code {
				t.Fatalf("Code = %s (%v), want %s", ve.Code, err, tt.code)
			}
			if ve.Message == "" || ve.Field == "" && tt.code != "missing_message" {
				t.Errorf("incomplete error %+v", ve)
			}
			if Classify(err) != FixRequest {
				t.Errorf("Classify = %v, want FixRequest", Classify(err))
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	err := textMsg(s(4097)).Validate()
	want := "invalid message: text.body: text.body is 4097 characters; the limit is 4096"
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %v, want %q", err, want)
	}
}

func TestNormalizeRecipient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" = error
	}{
		{"+16505551234", "+16505551234"},
		{"16505551234", "+16505551234"},
		{"+1 (650) 555-1234", "+16505551234"},
		{"+1.650.555.1234", "+16505551234"},
		{"  +44 20 7946 0958 ", "+442079460958"},
		{"0044 20 7946 0958", "+442079460958"},
		{"+55\u00a011 91234-5678", "+5511912345678"},
		{"12345678", "+12345678"},               // 8 digits
		{"1234567", ""},                         // 7 digits
		{"123456789012345", "+123456789012345"}, // 15 digits
		{"1234567890123456", ""},                // 16 digits
		{"0612345678", ""},                      // national format: no country code
		{"+0612345678", ""},                     // no country code starts with 0
		{"+1650555123a", ""},                    // letter
		{"1-800-FLOWERS", ""},                   // letters
		{"+1+6505551234", ""},                   // two +
		{"1650+5551234", ""},                    // + inside
		{"", ""},
		{"   ", ""},
		{"US.13491208655302741918", "US.13491208655302741918"},
		{"US.ENT.11815799212886844830", "US.ENT.11815799212886844830"},
		{"US.", ""},
		{".1234", ""},
		{"US..1234", ""},
		{"U1.1234", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeRecipient(tt.in)
		if tt.want == "" {
			var ve *ValidationError
			if err == nil || !errors.As(err, &ve) || ve.Field != "to" || (ve.Code != "invalid_recipient" && ve.Code != "missing_recipient") {
				t.Errorf("NormalizeRecipient(%q) = %q, %v; want an invalid_recipient error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeRecipient(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestIsTemplateAndSummary(t *testing.T) {
	t.Parallel()
	tpl := tplMsg(&Template{Name: "hello_world", Language: TemplateLanguage{Code: "en_US"}, Components: []TemplateComponent{
		{Type: "header", Parameters: []TemplateParameter{{Type: "text", Text: "param1"}}},
		{Type: "body", Parameters: []TemplateParameter{{Type: "text", Text: "param2"}, {Type: "currency"}}},
		{Type: "button", SubType: "quick_reply", Index: "0", Parameters: []TemplateParameter{{Type: "payload", Payload: "P"}}},
	}})
	if !tpl.IsTemplate() || textMsg("x").IsTemplate() || (*OutboundMessage)(nil).IsTemplate() {
		t.Error("IsTemplate is wrong")
	}
	to := "+16505551234"
	tests := []struct {
		m    *OutboundMessage
		want string
	}{
		{nil, ""},
		{textMsg("Hello there"), "Hello there"},
		{imageMsg(&MediaObject{ID: "1", Caption: "Our menu"}), "[image] Our menu"},
		{imageMsg(&MediaObject{ID: "1"}), "[image]"},
		{&OutboundMessage{To: to, Type: "document", Document: &MediaObject{ID: "1", Filename: "invoice.pdf"}}, "[document] invoice.pdf"},
		{&OutboundMessage{To: to, Type: "audio", Audio: &MediaObject{ID: "1", Voice: true}}, "[voice note]"},
		{&OutboundMessage{To: to, Type: "sticker", Sticker: &MediaObject{ID: "1"}}, "[sticker]"},
		{tpl, "[template hello_world en_US] param1, param2"},
		{tplMsg(&Template{Name: "hello_world", Language: TemplateLanguage{Code: "en_US"}}), "[template hello_world en_US]"},
		{buttonsMsg(btn("a", "A")), "Pick one"},
		{&OutboundMessage{To: to, Type: "interactive", Interactive: &Interactive{Type: "product"}}, "[interactive product]"},
		{&OutboundMessage{To: to, Type: "location", Location: &LocationBody{Latitude: 37.48, Longitude: -122.14, Name: "HQ", Address: "1 Hacker Way"}}, "[location] HQ, 1 Hacker Way"},
		{&OutboundMessage{To: to, Type: "location", Location: &LocationBody{Latitude: 37.48, Longitude: -122.14}}, "[location] 37.48, -122.14"},
		{&OutboundMessage{To: to, Type: "reaction", Reaction: &ReactionBody{MessageID: "w", Emoji: "👍"}}, "👍"},
		{&OutboundMessage{To: to, Type: "reaction", Reaction: &ReactionBody{MessageID: "w"}}, "[reaction removed]"},
		{&OutboundMessage{To: to, Type: "contacts", Contacts: []ContactCard{{Name: ContactName{FormattedName: "Ann Lee"}}, {Name: ContactName{FormattedName: "Bob Stone"}}}}, "[contact] Ann Lee, Bob Stone"},
		{&OutboundMessage{To: to, Type: "text"}, "[text]"},
		{&OutboundMessage{To: to, Type: "poll"}, "[poll]"},
	}
	for _, tt := range tests {
		if got := tt.m.Summary(); got != tt.want {
			t.Errorf("Summary() = %q, want %q", got, tt.want)
		}
	}
}

// FuzzValidate feeds arbitrary send requests, as the REST API receives
// them, to Validate, Summary and NormalizeRecipient: none may panic, and a
// normalized recipient must normalize to itself.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"to":"+1 650 555 1234","type":"text","text":{"body":"hi"}}`))
	f.Add([]byte(`{"to":"US.1349","type":"interactive","interactive":{"type":"list","body":{"text":"b"},"action":{"button":"x","sections":[{"rows":[{"id":"1","title":"t"}]}]}}}`))
	f.Add([]byte(`{"to":"0044 20","type":"interactive","interactive":{"type":"cta_url","action":{"name":"cta_url","parameters":{"display_text":"d","url":"https://x"}}}}`))
	f.Add([]byte(`{"to":"+16505551234","type":"template","template":{"name":"t","language":{"code":"en"},"components":[{"type":"button","index":"0","parameters":[{"type":"image"}]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m OutboundMessage
		if json.Unmarshal(data, &m) != nil {
			return
		}
		err := m.Validate()
		var ve *ValidationError
		if err != nil && (!errors.As(err, &ve) || ve.Code == "" || ve.Message == "") {
			t.Fatalf("Validate returned %#v", err)
		}
		_ = m.Summary()
		if to, err := NormalizeRecipient(m.To); err == nil {
			if again, err := NormalizeRecipient(to); err != nil || again != to {
				t.Fatalf("NormalizeRecipient(%q) = %q, then %q, %v", m.To, to, again, err)
			}
		}
	})
}
