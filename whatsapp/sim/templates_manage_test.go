package sim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"sendbox/whatsapp"
)

// templateEvent reads the next webhook as a template change.
func templateEvent(t *testing.T, e *env) (field string, v map[string]any) {
	t.Helper()
	var env struct {
		Entry []struct {
			Time    int64 `json:"time"`
			Changes []struct {
				Field string         `json:"field"`
				Value map[string]any `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	b := e.hooks.next(t)
	if err := json.Unmarshal(b, &env); err != nil || len(env.Entry) != 1 || len(env.Entry[0].Changes) != 1 || env.Entry[0].Time == 0 {
		t.Fatalf("webhook: %v %s", err, b)
	}
	c := env.Entry[0].Changes[0]
	return c.Field, c.Value
}

// TestTemplateManagementWithTheClient: sendbox's Graph client creates a
// template (PENDING), the review approves it and posts Meta's status
// webhook; an edit sends it back to PENDING; a rejected one carries its
// reason; a media header's sample goes through the Resumable Upload API;
// delete removes it.
func TestTemplateManagementWithTheClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false; o.TemplateReviewDelay = 10 * time.Millisecond })
	c := e.client()
	c.AppID = DefaultAppID
	ctx := t.Context()
	d := &whatsapp.TemplateDefinition{Name: "welcome_back", Language: "it", Category: "MARKETING", ParameterFormat: "NAMED",
		Components: []whatsapp.TemplateDefComponent{
			{Type: "BODY", Text: "Ciao {{first_name}}, il codice {{code}} vale fino a domenica.", Example: &whatsapp.TemplateExample{
				BodyTextNamedParams: []whatsapp.NamedParamExample{{ParamName: "first_name", Example: "Anna"}, {ParamName: "code", Example: "SPRING"}}}},
			{Type: "BUTTONS", Buttons: []whatsapp.TemplateDefButton{{Type: "COPY_CODE", Example: "SPRING"}, {Type: "PHONE_NUMBER", Text: "Call us", PhoneNumber: "+390212345678"}}},
		}}
	res, err := c.CreateTemplate(ctx, d)
	if err != nil || res.ID == "" || res.Status != "PENDING" || res.Category != "MARKETING" {
		t.Fatalf("create: %+v %v", res, err)
	}
	field, v := templateEvent(t, e)
	if field != FieldTemplateStatus || v["event"] != "APPROVED" || v["message_template_name"] != "welcome_back" ||
		v["message_template_language"] != "it" || v["reason"] != "NONE" || v["message_template_category"] != "MARKETING" {
		t.Fatalf("review: %s %v", field, v)
	}
	if id, _ := v["message_template_id"].(float64); id == 0 { // a JSON number, as Meta sends it
		t.Errorf("message_template_id: %#v", v["message_template_id"])
	}
	// Approved, it can be sent with named parameters.
	if _, err := c.Send(ctx, &whatsapp.OutboundMessage{To: "+393331234567", Type: "template", Template: &whatsapp.Template{Name: "welcome_back",
		Language: whatsapp.TemplateLanguage{Code: "it"}, Components: []whatsapp.TemplateComponent{{Type: "body", Parameters: []whatsapp.TemplateParameter{
			{Type: "text", ParameterName: "first_name", Text: "Anna"}, {Type: "text", ParameterName: "code", Text: "X1"}}}}}}); err != nil {
		t.Fatalf("send: %v", err)
	}
	// Edit: back to PENDING, then approved again.
	d.Components[0].Text = "Ciao {{first_name}}, il codice {{code}} vale fino a lunedì."
	if err := c.EditTemplate(ctx, res.ID, d); err != nil {
		t.Fatalf("edit: %v", err)
	}
	if st := e.sim.Templates(); !hasTemplate(st, "welcome_back", "it", "PENDING") && !hasTemplate(st, "welcome_back", "it", "APPROVED") {
		t.Fatalf("after edit: %+v", st)
	}
	if _, v := templateEvent(t, e); v["event"] != "APPROVED" {
		t.Fatalf("edit review: %v", v)
	}
	// Rejected: two variables side by side.
	_, err = c.CreateTemplate(ctx, &whatsapp.TemplateDefinition{Name: "cart", Language: "en", Category: "MARKETING",
		Components: []whatsapp.TemplateDefComponent{{Type: "BODY", Text: "You left {{1}}{{2}} in your cart.", Example: &whatsapp.TemplateExample{BodyText: [][]string{{"2", "serums"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, v = templateEvent(t, e)
	info, _ := v["rejection_info"].(map[string]any)
	if v["event"] != "REJECTED" || v["reason"] != "INVALID_FORMAT" || !strings.Contains(info["reason"].(string), "{{1}}{{2}}") {
		t.Fatalf("rejection: %v", v)
	}
	// A utility template that offers a discount is approved as marketing.
	if _, err := c.CreateTemplate(ctx, &whatsapp.TemplateDefinition{Name: "restock", Language: "en", Category: "UTILITY",
		Components: []whatsapp.TemplateDefComponent{{Type: "BODY", Text: "Back in stock, with 10% off this week."}}}); err != nil {
		t.Fatal(err)
	}
	if field, v := templateEvent(t, e); field != FieldTemplateCategory || v["new_category"] != "MARKETING" || v["previous_category"] != "UTILITY" {
		t.Fatalf("recategorised: %s %v", field, v)
	}
	if _, v := templateEvent(t, e); v["event"] != "APPROVED" || v["message_template_category"] != "MARKETING" {
		t.Fatalf("approved as marketing: %v", v)
	}
	// Media header: the sample's handle from the Resumable Upload API.
	h, err := c.UploadHeaderSample(ctx, "shelf.png", "image/png", []byte("\x89PNG\r\n\x1a\n pixels"))
	if err != nil || h == "" {
		t.Fatalf("upload: %q %v", h, err)
	}
	if _, err := c.CreateTemplate(ctx, &whatsapp.TemplateDefinition{Name: "new_shelf", Language: "en", Category: "MARKETING",
		Components: []whatsapp.TemplateDefComponent{{Type: "HEADER", Format: "IMAGE", Example: &whatsapp.TemplateExample{HeaderHandle: []string{h}}},
			{Type: "BODY", Text: "Our new shelf is here."}}}); err != nil {
		t.Fatalf("create with image: %v", err)
	}
	templateEvent(t, e)
	// Quality and pauses, on demand.
	if err := e.sim.SetTemplateQuality("new_shelf", "en", "YELLOW"); err != nil {
		t.Fatal(err)
	}
	if field, v := templateEvent(t, e); field != FieldTemplateQuality || v["new_quality_score"] != "YELLOW" || v["previous_quality_score"] != "UNKNOWN" {
		t.Fatalf("quality: %s %v", field, v)
	}
	if err := e.sim.SetTemplateStatus("new_shelf", "en", "PAUSED", ""); err != nil {
		t.Fatal(err)
	}
	if _, v := templateEvent(t, e); v["event"] != "PAUSED" || v["other_info"].(map[string]any)["title"] != "FIRST_PAUSE" {
		t.Fatalf("paused: %v", v)
	}
	// Delete one translation by id, then a name that is gone.
	if err := c.DeleteTemplate(ctx, "welcome_back", res.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if hasTemplate(e.sim.Templates(), "welcome_back", "it", "") {
		t.Fatal("still listed after delete")
	}
	err = c.DeleteTemplate(ctx, "welcome_back", "")
	var ae *whatsapp.APIError
	if !errors.As(err, &ae) || ae.Code != CodeInvalidParameter || !strings.Contains(whatsapp.TemplateErrorMessage(err), "not found") {
		t.Fatalf("delete again: %v", err)
	}
	// Meta's refusal of a duplicate, in words for the user.
	_, err = c.CreateTemplate(ctx, &whatsapp.TemplateDefinition{Name: "restock", Language: "en", Category: "UTILITY",
		Components: []whatsapp.TemplateDefComponent{{Type: "BODY", Text: "Back in stock."}}})
	if !errors.As(err, &ae) || ae.Subcode != 2388024 || !strings.Contains(whatsapp.TemplateErrorMessage(err), "Content in this language already exists") {
		t.Fatalf("duplicate: %v / %s", err, whatsapp.TemplateErrorMessage(err))
	}
	// Without the app id, a media sample cannot be uploaded: said plainly.
	c.AppID = ""
	if _, err := c.UploadHeaderSample(ctx, "x.png", "image/png", []byte("x")); !errors.Is(err, whatsapp.ErrNotConfigured) ||
		!strings.Contains(err.Error(), "SENDBOX_WA_APP_ID") {
		t.Fatalf("no app id: %v", err)
	}
}

func hasTemplate(ts []Template, name, lang, status string) bool {
	for _, t := range ts {
		if t.Name == name && t.Language == lang && (status == "" || t.Status == status) {
			return true
		}
	}
	return false
}

// TestTemplatesSurviveRestart: the sandbox's state file keeps created,
// edited and deleted templates; one still in review is reviewed after the
// restart.
func TestTemplatesSurviveRestart(t *testing.T) {
	t.Parallel()
	state := t.TempDir() + "/sim.json"
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false; o.TemplateReviewDelay = -1; o.StateFile = state })
	c := e.client()
	if _, err := c.CreateTemplate(t.Context(), &whatsapp.TemplateDefinition{Name: "late_review", Language: "en", Category: "UTILITY",
		Components: []whatsapp.TemplateDefComponent{{Type: "BODY", Text: "Your visit is confirmed."}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteTemplate(t.Context(), "hello_world", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{StateFile: state, WebhookURL: e.hooks.URL, AppSecret: []byte(testSecret), TemplateReviewDelay: 10 * time.Millisecond,
		Logger: e.sim.log})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ts := s.Templates(); !hasTemplate(ts, "late_review", "en", "") || hasTemplate(ts, "hello_world", "en_US", "") {
		t.Fatalf("after restart: %+v", ts)
	}
	if _, v := templateEvent(t, e); v["event"] != "APPROVED" || v["message_template_name"] != "late_review" {
		t.Fatalf("review after restart: %v", v)
	}
}
