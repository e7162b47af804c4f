package consent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sendbox/events"
	"sendbox/inbox"
	"sendbox/outbound"
	"sendbox/store"
	"sendbox/whatsapp"
)

// ConfirmTemplate is the catalogue's template (templates/) that asks for
// the double opt-in outside the 24-hour window.
const ConfirmTemplate = "optin_confirm"

// templateLangs are the languages the catalogue writes it in.
var templateLangs = map[string]bool{"en": true, "it": true, "fr": true}

// RequestConfirmation sends a contact the double opt-in request in their
// language: the wording with its button while the 24-hour window is open,
// else the optin_confirm template whose button carries the same id. key
// makes it once (the message or form submission that asked for it).
func RequestConfirmation(ctx context.Context, st *store.Store, out *outbound.Service, s *Settings, contactID int64,
	lang, key string) (*store.Message, error) {
	c, err := st.ContactByID(ctx, contactID)
	if err != nil {
		return nil, err
	}
	lang, w := s.Wording(lang)
	var m whatsapp.OutboundMessage
	if outbound.WindowOpen(c.LastInboundAt, time.Now()) {
		m = whatsapp.OutboundMessage{To: c.Recipient(), Type: "interactive", Interactive: &whatsapp.Interactive{
			Type: "button", Body: &whatsapp.InteractiveText{Text: w.Text},
			Action: whatsapp.InteractiveAction{Buttons: []whatsapp.ReplyButton{{Type: "reply",
				Reply: whatsapp.ReplyTitle{ID: ConfirmID(lang, w), Title: w.Button}}}}}}
	} else {
		tl := lang
		if !templateLangs[tl] {
			tl = "en"
		}
		m = whatsapp.OutboundMessage{To: c.Recipient(), Type: "template", Template: &whatsapp.Template{
			Name: ConfirmTemplate, Language: whatsapp.TemplateLanguage{Code: tl},
			Components: []whatsapp.TemplateComponent{{Type: "button", SubType: "quick_reply", Index: "0",
				Parameters: []whatsapp.TemplateParameter{{Type: "payload", Payload: ConfirmID(lang, w)}}}}}}
	}
	msg, _, err := out.Enqueue(ctx, outbound.Request{Message: m, IdempotencyKey: "consent:confirm:" + key})
	if err != nil {
		return nil, fmt.Errorf("double opt-in request: %w", err)
	}
	return msg, nil
}

// Confirmed records the tap on a double opt-in button: opted in, with the
// button's message and the tap as proof, and the words the customer was
// shown. It reports false when the reply is no double opt-in tap.
func Confirmed(ctx context.Context, st *store.Store, s *Settings, tap *store.Message) (*store.ConsentRecord, bool, error) {
	lang, version, ok := ParseConfirm(tap.ReplyID)
	if !ok {
		return nil, false, nil
	}
	_, w := s.Wording(lang)
	wording, versionName := w.Text, lang+"-"+strconv.Itoa(version)
	proof := map[string]any{"tap_message_id": tap.ID, "tap_wamid": tap.WAMID}
	if tap.ContextWAMID != "" {
		proof["button_message_wamid"] = tap.ContextWAMID
		if b, err := st.MessageByWAMID(ctx, tap.ContextWAMID); err == nil {
			proof["button_message_id"] = b.ID
			if b.Text != "" && !strings.HasPrefix(b.Text, "[") {
				wording = b.Text // the words as they were sent, whatever the settings say now
			}
		}
	}
	sys := events.System("consent")
	rec, err := st.RecordConsent(ctx, store.ConsentEntry{ContactID: tap.ContactID, Status: store.ConsentOptedIn,
		Source: store.ConsentSourceDoubleOptIn, Detail: "double opt-in", Wording: wording, WordingVersion: versionName,
		Proof: proof, At: tap.Timestamp, Key: "doi:" + strconv.FormatInt(tap.ID, 10), Actor: &sys})
	return rec, true, err
}

// Form is one submission of the hosted opt-in page.
type Form struct {
	Phone, Name, Lang string
	Agreed            bool // the checkbox with the wording
	IP, UserAgent     string
}

// ErrNotAgreed: the form was sent without its checkbox.
var ErrNotAgreed = errors.New("the consent box is not ticked")

// FormResult is what a submission did.
type FormResult struct {
	ContactID int64
	Record    *store.ConsentRecord
	// Confirmation is the double opt-in request sent, nil when none is due.
	Confirmation *store.Message
}

// Submit records a hosted form's opt-in for the number given (adding the
// contact if sendbox does not know it): opted in at once, or, with double
// opt-in, a pending record and the request to confirm on WhatsApp.
func Submit(ctx context.Context, st *store.Store, out *outbound.Service, s *Settings, f Form, w inbox.Words) (*FormResult, error) {
	if !f.Agreed {
		return nil, ErrNotAgreed
	}
	to, err := whatsapp.NormalizeRecipient(f.Phone)
	if err != nil || !strings.HasPrefix(to, "+") {
		return nil, fmt.Errorf("%q is not a phone number with its country code: %w", f.Phone, errBadPhone)
	}
	id, err := inbox.ContactForPhone(ctx, st, to, w)
	if err != nil {
		return nil, err
	}
	if name := strings.TrimSpace(f.Name); name != "" {
		if c, err := st.ContactByID(ctx, id); err == nil && c.Name == "" {
			if err := inbox.UpdateContact(ctx, st, id, inbox.ContactChange{Name: &name}, w); err != nil {
				var ie *inbox.InputError
				if !errors.As(err, &ie) {
					return nil, err
				}
			}
		}
	}
	lang, wd := s.Wording(f.Lang)
	sys := events.System("opt-in form")
	res := &FormResult{ContactID: id}
	res.Record, err = st.RecordConsent(ctx, store.ConsentEntry{ContactID: id, Status: store.ConsentOptedIn,
		Source: store.ConsentSourceForm, Detail: "opt-in form", Wording: wd.Text, WordingVersion: wd.VersionName(lang),
		Proof:   map[string]any{"ip": f.IP, "user_agent": f.UserAgent, "phone_as_typed": f.Phone, "name": f.Name},
		Pending: s.DoubleOptIn, Actor: &sys})
	if err != nil {
		return res, err
	}
	if s.DoubleOptIn {
		res.Confirmation, err = RequestConfirmation(ctx, st, out, s, id, lang, "form:"+strconv.FormatInt(res.Record.ID, 10))
	}
	return res, err
}

var errBadPhone = errors.New("invalid phone")

// IsBadPhone reports whether Submit refused the number.
func IsBadPhone(err error) bool { return errors.Is(err, errBadPhone) }
