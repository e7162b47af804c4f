package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"
)

// upload posts a multipart upload the way Meta documents it.
func (e *env) upload(t *testing.T, mimeType string, data []byte, product string) (int, map[string]any) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if product != "" {
		mw.WriteField("messaging_product", product)
	}
	mw.WriteField("type", mimeType)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="pic"`)
	h.Set("Content-Type", mimeType)
	fw, _ := mw.CreatePart(h)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.graph.URL+"/v25.0/"+DefaultPhoneNumberID+"/media", &b)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return doReq(t, req)
}

// download fetches a media URL, with the bearer token if auth.
func download(t *testing.T, rawURL string, auth bool) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+testToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestMediaUploadInfoDownloadDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	data := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 1000)
	st, m := e.upload(t, "image/jpeg", data, "whatsapp")
	if st != http.StatusOK || len(m) != 1 {
		t.Fatalf("upload: %d %v", st, m)
	}
	id := m["id"].(string)

	st, info := e.do(t, http.MethodGet, "/v25.0/"+id, "")
	sum := sha256.Sum256(data)
	if st != http.StatusOK || info["messaging_product"] != "whatsapp" || info["mime_type"] != "image/jpeg" ||
		info["sha256"] != hex.EncodeToString(sum[:]) || info["file_size"] != float64(len(data)) || info["id"] != id {
		t.Fatalf("info: %d %v", st, info)
	}
	mediaURL := info["url"].(string)
	if !strings.HasPrefix(mediaURL, e.sim.opts.BaseURL+"/media/"+id+"?") {
		t.Fatalf("url %q", mediaURL)
	}

	resp, got := download(t, mediaURL, true)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("download: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	if resp, _ := download(t, mediaURL, false); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("download without the token: %d", resp.StatusCode)
	}
	// A URL whose expiry was tampered with is refused.
	u, _ := url.Parse(mediaURL)
	q := u.Query()
	q.Set("ext", "9999999999")
	u.RawQuery = q.Encode()
	if resp, _ := download(t, u.String(), true); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("tampered URL: %d", resp.StatusCode)
	}
	// After five minutes the URL is stale; a fresh one works.
	e.clock.Advance(5*time.Minute + time.Second)
	if resp, _ := download(t, mediaURL, true); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("expired URL: %d", resp.StatusCode)
	}
	_, info = e.do(t, http.MethodGet, "/v25.0/"+id+"?phone_number_id="+DefaultPhoneNumberID, "")
	if resp, _ := download(t, info["url"].(string), true); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh URL: %d", resp.StatusCode)
	}

	// The id can be sent (Validate accepts it) and then deleted.
	e.inbound(t, "16505551234", `{"type":"text","text":{"body":"send me the picture"}}`)
	e.sendOK(t, `{"messaging_product":"whatsapp","to":"+16505551234","type":"image","image":{"id":"`+id+`","caption":"here"}}`)
	if ph := e.sim.Phone("16505551234", false); ph[1].MediaID != id || ph[1].Text != "here" {
		t.Fatalf("phone: %+v", ph[1])
	}
	st, m = e.do(t, http.MethodDelete, "/v25.0/"+id, "")
	if st != http.StatusOK || m["success"] != true {
		t.Fatalf("delete: %d %v", st, m)
	}
	st, m = e.do(t, http.MethodGet, "/v25.0/"+id, "")
	if e := wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter); e["error_subcode"] != float64(33) {
		t.Fatalf("deleted media: %v", e)
	}
	st, m = e.do(t, http.MethodDelete, "/v25.0/"+id, "")
	wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)
}

func TestMediaUploadErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	st, m := e.upload(t, "image/jpeg", []byte("x"), "")
	wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)
	st, m = e.upload(t, "image/gif", []byte("GIF89a"), "whatsapp")
	wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)
	st, m = e.upload(t, "image/webp", make([]byte, 600<<10), "whatsapp")
	wantError(t, st, m, http.StatusBadRequest, CodeMediaUpload)
	st, m = e.do(t, http.MethodPost, "/v25.0/"+DefaultPhoneNumberID+"/media", `{"file":"x"}`)
	wantError(t, st, m, http.StatusBadRequest, CodeInvalidParameter)
}

func TestInboundMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	data := []byte("%PDF-1.7 a small invoice")
	id, err := e.sim.SendInbound(t.Context(), Inbound{From: "16505551234", Name: "Ada",
		Message: json.RawMessage(`{"type":"document","document":{"caption":"my invoice"}}`),
		Media:   &InboundMedia{Data: data, MimeType: "application/pdf", Filename: "invoice.pdf"}})
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []struct {
						ID       string `json:"id"`
						Document struct {
							ID       string `json:"id"`
							MimeType string `json:"mime_type"`
							SHA256   string `json:"sha256"`
							Caption  string `json:"caption"`
							Filename string `json:"filename"`
						} `json:"document"`
					} `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	body := e.hooks.next(t)
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	msg := env.Entry[0].Changes[0].Value.Messages[0]
	doc := msg.Document
	sum := sha256.Sum256(data)
	if msg.ID != id || doc.MimeType != "application/pdf" || doc.Caption != "my invoice" || doc.Filename != "invoice.pdf" ||
		doc.SHA256 != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("document: %s", body)
	}

	// sendbox resolves the id and downloads the same bytes.
	st, info := e.do(t, http.MethodGet, "/v25.0/"+doc.ID, "")
	if st != http.StatusOK || info["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("info: %d %v", st, info)
	}
	resp, got := download(t, info["url"].(string), true)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download: %d %q", resp.StatusCode, got)
	}
	if ph := e.sim.Phone("16505551234", false); ph[0].MediaID != doc.ID || ph[0].Text != "my invoice" {
		t.Fatalf("phone: %+v", ph)
	}
}

func TestMediaStoreEvictsOldest(t *testing.T) {
	t.Parallel()
	ms := newMediaStore(100)
	now := time.Now()
	a := ms.put("image/png", make([]byte, 60), now, time.Hour)
	b := ms.put("image/png", make([]byte, 30), now, time.Hour)
	c := ms.put("image/png", make([]byte, 30), now, time.Hour) // 120 > 100: a goes
	if ms.get(a.id, now) != nil || ms.get(b.id, now) == nil || ms.get(c.id, now) == nil || ms.total != 60 {
		t.Fatalf("after eviction: total %d", ms.total)
	}
	if ms.get(b.id, now.Add(2*time.Hour)) != nil {
		t.Fatal("expired media still served")
	}
	big := ms.put("video/mp4", make([]byte, 500), now, time.Hour) // larger than the cap: kept alone
	if ms.get(big.id, now) == nil || len(ms.items) != 1 {
		t.Fatalf("oversized item: %d items", len(ms.items))
	}
}
