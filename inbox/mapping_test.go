package inbox

import (
	"strings"
	"testing"

	"sendbox/whatsapp"
)

func TestPreview(t *testing.T) {
	cases := []struct{ typ, text, file, want string }{
		{"text", "Ciao,\n  avete   posto?", "", "Ciao, avete posto?"},
		{"image", "", "", "Photo"},
		{"image", "Il divano verde", "", "Photo: Il divano verde"},
		{"document", "", "preventivo.pdf", "preventivo.pdf"},
		{"location", "Via Roma 1", "", "Location: Via Roma 1"},
		{"interactive", "Sì, confermo", "", "Sì, confermo"},
		{"poll_v2", "", "", "poll_v2"},
		{"text", strings.Repeat("è", 200), "", strings.Repeat("è", 139) + "…"},
	}
	for _, c := range cases {
		if got := Preview(c.typ, c.text, c.file); got != c.want {
			t.Errorf("Preview(%q, %q, %q) = %q, want %q", c.typ, c.text, c.file, got, c.want)
		}
	}
}

func TestInboundRowEffects(t *testing.T) {
	edit := &whatsapp.InboundMessage{ID: "w2", From: "39", Type: "edit", Text: "new",
		Edit: &whatsapp.Edit{OriginalID: "w1"}, Media: &whatsapp.Media{ID: "m1"}}
	r, ok := inboundRow(edit)
	if !ok || r.Effect != "edit" || r.RelatedWAMID != "w1" || !r.Silent || r.MediaID != "" {
		t.Fatalf("edit: %+v", r)
	}
	sys := &whatsapp.InboundMessage{ID: "w3", From: "39", Type: "system",
		System: &whatsapp.System{Type: "user_changed_number", NewWaID: "40"}}
	if r, _ := inboundRow(sys); r.Effect != "number_changed" || r.NewWaID != "40" {
		t.Fatalf("system: %+v", r)
	}
	anon := &whatsapp.InboundMessage{ID: "w4", Type: "text"}
	if _, ok := inboundRow(anon); ok {
		t.Fatal("a message with no sender id was accepted as a row")
	}
	bsuid := &whatsapp.InboundMessage{ID: "w5", Type: "text", Profile: whatsapp.Profile{UserID: "US.1"}}
	if r, ok := inboundRow(bsuid); !ok || r.UserID != "US.1" || r.WaID != "" {
		t.Fatalf("bsuid from the profile: %+v", r)
	}
}
