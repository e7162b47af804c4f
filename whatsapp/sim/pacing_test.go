package sim

import (
	"net/http"
	"testing"
)

// TestInjectPacing: the knob makes the next sends of a template answer
// held_for_quality_assessment or paused, then accepted again; other
// templates and free-form messages are untouched.
func TestInjectPacing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	tpl := func(name string) any {
		t.Helper()
		comps := ""
		if name == "order_update" {
			comps = `,"components":[{"type":"body","parameters":[{"type":"text","text":"A-1"}]}]`
		}
		st, m := e.send(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"template","template":{"name":"`+name+`","language":{"code":"en_US"}`+comps+`}}`)
		if st != http.StatusOK {
			t.Fatalf("template: %d %v", st, m)
		}
		return m["messages"].([]any)[0].(map[string]any)["message_status"]
	}
	e.sim.InjectPacing(Pacing{Template: "hello_world", Count: 2})
	e.sim.InjectPacing(Pacing{Status: "paused"})
	got := []any{tpl("hello_world"), tpl("order_update"), tpl("hello_world"), tpl("hello_world"), tpl("hello_world")}
	want := []any{"held_for_quality_assessment", "paused", "held_for_quality_assessment", "accepted", "accepted"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("send %d: %v, want %v", i, got[i], want[i])
		}
	}
	_, m := e.send(t, text("+16505551234", "hello"))
	if _, ok := m["messages"].([]any)[0].(map[string]any)["message_status"]; ok {
		t.Errorf("a text carries message_status: %v", m)
	}
}
