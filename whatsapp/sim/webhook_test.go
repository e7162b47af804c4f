package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sendbox/whatsapp"
)

// statusItems decodes value.statuses[] of one webhook body as raw maps.
func statusItems(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var env struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					MessagingProduct string            `json:"messaging_product"`
					Metadata         map[string]string `json:"metadata"`
					Statuses         []map[string]any  `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if env.Object != "whatsapp_business_account" || len(env.Entry) != 1 || env.Entry[0].ID != DefaultWABAID ||
		len(env.Entry[0].Changes) != 1 || env.Entry[0].Changes[0].Field != "messages" {
		t.Fatalf("envelope: %s", body)
	}
	v := env.Entry[0].Changes[0].Value
	if v.MessagingProduct != "whatsapp" || v.Metadata["phone_number_id"] != DefaultPhoneNumberID || v.Metadata["display_phone_number"] != DefaultDisplayPhoneNumber {
		t.Fatalf("value: %s", body)
	}
	return v.Statuses
}

func TestOutsideWindowFailsWith131047(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := e.sendOK(t, text("+5511111111111", "hello?"))
	body := e.hooks.next(t)
	items := statusItems(t, body)
	if len(items) != 1 {
		t.Fatalf("statuses: %s", body)
	}
	// Exactly the shape of Meta's failed status (fixture reEngagementMessageError.json).
	fixture, err := os.ReadFile(filepath.Join("..", "..", "testdata", "whatsapp", "split",
		"whatsapp-business-java-api__src__test__resources__deserialization__reEngagementMessageError.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := statusItems(t, fixtureWithIDs(t, fixture))[0]
	want["id"], want["timestamp"] = id, fmt.Sprint(e.clock.Now().Unix())
	if got := items[0]; !reflect.DeepEqual(got, want) {
		t.Fatalf("failed status\n got %v\nwant %v", got, want)
	}
	e.hooks.quiet(t, 50*time.Millisecond) // no sent, no delivered
	if ph := e.sim.Phone("5511111111111", false); ph[0].Status != "failed" || ph[0].ErrorCode != CodeReEngagement {
		t.Fatalf("phone: %+v", ph)
	}

	// Templates may open a conversation outside the window.
	e.sendOK(t, `{"messaging_product":"whatsapp","to":"+5511111111111","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`)
	sts := e.hooks.statuses(t, 2)
	if sts[0].Status != "sent" || sts[1].Status != "delivered" || sts[0].PricingCategory != "utility" || sts[0].PricingType != "regular" {
		t.Fatalf("template statuses: %+v", sts)
	}
	// After 24 h a window closes again.
	e.inbound(t, "5511111111111", `{"type":"text","text":{"body":"hi"}}`)
	e.clock.Advance(24*time.Hour + time.Second)
	e.sendOK(t, text("+5511111111111", "too late"))
	if sts := e.hooks.statuses(t, 1); sts[0].Status != "failed" {
		t.Fatalf("after 24 h: %+v", sts)
	}
	// A failed status echoes biz_opaque_callback_data too: a sender that
	// lost the wamid (it crashed before recording it) learns of the failure.
	e.sendOK(t, `{"messaging_product":"whatsapp","to":"+5511111111111","type":"text","text":{"body":"?"},"biz_opaque_callback_data":"sbx:k1;crm 9"}`)
	if sts := e.hooks.statuses(t, 1); sts[0].Status != "failed" || sts[0].BizOpaque != "sbx:k1;crm 9" {
		t.Fatalf("failed status without the echo: %+v", sts)
	}
}

// fixtureWithIDs rewrites a fixture's business ids to the simulator's, so the
// envelope checks apply to it too.
func fixtureWithIDs(t *testing.T, b []byte) []byte {
	t.Helper()
	s := strings.NewReplacer(`"111111111111111"`, `"`+DefaultWABAID+`"`,
		`"101010101010"`, `"`+DefaultDisplayPhoneNumber+`"`,
		`"109999999999999"`, `"`+DefaultPhoneNumberID+`"`).Replace(string(b))
	return []byte(s)
}

func TestStatusWebhooksInOrderAndSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	e.hooks.next(t) // the inbound message itself

	id := e.sendOK(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"text","text":{"body":"hello"},"biz_opaque_callback_data":"ticket-7"}`)
	var raw []map[string]any
	for len(raw) < 2 {
		raw = append(raw, statusItems(t, e.hooks.next(t))...) // the hook server verified each signature
	}
	for i, want := range []string{"sent", "delivered"} {
		st := raw[i]
		if st["id"] != id || st["status"] != want || st["recipient_id"] != "16505551234" || st["biz_opaque_callback_data"] != "ticket-7" {
			t.Fatalf("status %d: %v", i, st)
		}
		if p := st["pricing"]; !reflect.DeepEqual(p, map[string]any{"billable": false, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"}) {
			t.Fatalf("pricing: %v", p)
		}
		if _, ok := st["timestamp"].(string); !ok {
			t.Fatalf("timestamp must be a string: %v", st)
		}
	}
	e.hooks.quiet(t, 50*time.Millisecond) // no read until the phone opens the chat

	if ph := e.sim.Phone("16505551234", false); ph[1].Status != "delivered" {
		t.Fatalf("phone: %+v", ph)
	}
	e.sim.Phone("16505551234", true)
	read := statusItems(t, e.hooks.next(t))
	if len(read) != 1 || read[0]["status"] != "read" || read[0]["id"] != id || read[0]["pricing"] != nil ||
		read[0]["biz_opaque_callback_data"] != "ticket-7" {
		t.Fatalf("read: %v", read)
	}
	e.sim.Phone("16505551234", true)
	e.hooks.quiet(t, 50*time.Millisecond) // read once only
	if s := e.sim.Stats(); s.StatusesPosted != 3 || s.WebhooksFailed != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestReadBeforeDeliveredKeepsOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.SentDelay, o.DeliveredDelay = 100*time.Millisecond, 200*time.Millisecond })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	e.hooks.next(t)
	id := e.sendOK(t, text("+16505551234", "hello"))
	e.sim.Phone("16505551234", true) // opened before anything was posted
	sts := e.hooks.statuses(t, 3)
	for i, want := range []string{"sent", "delivered", "read"} {
		if sts[i].ID != id || sts[i].Status != want {
			t.Fatalf("statuses: %+v", sts)
		}
	}
}

func TestAutoRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.AutoReadAfter = time.Millisecond })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	e.hooks.next(t)
	e.sendOK(t, text("+16505551234", "hello"))
	sts := e.hooks.statuses(t, 3)
	if sts[0].Status != "sent" || sts[1].Status != "delivered" || sts[2].Status != "read" {
		t.Fatalf("statuses: %+v", sts)
	}
}

func TestReactionOnlySent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	in := e.inbound(t, "16505551234", `{"type":"text","text":{"body":"thanks!"}}`)
	e.hooks.next(t)
	e.sendOK(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"reaction","reaction":{"message_id":"`+in+`","emoji":"👍"}}`)
	if sts := e.hooks.statuses(t, 1); sts[0].Status != "sent" {
		t.Fatalf("statuses: %+v", sts)
	}
	e.sim.Phone("16505551234", true)
	e.hooks.quiet(t, 100*time.Millisecond)
}

func TestWebhookRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	e.hooks.next(t)
	before := e.hooks.posts.Load()
	e.hooks.status = func(n int) int {
		if n <= int(before)+2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	id := e.sendOK(t, text("+16505551234", "hello"))
	sts := e.hooks.statuses(t, 2)
	if sts[0].ID != id || sts[0].Status != "sent" || sts[len(sts)-1].Status != "delivered" {
		t.Fatalf("statuses: %+v", sts)
	}
	if s := e.sim.Stats(); s.WebhooksFailed != 2 || s.StatusesDropped != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	// Not parallel: it shortens the package's retry horizon.
	old := retryFor
	retryFor = 600 * time.Millisecond
	t.Cleanup(func() { retryFor = old }) // after the simulator's Close, registered later
	e := newEnv(t, nil)
	e.hooks.status = func(int) int { return http.StatusBadGateway }
	e.sim.SendInbound(t.Context(), Inbound{From: "16505551234", Message: json.RawMessage(`{"type":"text","text":{"body":"hi"}}`)})
	e.sendOK(t, text("+16505551234", "hello"))
	deadline := time.Now().Add(waitFor)
	for e.sim.Stats().StatusesDropped < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("statuses never dropped: %+v", e.sim.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookBatching(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.NoPairRate = true })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	e.hooks.next(t)
	// Hold the first status POST: everything sent meanwhile queues up.
	gate := make(chan struct{})
	e.hooks.gate = gate
	const n = 60
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.sendOK(t, text("+16505551234", fmt.Sprint(i)))
	}
	time.Sleep(50 * time.Millisecond) // let the scheduler release the statuses
	close(gate)
	sts := e.hooks.statuses(t, 2*n)
	if posts := e.hooks.posts.Load(); posts >= 2*n {
		t.Fatalf("%d POSTs for %d statuses: nothing was batched", posts, 2*n)
	}
	// Per message: sent strictly before delivered.
	seen := map[string]string{}
	for _, st := range sts {
		prev := seen[st.ID]
		if (st.Status == "sent" && prev != "") || (st.Status == "delivered" && prev != "sent") {
			t.Fatalf("%s: %s after %q", st.ID, st.Status, prev)
		}
		seen[st.ID] = st.Status
	}
	for _, id := range ids {
		if seen[id] != "delivered" {
			t.Fatalf("%s ended at %q", id, seen[id])
		}
	}
}

func TestStatusesParseWithTheWebhookParser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	wh, err := whatsapp.ParseWebhook(e.hooks.next(t))
	if err != nil || len(wh.Messages) != 1 {
		t.Fatalf("inbound: %v %+v", err, wh)
	}
	m := wh.Messages[0]
	if m.From != "16505551234" || m.Text != "hi" || m.Profile.Name != "Ada" || m.PhoneNumberID != DefaultPhoneNumberID ||
		m.WABAID != DefaultWABAID || !m.Timestamp.Equal(e.clock.Now().Truncate(time.Second)) {
		t.Fatalf("parsed inbound: %+v", m)
	}
	e.sendOK(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"template","template":{"name":"seasonal_offer","language":{"code":"en_US"},
		"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ada"},{"type":"text","parameter_name":"code","text":"X"}]}]}}`)
	sts := e.hooks.statuses(t, 2)
	if sts[0].PricingCategory != "marketing" || sts[0].PricingType != "regular" || sts[0].Billable == nil || !*sts[0].Billable {
		t.Fatalf("marketing template pricing: %+v", sts[0])
	}
}

func TestTappingButtons(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)
	e.hooks.next(t)

	buttons := e.sendOK(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"interactive","interactive":{"type":"button","body":{"text":"Still coming?"},
		"action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Yes"}},{"type":"reply","reply":{"id":"no","title":"No"}}]}}}`)
	list := e.sendOK(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"interactive","interactive":{"type":"list","body":{"text":"Pick a slot"},
		"action":{"button":"Slots","sections":[{"title":"Mon","rows":[{"id":"mon9","title":"9:00","description":"with Bea"}]}]}}}`)
	tpl := e.sendOK(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"template","template":{"name":"appointment_reminder","language":{"code":"en"},
		"components":[{"type":"body","parameters":[{"type":"text","text":"May 5"},{"type":"text","text":"9:00"}]},
		{"type":"button","sub_type":"quick_reply","index":"1","parameters":[{"type":"payload","payload":"CANCEL_42"}]}]}}`)

	ph := e.sim.Phone("16505551234", false)
	if len(ph) != 4 || len(ph[1].Buttons) != 2 || len(ph[2].Buttons) != 1 || len(ph[3].Buttons) != 2 {
		t.Fatalf("buttons: %+v", ph)
	}
	for _, tc := range []struct {
		b     PhoneButton
		check func(m whatsapp.InboundMessage) bool
	}{
		{ph[1].Buttons[0], func(m whatsapp.InboundMessage) bool {
			return m.Interactive != nil && m.Interactive.ID == "yes" && m.Text == "Yes" && m.Context.ID == buttons
		}},
		{ph[2].Buttons[0], func(m whatsapp.InboundMessage) bool {
			return m.Interactive != nil && m.Interactive.ID == "mon9" && m.Interactive.Description == "with Bea" && m.Context.ID == list
		}},
		{ph[3].Buttons[0], func(m whatsapp.InboundMessage) bool {
			return m.Button != nil && m.Button.Payload == "Confirm" && m.Context.ID == tpl
		}},
		{ph[3].Buttons[1], func(m whatsapp.InboundMessage) bool {
			return m.Button != nil && m.Button.Payload == "CANCEL_42" && m.Button.Text == "Cancel" && m.Context.ID == tpl
		}},
	} {
		if _, err := e.sim.SendInbound(t.Context(), Inbound{From: "16505551234", Message: tc.b.Reply}); err != nil {
			t.Fatal(err)
		}
		wh, err := whatsapp.ParseWebhook(e.hooks.next(t))
		if err != nil || len(wh.Messages) != 1 || wh.Messages[0].Context == nil || !tc.check(wh.Messages[0]) {
			t.Fatalf("tap on %+v: %v %+v", tc.b, err, wh.Messages)
		}
	}
}
