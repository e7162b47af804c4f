package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/sendboxtest"
	"sendbox/store"
)

func waitMedia(t *testing.T, a *sendboxtest.App, wamid string) *store.Message {
	t.Helper()
	var m *store.Message
	sendboxtest.Eventually(t, 30*time.Second, "the media download to finish", func() bool {
		var err error
		m, err = a.Store.MessageByWAMID(context.Background(), wamid)
		return err == nil && m.Media != nil && m.Media.State != "pending"
	})
	return m
}

func TestMediaOverTheLimitIsRefused(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) { c.MediaMaxBytes = 1000 }))
	code, body := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{
		"from": "393330000009", "type": "video", "video": map[string]string{},
		"media": map[string]string{"data": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 5000)), "mime_type": "video/mp4"}})
	if code != 201 {
		t.Fatalf("%d %s", code, body)
	}
	wamid := sendboxtest.JSON[struct{ Data struct{ WAMID string } }](t, body).Data.WAMID
	m := waitMedia(t, a, wamid)
	if m.Media.State != "failed" || !strings.Contains(m.Media.Error, "limit") {
		t.Fatalf("media: %+v", m.Media)
	}
	code, body = a.Do("GET", fmt.Sprintf("/api/v1/messages/%d/media", m.ID), nil)
	if code != 409 || !strings.Contains(string(body), "media_failed") {
		t.Fatalf("serving failed media: %d %s", code, body)
	}
}

// TestMediaDigestIsChecked: a webhook whose sha256 does not match the bytes
// Meta serves leaves the media failed, not stored.
func TestMediaDigestIsChecked(t *testing.T) {
	a := sendboxtest.New(t)
	data := []byte("%PDF-1.4 the real file")
	id, err := a.Graph.UploadMedia(context.Background(), "a.pdf", "application/pdf", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	wrong := sha256.Sum256([]byte("something else"))
	right := sha256.Sum256(data)
	post := func(wamid string, sum [32]byte) {
		body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{
			"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},
			"contacts":[{"profile":{"name":"Anna"},"wa_id":"393330000010"}],
			"messages":[{"from":"393330000010","id":%q,"timestamp":"%d","type":"document",
			"document":{"id":%q,"mime_type":"application/pdf","sha256":%q,"filename":"a.pdf"}}]}}]}]}`,
			wamid, time.Now().Unix(), id, base64.StdEncoding.EncodeToString(sum[:]))
		if code, resp := a.PostWebhook([]byte(body)); code != 200 {
			t.Fatalf("%d %s", code, resp)
		}
	}
	post("wamid.badsum", wrong)
	post("wamid.goodsum", right)
	if m := waitMedia(t, a, "wamid.badsum"); m.Media.State != "failed" || !strings.Contains(m.Media.Error, "sha256") {
		t.Fatalf("wrong digest: %+v", m.Media)
	}
	if m := waitMedia(t, a, "wamid.goodsum"); m.Media.State != "stored" || m.Media.Size != int64(len(data)) {
		t.Fatalf("right digest: %+v", m.Media)
	}
}
