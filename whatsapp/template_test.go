package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
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

// TestCheckParams: the parameters of a send are checked against the
// template as Meta would, and the error names what is missing.
func TestCheckParams(t *testing.T) {
	const offer = `[{"type":"HEADER","format":"IMAGE"},
		{"type":"BODY","text":"Hi {{first_name}}, use {{code}}."},
		{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop"},{"type":"URL","text":"Shop","url":"https://shop.example/{{1}}"}]}]`
	positional, _ := ParseTemplate(json.RawMessage(reminder))
	named, err := ParseTemplate(json.RawMessage(offer))
	if err != nil || len(named.URLButtons) != 1 || named.URLButtons[0] != 1 {
		t.Fatalf("%+v %v", named, err)
	}
	text := func(v string) TemplateParameter { return TemplateParameter{Type: "text", Text: v} }
	nm := func(n, v string) TemplateParameter { return TemplateParameter{Type: "text", ParameterName: n, Text: v} }
	image := TemplateParameter{Type: "image", Image: &MediaObject{Link: "https://shop.example/a.jpg"}}
	comp := func(typ string, ps ...TemplateParameter) TemplateComponent {
		return TemplateComponent{Type: typ, Parameters: ps}
	}
	button := TemplateComponent{Type: "button", SubType: "url", Index: "1", Parameters: []TemplateParameter{text("spring")}}
	for _, c := range []struct {
		name  string
		spec  *TemplateSpec
		comps []TemplateComponent
		want  string // "" for no error, else a part of the message
		field string
	}{
		{"positional complete", positional, []TemplateComponent{comp("header", text("Maria")), comp("body", text("Tue"), text("10:00"))}, "", ""},
		{"no parameters at all", positional, nil, "needs {{1}}", "template.components.header"},
		{"body short of one", positional, []TemplateComponent{comp("header", text("Maria")), comp("body", text("Tue"))}, "needs {{3}}", "template.components.body"},
		{"empty value", positional, []TemplateComponent{comp("header", text("Maria")), comp("body", text("Tue"), text(" "))}, "parameter 2 is empty", ""},
		{"one too many", positional, []TemplateComponent{comp("header", text("Maria")), comp("body", text("a"), text("b"), text("c"))}, "takes 2 parameters", ""},
		{"named complete", named, []TemplateComponent{comp("header", image), comp("body", nm("first_name", "Giulia"), nm("code", "X1")), button}, "", ""},
		{"media header missing", named, []TemplateComponent{comp("body", nm("first_name", "Giulia"), nm("code", "X1")), button}, "header needs its image", "template.components.header"},
		{"named one missing", named, []TemplateComponent{comp("header", image), comp("body", nm("first_name", "Giulia")), button}, "needs {{code}}", "template.components.body"},
		{"named given by position", named, []TemplateComponent{comp("header", image), comp("body", text("Giulia"), text("X1")), button}, "has no parameter_name", ""},
		{"unknown name", named, []TemplateComponent{comp("header", image), comp("body", nm("first_name", "G"), nm("coupon", "X1")), button}, "has no {{coupon}}", ""},
		{"URL button missing", named, []TemplateComponent{comp("header", image), comp("body", nm("first_name", "G"), nm("code", "X1"))}, `button 1 ("Shop") needs {{1}}`, "template.components.button 1"},
	} {
		err := c.spec.CheckParams(&Template{Name: "t", Language: TemplateLanguage{Code: "en"}, Components: c.comps})
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Code != "template_params" || !strings.Contains(ve.Message, c.want) || (c.field != "" && ve.Field != c.field) {
			t.Errorf("%s: got %#v, want %q in field %q", c.name, err, c.want, c.field)
		}
	}
}
