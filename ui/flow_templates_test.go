package ui_test

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/templates"
	"sendbox/whatsapp/sim"
)

// TestFlowEditorMissingTemplates: on a real account (Meta's Graph, here an
// external simulator that has approved only hello_world and usage_tips,
// and has cross_sell under review), the cosmetics flow's editor lists the
// templates to submit: name, language, category, the body with its
// placeholders, example values, how the customer reads it, and where to
// submit it; an approved one is not listed, one under review says so.
func TestFlowEditorMissingTemplates(t *testing.T) {
	var tips, cross templates.Template
	for _, c := range templates.Catalogue() {
		switch c.Name + "/" + c.Language {
		case "usage_tips/en":
			tips = c
		case "cross_sell/en":
			cross = c
		}
	}
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{Templates: []sim.Template{
		{Name: "hello_world", Language: "en_US", Category: "UTILITY", Body: "Hello"},
		{Name: tips.Name, Language: tips.Language, Category: tips.Category, Body: tips.Body},
		{Name: cross.Name, Language: cross.Language, Category: cross.Category, Body: cross.Body, Status: "PENDING"},
	}}))
	ctx := context.Background()
	f, err := a.Flows.CreateReady(ctx, "cosmetics_after_purchase")
	if err != nil {
		t.Fatal(err)
	}
	b := setupOwner(t, a)
	_, page := b.get("/flows/" + itoa(f.ID))
	i := strings.Index(page, `id="missing-templates"`)
	if i < 0 {
		t.Fatalf("the editor does not list the templates to submit:\n%s", page)
	}
	card := page[i : i+strings.Index(page[i:], "</section>")]
	block := func(key string) string {
		j := strings.Index(card, `data-template="`+key+`"`)
		if j < 0 {
			t.Fatalf("the templates to submit do not list %s:\n%s", key, card)
		}
		k := strings.Index(card[j+1:], `data-template="`)
		if k < 0 {
			return card[j:]
		}
		return card[j : j+1+k]
	}
	for key, want := range map[string][]string{
		"order_confirmation|en": {"UTILITY", "Thank you for your order {{1}}! We are preparing it and will tell you as soon as it ships.",
			"#1042", "Thank you for your order #1042!", "Not on your account", "used by step confirm"},
		"reorder_reminder|en": {"MARKETING", "Hi {{1}}, your {{2}} may be running low. Reorder it in one tap at {{3}} whenever you are ready.",
			"https://shop.example.com/reorder/1042", "Not now", "used by step reorder"},
		"cross_sell|en": {"MARKETING", "not approved: PENDING", "Customers who love {{1}} also like {{2}}."},
	} {
		got := html.UnescapeString(block(key))
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s does not show %q:\n%s", key, w, got)
			}
		}
	}
	for _, w := range []string{`href="` + templates.ManagerURL + `"`, "Submit each in WhatsApp Manager"} {
		if !strings.Contains(card, w) {
			t.Errorf("the card does not say where to submit them (%q):\n%s", w, card)
		}
	}
	if strings.Contains(card, `data-template="usage_tips|en"`) || strings.Contains(card, "hello_world") {
		t.Errorf("an approved template is listed as missing:\n%s", card)
	}
}

// TestFlowEditorNoMissingTemplatesInSandbox: the sandbox approves the
// whole catalogue, so a ready-made flow has nothing to submit.
func TestFlowEditorNoMissingTemplatesInSandbox(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	sendboxtest.Eventually(t, 30*time.Second, "the templates synced at boot", func() bool {
		tps, _ := a.Store.ListTemplates(ctx, true)
		return len(tps) == len(sim.DefaultTemplates())
	})
	f, err := a.Flows.CreateReady(ctx, "cosmetics_after_purchase")
	if err != nil {
		t.Fatal(err)
	}
	b := setupOwner(t, a)
	if _, page := b.get("/flows/" + itoa(f.ID)); strings.Contains(page, `id="missing-templates"`) || !strings.Contains(page, `data-step="confirm"`) {
		t.Errorf("the sandbox's editor lists templates to submit:\n%s", page)
	}
}
