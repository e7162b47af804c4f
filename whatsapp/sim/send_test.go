package sim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSendSuccessBodyIsMetas(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)

	st, m := e.send(t, text("+1 (650) 555-1234", "hello"))
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, m)
	}
	id := m["messages"].([]any)[0].(map[string]any)["id"].(string)
	want := map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []any{map[string]any{"input": "+1 (650) 555-1234", "wa_id": "16505551234"}},
		"messages":          []any{map[string]any{"id": id}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("body\n got %v\nwant %v", m, want)
	}
	raw, ok := strings.CutPrefix(id, "wamid.")
	if !ok {
		t.Fatalf("id %q lacks the wamid. prefix", id)
	}
	dec, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || !strings.Contains(string(dec), "16505551234") {
		t.Fatalf("id %q is not base64 holding the number: %v", id, err)
	}
	if id2 := e.sendOK(t, text("+16505551234", "again")); id2 == id {
		t.Fatal("two sends got the same wamid")
	}

	// Templates also carry message_status.
	st, m = e.send(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`)
	if st != http.StatusOK {
		t.Fatalf("template: %d %v", st, m)
	}
	if got := m["messages"].([]any)[0].(map[string]any)["message_status"]; got != "accepted" {
		t.Fatalf("template message_status = %v", got)
	}

	// The phone shows all three, the template text filled in.
	ph := e.sim.Phone("+16505551234", false)
	if len(ph) != 4 || ph[0].Direction != DirectionIn || ph[1].Text != "hello" || !strings.HasPrefix(ph[3].Text, "Hello World\n\nWelcome") {
		t.Fatalf("phone view: %+v", ph)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct{ name, header string }{
		{"missing", ""},
		{"wrong", "Bearer nope"},
		{"not bearer", "Basic " + testToken},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.graph.URL+testPath, strings.NewReader(text("+16505551234", "x")))
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		st, m := doReq(t, req)
		ge := wantError(t, st, m, http.StatusUnauthorized, CodeAccessToken)
		if ge["type"] != "OAuthException" {
			t.Errorf("%s: type %v", tc.name, ge["type"])
		}
	}
	// Graph also takes the token as a query parameter.
	req, _ := http.NewRequest(http.MethodGet, e.graph.URL+"/v25.0/"+DefaultPhoneNumberID+"?access_token="+testToken, nil)
	if st, m := doReq(t, req); st != http.StatusOK {
		t.Fatalf("access_token parameter: %d %v", st, m)
	}
	if s := e.sim.Stats(); s.Accepted != 0 {
		t.Fatalf("unauthorised sends counted: %+v", s)
	}
}

func TestUnknownPhoneNumberID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	st, m := e.do(t, http.MethodPost, "/v25.0/123456789/messages", text("+16505551234", "x"))
	ge := wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)
	if ge["error_subcode"] != float64(33) || ge["type"] != "GraphMethodException" ||
		!strings.HasPrefix(ge["message"].(string), "Unsupported post request. Object with ID '123456789' does not exist") {
		t.Fatalf("error: %v", ge)
	}
}

func TestUnsupportedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct{ method, path, prefix string }{
		{http.MethodGet, "/v25.0/" + DefaultPhoneNumberID + "/nothing", "Unsupported get request."},
		{http.MethodPost, "/v25.0/" + DefaultPhoneNumberID + "/nothing", "Unsupported post request."},
		{http.MethodGet, "/v25.0/a/b/c", "Unsupported get request."},
		{http.MethodGet, "/v25.0/987654321", "Unsupported get request. Object with ID '987654321'"},
	} {
		st, m := e.do(t, tc.method, tc.path, "")
		ge := wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)
		if !strings.HasPrefix(ge["message"].(string), tc.prefix) {
			t.Errorf("%s %s: message %q", tc.method, tc.path, ge["message"])
		}
	}
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	long := strings.Repeat("a", 4097)
	for _, tc := range []struct {
		name, body string
		code       int
		details    string // a part of error_data.details
	}{
		{"not JSON", `{"messaging_product":`, CodeInvalidParameter, "not valid JSON"},
		{"no messaging_product", `{"to":"+16505551234","type":"text","text":{"body":"x"}}`, CodeInvalidParameter, "messaging_product"},
		{"wrong messaging_product", `{"messaging_product":"sms","to":"+16505551234","type":"text","text":{"body":"x"}}`, CodeInvalidParameter, "messaging_product"},
		{"unknown type", `{"messaging_product":"whatsapp","to":"+16505551234","type":"hologram"}`, CodeInvalidParameter, "type"},
		{"missing text", `{"messaging_product":"whatsapp","to":"+16505551234","type":"text"}`, CodeMissingParameter, "text"},
		{"text too long", text("+16505551234", long), CodeInvalidValue, "text.body"},
		{"bad recipient", text("hello", "x"), CodeInvalidValue, "to"},
		{"four buttons", `{"messaging_product":"whatsapp","to":"+16505551234","type":"interactive","interactive":{"type":"button","body":{"text":"pick"},"action":{"buttons":[` +
			`{"type":"reply","reply":{"id":"1","title":"a"}},{"type":"reply","reply":{"id":"2","title":"b"}},{"type":"reply","reply":{"id":"3","title":"c"}},{"type":"reply","reply":{"id":"4","title":"d"}}]}}}`,
			CodeInvalidValue, "buttons"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m := e.send(t, tc.body)
			code, details, ge := graphErr(t, m)
			if st != http.StatusBadRequest || code != tc.code {
				t.Fatalf("got HTTP %d code %d, want 400 %d: %v", st, code, tc.code, m)
			}
			if !strings.Contains(details, tc.details) {
				t.Fatalf("details %q do not mention %q", details, tc.details)
			}
			if want := fmt.Sprintf("(#%d) ", tc.code); !strings.HasPrefix(ge["message"].(string), want) {
				t.Fatalf("message %q lacks %q", ge["message"], want)
			}
		})
	}
	if s := e.sim.Stats(); s.Accepted != 0 {
		t.Fatalf("invalid sends accepted: %+v", s)
	}
}

// TestThroughputLimit: Meta counts the number's messages on a sliding
// one-second window of arrival times, inbound and outbound together. A
// token bucket would let a send through as soon as a fraction of a second
// refilled a token; the window lets it through only once the send a second
// earlier has left it.
func TestThroughputLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.MPS = 5; o.StatusWebhooks = false })
	for i := range 5 {
		e.sendOK(t, text(fmt.Sprintf("+1650555%04d", i), "x"))
		e.clock.Advance(100 * time.Millisecond) // sent at 0, 0.1 … 0.4 s
	}
	st, m := e.send(t, text("+16505559999", "x"))
	_, details, _ := graphErr(t, m)
	wantError(t, st, m, http.StatusBadRequest, CodeThroughput)
	if details == "" {
		t.Fatal("no details")
	}
	// At 0.95 s the five are still within the last second, however evenly
	// they were spaced: a bucket would have refilled four tokens by now.
	e.clock.Advance(450 * time.Millisecond)
	st, m = e.send(t, text("+16505559999", "x"))
	wantError(t, st, m, http.StatusBadRequest, CodeThroughput)
	// At 1.05 s the first has left the window (and the refused sends never
	// entered it): one more goes, then none.
	e.clock.Advance(100 * time.Millisecond)
	e.sendOK(t, text("+16505559999", "x"))
	st, m = e.send(t, text("+16505559998", "x"))
	wantError(t, st, m, http.StatusBadRequest, CodeThroughput)
	// No burst beyond one second's worth however long the number was idle.
	e.clock.Advance(time.Hour)
	for i := range 5 {
		e.sendOK(t, text(fmt.Sprintf("+1650666%04d", i), "x"))
	}
	st, m = e.send(t, text("+16506669999", "x"))
	wantError(t, st, m, http.StatusBadRequest, CodeThroughput)

	s := e.sim.Stats()
	if s.Accepted != 11 || s.Rejected[CodeThroughput] != 4 || len(s.Recent) != 15 {
		t.Fatalf("stats: accepted %d rejected %v recent %d", s.Accepted, s.Rejected, len(s.Recent))
	}
	if r := s.Recent[5]; r.Code != CodeThroughput || r.To != "16505559999" {
		t.Fatalf("recent[5] = %+v", r)
	}
}

// TestThroughputCountsInbound: a customer's message takes a place in the
// number's window as a send does (Meta counts inbound and outbound), and is
// never refused itself.
func TestThroughputCountsInbound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.MPS = 3 })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"one"}}`)
	e.inbound(t, "16505551235", `{"type":"text","text":{"body":"two"}}`)
	e.sendOK(t, text("+16505551234", "x"))
	st, m := e.send(t, text("+16505551235", "x"))
	wantError(t, st, m, http.StatusBadRequest, CodeThroughput)
	// The window is full, but a customer can always write.
	e.inbound(t, "16505551236", `{"type":"text","text":{"body":"three"}}`)
	e.clock.Advance(time.Second)
	e.sendOK(t, text("+16505551235", "x"))
	if s := e.sim.Stats(); s.Accepted != 2 || s.Rejected[CodeThroughput] != 1 || s.InboundPosted != 3 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestPairRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	for i := range 45 {
		if i%40 == 39 {
			e.clock.Advance(time.Second) // stay under 80 mps
		}
		e.sendOK(t, text("+16505551234", "x"))
	}
	st, m := e.send(t, text("+16505551234", "x"))
	wantError(t, st, m, http.StatusBadRequest, CodePairRate)
	// Another recipient is not affected.
	e.sendOK(t, text("+16505550000", "x"))
	// One token comes back every 6 seconds.
	e.clock.Advance(6 * time.Second)
	e.sendOK(t, text("+16505551234", "x"))
	st, m = e.send(t, text("+16505551234", "x"))
	wantError(t, st, m, http.StatusBadRequest, CodePairRate)

	off := newEnv(t, func(o *Options) { o.StatusWebhooks = false; o.NoPairRate = true; o.MPS = 1000 })
	for range 60 {
		off.sendOK(t, text("+16505551234", "x"))
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	e.sim.SetUnreachable("+1 650 555 1234", true)
	st, m := e.send(t, text("+16505551234", "x"))
	wantError(t, st, m, http.StatusBadRequest, CodeUndeliverable)
	e.sendOK(t, text("+16505550000", "x"))
	if cs := e.sim.Chats(); len(cs) != 1 || cs[0].WaID != "16505550000" {
		t.Fatalf("chats: %+v", cs)
	}
	e.sim.SetUnreachable("16505551234", false)
	e.sendOK(t, text("+16505551234", "x"))
}

func TestInjectedFault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	e.sim.InjectFault(Fault{Code: CodeGeneric})
	st, m := e.send(t, text("+16505551234", "x"))
	wantError(t, st, m, http.StatusInternalServerError, CodeGeneric)
	e.sendOK(t, text("+16505551234", "x"))

	// Targeted, counted, with an explicit status.
	e.sim.InjectFault(Fault{To: "+16505550000", Code: 131048, HTTPStatus: 400, Count: 2, Details: "spam"})
	e.sendOK(t, text("+16505551234", "x"))
	for range 2 {
		st, m = e.send(t, text("+16505550000", "x"))
		_, details, _ := graphErr(t, m)
		wantError(t, st, m, http.StatusBadRequest, 131048)
		if details != "spam" {
			t.Fatalf("details %q", details)
		}
	}
	e.sendOK(t, text("+16505550000", "x"))
	if s := e.sim.Stats(); s.Rejected[CodeGeneric] != 1 || s.Rejected[131048] != 2 {
		t.Fatalf("rejected: %v", s.Rejected)
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	tpl := func(name, lang, components string) string {
		return fmt.Sprintf(`{"messaging_product":"whatsapp","to":"+16505551234","type":"template","template":{"name":%q,"language":{"code":%q}%s}}`,
			name, lang, components)
	}
	body := func(params ...string) string {
		var ps []string
		for _, p := range params {
			ps = append(ps, p)
		}
		return `,"components":[{"type":"body","parameters":[` + strings.Join(ps, ",") + `]}]`
	}
	tp := func(v string) string { return fmt.Sprintf(`{"type":"text","text":%q}`, v) }
	named := func(n, v string) string { return fmt.Sprintf(`{"type":"text","parameter_name":%q,"text":%q}`, n, v) }

	for _, tc := range []struct {
		name, body string
		code       int
		text       string
	}{
		{"unknown name", tpl("no_such_template", "en_US", ""), CodeTemplateMissing, ""},
		{"language mismatch", tpl("hello_world", "en", ""), CodeTemplateMissing, ""},
		{"too few params", tpl("appointment_reminder", "en", body(tp("May 5"))), CodeTemplateParams, ""},
		{"too many params", tpl("order_update", "en_US", body(tp("A1"), tp("B2"))), CodeTemplateParams, ""},
		{"params missing", tpl("order_update", "en_US", ""), CodeTemplateParams, ""},
		{"named without names", tpl("seasonal_offer", "en_US", body(tp("Ada"), tp("X15"))), CodeTemplateParams, ""},
		{"positional ok", tpl("appointment_reminder", "it", body(tp("5 maggio"), tp("10:30"))), 0,
			"Ciao! Ti ricordiamo l'appuntamento del 5 maggio alle 10:30. Facci sapere se ci sarai."},
		{"named ok, any order", tpl("seasonal_offer", "en_US", body(named("code", "X15"), named("first_name", "Ada"))), 0,
			"A gift for you\n\nHi Ada, enjoy 15% off your next visit with code X15."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m := e.send(t, tc.body)
			if tc.code != 0 {
				wantError(t, st, m, http.StatusBadRequest, tc.code)
				return
			}
			if st != http.StatusOK {
				t.Fatalf("%d %v", st, m)
			}
			id := m["messages"].([]any)[0].(map[string]any)["id"]
			for _, pm := range e.sim.Phone("+16505551234", false) {
				if pm.ID == id {
					if pm.Text != tc.text {
						t.Fatalf("phone text %q, want %q", pm.Text, tc.text)
					}
					return
				}
			}
			t.Fatal("template not on the phone")
		})
	}
}

func TestMarkReadAndTyping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	first := e.inbound(t, "16505551234", `{"type":"text","text":{"body":"one"}}`)
	second := e.inbound(t, "16505551234", `{"type":"text","text":{"body":"two"}}`)
	third := e.inbound(t, "16505551234", `{"type":"text","text":{"body":"three"}}`)
	_ = first
	st, m := e.send(t, `{"messaging_product":"whatsapp","status":"read","message_id":"`+second+`","typing_indicator":{"type":"text"}}`)
	if st != http.StatusOK || !reflect.DeepEqual(m, map[string]any{"success": true}) {
		t.Fatalf("mark read: %d %v", st, m)
	}
	ph := e.sim.Phone("16505551234", false)
	if ph[0].Status != "read" || ph[1].Status != "read" || ph[2].Status != "" {
		t.Fatalf("statuses after marking %s read: %+v", second, ph)
	}
	if cs := e.sim.Chats(); !cs[0].Typing {
		t.Fatalf("typing indicator not shown: %+v", cs)
	}
	e.clock.Advance(26 * time.Second)
	if cs := e.sim.Chats(); cs[0].Typing {
		t.Fatal("typing indicator not dismissed after 25 s")
	}
	e.send(t, `{"messaging_product":"whatsapp","status":"read","message_id":"`+third+`","typing_indicator":{"type":"text"}}`)
	e.sendOK(t, text("+16505551234", "reply"))
	if cs := e.sim.Chats(); cs[0].Typing {
		t.Fatal("typing indicator not dismissed by the reply")
	}

	st, m = e.send(t, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.unknown"}`)
	wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)
	st, m = e.send(t, `{"messaging_product":"whatsapp","status":"read"}`)
	wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)
}

func TestPhoneNumberNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	st, m := e.do(t, http.MethodGet, "/v25.0/"+DefaultPhoneNumberID+
		"?fields=display_phone_number,verified_name,quality_rating,throughput,name_status,whatsapp_business_manager_messaging_limit,code_verification_status", "")
	want := map[string]any{
		"id":                   DefaultPhoneNumberID,
		"display_phone_number": "+1 555-000-0001",
		"verified_name":        "Sendbox Sandbox",
		"quality_rating":       "GREEN",
		"throughput":           map[string]any{"level": "STANDARD"},
		"name_status":          "APPROVED",
		"whatsapp_business_manager_messaging_limit": "TIER_250",
		"code_verification_status":                  "VERIFIED",
	}
	if st != http.StatusOK || !reflect.DeepEqual(m, want) {
		t.Fatalf("%d\n got %v\nwant %v", st, m, want)
	}
	st, m = e.do(t, http.MethodGet, "/v25.0/"+DefaultPhoneNumberID+"?fields=throughput", "")
	if st != http.StatusOK || len(m) != 2 {
		t.Fatalf("only the asked field and id expected: %v", m)
	}
	st, m = e.do(t, http.MethodGet, "/v25.0/"+DefaultPhoneNumberID+"?fields=nonsense", "")
	wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)

	high := newEnv(t, func(o *Options) { o.MPS = 1000 })
	_, m = high.do(t, http.MethodGet, "/v25.0/"+DefaultPhoneNumberID+"?fields=throughput", "")
	if lvl := m["throughput"].(map[string]any)["level"]; lvl != "HIGH" {
		t.Fatalf("level at 1000 mps: %v", lvl)
	}

	// The WABA lists the templates.
	st, m = e.do(t, http.MethodGet, "/v25.0/"+DefaultWABAID+"/message_templates", "")
	if st != http.StatusOK || len(m["data"].([]any)) != len(DefaultTemplates()) {
		t.Fatalf("templates: %d %v", st, m)
	}
}

func TestChats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	e.clock.Advance(time.Second)
	e.sendOK(t, text("+16505551234", "hello"))
	e.sendOK(t, text("+16505551234", "how can we help?"))
	e.clock.Advance(time.Second)
	e.sendOK(t, text("+393331234567", "ciao")) // outside the window: fails

	cs := e.sim.Chats()
	if len(cs) != 2 || cs[0].WaID != "393331234567" || cs[1].WaID != "16505551234" {
		t.Fatalf("chats: %+v", cs)
	}
	a := cs[1]
	if a.Name != "Ada" || a.Unread != 2 || a.LastMessage.Text != "how can we help?" ||
		!a.WindowOpenUntil.Equal(e.clock.Now().Add(-2*time.Second).Add(24*time.Hour).Truncate(time.Second)) {
		t.Fatalf("chat: %+v", a)
	}
	if cs[0].LastMessage.Status != "failed" || cs[0].LastMessage.ErrorCode != CodeReEngagement {
		t.Fatalf("free-form outside the window: %+v", cs[0].LastMessage)
	}
	e.sim.Phone("16505551234", true)
	if cs := e.sim.Chats(); cs[1].Unread != 0 {
		t.Fatalf("unread after opening: %+v", cs[1])
	}
}

func TestSendInboundShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := t.Context()

	id, err := e.sim.SendInbound(ctx, Inbound{From: "+1 650-555-1234", Name: "Ada",
		Message: json.RawMessage(`{"type":"interactive","context":{"from":"15550000001","id":"wamid.X"},"interactive":{"type":"button_reply","button_reply":{"id":"yes","title":"Yes"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := e.hooks.next(t)
	want := mustJSON(t, `{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},
		"contacts":[{"profile":{"name":"Ada"},"wa_id":"16505551234"}],
		"messages":[{"from":"16505551234","id":"`+id+`","timestamp":"`+fmt.Sprint(e.clock.Now().Unix())+`","type":"interactive",
		"context":{"from":"15550000001","id":"wamid.X"},"interactive":{"type":"button_reply","button_reply":{"id":"yes","title":"Yes"}}}]},
		"field":"messages"}]}]}`)
	if string(got) != string(want) {
		t.Fatalf("envelope\n got %s\nwant %s", got, want)
	}
	if ph := e.sim.Phone("16505551234", false); len(ph) != 1 || ph[0].Text != "Yes" || ph[0].ReplyTo != "wamid.X" {
		t.Fatalf("phone: %+v", ph)
	}

	// A user who hides their number: only the BSUID.
	_, err = e.sim.SendInbound(ctx, Inbound{UserID: "US.13491208655302741918", Name: "Sheena",
		Message: json.RawMessage(`{"type":"text","text":{"body":"Does it come in another color?"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	b := e.hooks.next(t)
	if strings.Contains(string(b), `"from":`) || strings.Contains(string(b), `"wa_id"`) ||
		!strings.Contains(string(b), `"from_user_id":"US.13491208655302741918"`) || !strings.Contains(string(b), `"user_id":"US.13491208655302741918"`) {
		t.Fatalf("BSUID envelope: %s", b)
	}
	// …and the business can answer it by BSUID inside the window.
	st, m := e.send(t, text("US.13491208655302741918", "Yes, in blue"))
	if st != http.StatusOK {
		t.Fatalf("send to BSUID: %d %v", st, m)
	}
	if c := m["contacts"].([]any)[0].(map[string]any); c["user_id"] != "US.13491208655302741918" {
		t.Fatalf("contacts: %v", c)
	}
	sts := e.hooks.statuses(t, 2)
	if sts[0].RecipientUserID != "US.13491208655302741918" || sts[1].Status != "delivered" {
		t.Fatalf("statuses to a BSUID: %+v", sts)
	}

	// Bad input is refused without posting anything.
	for _, in := range []Inbound{
		{Message: json.RawMessage(`{"type":"text","text":{"body":"x"}}`)},
		{From: "16505551234", Message: json.RawMessage(`"text"`)},
		{From: "16505551234", Message: json.RawMessage(`{"text":{"body":"x"}}`)},
		{From: "16505551234", Message: json.RawMessage(`{"type":"text"}`), Media: &InboundMedia{Data: []byte("x"), MimeType: "text/plain"}},
	} {
		if _, err := e.sim.SendInbound(ctx, in); err == nil {
			t.Errorf("SendInbound(%+v) succeeded", in)
		}
	}
	e.hooks.quiet(t, 50*time.Millisecond)
}

func TestSendInboundFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.hooks.status = func(int) int { return http.StatusServiceUnavailable }
	_, err := e.sim.SendInbound(t.Context(), Inbound{From: "16505551234", Message: json.RawMessage(`{"type":"text","text":{"body":"hi"}}`)})
	if err == nil {
		t.Fatal("no error although sendbox answered 503")
	}
	if n := e.hooks.posts.Load(); n != 3 {
		t.Fatalf("%d tries, want 3", n)
	}
	if ph := e.sim.Phone("16505551234", false); len(ph) != 1 || ph[0].Status != "failed" {
		t.Fatalf("phone: %+v", ph)
	}
	if s := e.sim.Stats(); s.InboundFailed != 1 {
		t.Fatalf("stats: %+v", s)
	}
	// Meta did receive it: the window is open.
	e.hooks.status = nil
	e.sendOK(t, text("+16505551234", "sorry, we were down"))
	if sts := e.hooks.statuses(t, 2); sts[0].Status != "sent" {
		t.Fatalf("statuses: %+v", sts)
	}
}
