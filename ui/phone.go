package ui

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"sendbox/whatsapp"
	"sendbox/whatsapp/sim"
)

// The test phone: in sandbox mode, a page that looks like a customer's
// WhatsApp, writing to the business through the simulator and the real,
// signed webhook path.

type phoneView struct {
	Chats    []sim.PhoneChat
	Current  string // wa_id shown
	Name     string
	Messages []sim.PhoneMessage
	Chat     *sim.PhoneChat
}

// MediaLink is the link of an image, a video or a document the business
// sent by link (a flow's media), for the phone to open it; "" otherwise.
func (v *phoneView) MediaLink(m sim.PhoneMessage) string {
	if m.Direction != sim.DirectionOut || m.MediaID != "" {
		return ""
	}
	var out whatsapp.OutboundMessage
	if json.Unmarshal(m.Body, &out) != nil {
		return ""
	}
	for _, mo := range []*whatsapp.MediaObject{out.Image, out.Video, out.Document} {
		if mo != nil && mo.Link != "" {
			return mo.Link
		}
	}
	return ""
}

func (p *Panel) needSandbox(w http.ResponseWriter, r *http.Request) bool {
	if p.Sim == nil {
		p.fail(w, r, http.StatusNotFound, p.T("phone.not_sandbox"))
		return false
	}
	return true
}

func (p *Panel) phoneView(waID string, open bool) *phoneView {
	v := &phoneView{Chats: p.Sim.Chats(), Current: waID}
	if waID == "" && len(v.Chats) > 0 {
		v.Current = v.Chats[0].WaID
	}
	for i := range v.Chats {
		if v.Chats[i].WaID == v.Current {
			v.Chat = &v.Chats[i]
			v.Name = v.Chats[i].Name
		}
	}
	if v.Current != "" {
		v.Messages = p.Sim.Phone(v.Current, open)
	}
	return v
}

func (p *Panel) handlePhone(w http.ResponseWriter, r *http.Request) {
	if !p.needSandbox(w, r) {
		return
	}
	v := p.phoneView(digits(r.URL.Query().Get("wa")), true)
	p.page(w, r, http.StatusOK, "phone", &view{Title: p.T("phone.title"), Nav: "phone", Data: v})
}

// handlePhoneMessages renders the phone's screen (live updates); showing it
// is the customer looking at the chat, so the business's messages turn read.
func (p *Panel) handlePhoneMessages(w http.ResponseWriter, r *http.Request) {
	if !p.needSandbox(w, r) {
		return
	}
	p.fragment(w, r, "phone", "phone_screen", p.phoneView(digits(r.PathValue("wa_id")), true))
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// handlePhoneSend writes as the customer: text, a tap on a button (the
// reply JSON the phone view gave), or a photo.
func (p *Panel) handlePhoneSend(w http.ResponseWriter, r *http.Request) {
	if !p.needSandbox(w, r) {
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			p.fail(w, r, http.StatusRequestEntityTooLarge, p.T("reply.too_large"))
			return
		}
	}
	to, err := whatsapp.NormalizeRecipient(r.FormValue("wa_id"))
	if err != nil || !strings.HasPrefix(to, "+") {
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("phone.bad_number"))
		return
	}
	in := sim.Inbound{From: strings.TrimPrefix(to, "+"), Name: strings.TrimSpace(r.FormValue("name"))}
	text := strings.TrimSpace(r.FormValue("text"))
	switch {
	case r.FormValue("reply") != "":
		if !json.Valid([]byte(r.FormValue("reply"))) {
			p.fail(w, r, http.StatusBadRequest, p.T("error.bad_request"))
			return
		}
		in.Message = json.RawMessage(r.FormValue("reply"))
	case hasFile(r):
		file, hdr, _ := r.FormFile("photo")
		defer file.Close()
		data, err := io.ReadAll(io.LimitReader(file, 16<<20))
		if err != nil {
			p.internal(w, r, err)
			return
		}
		mimeType := hdr.Header.Get("Content-Type")
		kind := "image"
		if !strings.HasPrefix(mimeType, "image/") {
			kind = "document"
		}
		obj := map[string]string{}
		if text != "" {
			obj["caption"] = text
		}
		if kind == "document" {
			obj["filename"] = hdr.Filename
		}
		in.Message, _ = json.Marshal(map[string]any{"type": kind, kind: obj})
		in.Media = &sim.InboundMedia{Data: data, MimeType: mimeType, Filename: hdr.Filename}
	case text != "":
		in.Message, _ = json.Marshal(map[string]any{"type": "text", "text": map[string]string{"body": text}})
	default:
		p.fail(w, r, http.StatusUnprocessableEntity, p.T("reply.empty"))
		return
	}
	if _, err := p.Sim.SendInbound(r.Context(), in); err != nil {
		p.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	if r.Header.Get("HX-Request") == "true" {
		p.fragment(w, r, "phone", "phone_screen", p.phoneView(in.From, true))
		return
	}
	http.Redirect(w, r, "/phone?wa="+in.From, http.StatusSeeOther)
}

func hasFile(r *http.Request) bool {
	if r.MultipartForm == nil {
		return false
	}
	f := r.MultipartForm.File["photo"]
	return len(f) > 0 && f[0].Size > 0
}
