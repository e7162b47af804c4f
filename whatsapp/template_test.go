package whatsapp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const reminder = `[{"type":"HEADER","format":"TEXT","text":"Reminder for {{1}}"},
	{"type":"BODY","text":"Your appointment is on {{2}} at {{3}}."},
	{"type":"FOOTER","text":"Reply STOP to opt out"},
	{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Confirm"}]}]`

func TestTemplateSpecPositional(t *testing.T) {
	spec, err := ParseTemplate(json.RawMessage(reminder))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Named || len(spec.Params) != 3 || spec.Params[0].Component != "header" || spec.Buttons[0] != "Confirm" {
		t.Fatalf("%+v", spec)
	}
	vals := map[string]string{"1": "Maria", "2": "Tuesday", "3": "10:00"}
	m, err := spec.Message("+393331234567", "reminder", "en", vals)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m.Template)
	want := `{"name":"reminder","language":{"code":"en"},"components":[{"type":"header","parameters":[{"type":"text","text":"Maria"}]},{"type":"body","parameters":[{"type":"text","text":"Tuesday"},{"type":"text","text":"10:00"}]}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	if got := spec.Render(TemplateValues(m, spec)); got != "Reminder for Maria\nYour appointment is on Tuesday at 10:00.\nReply STOP to opt out" {
		t.Fatalf("render: %q", got)
	}
	if _, err := spec.Message("+393331234567", "reminder", "en", map[string]string{"1": "x"}); err == nil || !strings.Contains(err.Error(), "{{2}}") {
		t.Fatalf("missing parameter: %v", err)
	}
}

func TestTemplateSpecNamedAndMedia(t *testing.T) {
	spec, _ := ParseTemplate(json.RawMessage(`[{"type":"BODY","text":"Hi {{first_name}}, code {{code}}."}]`))
	m, err := spec.Message("+393331234567", "offer", "en_US", map[string]string{"first_name": "Ada", "code": "X1"})
	if err != nil || !spec.Named {
		t.Fatal(err)
	}
	if p := m.Template.Components[0].Parameters[1]; p.ParameterName != "code" || p.Text != "X1" {
		t.Fatalf("%+v", p)
	}
	if got := spec.Render(TemplateValues(m, spec)); got != "Hi Ada, code X1." {
		t.Fatalf("%q", got)
	}
	img, _ := ParseTemplate(json.RawMessage(`[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"New collection"}]`))
	if _, err := img.Message("+39333", "n", "it", nil); err != ErrTemplateMedia {
		t.Fatalf("media header: %v", err)
	}
}

func TestListTemplatesFollowsPaging(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || !strings.HasSuffix(r.URL.Path, "/waba1/message_templates") {
			http.Error(w, "bad", 400)
			return
		}
		if r.URL.Query().Get("after") == "" {
			w.Write([]byte(`{"data":[{"name":"a","language":"en","status":"APPROVED","components":[]}],"paging":{"next":"` + srv.URL + `/v25.0/waba1/message_templates?after=X"}}`))
			return
		}
		w.Write([]byte(`{"data":[{"name":"b","language":"it","status":"PENDING","components":[]}],"paging":{}}`))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, WABAID: "waba1", Token: "tok"}
	list, err := c.ListTemplates(context.Background())
	if err != nil || len(list) != 2 || list[1].Name != "b" {
		t.Fatalf("%v %+v", err, list)
	}
}
