package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

type tplResp struct {
	Data store.Template
}

// waitTemplate polls GET /templates/{id} until cond holds.
func waitTemplate(t *testing.T, a *sendboxtest.App, id int64, what string, cond func(store.Template) bool) store.Template {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := a.Do("GET", fmt.Sprintf("/api/v1/templates/%d", id), nil)
		if code != http.StatusOK {
			t.Fatalf("get template: %d %s", code, body)
		}
		tp := sendboxtest.JSON[tplResp](t, body).Data
		if cond(tp) {
			return tp
		}
		if time.Now().After(deadline) {
			t.Fatalf("template never %s: %+v", what, tp)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func createTemplate(t *testing.T, a *sendboxtest.App, req map[string]any) store.Template {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/templates", req)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	return sendboxtest.JSON[tplResp](t, body).Data
}

func orderBody(text string, examples ...string) map[string]any {
	return map[string]any{"type": "BODY", "text": text, "example": map[string]any{"body_text": [][]string{examples}}}
}

// TestTemplateLifecycleAPI: a template created through the API is PENDING
// at once, the simulator's review approves it and its webhook makes it
// APPROVED in sendbox, and then it can be sent; Meta's later PAUSED is shown
// with its reason and stops sends.
func TestTemplateLifecycleAPI(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{TemplateReviewDelay: 200 * time.Millisecond, StatusWebhooks: true}))
	tp := createTemplate(t, a, map[string]any{
		"name": "spring_restock", "language": "en", "category": "UTILITY",
		"components": []any{
			map[string]any{"type": "HEADER", "format": "TEXT", "text": "Back in stock"},
			orderBody("Hi {{1}}, the {{2}} you asked about is back in stock.", "Anna", "rose serum"),
			map[string]any{"type": "FOOTER", "text": "Reply STOP to opt out"},
			map[string]any{"type": "BUTTONS", "buttons": []any{
				map[string]any{"type": "QUICK_REPLY", "text": "Reserve one"},
				map[string]any{"type": "URL", "text": "Shop", "url": "https://shop.example.com/p/{{1}}", "example": []string{"https://shop.example.com/p/rose"}},
			}},
		},
		"variable_map": map[string]any{"1": map[string]any{"from": "first_name", "fallback": "there"}},
	})
	if tp.Status != "PENDING" || tp.MetaID == "" || tp.ID == 0 || tp.ParameterFormat != "POSITIONAL" {
		t.Fatalf("created: %+v", tp)
	}
	// Not approved yet: a send is refused.
	send := map[string]any{"to": "+393331234567", "type": "template", "template": map[string]any{"name": "spring_restock", "language": map[string]any{"code": "en"},
		"components": []any{map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "Anna"}, map[string]any{"type": "text", "text": "serum"}}},
			map[string]any{"type": "button", "sub_type": "url", "index": "1", "parameters": []any{map[string]any{"type": "text", "text": "rose"}}}}}}
	if code, body := a.Do("POST", "/api/v1/messages", send); code == http.StatusAccepted || !strings.Contains(string(body), "template_not_approved") {
		t.Fatalf("send before approval: %d %s", code, body)
	}
	tp = waitTemplate(t, a, tp.ID, "approved", func(tp store.Template) bool { return tp.Status == "APPROVED" })
	if tp.VariableMap["1"].From != "first_name" {
		t.Errorf("variable map lost: %+v", tp.VariableMap)
	}
	if code, body := a.Do("POST", "/api/v1/messages", send); code != http.StatusAccepted {
		t.Fatalf("send after approval: %d %s", code, body)
	}
	// Meta pauses it for low quality: shown with the pause's title, and sends stop.
	if err := a.Sim.SetTemplateQuality("spring_restock", "en", "RED"); err != nil {
		t.Fatal(err)
	}
	waitTemplate(t, a, tp.ID, "red", func(tp store.Template) bool { return tp.Quality == "RED" })
	if err := a.Sim.SetTemplateStatus("spring_restock", "en", "PAUSED", ""); err != nil {
		t.Fatal(err)
	}
	tp = waitTemplate(t, a, tp.ID, "paused", func(tp store.Template) bool { return tp.Status == "PAUSED" })
	if tp.Reason != "FIRST_PAUSE" || !strings.Contains(tp.ReasonDetail, "low quality") {
		t.Errorf("pause reason: %+v", tp)
	}
	if code, body := a.Do("POST", "/api/v1/messages", send); code == http.StatusAccepted {
		t.Fatalf("send while paused: %d %s", code, body)
	}
}

// TestTemplateRejectedAPI: the review rejects a body with two variables
// side by side; sendbox shows Meta's reason. An edit sends it back to
// review, and the fixed wording is approved.
func TestTemplateRejectedAPI(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{TemplateReviewDelay: 100 * time.Millisecond}))
	tp := createTemplate(t, a, map[string]any{
		"name": "cart_left", "language": "en", "category": "MARKETING",
		"components": []any{orderBody("You left {{1}}{{2}} in your cart, come back soon.", "2", "serums")},
	})
	tp = waitTemplate(t, a, tp.ID, "rejected", func(tp store.Template) bool { return tp.Status == "REJECTED" })
	if tp.Reason != "INVALID_FORMAT" || !strings.Contains(tp.ReasonDetail, "next to each other") {
		t.Fatalf("rejection: %+v", tp)
	}
	code, body := a.Do("PUT", fmt.Sprintf("/api/v1/templates/%d", tp.ID), map[string]any{
		"components": []any{orderBody("You left {{1}} items ({{2}}) in your cart, come back soon.", "2", "serums")},
	})
	if code != http.StatusOK {
		t.Fatalf("edit: %d %s", code, body)
	}
	if got := sendboxtest.JSON[tplResp](t, body).Data; got.Status != "PENDING" || got.Reason != "" {
		t.Errorf("after edit: %+v", got)
	}
	waitTemplate(t, a, tp.ID, "approved", func(tp store.Template) bool { return tp.Status == "APPROVED" })
	// Delete: gone from Meta and from sendbox.
	if code, body := a.Do("DELETE", fmt.Sprintf("/api/v1/templates/%d", tp.ID), nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	for _, st := range a.Sim.Templates() {
		if st.Name == "cart_left" {
			t.Errorf("still at Meta: %+v", st)
		}
	}
	if code, _ := a.Do("GET", fmt.Sprintf("/api/v1/templates/%d", tp.ID), nil); code != http.StatusNotFound {
		t.Errorf("get after delete: %d", code)
	}
}

// TestTemplateValidationAPI: what Meta would refuse is refused before it
// is sent, naming the part at fault; Meta's own refusal (a duplicate) is
// shown with its message.
func TestTemplateValidationAPI(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{TemplateReviewDelay: -1}))
	body := orderBody("Hello {{1}}, welcome.", "Anna")
	quick := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, map[string]any{"type": "QUICK_REPLY", "text": fmt.Sprintf("Option %d", i)})
		}
		return out
	}
	for _, c := range []struct {
		name string
		req  map[string]any
		code string
		want string
	}{
		{"bad name", map[string]any{"name": "Spring Sale!", "language": "en", "category": "MARKETING", "components": []any{body}},
			"invalid_template", "lowercase letters"},
		{"missing example", map[string]any{"name": "hi", "language": "en", "category": "UTILITY",
			"components": []any{map[string]any{"type": "BODY", "text": "Hello {{1}}, welcome."}}}, "invalid_template", "needs an example"},
		{"too many buttons", map[string]any{"name": "hi", "language": "en", "category": "MARKETING",
			"components": []any{body, map[string]any{"type": "BUTTONS", "buttons": quick(11)}}}, "invalid_template", "at most 10 buttons"},
		{"variable at the end", map[string]any{"name": "hi", "language": "en", "category": "UTILITY",
			"components": []any{orderBody("Hello {{1}}", "Anna")}}, "invalid_template", "cannot start or end"},
		{"media without app id", map[string]any{"name": "hi", "language": "en", "category": "MARKETING",
			"components":  []any{map[string]any{"type": "HEADER", "format": "IMAGE"}, body},
			"header_file": map[string]any{"data": []byte("\x89PNG"), "mime_type": "image/png"}}, "not_configured", "SENDBOX_WA_APP_ID"},
	} {
		code, b := a.Do("POST", "/api/v1/templates", c.req)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"code":"`+c.code+`"`) || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d %s", c.name, code, b)
		}
	}
	if n := len(a.Sim.Templates()); n != len(sim.DefaultTemplates()) {
		t.Errorf("refused templates reached Meta: %d templates", n)
	}
	// Known to sendbox already (once synced): refused before asking Meta.
	if code, b := a.Do("POST", "/api/v1/templates/sync", nil); code != http.StatusOK {
		t.Fatalf("sync: %d %s", code, b)
	}
	if code, b := a.Do("POST", "/api/v1/templates", map[string]any{"name": "order_update", "language": "en_US", "category": "UTILITY",
		"components": []any{body}}); code != http.StatusConflict || !strings.Contains(string(b), "template_exists") {
		t.Errorf("duplicate: %d %s", code, b)
	}
	// Meta's own refusal is shown with its message: a sample handle Meta never issued.
	if code, b := a.Do("POST", "/api/v1/templates", map[string]any{"name": "new_arrivals", "language": "en", "category": "MARKETING",
		"components": []any{map[string]any{"type": "HEADER", "format": "IMAGE", "example": map[string]any{"header_handle": []string{"4::bm9wZQ:forged"}}}, body}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(string(b), "meta_refused") || !strings.Contains(string(b), "Invalid header_handle") {
		t.Errorf("refused at Meta: %d %s", code, b)
	}
}

// templateWebhook is a signed template change in Meta's envelope.
func templateWebhook(field string, at int64, value map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": "102290129340398", "time": at, "changes": []any{map[string]any{"field": field, "value": value}}}}})
	return b
}

func templateByName(t *testing.T, a *sendboxtest.App, name, lang string) (store.Template, bool) {
	t.Helper()
	code, body := a.Do("GET", "/api/v1/templates", nil)
	if code != http.StatusOK {
		t.Fatalf("list: %d %s", code, body)
	}
	for _, tp := range sendboxtest.JSON[struct{ Data []store.Template }](t, body).Data {
		if tp.Name == name && tp.Language == lang {
			return tp, true
		}
	}
	return store.Template{}, false
}

// waitByName polls the list until the template satisfies cond.
func waitByName(t *testing.T, a *sendboxtest.App, name, lang, what string, cond func(store.Template) bool) store.Template {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tp, ok := templateByName(t, a, name, lang)
		if ok && cond(tp) {
			return tp
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s never %s: %+v", name, lang, what, tp)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTemplateWebhooksOrderAndRetries: Meta's template webhooks (the
// fixtures' shapes) apply at once; a retry changes nothing, and a decision
// older than the stored one, arriving late, does not overwrite it — for the
// status, the quality and the category alike.
func TestTemplateWebhooksOrderAndRetries(t *testing.T) {
	a := sendboxtest.New(t)
	const id = 1689556908129832
	status := func(at int64, event string, extra map[string]any) []byte {
		v := map[string]any{"event": event, "message_template_id": id, "message_template_name": "order_confirmation",
			"message_template_language": "en_US", "reason": "NONE", "message_template_category": "UTILITY"}
		for k, x := range extra {
			v[k] = x
		}
		return templateWebhook("message_template_status_update", at, v)
	}
	post := func(b []byte) {
		t.Helper()
		if code, body := a.PostWebhook(b); code != http.StatusOK {
			t.Fatalf("webhook: %d %s", code, body)
		}
	}
	const t0 = 1751247548
	post(status(t0, "APPROVED", nil))
	tp := waitByName(t, a, "order_confirmation", "en_US", "approved", func(tp store.Template) bool { return tp.Status == "APPROVED" })
	if tp.MetaID != fmt.Sprint(id) || tp.Category != "UTILITY" {
		t.Errorf("approved: %+v", tp)
	}
	paused := status(t0+100, "PAUSED", map[string]any{"other_info": map[string]any{"title": "SECOND_PAUSE", "description": "Paused for 6 hours due to low quality."}})
	post(paused)
	waitByName(t, a, "order_confirmation", "en_US", "paused", func(tp store.Template) bool { return tp.Status == "PAUSED" })
	// Late: an approval decided before the pause. Then the pause's retry, twice.
	post(status(t0+50, "APPROVED", nil))
	post(paused)
	post(paused)
	// Quality: RED at t0+200, then a late YELLOW from t0+150.
	quality := func(at int64, prev, score string) []byte {
		return templateWebhook("message_template_quality_update", at, map[string]any{"previous_quality_score": prev, "new_quality_score": score,
			"message_template_id": id, "message_template_name": "order_confirmation", "message_template_language": "en_US"})
	}
	post(quality(t0+200, "YELLOW", "RED"))
	post(quality(t0+150, "GREEN", "YELLOW"))
	// Category: MARKETING at t0+300, then a late UTILITY.
	category := func(at int64, cat string) []byte {
		return templateWebhook("template_category_update", at, map[string]any{"message_template_id": id,
			"message_template_name": "order_confirmation", "message_template_language": "en_US", "new_category": cat})
	}
	post(category(t0+300, "MARKETING"))
	post(category(t0+250, "UTILITY"))
	// A marker webhook after everything: once it is applied, all the above are.
	post(templateWebhook("message_template_status_update", t0+400, map[string]any{"event": "APPROVED", "message_template_id": 42,
		"message_template_name": "marker", "message_template_language": "en", "reason": "NONE"}))
	waitByName(t, a, "marker", "en", "stored", func(tp store.Template) bool { return tp.Status == "APPROVED" })
	tp, _ = templateByName(t, a, "order_confirmation", "en_US")
	if tp.Status != "PAUSED" || tp.Reason != "SECOND_PAUSE" || tp.ReasonDetail != "Paused for 6 hours due to low quality." ||
		tp.Quality != "RED" || tp.Category != "MARKETING" {
		t.Errorf("after late and repeated webhooks: %+v", tp)
	}
	// DISABLED, later: applied, with its date.
	post(status(t0+500, "DISABLED", map[string]any{"disable_info": map[string]any{"disable_date": 1751300000}}))
	tp = waitByName(t, a, "order_confirmation", "en_US", "disabled", func(tp store.Template) bool { return tp.Status == "DISABLED" })
	if tp.Reason != "DISABLED" || tp.ReasonDetail != "disabled on 2025-06-30" {
		t.Errorf("disabled: %+v", tp)
	}
	// Approved again later, in the very words of the first approval: a new
	// decision, not a retry.
	post(status(t0+600, "APPROVED", nil))
	waitByName(t, a, "order_confirmation", "en_US", "approved again", func(tp store.Template) bool { return tp.Status == "APPROVED" && tp.Reason == "" })
	// The fixture's rejection (another template) keeps Meta's reason and its words.
	fx, err := os.ReadFile("/work/shared/fixtures/whatsapp/pywa/tests/data/updates/template_status_update.json")
	if err == nil {
		var all map[string]json.RawMessage
		json.Unmarshal(fx, &all)
		post(all["rejected"])
		tp = waitByName(t, a, "abandoned_cart", "en", "rejected", func(tp store.Template) bool { return tp.Status == "REJECTED" })
		if tp.Reason != "INVALID_FORMAT" || !strings.Contains(tp.ReasonDetail, "{{1}}{{2}}") || tp.Category != "MARKETING" {
			t.Errorf("rejected fixture: %+v", tp)
		}
	}
}

// TestSandboxTemplateDecisions: in sandbox mode, the built-in simulator
// reviews a template created through the API, and the sandbox endpoint
// plays Meta's later decisions (a pause, a quality drop, a recategorisation)
// through the real webhook path.
func TestSandboxTemplateDecisions(t *testing.T) {
	a := sendboxtest.New(t)
	a.Sim.SetTemplateReviewDelay(50 * time.Millisecond)
	tp := createTemplate(t, a, map[string]any{"name": "visit_reminder", "language": "en", "category": "UTILITY",
		"components": []any{orderBody("Your visit on {{1}} is confirmed.", "Monday")}})
	if tp.Status == "" {
		t.Fatalf("created: %+v", tp)
	}
	waitTemplate(t, a, tp.ID, "approved", func(tp store.Template) bool { return tp.Status == "APPROVED" })
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/sandbox/templates/%d", tp.ID), map[string]any{"status": "PAUSED", "quality": "YELLOW", "category": "MARKETING"}); code != http.StatusAccepted {
		t.Fatalf("sandbox decision: %d %s", code, body)
	}
	waitTemplate(t, a, tp.ID, "paused, yellow, marketing", func(tp store.Template) bool {
		return tp.Status == "PAUSED" && tp.Quality == "YELLOW" && tp.Category == "MARKETING"
	})
	if code, _ := a.Do("POST", "/api/v1/sandbox/templates/999", map[string]any{"status": "PAUSED"}); code != http.StatusNotFound {
		t.Errorf("unknown template: %d", code)
	}
}

// TestTemplateFastReview: a review faster than Meta's answer (its webhook
// stored before the create or the edit returns) is not undone by the
// answer: the template ends APPROVED, not PENDING for ever.
func TestTemplateFastReview(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{TemplateReviewDelay: time.Nanosecond}))
	for i := range 3 {
		tp := createTemplate(t, a, map[string]any{"name": fmt.Sprintf("quick_%d", i), "language": "en", "category": "UTILITY",
			"components": []any{orderBody("Your table for {{1}} is booked.", "two")}})
		tp = waitTemplate(t, a, tp.ID, "approved", func(tp store.Template) bool { return tp.Status == "APPROVED" })
		code, body := a.Do("PUT", fmt.Sprintf("/api/v1/templates/%d", tp.ID), map[string]any{
			"components": []any{orderBody("Your table for {{1}} is booked, see you soon.", "two")}})
		if code != http.StatusOK {
			t.Fatalf("edit: %d %s", code, body)
		}
		waitTemplate(t, a, tp.ID, "approved after the edit", func(tp store.Template) bool { return tp.Status == "APPROVED" })
	}
}
