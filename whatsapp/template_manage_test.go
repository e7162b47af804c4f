package whatsapp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// capture records the requests a Graph stand-in receives and answers each
// with the next canned body.
type capture struct {
	reqs    []*http.Request
	bodies  []string
	answers []string
}

func (c *capture) server(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.reqs = append(c.reqs, r)
		c.bodies = append(c.bodies, string(b))
		ans := `{"success":true}`
		if len(c.answers) > 0 {
			ans, c.answers = c.answers[0], c.answers[1:]
		}
		if strings.HasPrefix(ans, "!") {
			w.WriteHeader(http.StatusBadRequest)
			ans = ans[1:]
		}
		w.Write([]byte(ans))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestTemplateWireShapes: the bodies, paths and headers of the template
// calls are Meta's, byte for byte where Meta is particular (a copy-code
// example is a string, a URL example an array; named examples; the upload's
// OAuth header and file_offset; the session id used as it comes).
func TestTemplateWireShapes(t *testing.T) {
	cp := &capture{answers: []string{
		`{"id":"594425479261596","status":"PENDING","category":"MARKETING"}`,
		`{"success":true}`,
		`{"success":true}`,
		`{"id":"upload:MTphdHRhY2htZW50?sig=ARZ"}`,
		`{"h":"2:c2FtcGxl"}`,
	}}
	srv := cp.server(t)
	c := &Client{BaseURL: srv.URL, Version: "v25.0", WABAID: "102290129340398", AppID: "777", Token: "tok"}
	d := &TemplateDefinition{Name: "spring_offer", Language: "en_US", Category: "MARKETING", ParameterFormat: "NAMED",
		Components: []TemplateDefComponent{
			{Type: "HEADER", Format: "TEXT", Text: "Hi {{first_name}}", Example: &TemplateExample{HeaderTextNamedParams: []NamedParamExample{{ParamName: "first_name", Example: "Anna"}}}},
			{Type: "BODY", Text: "Use {{code}} for 15% off until Sunday.", Example: &TemplateExample{BodyTextNamedParams: []NamedParamExample{{ParamName: "code", Example: "SPRING"}}}},
			{Type: "FOOTER", Text: "Reply STOP to opt out"},
			{Type: "BUTTONS", Buttons: []TemplateDefButton{
				{Type: "QUICK_REPLY", Text: "Not now"},
				{Type: "URL", Text: "Shop", URL: "https://shop.example.com/{{1}}", Example: "https://shop.example.com/spring"},
				{Type: "PHONE_NUMBER", Text: "Call", PhoneNumber: "+15550783881"},
				{Type: "COPY_CODE", Example: "SPRING"},
			}},
		}}
	res, err := c.CreateTemplate(t.Context(), d)
	if err != nil || *res != (TemplateCreated{ID: "594425479261596", Status: "PENDING", Category: "MARKETING"}) {
		t.Fatalf("create: %+v %v", res, err)
	}
	want := `{"name":"spring_offer","language":"en_US","category":"MARKETING","parameter_format":"NAMED","components":[` +
		`{"type":"HEADER","format":"TEXT","text":"Hi {{first_name}}","example":{"header_text_named_params":[{"param_name":"first_name","example":"Anna"}]}},` +
		`{"type":"BODY","text":"Use {{code}} for 15% off until Sunday.","example":{"body_text_named_params":[{"param_name":"code","example":"SPRING"}]}},` +
		`{"type":"FOOTER","text":"Reply STOP to opt out"},` +
		`{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Not now"},{"type":"URL","text":"Shop","url":"https://shop.example.com/{{1}}","example":["https://shop.example.com/spring"]},` +
		`{"type":"PHONE_NUMBER","text":"Call","phone_number":"+15550783881"},{"type":"COPY_CODE","example":"SPRING"}]}]}`
	if r := cp.reqs[0]; r.Method != "POST" || r.URL.Path != "/v25.0/102290129340398/message_templates" || cp.bodies[0] != want ||
		r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("create request: %s %s\n%s\nwant\n%s", r.Method, r.URL, cp.bodies[0], want)
	}
	// Positional examples: body_text is an array of one array.
	var back TemplateDefinition
	if err := json.Unmarshal([]byte(want), &back); err != nil || back.Components[3].Buttons[3].Example != "SPRING" || back.Components[3].Buttons[1].Example != "https://shop.example.com/spring" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	pos, _ := json.Marshal(TemplateExample{BodyText: [][]string{{"Anna", "#1042"}}})
	if string(pos) != `{"body_text":[["Anna","#1042"]]}` {
		t.Errorf("positional example: %s", pos)
	}

	// Edit: no name or language, and the template id as the node.
	if err := c.EditTemplate(t.Context(), "594425479261596", d); err != nil {
		t.Fatal(err)
	}
	if r := cp.reqs[1]; r.Method != "POST" || r.URL.Path != "/v25.0/594425479261596" || strings.Contains(cp.bodies[1], `"name"`) ||
		!strings.HasPrefix(cp.bodies[1], `{"category":"MARKETING","parameter_format":"NAMED","components":[`) {
		t.Fatalf("edit request: %s %s", r.URL, cp.bodies[1])
	}
	// Delete one translation.
	if err := c.DeleteTemplate(t.Context(), "spring_offer", "594425479261596"); err != nil {
		t.Fatal(err)
	}
	if r := cp.reqs[2]; r.Method != "DELETE" || r.URL.Path != "/v25.0/102290129340398/message_templates" ||
		r.URL.Query().Get("name") != "spring_offer" || r.URL.Query().Get("hsm_id") != "594425479261596" {
		t.Fatalf("delete request: %s %s", r.Method, r.URL)
	}
	// Upload: session, then the bytes.
	h, err := c.UploadHeaderSample(t.Context(), "shelf.png", "image/png", []byte("PNGDATA"))
	if err != nil || h != "2:c2FtcGxl" {
		t.Fatalf("upload: %q %v", h, err)
	}
	if r := cp.reqs[3]; r.Method != "POST" || r.URL.Path != "/v25.0/777/uploads" || r.URL.Query().Get("file_length") != "7" ||
		r.URL.Query().Get("file_type") != "image/png" || r.URL.Query().Get("file_name") != "shelf.png" {
		t.Fatalf("session request: %s", r.URL)
	}
	if r := cp.reqs[4]; r.Method != "POST" || r.URL.Path != "/v25.0/upload:MTphdHRhY2htZW50" || r.URL.Query().Get("sig") != "ARZ" ||
		r.Header.Get("Authorization") != "OAuth tok" || r.Header.Get("file_offset") != "0" || cp.bodies[4] != "PNGDATA" {
		t.Fatalf("upload request: %s %v %q", r.URL, r.Header, cp.bodies[4])
	}
}

// TestTemplateErrorMessage: Meta's refusal is shown in its own words for
// the user, else by its subcode.
func TestTemplateErrorMessage(t *testing.T) {
	cp := &capture{answers: []string{
		`!{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2388299,"is_transient":false,"error_user_title":"Variables can't be at the start or end of the template","error_user_msg":"Variables can't be at the start or end of the template.","fbtrace_id":"A1"}}`,
		`!{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2388024,"fbtrace_id":"A2"}}`,
	}}
	srv := cp.server(t)
	c := &Client{BaseURL: srv.URL, WABAID: "1", Token: "tok"}
	d := &TemplateDefinition{Name: "x", Language: "en", Category: "UTILITY", Components: []TemplateDefComponent{{Type: "BODY", Text: "Hello."}}}
	_, err := c.CreateTemplate(t.Context(), d)
	var ae *APIError
	if !errors.As(err, &ae) || TemplateErrorMessage(err) != "Meta refused the template: Variables can't be at the start or end of the template (error 100/2388299)" {
		t.Errorf("user message: %q", TemplateErrorMessage(err))
	}
	_, err = c.CreateTemplate(t.Context(), d)
	if m := TemplateErrorMessage(err); !strings.Contains(m, "already exists in this language") {
		t.Errorf("subcode: %q", m)
	}
}

// TestTemplateQuickRepliesGrouped: Meta takes quick replies before or
// after the other buttons, not on both sides of one; the refusal names the
// button that splits them.
func TestTemplateQuickRepliesGrouped(t *testing.T) {
	qr := TemplateDefButton{Type: "QUICK_REPLY", Text: "Yes"}
	link := TemplateDefButton{Type: "URL", Text: "Shop", URL: "https://shop.example.com"}
	for _, c := range []struct {
		buttons []TemplateDefButton
		field   string
	}{
		{[]TemplateDefButton{qr, qr, link}, ""},
		{[]TemplateDefButton{link, qr, qr}, ""},
		{[]TemplateDefButton{qr, link, qr}, "components[1].buttons[2]"},
	} {
		d := &TemplateDefinition{Name: "x", Language: "en", Category: "UTILITY", Components: []TemplateDefComponent{
			{Type: "BODY", Text: "Hello."}, {Type: "BUTTONS", Buttons: c.buttons}}}
		err := d.Validate(true)
		var ve *ValidationError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%v refused: %v", c.buttons, err)
		case c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field || !strings.Contains(ve.Message, "move button 3")):
			t.Errorf("%v: %v", c.buttons, err)
		}
	}
}
