package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp"
)

type apiErr struct {
	Error struct{ Code, Message, Field string }
}

type msgList struct {
	Data       []store.Message
	Total      int
	NextCursor string `json:"next_cursor"`
}

// inbound writes as a customer through the sandbox test phone and waits
// until the message is stored (the webhook is acknowledged before that).
func inbound(t *testing.T, a *sendboxtest.App, from, body string) string {
	t.Helper()
	code, resp := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{
		"from": from, "name": "Giulia", "type": "text", "text": map[string]string{"body": body}})
	if code != http.StatusCreated {
		t.Fatalf("sandbox inbound: %d %s", code, resp)
	}
	wamid := sendboxtest.JSON[struct{ Data struct{ WAMID string } }](t, resp).Data.WAMID
	sendboxtest.Eventually(t, 20*time.Second, "the inbound message to be stored", func() bool {
		_, err := a.Store.MessageByWAMID(context.Background(), wamid)
		return err == nil
	})
	return wamid
}

func TestAPIAuth(t *testing.T) {
	a := sendboxtest.New(t)
	viewer, _, err := accounts.CreateAPIKey(context.Background(), a.Store, "dashboard", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	revoked, k, _ := accounts.CreateAPIKey(context.Background(), a.Store, "old", "admin")
	if err := a.Store.RevokeAPIKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	send := map[string]any{"to": "+393331234567", "type": "template",
		"template": map[string]any{"name": "hello_world", "language": map[string]string{"code": "en_US"}}}
	cases := []struct {
		name, key, method, path string
		body                    any
		status                  int
		code                    string
	}{
		{"no key", "", "GET", "/api/v1/messages", nil, 401, "unauthorized"},
		{"unknown key", "sbx_nottherightkey", "GET", "/api/v1/messages", nil, 401, "unauthorized"},
		{"not a key", "hunter2", "GET", "/api/v1/contacts", nil, 401, "unauthorized"},
		{"revoked key", revoked, "GET", "/api/v1/messages", nil, 401, "unauthorized"},
		{"viewer reads", viewer, "GET", "/api/v1/conversations", nil, 200, ""},
		{"viewer cannot send", viewer, "POST", "/api/v1/messages", send, 403, "forbidden"},
		{"viewer cannot read the event log", viewer, "GET", "/api/v1/webhook-events", nil, 403, "forbidden"},
		{"unknown endpoint", a.Key, "GET", "/api/v1/nothing", nil, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := a.DoAs(tc.key, tc.method, tc.path, tc.body)
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, body)
			}
			if tc.code != "" {
				if e := sendboxtest.JSON[apiErr](t, body); e.Error.Code != tc.code || e.Error.Message == "" {
					t.Fatalf("error %s, want code %s", body, tc.code)
				}
			}
		})
	}
}

func TestSendValidation(t *testing.T) {
	a := sendboxtest.New(t)
	inbound(t, a, "393331234567", "Salve")
	long := strings.Repeat("a", 4097)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"not json", "{to:", 400, "invalid_json", ""},
		{"empty", "", 400, "invalid_json", ""},
		{"unknown field", `{"to":"+393331234567","type":"text","txt":{"body":"x"}}`, 400, "invalid_json", ""},
		{"trailing data", `{"to":"+393331234567","type":"text","text":{"body":"x"}} {}`, 400, "invalid_json", ""},
		{"no recipient", map[string]any{"type": "text", "text": map[string]string{"body": "x"}}, 422, "", "to"},
		{"bad recipient", map[string]any{"to": "call me", "type": "text", "text": map[string]string{"body": "x"}}, 422, "", "to"},
		{"text too long", map[string]any{"to": "+393331234567", "type": "text", "text": map[string]string{"body": long}}, 422, "", "text.body"},
		{"four buttons", map[string]any{"to": "+393331234567", "type": "interactive", "interactive": map[string]any{
			"type": "button", "body": map[string]string{"text": "Pick"}, "action": map[string]any{"buttons": []any{
				btn("a"), btn("b"), btn("c"), btn("d")}}}}, 422, "", ""},
		{"outside the window", map[string]any{"to": "+14155550100", "type": "text", "text": map[string]string{"body": "hi"}}, 422, "outside_window", ""},
		{"wrong messaging_product", map[string]any{"messaging_product": "sms", "to": "+393331234567", "type": "text", "text": map[string]string{"body": "x"}}, 422, "invalid_field", "messaging_product"},
		// sendbox's send id takes 21 of the 512 characters Meta allows.
		{"biz_opaque_callback_data too long", map[string]any{"to": "+393331234567", "type": "text", "text": map[string]string{"body": "x"},
			"biz_opaque_callback_data": strings.Repeat("é", 492)}, 422, "biz_opaque_too_long", "biz_opaque_callback_data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := a.Do("POST", "/api/v1/messages", tc.body)
			e := sendboxtest.JSON[apiErr](t, body)
			if code != tc.status || e.Error.Message == "" || (tc.code != "" && e.Error.Code != tc.code) ||
				(tc.field != "" && !strings.HasPrefix(e.Error.Field, tc.field)) {
				t.Fatalf("got %d %s", code, body)
			}
		})
	}
	if c := counts(t, a); c.Outbound != 0 {
		t.Fatalf("refused sends were stored: %+v", c)
	}
}

func btn(id string) map[string]any {
	return map[string]any{"type": "reply", "reply": map[string]string{"id": id, "title": strings.ToUpper(id)}}
}

func TestSendAndReadBack(t *testing.T) {
	a := sendboxtest.New(t)
	inbound(t, a, "393331234567", "Avete disponibilità sabato?")
	req := map[string]any{"messaging_product": "whatsapp", "to": "+39 333 123 4567", "type": "text",
		"text": map[string]any{"body": "Sì, sabato alle 10."}, "biz_opaque_callback_data": strings.Repeat("é", 485) + "crm-7"}
	code, body := a.Do("POST", "/api/v1/messages", req)
	if code != http.StatusAccepted {
		t.Fatalf("send: %d %s", code, body)
	}
	m := sendboxtest.JSON[struct{ Data store.Message }](t, body).Data
	if m.ID == 0 || m.Status != "queued" || m.Direction != "outbound" || m.Text != "Sì, sabato alle 10." {
		t.Fatalf("queued message: %+v", m)
	}
	// The simulator answers like Meta, then sends sent and delivered webhooks.
	sendboxtest.Eventually(t, 20*time.Second, "the message to be delivered", func() bool {
		_, b := a.Do("GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil)
		got := sendboxtest.JSON[struct{ Data store.Message }](t, b).Data
		return got.Status == "delivered" && strings.HasPrefix(got.WAMID, "wamid.")
	})
	// The caller's biz_opaque_callback_data went to Meta after sendbox's
	// send id, and comes back as the caller set it.
	phone := a.Sim.Phone("393331234567", false)
	var sent struct {
		Opaque string `json:"biz_opaque_callback_data"`
	}
	json.Unmarshal(phone[len(phone)-1].Body, &sent)
	if id, caller := whatsapp.SplitOpaque(sent.Opaque); len(id) != whatsapp.SendIDLen || caller != req["biz_opaque_callback_data"] {
		t.Fatalf("sent biz_opaque_callback_data %q", sent.Opaque)
	}
	_, body = a.Do("GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil)
	var back struct {
		Data struct {
			Payload struct {
				Opaque string `json:"biz_opaque_callback_data"`
			}
		}
	}
	if json.Unmarshal(body, &back); back.Data.Payload.Opaque != req["biz_opaque_callback_data"] {
		t.Fatalf("the API shows %q", back.Data.Payload.Opaque)
	}
	// The customer opens the chat on the test phone: read.
	code, body = a.Do("GET", "/api/v1/sandbox/phone/393331234567?open=1", nil)
	if code != 200 || !strings.Contains(string(body), "Sì, sabato alle 10.") {
		t.Fatalf("phone: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the message to be read", func() bool {
		_, b := a.Do("GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil)
		return sendboxtest.JSON[struct{ Data store.Message }](t, b).Data.Status == "read"
	})
	// Filters.
	code, body = a.Do("GET", "/api/v1/messages?direction=inbound&contact=%2B393331234567", nil)
	l := sendboxtest.JSON[msgList](t, body)
	if code != 200 || l.Total != 1 || len(l.Data) != 1 || l.Data[0].Direction != "inbound" {
		t.Fatalf("inbound for the contact: %d %s", code, body)
	}
	code, body = a.Do("GET", fmt.Sprintf("/api/v1/messages?contact=%d&since=%d", m.ContactID, time.Now().Add(-time.Minute).Unix()), nil)
	if l = sendboxtest.JSON[msgList](t, body); code != 200 || l.Total != 2 {
		t.Fatalf("both directions since a minute ago: %d %s", code, body)
	}
	code, body = a.Do("GET", "/api/v1/messages?since="+time.Now().Add(time.Hour).Format(time.RFC3339), nil)
	if l = sendboxtest.JSON[msgList](t, body); code != 200 || l.Total != 0 {
		t.Fatalf("since the future: %d %s", code, body)
	}
	code, body = a.Do("GET", "/api/v1/messages?contact=%2B15550000000", nil)
	if l = sendboxtest.JSON[msgList](t, body); code != 200 || l.Total != 0 || l.Data == nil {
		t.Fatalf("unknown contact: %d %s", code, body)
	}
	code, body = a.Do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages?order=asc", m.ConversationID), nil)
	l = sendboxtest.JSON[msgList](t, body)
	if code != 200 || l.Total != 2 || l.Data[0].Direction != "inbound" || l.Data[1].ID != m.ID {
		t.Fatalf("thread: %d %s", code, body)
	}
	for _, bad := range []string{"direction=sideways", "since=yesterday", "order=random", "cursor=-1", "limit=x"} {
		if code, body := a.Do("GET", "/api/v1/messages?"+bad, nil); code != 400 {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	for _, path := range []string{"/api/v1/messages/999", "/api/v1/conversations/999", "/api/v1/contacts/999", "/api/v1/conversations/999/messages"} {
		if code, _ := a.Do("GET", path, nil); code != 404 {
			t.Errorf("%s: %d", path, code)
		}
	}
	if code, _ := a.Do("GET", "/api/v1/messages/abc", nil); code != 400 {
		t.Errorf("non-numeric id: %d", code)
	}
}

func TestIdempotencyKeyHeader(t *testing.T) {
	a := sendboxtest.New(t)
	body := `{"to":"+393331234567","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`
	send := func() (int, store.Message) {
		req, _ := http.NewRequest("POST", a.URL()+"/api/v1/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.Key)
		req.Header.Set("Idempotency-Key", "order-1042-confirmation")
		resp, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, sendboxtest.JSON[struct{ Data store.Message }](t, b.Bytes()).Data
	}
	c1, m1 := send()
	c2, m2 := send()
	if c1 != 202 || c2 != 200 || m1.ID != m2.ID {
		t.Fatalf("first %d id %d, second %d id %d", c1, m1.ID, c2, m2.ID)
	}
	if c := counts(t, a); c.Outbound != 1 {
		t.Fatalf("outbound messages: %d", c.Outbound)
	}
}

func TestPagination(t *testing.T) {
	a := sendboxtest.New(t)
	for i := 0; i < 7; i++ {
		if code, _ := a.PostWebhook(textWebhook(fmt.Sprintf("wamid.p%d", i), fmt.Sprintf("39333000%04d", i), "hello", "")); code != 200 {
			t.Fatal(code)
		}
	}
	drained(t, a)
	seen := map[int64]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		code, body := a.Do("GET", "/api/v1/conversations?limit=3&cursor="+cursor, nil)
		l := sendboxtest.JSON[struct {
			Data       []store.Conversation
			Total      int
			NextCursor string `json:"next_cursor"`
		}](t, body)
		if code != 200 || l.Total != 7 {
			t.Fatalf("%d %s", code, body)
		}
		for _, c := range l.Data {
			if seen[c.ID] {
				t.Fatalf("conversation %d on two pages", c.ID)
			}
			seen[c.ID] = true
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	if len(seen) != 7 {
		t.Fatalf("saw %d of 7 conversations", len(seen))
	}
	if code, _ := a.Do("GET", "/api/v1/conversations?cursor=notacursor", nil); code != 400 {
		t.Fatalf("bad cursor: %d", code)
	}
	code, body := a.Do("GET", "/api/v1/contacts?limit=5", nil)
	l := sendboxtest.JSON[struct {
		Data       []store.Contact
		Total      int
		NextCursor string `json:"next_cursor"`
	}](t, body)
	if code != 200 || l.Total != 7 || len(l.Data) != 5 || l.NextCursor == "" {
		t.Fatalf("contacts page: %d %s", code, body)
	}
	code, body = a.Do("GET", "/api/v1/contacts?limit=5&cursor="+l.NextCursor, nil)
	if l2 := sendboxtest.JSON[struct{ Data []store.Contact }](t, body); code != 200 || len(l2.Data) != 2 {
		t.Fatalf("second contacts page: %d %s", code, body)
	}
}

// TestInboundMediaIsDownloaded sends a photo from the test phone and gets
// the very bytes back from the API once the downloader stored them.
func TestInboundMediaIsDownloaded(t *testing.T) {
	a := sendboxtest.New(t)
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}, 3000)
	code, body := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{
		"from": "393339998888", "type": "image", "image": map[string]string{"caption": "Il divano verde"},
		"media": map[string]string{"data": base64.StdEncoding.EncodeToString(photo), "mime_type": "image/jpeg"}})
	if code != 201 {
		t.Fatalf("%d %s", code, body)
	}
	wamid := sendboxtest.JSON[struct{ Data struct{ WAMID string } }](t, body).Data.WAMID
	var m *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the photo to be downloaded", func() bool {
		var err error
		m, err = a.Store.MessageByWAMID(context.Background(), wamid)
		return err == nil && m.Media != nil && m.Media.State == "stored"
	})
	if m.Text != "Il divano verde" || m.Media.Size != int64(len(photo)) {
		t.Fatalf("stored: %+v %+v", m, m.Media)
	}
	code, got := a.Do("GET", fmt.Sprintf("/api/v1/messages/%d/media", m.ID), nil)
	if code != 200 || !bytes.Equal(got, photo) {
		t.Fatalf("media: %d, %d bytes", code, len(got))
	}
}

func TestSandboxOnlyEndpointsInProduction(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	code, body := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": "393331234567", "type": "text", "text": map[string]string{"body": "x"}})
	if e := sendboxtest.JSON[apiErr](t, body); code != 404 || e.Error.Code != "not_sandbox" {
		t.Fatalf("%d %s", code, body)
	}
	if code, _ := a.Do("GET", "/sim/graph/v25.0/100000000000001", nil); code != 404 {
		t.Fatalf("the simulator is served in production: %d", code)
	}
}

// TestMarkReadAndUploadedMedia: an agent marks the customer's message read
// (the customer sees blue ticks), uploads a PDF and sends it by media id.
func TestMarkReadAndUploadedMedia(t *testing.T) {
	a := sendboxtest.New(t)
	wamid := inbound(t, a, "393338887777", "Mi mandate il listino?")
	in, _ := a.Store.MessageByWAMID(context.Background(), wamid)
	code, body := a.Do("POST", fmt.Sprintf("/api/v1/messages/%d/read", in.ID), `{"typing":true}`)
	if code != 200 {
		t.Fatalf("mark read: %d %s", code, body)
	}
	if conv, _ := a.Store.ConversationByID(context.Background(), in.ConversationID); conv.Unread != 0 {
		t.Fatalf("unread after mark read: %d", conv.Unread)
	}
	phone := a.Sim.Phone("393338887777", false)
	if len(phone) != 1 || phone[0].Status != "read" {
		t.Fatalf("the customer does not see the message read: %+v", phone)
	}

	// Upload a PDF, then send it by the id Meta returned.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "listino-2026.pdf")
	fw.Write([]byte("%PDF-1.4 listino prezzi"))
	mw.WriteField("type", "application/pdf")
	mw.Close()
	req, _ := http.NewRequest("POST", a.URL()+"/api/v1/media", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+a.Key)
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ Data struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != 201 || up.Data.ID == "" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}
	m := queueOK(t, a, map[string]any{"to": "+393338887777", "type": "document",
		"document": map[string]string{"id": up.Data.ID, "filename": "listino-2026.pdf", "caption": "Ecco il listino"}})
	sendboxtest.Eventually(t, 20*time.Second, "the document to be sent", func() bool {
		got, _ := a.Store.MessageByID(context.Background(), m.ID)
		return got.WAMID != ""
	})
	if code, body := a.Do("POST", "/api/v1/media", "not multipart"); code != 400 {
		t.Fatalf("upload without a file: %d %s", code, body)
	}
	out, _ := a.Store.MessageByID(context.Background(), m.ID)
	if code, _ := a.Do("POST", fmt.Sprintf("/api/v1/messages/%d/read", out.ID), nil); code != 422 {
		t.Fatalf("marking an outbound message read: %d", code)
	}
}

// TestEraseContactByAPI: erasure removes the customer, their messages and
// their files from disk; only admins may do it.
func TestEraseContactByAPI(t *testing.T) {
	a := sendboxtest.New(t)
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 9}, 500)
	code, body := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": "393330001234", "type": "image",
		"image": map[string]string{"caption": "la mia radiografia"},
		"media": map[string]string{"data": base64.StdEncoding.EncodeToString(photo), "mime_type": "image/jpeg"}})
	if code != 201 {
		t.Fatalf("%d %s", code, body)
	}
	wamid := sendboxtest.JSON[struct{ Data struct{ WAMID string } }](t, body).Data.WAMID
	var m *store.Message
	sendboxtest.Eventually(t, 20*time.Second, "the photo to be stored", func() bool {
		var err error
		m, err = a.Store.MessageByWAMID(context.Background(), wamid)
		return err == nil && m.Media != nil && m.Media.State == "stored"
	})
	file := filepath.Join(a.Config.DataDir, m.Media.Path)
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
	agent, _, _ := accounts.CreateAPIKey(context.Background(), a.Store, "agent", "agent")
	path := fmt.Sprintf("/api/v1/contacts/%d", m.ContactID)
	if code, _ := a.DoAs(agent, "DELETE", path, nil); code != 403 {
		t.Fatalf("agent erased a contact: %d", code)
	}
	if code, body := a.Do("DELETE", path, nil); code != 204 {
		t.Fatalf("erase: %d %s", code, body)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the photo is still on disk: %v", err)
	}
	if code, _ := a.Do("GET", path, nil); code != 404 {
		t.Fatalf("contact after erasure: %d", code)
	}
	if code, body := a.Do("GET", "/api/v1/messages?contact=%2B393330001234", nil); code != 200 || sendboxtest.JSON[msgList](t, body).Total != 0 {
		t.Fatalf("messages after erasure: %s", body)
	}
	if code, _ := a.Do("DELETE", path, nil); code != 404 {
		t.Fatalf("second erasure: %d", code)
	}
}
