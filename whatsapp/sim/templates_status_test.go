package sim

import (
	"net/http"
	"testing"
)

// TestTemplateUnderReview: a template Meta has not approved yet is listed
// with its status, and a send naming it is refused as Meta refuses it.
func TestTemplateUnderReview(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.StatusWebhooks = false
		o.Templates = []Template{{Name: "promo", Language: "en", Category: "MARKETING", Body: "Hi", Status: "PENDING"}}
	})
	st, m := e.send(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"template","template":{"name":"promo","language":{"code":"en"}}}`)
	wantError(t, st, m, http.StatusBadRequest, CodeTemplateMissing)
	st, m = e.do(t, http.MethodGet, "/v25.0/"+DefaultWABAID+"/message_templates", "")
	if data := m["data"].([]any); st != http.StatusOK || len(data) != 1 || data[0].(map[string]any)["status"] != "PENDING" {
		t.Fatalf("templates: %d %v", st, m)
	}
}
