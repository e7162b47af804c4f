package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp"
)

// drained waits until every accepted webhook is stored and every outbox
// item relayed.
func drained(t *testing.T, a *sendboxtest.App) {
	t.Helper()
	sendboxtest.Eventually(t, 30*time.Second, "the webhook stream and the outbox to drain", func() bool {
		ctx := context.Background()
		n, _ := a.Store.OutboxLen(ctx)
		return a.Broker.StreamDepths(ctx)[events.StreamInbound] == 0 && n == 0
	})
}

func counts(t *testing.T, a *sendboxtest.App) store.Counts {
	t.Helper()
	c, err := a.Store.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEveryFixtureIsAcceptedAndStored posts each of the 119 real-shaped
// envelopes, signed, and checks the store holds exactly what they carry.
func TestEveryFixtureIsAcceptedAndStored(t *testing.T) {
	a := sendboxtest.New(t)
	fixtures := sendboxtest.Fixtures(t, sendboxtest.FixturesDir)
	wantMsgs := map[string]bool{}
	wantStatuses := map[string]bool{}
	wantEvents := map[string]bool{}
	for name, body := range fixtures {
		if code, resp := a.PostWebhook(body); code != http.StatusOK {
			t.Fatalf("%s: status %d %s", name, code, resp)
		}
		wh, err := whatsapp.ParseWebhook(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, m := range wh.Messages {
			if m.From == "" && m.FromUserID == "" && m.Profile.WaID == "" && m.Profile.UserID == "" {
				wantEvents[events.FieldUnattributedMessage+"\x00"+string(m.Raw)] = true
				continue
			}
			wantMsgs[m.ID] = true
		}
		// The business's own messages from the WhatsApp Business app.
		// Meta's samples reuse a few placeholder ids across customer
		// messages and echoes; real wamids are unique, so an id is one
		// message whichever came first.
		for _, e := range wh.Echoes {
			wantMsgs[e.ID] = true
		}
		for _, s := range wh.Statuses {
			wantStatuses[s.ID+"\x00"+s.Status] = true
		}
		for _, e := range wh.Events {
			wantEvents[e.Field+"\x00"+string(e.Value)] = true
		}
	}
	drained(t, a)
	c := counts(t, a)
	if c.Messages != len(wantMsgs) || c.Statuses != len(wantStatuses) || c.Events != len(wantEvents) {
		t.Fatalf("stored %d messages, %d statuses, %d events; the fixtures carry %d, %d, %d",
			c.Messages, c.Statuses, c.Events, len(wantMsgs), len(wantStatuses), len(wantEvents))
	}
	for wamid := range wantMsgs {
		m, err := a.Store.MessageByWAMID(context.Background(), wamid)
		if err != nil {
			t.Fatalf("%s: %v", wamid, err)
		}
		if m.ContactID == 0 || m.ConversationID == 0 || len(m.Raw) == 0 || !json.Valid(m.Raw) {
			t.Errorf("%s stored incompletely: %+v", wamid, m)
		}
	}
	// Posting them all again changes nothing: Meta's retries are harmless.
	for name, body := range fixtures {
		if code, _ := a.PostWebhook(body); code != http.StatusOK {
			t.Fatalf("%s again: %d", name, code)
		}
	}
	drained(t, a)
	if c2 := counts(t, a); c2 != c {
		t.Fatalf("replaying the fixtures changed the store: %+v then %+v", c, c2)
	}
}

// TestStoredFieldsByType checks, through the REST API, what a few typed
// messages look like once stored.
func TestStoredFieldsByType(t *testing.T) {
	a := sendboxtest.New(t)
	dir := sendboxtest.FixturesDir + "/"
	cases := []struct {
		fixture, wamid, typ, text string
		check                     func(t *testing.T, m store.Message)
	}{
		{"pywa__tests__data__updates__message__chosen_location.json", "", "location", "", func(t *testing.T, m store.Message) {
			if m.Latitude == nil || m.Longitude == nil {
				t.Error("location without coordinates")
			}
		}},
		{"pywa__tests__data__updates__message__image.json", "", "image", "", func(t *testing.T, m store.Message) {
			if m.Media == nil || m.Media.ID == "" || m.Media.MimeType == "" {
				t.Errorf("image without media: %+v", m.Media)
			}
		}},
		{"pywa__tests__data__updates__callback_button__quick_reply.json", "", "button", "", func(t *testing.T, m store.Message) {
			if m.ReplyID == "" || m.ContextWAMID == "" {
				t.Errorf("template button without payload or context: %+v", m)
			}
		}},
		{"pywa__tests__data__updates__message__reaction.json", "", "reaction", "", func(t *testing.T, m store.Message) {
			if m.RelatedWAMID == "" {
				t.Error("reaction without its target")
			}
		}},
		{"pywa__history__ec7c739bde17__tests__data__updates__message__text_bsuid.json", "", "text", "Does it come in another color?", func(t *testing.T, m store.Message) {
			code, body := a.Do("GET", fmt.Sprintf("/api/v1/contacts/%d", m.ContactID), nil)
			c := sendboxtest.JSON[struct{ Data store.Contact }](t, body)
			if code != 200 || c.Data.WaID != "" || c.Data.UserID == "" || c.Data.Username == "" {
				t.Errorf("BSUID-only contact: %d %+v", code, c.Data)
			}
		}},
		{"pywa__tests__data__updates__message__unsupported.json", "", "unsupported", "", func(t *testing.T, m store.Message) {
			if m.Error == nil || m.Error.Code != 131051 {
				t.Errorf("unsupported without its 131051: %+v", m.Error)
			}
		}},
	}
	for _, tc := range cases {
		body := sendboxtest.Fixtures(t, sendboxtest.FixturesDir)[tc.fixture]
		if body == nil {
			t.Fatalf("no fixture %s%s", dir, tc.fixture)
		}
		// Give each its own wamid so fixtures sharing one do not collide.
		wh, _ := whatsapp.ParseWebhook(body)
		orig := wh.Messages[0].ID
		tc.wamid = "wamid.test." + tc.typ
		body = bytes.Replace(body, []byte(`"`+orig+`"`), []byte(`"`+tc.wamid+`"`), 1)
		// Fixtures reuse one BSUID for a person who also has a number; make
		// the username-only customer someone else.
		if strings.Contains(tc.fixture, "bsuid") {
			body = bytes.ReplaceAll(body, []byte(`US.13491208655302741918"`), []byte(`US.777"`))
		}
		if code, resp := a.PostWebhook(body); code != 200 {
			t.Fatalf("%s: %d %s", tc.fixture, code, resp)
		}
	}
	drained(t, a)
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			m, err := a.Store.MessageByWAMID(context.Background(), "wamid.test."+tc.typ)
			if err != nil {
				t.Fatal(err)
			}
			code, body := a.Do("GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil)
			got := sendboxtest.JSON[struct{ Data store.Message }](t, body).Data
			if code != 200 || got.Type != tc.typ || (tc.text != "" && got.Text != tc.text) {
				t.Fatalf("%d: type %q text %q", code, got.Type, got.Text)
			}
			tc.check(t, got)
		})
	}
}

func TestWebhookRejectsBadInput(t *testing.T) {
	a := sendboxtest.New(t)
	good := sendboxtest.Fixtures(t, sendboxtest.FixturesDir)["pywa__tests__data__updates__message__text.json"]
	post := func(body []byte, sig string) (int, []byte) {
		req, _ := http.NewRequest("POST", a.URL()+"/webhooks/whatsapp", bytes.NewReader(body))
		if sig != "" {
			req.Header.Set(whatsapp.SignatureHeader, sig)
		}
		resp, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes()
	}
	sign := func(b []byte) string { return whatsapp.Sign([]byte(sendboxtest.AppSecret), b) }
	big := append([]byte(`{"object":"whatsapp_business_account","pad":"`), bytes.Repeat([]byte("x"), 5<<20)...)
	big = append(big, `"}`...)
	cases := []struct {
		name   string
		body   []byte
		sig    string
		status int
		code   string
	}{
		{"missing signature", good, "", 401, "missing_signature"},
		{"wrong secret", good, whatsapp.Sign([]byte("not-the-secret"), good), 401, "bad_signature"},
		{"signature of other bytes", good, sign(append(good, ' ')), 401, "bad_signature"},
		{"not hex", good, "sha256=zz", 401, "bad_signature"},
		{"sha1 header form", good, "sha1=abcdef", 401, "bad_signature"},
		{"oversized", big, sign(big), 413, "body_too_large"},
		{"malformed json", []byte(`{"object": "whatsapp_business_account", "entry": [`), sign([]byte(`{"object": "whatsapp_business_account", "entry": [`)), 400, "malformed_json"},
		{"json array", []byte(`[1,2]`), sign([]byte(`[1,2]`)), 400, "malformed_json"},
		{"empty", []byte{}, sign([]byte{}), 400, "malformed_json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(tc.body, tc.sig)
			e := sendboxtest.JSON[struct {
				Error struct{ Code, Message string }
			}](t, body)
			if code != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Fatalf("got %d %s, want %d %s", code, body, tc.status, tc.code)
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // anything wrongly accepted would be ingested by now
	if d := a.Broker.StreamDepths(context.Background())[events.StreamInbound]; d != 0 {
		t.Fatalf("%d rejected webhooks reached the stream", d)
	}
	if c := counts(t, a); c.Messages != 0 || c.Events != 0 || c.Statuses != 0 {
		t.Fatalf("rejected webhooks were stored: %+v", c)
	}
	_, metricsBody := a.Do("GET", "/metrics", nil)
	if !strings.Contains(string(metricsBody), `sendbox_webhooks_rejected_total{reason="bad_signature"} 4`) {
		t.Errorf("rejections not counted:\n%s", metricsBody)
	}
}

func TestVerificationHandshake(t *testing.T) {
	a := sendboxtest.New(t)
	get := func(mode, token, challenge string) (int, string) {
		q := url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}
		resp, err := a.Client.Get(a.URL() + "/webhooks/whatsapp?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := get("subscribe", sendboxtest.VerifyToken, "1158201444"); code != 200 || body != "1158201444" {
		t.Fatalf("right token: %d %q", code, body)
	}
	if code, body := get("subscribe", "guess", "1158201444"); code != 403 || strings.Contains(body, "1158201444") {
		t.Fatalf("wrong token: %d %q", code, body)
	}
	if code, _ := get("unsubscribe", sendboxtest.VerifyToken, "1"); code != 400 {
		t.Fatalf("wrong mode: %d", code)
	}
}

func textWebhook(wamid, from, body string, extra string) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},
		"contacts":[{"profile":{"name":"Luca"},"wa_id":%q}],
		"messages":[{"from":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":%q}}]%s}}]}]}`,
		from, from, wamid, time.Now().Unix(), body, extra))
}

func TestDuplicatesStoreOnce(t *testing.T) {
	a := sendboxtest.New(t)
	first := textWebhook("wamid.dup1", "393331112222", "Vorrei prenotare una visita", "")
	for i := 0; i < 3; i++ { // the same webhook, retried
		if code, _ := a.PostWebhook(first); code != 200 {
			t.Fatal(code)
		}
	}
	// The same wamid in another webhook (another body: a batch with a status).
	second := textWebhook("wamid.dup1", "393331112222", "Vorrei prenotare una visita",
		`,"statuses":[{"id":"wamid.unrelated","status":"sent","timestamp":"1","recipient_id":"393331112222"}]`)
	if code, _ := a.PostWebhook(second); code != 200 {
		t.Fatal("second")
	}
	drained(t, a)
	c := counts(t, a)
	if c.Inbound != 1 || c.Contacts != 1 || c.Conversations != 1 || c.Statuses != 1 {
		t.Fatalf("duplicates stored: %+v", c)
	}
	code, body := a.Do("GET", "/api/v1/conversations", nil)
	convs := sendboxtest.JSON[struct{ Data []store.Conversation }](t, body)
	if code != 200 || len(convs.Data) != 1 || convs.Data[0].Unread != 1 {
		t.Fatalf("conversation after duplicates: %s", body)
	}
	_, m := a.Do("GET", "/metrics", nil)
	if !strings.Contains(string(m), `sendbox_webhooks_received_total{result="duplicate"} 2`) {
		t.Errorf("the broker did not recognise the retried body:\n%s", m)
	}
}

// TestConcurrentWebhooks posts many webhooks at once, each carrying several
// messages, and checks every message is stored once.
func TestConcurrentWebhooks(t *testing.T) {
	a := sendboxtest.New(t)
	const workers, perWorker = 8, 50
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for i := 0; i < perWorker; i++ {
				body := textWebhook(fmt.Sprintf("wamid.c.%d.%d", w, i), fmt.Sprintf("3933300%02d%03d", w, i%20), "ciao", "")
				if code, resp := a.PostWebhook(body); code != 200 {
					errs <- fmt.Errorf("%d %s", code, resp)
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	drained(t, a)
	if c := counts(t, a); c.Inbound != workers*perWorker || c.Contacts != workers*20 {
		t.Fatalf("counts %+v", c)
	}
}
