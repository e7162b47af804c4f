package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sendbox/flows"
	"sendbox/sendboxtest"
	"sendbox/templates"
	"sendbox/whatsapp/sim"
)

// TestFlowMissingTemplatesAPI: on an account whose Meta has approved only
// hello_world, GET /flows/{id} lists the templates the draft sends, once
// each with the steps that use them, and the wording to submit from the
// catalogue (a regional code gets its language's wording; a name the
// catalogue does not know gets none); publishing is refused until then.
func TestFlowMissingTemplatesAPI(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{Templates: []sim.Template{
		{Name: "hello_world", Language: "en_US", Category: "UTILITY", Body: "Hello"},
	}}))
	tpl := func(id, name, lang string, params ...string) map[string]any {
		return map[string]any{"id": id, "type": "send", "template": map[string]any{"name": name, "language": lang, "params": params}}
	}
	id := createFlow(t, a, "Orders", map[string]any{
		"triggers": []any{map[string]any{"type": "event", "event": "order.created"}},
		"steps": []any{
			tpl("hello", "hello_world", "en_US"),
			tpl("grazie", "order_confirmation", "it", "{{event.order_id}}"),
			tpl("card", "loyalty_card", "en", "{{contact.name}}"),
			tpl("again", "order_confirmation", "it", "{{event.order_id}}"),
			tpl("ship", "shipping_update", "en_US", "{{event.order_id}}", "{{event.carrier}}", "{{event.url}}"),
		},
	})
	code, body := a.Do("GET", fmt.Sprintf("/api/v1/flows/%d", id), nil)
	if code != http.StatusOK {
		t.Fatalf("get: %d %s", code, body)
	}
	got := sendboxtest.JSON[struct {
		Data struct {
			ID               int64
			MissingTemplates []flows.MissingTemplate `json:"missing_templates"`
		}
	}](t, body).Data
	if got.ID != id || len(got.MissingTemplates) != 3 {
		t.Fatalf("missing templates: %s", body)
	}
	it, card, ship := got.MissingTemplates[0], got.MissingTemplates[1], got.MissingTemplates[2]
	if it.Name != "order_confirmation" || it.Language != "it" || fmt.Sprint(it.Steps) != "[grazie again]" || it.Status != "missing" ||
		it.SubmitURL != templates.ManagerURL || it.Suggested == nil || it.Suggested.Category != "UTILITY" ||
		it.Suggested.Body != "Grazie per l'ordine {{1}}! Lo stiamo preparando e ti avviseremo appena parte." ||
		fmt.Sprint(it.Suggested.Example) != "[#1042]" || it.Sample != "Grazie per l'ordine #1042! Lo stiamo preparando e ti avviseremo appena parte." {
		t.Errorf("order_confirmation/it: %+v %+v", it, it.Suggested)
	}
	if card.Name != "loyalty_card" || card.Suggested != nil || card.Sample != "" || card.SubmitURL == "" {
		t.Errorf("loyalty_card: %+v", card)
	}
	if ship.Name != "shipping_update" || ship.Suggested == nil || ship.Suggested.Language != "en_US" ||
		ship.Suggested.Body != "Your order {{1}} is on its way with {{2}}. Track it at {{3}} to see when it arrives." || len(ship.Suggested.Example) != 3 {
		t.Errorf("shipping_update/en_US: %+v %+v", ship, ship.Suggested)
	}
	code, body = a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/publish", id), nil)
	if e := sendboxtest.JSON[flowErr](t, body).Error; code != http.StatusUnprocessableEntity || len(e.Problems) != 4 {
		t.Errorf("publish with templates missing: %d %s", code, body)
	}
}

// TestFlowPendingTemplateRefused: a template Meta lists as still under
// review cannot be published in a flow (nor sent): the problem says so.
func TestFlowPendingTemplateRefused(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{Templates: []sim.Template{
		{Name: "promo", Language: "en", Category: "MARKETING", Body: "Hi {{1}}", Status: "PENDING"},
	}}))
	id := createFlow(t, a, "Promo", map[string]any{
		"triggers": []any{map[string]any{"type": "event", "event": "promo"}},
		"steps": []any{map[string]any{"id": "promo", "type": "send",
			"template": map[string]any{"name": "promo", "language": "en", "params": []string{"{{contact.name}}"}}}},
	})
	code, body := a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/publish", id), nil)
	e := sendboxtest.JSON[flowErr](t, body).Error
	if code != http.StatusUnprocessableEntity || len(e.Problems) != 1 || !strings.Contains(e.Problems[0].Message, "PENDING at Meta, not approved") {
		t.Fatalf("publish with a pending template: %d %s", code, body)
	}
}
