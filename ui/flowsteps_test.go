package ui_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"sendbox/flows"
	"sendbox/sendboxtest"
)

// TestFlowEditorStepCapabilities builds, through the editor's form, a flow
// that sends an image and a link button, labels the conversation and waits
// until the day before the visit asked for, at 10:00: each saves as typed,
// a plain http link is reported by its step, the variables list offers
// the contact's consent and country, and publishing waits for the labels
// to exist.
func TestFlowEditorStepCapabilities(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	b := setupOwner(t, a)
	id := createFlowInPanel(t, b, "Visit")
	_, page := b.get("/flows/" + itoa(id))
	_, page = b.edit(page, id, "add:end", map[string]string{"t0.keywords": "visit", "add": "ask"})
	_, page = b.edit(page, id, "add:0", map[string]string{"s0.text": "When is your visit?", "s0.var": "visit", "s0.input": "date", "s0.add": "send"})
	// A text switched to an image keeps it as the caption.
	_, page = b.edit(page, id, "add:1", map[string]string{"s1.text": "Your visit card", "s1.tmpl": "=image", "s1.add": "send"})
	_, page = b.edit(page, id, "add:2", map[string]string{"s1.media_link": "http://clinic.example.com/card.png",
		"s2.text": "Manage your visit", "s2.tmpl": "=cta", "s2.add": "set"})
	_, page = b.edit(page, id, "add:3", map[string]string{"s2.cta_text": "Open", "s2.cta_url": "https://clinic.example.com/v/{{vars.visit}}",
		"s3.add_label": "VIP", "s3.remove_label": "New lead", "s3.add": "wait"})
	if card := stepCard(t, page, "send"); !strings.Contains(card, "starts with https://") || !strings.Contains(card, `name="s1.media_caption"`) {
		t.Fatalf("the image's card does not show its plain http link's problem:\n%s", card)
	}
	// The wait switched to a date waits for the date question's answer.
	_, page = b.edit(page, id, "save", map[string]string{"s1.media_link": "https://clinic.example.com/card.png", "s4.wait_kind": "date"})
	if card := stepCard(t, page, "wait"); !strings.Contains(card, `value="vars.visit"`) || !strings.Contains(card, `name="s4.on_missing"`) {
		t.Fatalf("the wait until a date's card:\n%s", card)
	}
	_, page = b.edit(page, id, "add:4", map[string]string{"s4.offset": "-1d", "s4.at": "10:00", "s4.yearly": "on", "s4.add": "condition"})
	_, page = b.edit(page, id, "save", map[string]string{"s5.left": "contact.country", "s5.op": "eq", "s5.right": "IT", "s5.then": "set"})

	f, err := a.Flows.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	s := f.DraftDef.Steps
	want := []flows.Step{
		{ID: "ask", Type: flows.StepAsk, Input: flows.InputDate, Var: "visit", Text: "When is your visit?"},
		{ID: "send", Type: flows.StepSend, Media: &flows.MediaRef{Type: flows.MediaImage, Link: "https://clinic.example.com/card.png", Caption: "Your visit card"}},
		{ID: "send_2", Type: flows.StepSend, Text: "Manage your visit", CTA: &flows.CTAButton{DisplayText: "Open", URL: "https://clinic.example.com/v/{{vars.visit}}"}},
		{ID: "set", Type: flows.StepSet, AddLabel: "VIP", RemoveLabel: "New lead"},
		{ID: "wait", Type: flows.StepWait, UntilAttribute: "vars.visit", Offset: "-1d", At: "10:00", Yearly: true},
		{ID: "condition", Type: flows.StepCondition, If: &flows.Cond{Left: "contact.country", Op: "eq", Right: "IT"}, Then: "set"},
	}
	if !reflect.DeepEqual(s, want) {
		g, _ := json.MarshalIndent(s, "", " ")
		t.Fatalf("the draft saved:\n%s", g)
	}
	if len(f.Problems) != 0 {
		t.Fatalf("problems: %+v", f.Problems)
	}
	for _, w := range []string{`<option value="contact.consent">`, `<option value="contact.country">`, "until vars.visit -1d 10:00", "[image] Your visit card"} {
		if !strings.Contains(page, w) {
			t.Errorf("the editor does not show %q", w)
		}
	}

	// Publishing wants the labels to exist.
	resp, page := b.edit(page, id, "publish", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="flow-error"`) || !strings.Contains(stepCard(t, page, "set"), "label is called") {
		t.Fatalf("publish without the labels: %d\n%s", resp.StatusCode, page)
	}
	for _, l := range []string{"VIP", "New lead"} {
		if _, err := a.Store.CreateLabel(ctx, l, 1); err != nil {
			t.Fatal(err)
		}
	}
	_, page = b.get("/flows/" + itoa(id))
	if !strings.Contains(page, `<datalist id="flow-labels"><option value="New lead"><option value="VIP">`) {
		t.Errorf("the editor does not offer the labels")
	}
	if resp, page := b.edit(page, id, "publish", nil); resp.StatusCode != 200 || !strings.Contains(page, "Published as version 1") {
		t.Fatalf("publish: %d\n%s", resp.StatusCode, page)
	}

	// Back to a duration and to a text: the date's fields go, the caption
	// becomes the text.
	_, page = b.edit(page, id, "save", map[string]string{"s4.wait_kind": "duration", "s4.duration": "2h", "s1.tmpl": ""})
	f, _ = a.Flows.Get(ctx, id)
	if w := f.DraftDef.Steps[4]; w.UntilAttribute != "" || w.Offset != "" || w.Duration != "2h" {
		t.Fatalf("the wait back to a duration: %+v", w)
	}
	if s := f.DraftDef.Steps[1]; s.Media != nil || s.Text != "Your visit card" {
		t.Fatalf("the image back to a text: %+v", s)
	}
}

// TestFlowEditorRoundTripStepCapabilities: a save from the editor keeps
// every field of the new step kinds as they were.
func TestFlowEditorRoundTripStepCapabilities(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	want := flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"hi"}}},
		Steps: []flows.Step{
			{ID: "pdf", Type: flows.StepSend, Media: &flows.MediaRef{Type: flows.MediaDocument, Link: "https://a.example.com/i.pdf",
				Caption: "Your invoice", Filename: "invoice.pdf"}},
			{ID: "vid", Type: flows.StepSend, Media: &flows.MediaRef{Type: flows.MediaVideo, Link: "https://a.example.com/t.mp4"}},
			{ID: "cta", Type: flows.StepSend, Text: "Track it", CTA: &flows.CTAButton{DisplayText: "Track", URL: "https://a.example.com/t"}},
			{ID: "lbl", Type: flows.StepSet, AddLabel: "VIP", RemoveTag: "lead"},
			{ID: "cons", Type: flows.StepCondition, If: &flows.Cond{Left: "contact.consent", Op: flows.OpEq, Right: "opted_in"}, Then: "bday", Else: "bday"},
			{ID: "bday", Type: flows.StepWait, UntilAttribute: "birthday", Offset: "-1d", At: "09:00", Yearly: true, OnMissing: "done",
				UntilReply: true, OnReply: "done", Var: "reply"},
			{ID: "done", Type: flows.StepEnd},
		},
	}
	raw, _ := json.Marshal(want)
	f, err := a.Flows.Create(ctx, "Round trip", raw)
	if err != nil {
		t.Fatal(err)
	}
	b := setupOwner(t, a)
	_, page := b.get("/flows/" + itoa(f.ID))
	if resp, body := b.edit(page, f.ID, "save", nil); resp.StatusCode != 200 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	got, _ := a.Flows.Get(ctx, f.ID)
	if !reflect.DeepEqual(*got.DraftDef, want) {
		g, _ := json.MarshalIndent(got.DraftDef, "", " ")
		t.Fatalf("after a save from the editor:\n%s", g)
	}
	// Renaming the step on_missing names keeps it named.
	if _, _ = b.edit(page, f.ID, "save", map[string]string{"s6.id": "end"}); true {
		if got, _ := a.Flows.Get(ctx, f.ID); got.DraftDef.Steps[5].OnMissing != "end" {
			t.Fatalf("on_missing after a rename: %+v", got.DraftDef.Steps[5])
		}
	}
}

// TestPhoneShowsFlowMediaAndLinkButton: on the test phone, a flow's image
// sent by link opens its link, and a link button opens its URL.
func TestPhoneShowsFlowMediaAndLinkButton(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	def, _ := json.Marshal(flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"card"}}},
		Steps: []flows.Step{
			{ID: "img", Type: flows.StepSend, Media: &flows.MediaRef{Type: flows.MediaImage, Link: "https://clinic.example.com/card.png", Caption: "Your card"}},
			{ID: "cta", Type: flows.StepSend, Text: "Manage your visit", CTA: &flows.CTAButton{DisplayText: "Open", URL: "https://clinic.example.com/v"}},
		}})
	f, err := a.Flows.Create(ctx, "Card", def)
	if err != nil {
		t.Fatal(err)
	}
	const phone = "393401130077"
	m := say(t, a, phone, "Tina", "hello")
	if _, err := a.Flows.Try(ctx, f.ID, m.ContactID); err != nil {
		t.Fatal(err)
	}
	b := setupOwner(t, a)
	sendboxtest.Eventually(t, 20*time.Second, "the phone to show the image's link and the link button", func() bool {
		_, page := b.get("/phone?wa=" + phone)
		return strings.Contains(page, `class="media-link" href="https://clinic.example.com/card.png"`) &&
			strings.Contains(page, `class="url-button" href="https://clinic.example.com/v"`)
	})
}
