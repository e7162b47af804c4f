package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "EAAGtestTOKEN123"

// graph starts a fake Graph API that checks the bearer token on every
// request, hands the request to h, and returns a Client pointed at it.
func graph(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) (*Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("%s %s: Authorization = %q", r.Method, r.URL, got)
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL + "/", Version: "v25.0", PhoneNumberID: "106540352242922", WABAID: "102290129340398", Token: testToken, HTTP: srv.Client()}, &calls
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func decodeBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Fatalf("request body: %v", err)
	}
	return m
}

func TestClientSend(t *testing.T) {
	t.Parallel()
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v25.0/106540352242922/messages" {
			t.Errorf("got %s %s", r.Method, r.URL.Path)
		}
		body := decodeBody(t, r)
		want := map[string]any{
			"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+16505551234", "type": "text",
			"text": map[string]any{"body": "Hello", "preview_url": true}, "context": map[string]any{"message_id": "wamid.Q"},
			"biz_opaque_callback_data": "job-7",
		}
		eq(t, "request body", body, want)
		writeJSON(w, 200, `{"messaging_product":"whatsapp","contacts":[{"input":"+16505551234","wa_id":"16505551234","user_id":"US.1349"}],"messages":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MjNDQjE2MUQ2RkZDQjFDNDAA"}]}`)
	})
	m := &OutboundMessage{To: "1 (650) 555-1234", Type: "text", Text: &Text{Body: "Hello", PreviewURL: true}, Context: &ReplyTo{MessageID: "wamid.Q"}, BizOpaque: "job-7"}
	res, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "result", *res, SendResult{WAMID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MjNDQjE2MUQ2RkZDQjFDNDAA", WaID: "16505551234", UserID: "US.1349"})
	eq(t, "caller's To", m.To, "1 (650) 555-1234")
	eq(t, "caller's RecipientType", m.RecipientType, "")
}

func TestClientSendTemplatePaced(t *testing.T) {
	t.Parallel()
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
		body := decodeBody(t, r)
		eq(t, "to", body["to"], any("US.13491208655302741918"))
		tpl, _ := body["template"].(map[string]any)
		eq(t, "template.name", tpl["name"], any("hello_world"))
		writeJSON(w, 200, `{"messaging_product":"whatsapp","contacts":[{"input":"US.13491208655302741918","wa_id":""}],"messages":[{"id":"wamid.T","message_status":"held_for_quality_assessment"}]}`)
	})
	res, err := c.Send(context.Background(), tplMsg(&Template{Name: "hello_world", Language: TemplateLanguage{Code: "en_US"}}).withTo("US.13491208655302741918"))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "MessageStatus", res.MessageStatus, "held_for_quality_assessment")
}

func (m *OutboundMessage) withTo(to string) *OutboundMessage { m.To = to; return m }

func TestClientSendGroupKeepsTo(t *testing.T) {
	t.Parallel()
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
		body := decodeBody(t, r)
		eq(t, "recipient_type", body["recipient_type"], any("group"))
		eq(t, "to", body["to"], any("Y2FwaV9ncm91cDox"))
		writeJSON(w, 200, `{"messages":[{"id":"wamid.G"}]}`)
	})
	if _, err := c.Send(context.Background(), &OutboundMessage{RecipientType: "group", To: "Y2FwaV9ncm91cDox", Type: "text", Text: &Text{Body: "hi"}}); err != nil {
		t.Fatal(err)
	}
}

func TestClientSendInvalidMakesNoCall(t *testing.T) {
	t.Parallel()
	c, calls := graph(t, func(w http.ResponseWriter, r *http.Request) {})
	_, err := c.Send(context.Background(), textMsg(""))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Code != "empty_text" {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 0 {
		t.Error("an invalid message reached Graph")
	}
	if _, err := (&Client{}).Send(context.Background(), textMsg("x")); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("unconfigured client: %v", err)
	}
}

func TestClientSendBadSuccessBody(t *testing.T) {
	t.Parallel()
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"messaging_product":"whatsapp"}`) })
	_, err := c.Send(context.Background(), textMsg("x"))
	if !errors.Is(err, ErrBadResponse) || Classify(err) != Stop {
		t.Fatalf("err = %v (%v)", err, Classify(err))
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   APIError
		class  Class
		text   string
	}{
		{"object error_data", 400, `{"error":{"message":"(#131030) Recipient phone number not in allowed list","type":"OAuthException","code":131030,
			"error_data":{"messaging_product":"whatsapp","details":"Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."},
			"error_subcode":2655007,"fbtrace_id":"AI5Ob2z72R0JAUB5zOF-nao"}}`,
			APIError{HTTPStatus: 400, Code: 131030, Subcode: 2655007, Type: "OAuthException", Message: "(#131030) Recipient phone number not in allowed list",
				Details: "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.", FBTraceID: "AI5Ob2z72R0JAUB5zOF-nao"},
			Stop, "graph: (#131030) Recipient phone number not in allowed list: Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again. (http 400)"},
		{"string error_data", 400, `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2388040,"is_transient":false,
			"error_user_title":"Message template language not supported","error_user_msg":"The language is not supported.","error_data":"Template language xx is not supported","fbtrace_id":"A1"}}`,
			APIError{HTTPStatus: 400, Code: 100, Subcode: 2388040, Type: "OAuthException", Message: "Invalid parameter", Title: "Message template language not supported",
				UserMessage: "The language is not supported.", Details: "Template language xx is not supported", FBTraceID: "A1"},
			FixRequest, "graph: (#100) Invalid parameter: Template language xx is not supported (http 400)"},
		{"throughput", 429, `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"is_transient":true,"fbtrace_id":"B"}}`,
			APIError{HTTPStatus: 429, Code: 130429, Type: "OAuthException", Message: "(#130429) Rate limit hit", Details: "Cloud API message throughput has been reached.", IsTransient: true, FBTraceID: "B"},
			Retry, "graph: (#130429) Rate limit hit: Cloud API message throughput has been reached. (http 429)"},
		{"expired token", 401, `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"C"}}`,
			APIError{HTTPStatus: 401, Code: 190, Subcode: 463, Type: "OAuthException", Message: "Error validating access token: Session has expired", FBTraceID: "C"},
			Stop, "graph: (#190) Error validating access token: Session has expired (http 401)"},
		{"non-JSON 502", 502, "<html>\n<body>502 Bad Gateway</body>\n</html>\n",
			APIError{HTTPStatus: 502, Message: "<html> <body>502 Bad Gateway</body> </html>"},
			Retry, "graph: <html> <body>502 Bad Gateway</body> </html> (http 502)"},
		{"empty 503", 503, "", APIError{HTTPStatus: 503}, Retry, "graph: Service Unavailable (http 503)"},
		{"token echoed", 400, `{"error":{"message":"bad token ` + testToken + `","code":100,"type":"OAuthException"}}`,
			APIError{HTTPStatus: 400, Code: 100, Type: "OAuthException", Message: "bad token [redacted]"}, FixRequest, "graph: (#100) bad token [redacted] (http 400)"},
		{"token echoed, not JSON", 500, "Authorization: Bearer " + testToken, APIError{HTTPStatus: 500, Message: "Authorization: Bearer [redacted]"}, Retry, "graph: Authorization: Bearer [redacted] (http 500)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tt.status, tt.body) })
			_, err := c.Send(context.Background(), textMsg("x"))
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			eq(t, "APIError", *ae, tt.want)
			eq(t, "Classify", Classify(err), tt.class)
			eq(t, "Error()", err.Error(), tt.text)
			if strings.Contains(err.Error(), testToken) {
				t.Error("the token leaked into the error")
			}
		})
	}
}

func TestClientLongErrorSnippet(t *testing.T) {
	t.Parallel()
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		_, _ = io.WriteString(w, strings.Repeat("é", 10000))
	})
	_, err := c.Send(context.Background(), textMsg("x"))
	var ae *APIError
	if !errors.As(err, &ae) || len(ae.Message) > errorSnippetLen+len("…") || !strings.HasSuffix(ae.Message, "…") {
		t.Fatalf("err = %v", err)
	}
}

func TestClientMarkRead(t *testing.T) {
	t.Parallel()
	for _, typing := range []bool{false, true} {
		c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v25.0/106540352242922/messages" {
				t.Errorf("path %s", r.URL.Path)
			}
			want := map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"}
			if typing {
				want["typing_indicator"] = map[string]any{"type": "text"}
			}
			eq(t, "body", decodeBody(t, r), want)
			writeJSON(w, 200, `{"success":true}`)
		})
		if err := c.MarkRead(context.Background(), "wamid.IN", typing); err != nil {
			t.Fatalf("typing %v: %v", typing, err)
		}
	}
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"success":false}`) })
	if err := c.MarkRead(context.Background(), "wamid.IN", false); !errors.Is(err, ErrBadResponse) {
		t.Errorf("success:false gave %v", err)
	}
	if err := c.MarkRead(context.Background(), "", false); Classify(err) != FixRequest {
		t.Errorf("empty wamid gave %v", err)
	}
}

// noLen hides the size of a reader, to force the buffered upload path.
type noLen struct{ io.Reader }

func TestClientUploadMedia(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("\x89PNG data "), 1000)
	for _, name := range []string{"sized", "unsized"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/v25.0/106540352242922/media" {
					t.Errorf("got %s %s", r.Method, r.URL.Path)
				}
				if r.ContentLength <= int64(len(content)) {
					t.Errorf("ContentLength = %d", r.ContentLength)
				}
				mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
				if err != nil || mt != "multipart/form-data" {
					t.Fatalf("Content-Type %q: %v", r.Header.Get("Content-Type"), err)
				}
				mr := multipart.NewReader(r.Body, params["boundary"])
				fields := map[string]string{}
				for {
					p, err := mr.NextPart()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(p)
					if p.FormName() == "file" {
						eq(t, "filename", p.FileName(), `my "logo".png`)
						eq(t, "part Content-Type", p.Header.Get("Content-Type"), "image/png")
						if !bytes.Equal(b, content) {
							t.Errorf("file content differs (%d bytes)", len(b))
						}
						fields["file"] = "ok"
						continue
					}
					fields[p.FormName()] = string(b)
				}
				eq(t, "fields", fields, map[string]string{"messaging_product": "whatsapp", "type": "image/png", "file": "ok"})
				writeJSON(w, 200, `{"id":"1037543291543636"}`)
			})
			var r io.Reader = bytes.NewReader(content)
			if name == "unsized" {
				r = noLen{r}
			}
			id, err := c.UploadMedia(context.Background(), `my "logo".png`, "image/png", r)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "id", id, "1037543291543636")
		})
	}
}

func TestClientUploadMediaRefusals(t *testing.T) {
	t.Parallel()
	c, calls := graph(t, func(w http.ResponseWriter, r *http.Request) {})
	if _, err := c.UploadMedia(context.Background(), "a.png", "", strings.NewReader("x")); Classify(err) != FixRequest {
		t.Errorf("no MIME type: %v", err)
	}
	sized := io.NewSectionReader(zeros{}, 0, MaxInboundMediaBytes+1)
	if _, err := c.UploadMedia(context.Background(), "a.bin", "application/pdf", sized); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large, sized: %v", err)
	}
	if !testing.Short() { // buffers 100 MB
		big := io.LimitReader(zeros{}, MaxInboundMediaBytes+1)
		if _, err := c.UploadMedia(context.Background(), "a.bin", "application/pdf", noLen{big}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("too large, unsized: %v", err)
		}
	}
	if calls.Load() != 0 {
		t.Error("a refused upload reached Graph")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func (zeros) ReadAt(p []byte, _ int64) (int, error) { clear(p); return len(p), nil }

func TestClientMediaInfo(t *testing.T) {
	t.Parallel()
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v25.0/1037543291543636" || r.URL.Query().Get("phone_number_id") != "106540352242922" {
			t.Errorf("got %s %s", r.Method, r.URL)
		}
		writeJSON(w, 200, `{"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1&hash=x","mime_type":"image/jpeg","sha256":"e10ba9e6c1bc6d7c0e1e7c5e1e6b1e1b3d5e8f0a1b2c3d4e5f60718293a4b5c6","file_size":"303833","id":"1037543291543636"}`)
	})
	info, err := c.MediaInfo(context.Background(), "1037543291543636")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "info", *info, MediaInfo{ID: "1037543291543636", URL: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1037543291543636&ext=1&hash=x",
		MimeType: "image/jpeg", SHA256: "e10ba9e6c1bc6d7c0e1e7c5e1e6b1e1b3d5e8f0a1b2c3d4e5f60718293a4b5c6", FileSize: 303833})
}

func TestClientDownload(t *testing.T) {
	t.Parallel()
	payload := bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/media/sized":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(payload)
		case "/media/chunked": // no Content-Length: the limit is enforced while copying
			w.Header().Set("Content-Type", "image/jpeg")
			for i := 0; i < len(payload); i += 100 {
				_, _ = w.Write(payload[i : i+100])
				w.(http.Flusher).Flush()
			}
		default:
			writeJSON(w, 404, `{"error":{"message":"Unsupported get request","type":"GraphMethodException","code":100,"error_subcode":33}}`)
		}
	})
	base := strings.TrimSuffix(c.BaseURL, "/")
	tests := []struct {
		path    string
		max     int64
		wantN   int64
		wantErr error
	}{
		{"/media/sized", 1000, 1000, nil},
		{"/media/sized", 0, 1000, nil},
		{"/media/sized", 999, 0, ErrTooLarge},
		{"/media/chunked", 1000, 1000, nil},
		{"/media/chunked", 999, 999, ErrTooLarge},
		{"/media/chunked", 250, 250, ErrTooLarge},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		n, err := c.Download(context.Background(), base+tt.path, tt.max, &buf)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || n != tt.wantN || int64(buf.Len()) != n {
			t.Errorf("%s max %d: n=%d (buffer %d), err=%v; want n=%d, err=%v", tt.path, tt.max, n, buf.Len(), err, tt.wantN, tt.wantErr)
		}
		if tt.wantErr == nil && !bytes.Equal(buf.Bytes(), payload) {
			t.Errorf("%s: content differs", tt.path)
		}
	}
	_, err := c.Download(context.Background(), base+"/media/gone", 0, io.Discard)
	var ae *APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 404 || ae.Subcode != 33 {
		t.Errorf("404: %v", err)
	}
}

func TestClientDownloadRefusesInsecureURL(t *testing.T) {
	t.Parallel()
	c := &Client{Token: testToken, PhoneNumberID: "1"} // talks https to graph.facebook.com
	for _, u := range []string{"http://lookaside.fbsbx.com/x", "ftp://x/y", "/relative", "::"} {
		if _, err := c.Download(context.Background(), u, 0, io.Discard); Classify(err) != FixRequest {
			t.Errorf("%s: err = %v", u, err)
		}
	}
}

func TestClientPhoneNumber(t *testing.T) {
	t.Parallel()
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v25.0/106540352242922" || r.URL.Query().Get("fields") != "display_phone_number,verified_name,quality_rating,throughput,name_status,whatsapp_business_manager_messaging_limit" {
			t.Errorf("got %s", r.URL)
		}
		writeJSON(w, 200, `{"display_phone_number":"+1 555-078-3881","verified_name":"Lucky Shrub","quality_rating":"GREEN","throughput":{"level":"STANDARD"},"name_status":"APPROVED","whatsapp_business_manager_messaging_limit":"TIER_2K","id":"106540352242922"}`)
	})
	info, err := c.PhoneNumber(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw := info.Raw
	info.Raw = nil
	eq(t, "info", *info, PhoneNumberInfo{ID: "106540352242922", DisplayPhoneNumber: "+1 555-078-3881", VerifiedName: "Lucky Shrub", QualityRating: "GREEN", Throughput: "STANDARD", NameStatus: "APPROVED", MessagingLimit: "TIER_2K"})
	if !json.Valid(raw) {
		t.Errorf("Raw = %s", raw)
	}
}

func TestClientDefaults(t *testing.T) {
	t.Parallel()
	c := &Client{PhoneNumberID: "123"}
	if hc := c.httpClient(); hc == http.DefaultClient || hc.Timeout == 0 {
		t.Error("the default HTTP client must not be http.DefaultClient and must have a timeout")
	}
	eq(t, "nodeURL", c.nodeURL("123", "messages"), "https://graph.facebook.com/v25.0/123/messages")
	c = &Client{BaseURL: "http://sim.local:8080///", Version: "v23.0"}
	eq(t, "nodeURL", c.nodeURL("9/9", ""), "http://sim.local:8080/v23.0/9%2F9")
}

func TestClientContextCanceled(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c, _ := graph(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, textMsg("x"))
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) || Classify(err) != Retry {
		t.Fatalf("err = %v (%v)", err, Classify(err))
	}
	if strings.Contains(err.Error(), testToken) {
		t.Error("the token leaked into the error")
	}
}
