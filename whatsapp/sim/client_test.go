package sim

import (
	"bytes"
	"errors"
	"testing"

	"sendbox/whatsapp"
)

// client is sendbox's own Graph client pointed at the simulator: what the
// sender uses in sandbox mode.
func (e *env) client() *whatsapp.Client {
	return &whatsapp.Client{BaseURL: e.graph.URL, Version: "v25.0", PhoneNumberID: DefaultPhoneNumberID, WABAID: DefaultWABAID, Token: testToken}
}

func TestWithTheGraphClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusWebhooks = false })
	c := e.client()
	ctx := t.Context()
	in := e.inbound(t, "16505551234", `{"type":"text","text":{"body":"hi"}}`)

	res, err := c.Send(ctx, &whatsapp.OutboundMessage{To: "+16505551234", Type: "text", Text: &whatsapp.Text{Body: "hello"}})
	if err != nil || res.WaID != "16505551234" || res.WAMID == "" || res.MessageStatus != "" {
		t.Fatalf("send: %+v %v", res, err)
	}
	res, err = c.Send(ctx, &whatsapp.OutboundMessage{To: "+16505551234", Type: "template",
		Template: &whatsapp.Template{Name: "hello_world", Language: whatsapp.TemplateLanguage{Code: "en_US"}}})
	if err != nil || res.MessageStatus != "accepted" {
		t.Fatalf("template: %+v %v", res, err)
	}
	if err := c.MarkRead(ctx, in, true); err != nil {
		t.Fatalf("mark read: %v", err)
	}

	e.sim.SetUnreachable("16505550000", true)
	_, err = c.Send(ctx, &whatsapp.OutboundMessage{To: "+16505550000", Type: "text", Text: &whatsapp.Text{Body: "x"}})
	var ae *whatsapp.APIError
	if !errors.As(err, &ae) || ae.Code != CodeUndeliverable || ae.HTTPStatus != 400 || ae.Details == "" || ae.FBTraceID == "" {
		t.Fatalf("unreachable: %#v", err)
	}

	data := []byte("\x89PNG\r\n\x1a\n a tiny picture")
	id, err := c.UploadMedia(ctx, "pic.png", "image/png", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	info, err := c.MediaInfo(ctx, id)
	if err != nil || info.FileSize != int64(len(data)) || info.MimeType != "image/png" {
		t.Fatalf("media info: %+v %v", info, err)
	}
	var got bytes.Buffer
	if _, err := c.Download(ctx, info.URL, 1<<20, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("download: %v %q", err, got.Bytes())
	}

	pn, err := c.PhoneNumber(ctx)
	if err != nil || pn.ID != DefaultPhoneNumberID || pn.QualityRating != "GREEN" || pn.Throughput != "STANDARD" ||
		pn.MessagingLimit != "TIER_250" || pn.VerifiedName != "Sendbox Sandbox" || pn.NameStatus != "APPROVED" {
		t.Fatalf("phone number: %+v %v", pn, err)
	}

	bad := e.client()
	bad.Token = "wrong"
	_, err = bad.Send(ctx, &whatsapp.OutboundMessage{To: "+16505551234", Type: "text", Text: &whatsapp.Text{Body: "x"}})
	if !errors.As(err, &ae) || ae.Code != CodeAccessToken || ae.HTTPStatus != 401 {
		t.Fatalf("bad token: %#v", err)
	}
}
