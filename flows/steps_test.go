package flows

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestValidateStepCapabilities: waits until a date, labels, media and link
// buttons are checked when publishing: their fields, Meta's limits, https
// links, the window and the loops.
func TestValidateStepCapabilities(t *testing.T) {
	msg := Trigger{Type: TriggerKeyword, Keywords: []string{"hi"}}
	ev := Trigger{Type: TriggerEvent, Event: "order.created"}
	ask := Step{ID: "q", Type: StepAsk, Input: InputDate, Var: "visit", Text: "When?"}
	for _, c := range []struct {
		name string
		d    Definition
		want []string
	}{
		{"a wait until a date, all forms", Definition{Triggers: []Trigger{msg}, Steps: []Step{ask,
			{ID: "w1", Type: StepWait, UntilAttribute: "birthday", Offset: "-1d", At: "10:00", Yearly: true, OnMissing: "end"},
			{ID: "w2", Type: StepWait, UntilAttribute: "vars.visit", Offset: "+2h"},
			{ID: "w3", Type: StepWait, UntilAttribute: "attributes.next_visit", Offset: "-30m"},
			{ID: "t", Type: StepSend, Template: &TemplateRef{Name: "reminder", Language: "en"}},
			{ID: "end", Type: StepEnd}}}, nil},
		{"a wait until a date is bad in every way", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "w1", Type: StepWait, UntilAttribute: "vars.nobody", Duration: "1d", Offset: "tomorrow"},
			{ID: "w2", Type: StepWait, UntilAttribute: "time.hour"},
			{ID: "w3", Type: StepWait, Offset: "-1d"},
			{ID: "w4", Type: StepWait, UntilAttribute: "birthday", Offset: "-400d", At: "25:00", OnMissing: "ghost"}}},
			[]string{"w1:unknown_variable", "w1:unexpected", "w1:invalid", "w2:invalid", "w3:required", "w4:invalid", "w4:unknown_step"}},
		{"a text after a wait until a date may be a day late", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "w", Type: StepWait, UntilAttribute: "next_visit", Offset: "-1h"},
			{ID: "late", Type: StepSend, Text: "See you soon"}}}, []string{"late:outside_window"}},
		{"a missing date goes on at once: its branch stays in the window", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "w", Type: StepWait, UntilAttribute: "next_visit", OnMissing: "ask"},
			{ID: "t", Type: StepSend, Template: &TemplateRef{Name: "reminder", Language: "en"}, Next: "done"},
			{ID: "ask", Type: StepSend, Text: "When is your next visit?"},
			{ID: "done", Type: StepEnd}}}, nil},
		{"a date already past loops at once", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "w", Type: StepWait, UntilAttribute: "next_visit"},
			{ID: "t", Type: StepSend, Template: &TemplateRef{Name: "reminder", Language: "en"}, Next: "w"}}},
			[]string{"t:loop_without_wait"}},
		{"an anniversary is always ahead: a yearly loop is fine", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "w", Type: StepWait, UntilAttribute: "birthday", Yearly: true, OnMissing: "done"},
			{ID: "t", Type: StepSend, Template: &TemplateRef{Name: "birthday", Language: "en"}, Next: "w"},
			{ID: "done", Type: StepEnd}}}, nil},
		{"labels", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "ok", Type: StepSet, AddLabel: "VIP", RemoveLabel: "New lead"},
			{ID: "same", Type: StepSet, AddLabel: "VIP", RemoveLabel: "vip"},
			{ID: "spaces", Type: StepSet, AddLabel: " VIP"}}}, []string{"same:conflict", "spaces:invalid"}},
		{"media and link buttons", Definition{Triggers: []Trigger{msg}, Steps: []Step{ask,
			{ID: "img", Type: StepSend, Media: &MediaRef{Type: MediaImage, Link: "https://shop.example.com/p/{{vars.visit}}.jpg", Caption: "For {{contact.name}}"}},
			{ID: "pdf", Type: StepSend, Media: &MediaRef{Type: MediaDocument, Link: "https://shop.example.com/invoice.pdf", Filename: "invoice.pdf"}},
			{ID: "vid", Type: StepSend, Media: &MediaRef{Type: MediaVideo, Link: "https://cdn.example.com/tips.mp4"}},
			{ID: "cta", Type: StepSend, Text: "Your order ships today", CTA: &CTAButton{DisplayText: "Track order", URL: "https://shop.example.com/track?o={{vars.visit}}"}}}}, nil},
		{"media and link buttons, wrong", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "http", Type: StepSend, Media: &MediaRef{Type: MediaImage, Link: "http://shop.example.com/a.jpg"}},
			{ID: "host", Type: StepSend, Media: &MediaRef{Type: MediaImage, Link: "https://{{attributes.shop}}/a.jpg"}},
			{ID: "kind", Type: StepSend, Media: &MediaRef{Type: "sticker", Link: "https://a.example.com/s.webp"}},
			{ID: "fname", Type: StepSend, Media: &MediaRef{Type: MediaImage, Link: "https://a.example.com/a.jpg", Filename: "a.jpg"}},
			{ID: "cap", Type: StepSend, Media: &MediaRef{Type: MediaImage, Link: "https://a.example.com/a.jpg", Caption: strings.Repeat("x", 1025)}},
			{ID: "text", Type: StepSend, Text: "Look", Media: &MediaRef{Type: MediaImage, Link: "https://a.example.com/a.jpg"}},
			{ID: "label", Type: StepSend, Text: "Track", CTA: &CTAButton{DisplayText: "Track your order right now", URL: "https://a.example.com"}},
			{ID: "ctahttp", Type: StepSend, Text: "Track", CTA: &CTAButton{DisplayText: "Track", URL: "ftp://a.example.com"}},
			{ID: "both", Type: StepSend, Text: "Track", CTA: &CTAButton{DisplayText: "Track", URL: "https://a.example.com"}, Buttons: []Choice{{ID: "a", Title: "A"}}},
			{ID: "notext", Type: StepSend, CTA: &CTAButton{DisplayText: "Track", URL: "https://a.example.com"}},
			{ID: "ghost", Type: StepSend, Text: "Track", CTA: &CTAButton{DisplayText: "Track", URL: "https://a.example.com/{{vars.ghost}}"}}}},
			[]string{"http:invalid_link", "host:invalid_link", "kind:invalid_media_type", "fname:unexpected", "cap:too_long",
				"text:unexpected", "label:too_long", "ctahttp:invalid_link", "both:unexpected", "notext:required", "ghost:unknown_variable"}},
		{"a media message from an event is outside the window", Definition{Triggers: []Trigger{ev}, Steps: []Step{
			{ID: "img", Type: StepSend, Media: &MediaRef{Type: MediaImage, Link: "https://a.example.com/a.jpg"}}}},
			[]string{"img:outside_window"}},
		{"consent and country are names", Definition{Triggers: []Trigger{msg}, Steps: []Step{
			{ID: "c", Type: StepCondition, If: &Cond{All: []Cond{{Left: "contact.consent", Op: OpEq, Right: "opted_in"},
				{Left: "contact.country", Op: OpEq, Right: "IT"}}}, Then: "e"},
			{ID: "e", Type: StepEnd}}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := codes(c.d.Validate())
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Fatalf("want %s in %v", w, got)
				}
			}
			if len(c.want) == 0 && len(got) > 0 {
				t.Fatalf("unexpected problems %v", c.d.Validate())
			}
		})
	}
}

// TestUntilDate: when a wait until a date ends, in the business's zone:
// days as calendar days, a time of day, anniversaries, moments, and a
// missing or unreadable date.
func TestUntilDate(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Skip("no time zone data")
	}
	now := time.Date(2026, 3, 20, 15, 0, 0, 0, rome)
	env := &Env{Now: now, Attributes: map[string]string{"birthday": "1990-03-29", "leap": "2000-02-29",
		"visit": "2026-04-02T09:30:00+02:00", "local": "2026-04-02 09:30", "bad": "soon", "yesterday": "2026-03-19",
		"newyear": "1990-12-31"},
		Vars: map[string]string{"when": "2026-03-30"}, Event: map[string]string{"delivery": "30/03/2026"}}
	for _, c := range []struct {
		s    Step
		want string // "" for none
	}{
		// 29 March 2026 is the night clocks change in Rome: the day before is a calendar day.
		{Step{UntilAttribute: "vars.when", Offset: "-1d", At: "10:00"}, "2026-03-29T10:00:00+02:00"},
		{Step{UntilAttribute: "vars.when"}, "2026-03-30T00:00:00+02:00"},
		{Step{UntilAttribute: "event.delivery", Offset: "+1d", At: "09:00"}, "2026-03-31T09:00:00+02:00"},
		{Step{UntilAttribute: "birthday", Yearly: true, At: "09:00"}, "2026-03-29T09:00:00+02:00"},
		{Step{UntilAttribute: "birthday", Yearly: true, Offset: "-10d", At: "09:00"}, "2027-03-19T09:00:00+01:00"},
		{Step{UntilAttribute: "attributes.leap", Yearly: true}, "2027-02-28T00:00:00+01:00"},
		// Last year's 31 December, 80 days on, is still ahead.
		{Step{UntilAttribute: "newyear", Yearly: true, Offset: "+80d"}, "2026-03-21T00:00:00+01:00"},
		{Step{UntilAttribute: "visit", Offset: "-2h"}, "2026-04-02T07:30:00+02:00"},
		{Step{UntilAttribute: "local", Offset: "+30m"}, "2026-04-02T10:00:00+02:00"},
		{Step{UntilAttribute: "yesterday", At: "10:00"}, "2026-03-19T10:00:00+01:00"}, // past: the engine goes on at once
		{Step{UntilAttribute: "bad"}, ""},
		{Step{UntilAttribute: "missing"}, ""},
	} {
		got, ok := c.s.untilDate(env)
		switch {
		case c.want == "" && ok:
			t.Errorf("%+v: %v, want none", c.s, got)
		case c.want != "" && (!ok || got.Format(time.RFC3339) != c.want):
			t.Errorf("%+v: %v %v, want %s", c.s, got.Format(time.RFC3339), ok, c.want)
		}
	}
}

// TestConsentCountryAndLinks: conditions read the contact's consent and
// country; a link's variables are escaped and cannot change its host.
func TestConsentCountryAndLinks(t *testing.T) {
	env := &Env{Phone: "+393331234567", Consent: "opted_in", Country: "IT", Vars: map[string]string{"order": "A 1/2&x=1"}}
	for _, c := range []struct {
		cond Cond
		want bool
	}{
		{Cond{Left: "contact.consent", Op: OpEq, Right: "opted_in"}, true},
		{Cond{Left: "contact.consent", Op: OpEq, Right: "opted_out"}, false},
		{Cond{Left: "contact.country", Op: OpEq, Right: "it"}, true},
		{Cond{Left: "contact.country", Op: OpNe, Right: "FR"}, true},
		{Cond{Left: "contact.country", Op: OpMissing}, false},
	} {
		if got := env.Holds(&c.cond); got != c.want {
			t.Errorf("%+v: %v", c.cond, got)
		}
	}
	if got := env.RenderURL("https://shop.example.com/track/{{vars.order}}?x={{vars.order}}"); got != "https://shop.example.com/track/A%201%2F2%26x%3D1?x=A%201%2F2%26x%3D1" {
		t.Fatalf("link: %s", got)
	}
	m := ctaMessage(env, "Your order", &CTAButton{DisplayText: "Track", URL: "https://shop.example.com/t/{{vars.order}}"})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	var p struct{ DisplayText, URL string }
	json.Unmarshal(m.Interactive.Action.Parameters, &p)
	if m.Interactive.Type != "cta_url" || p.URL != "https://shop.example.com/t/A%201%2F2%26x%3D1" {
		t.Fatalf("cta message: %+v %+v", m.Interactive, p)
	}
	doc := mediaMessage(env, &MediaRef{Type: MediaDocument, Link: "https://shop.example.com/i.pdf", Caption: " Invoice ", Filename: "invoice.pdf"})
	if err := doc.Validate(); err != nil || doc.Document == nil || doc.Document.Caption != "Invoice" || doc.Document.Filename != "invoice.pdf" {
		t.Fatalf("document: %+v %v", doc.Document, err)
	}
}

// TestDiagramShowsStepCapabilities: the diagram says what a wait until a
// date, a label, a media and a link button do.
func TestDiagramShowsStepCapabilities(t *testing.T) {
	d := &Definition{Steps: []Step{
		{ID: "w", Type: StepWait, UntilAttribute: "birthday", Offset: "-1d", At: "10:00", OnMissing: "l"},
		{ID: "img", Type: StepSend, Media: &MediaRef{Type: MediaImage, Link: "https://a.example.com/a.jpg", Caption: "Cake"}},
		{ID: "cta", Type: StepSend, Text: "Order", CTA: &CTAButton{DisplayText: "Track", URL: "https://a.example.com"}},
		{ID: "l", Type: StepSet, AddLabel: "VIP"},
	}}
	svg := string(Diagram(d))
	for _, want := range []string{"until birthday -1d 10:00", "on_missing", "[image] Cake", "[Track ↗]", "+label VIP"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the diagram does not say %q", want)
		}
	}
}
