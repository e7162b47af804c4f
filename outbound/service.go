// Package outbound sends the business's messages: it checks and queues them
// (Service) and delivers them to the Graph API within Meta's limits (Sender).
package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/events"
	"sendbox/inbox"
	"sendbox/store"
	"sendbox/whatsapp"
)

// Window is the customer service window: free-form messages may only be
// sent within 24 hours of the customer's last message.
const Window = 24 * time.Hour

// ErrOutsideWindow refuses a free-form message to a customer who has not
// written in the last 24 hours: only an approved template may be sent.
var ErrOutsideWindow = errors.New("more than 24 hours since the customer's last message: only a template can be sent")

// WindowError is ErrOutsideWindow with when the customer last wrote.
type WindowError struct {
	LastInbound time.Time // zero if the customer never wrote
}

func (e *WindowError) Error() string {
	if e.LastInbound.IsZero() {
		return "the customer has never written to this number: only a template can be sent"
	}
	return fmt.Sprintf("the customer last wrote %s ago (over 24 hours): only a template can be sent",
		time.Since(e.LastInbound).Round(time.Minute))
}

// Unwrap lets errors.Is match ErrOutsideWindow.
func (e *WindowError) Unwrap() error { return ErrOutsideWindow }

// WindowOpen reports whether a free-form message may be sent to a customer
// whose last message was at last.
func WindowOpen(last, now time.Time) bool {
	return !last.IsZero() && now.Sub(last) < Window
}

// Service validates and queues outbound messages.
type Service struct {
	Store         *store.Store
	PhoneNumberID string
	// Graph lists the templates when a send names one sendbox has not
	// synced yet.
	Graph *whatsapp.Client
	Now   func() time.Time

	sync templateSync
}

// Request is one message to send.
type Request struct {
	Message        whatsapp.OutboundMessage
	IdempotencyKey string
	AuthorID       int64 // the agent sending from the panel
	// Person says a person wrote it without naming a user (an agent in a
	// CRM, through the API).
	Person bool
	// Lane is the sending lane (events.Lane*). A person's message (an
	// AuthorID or Person) is in the person lane; otherwise "" is
	// transactional. Only a message in the person lane pauses the assistant.
	Lane  string
	Media *store.Media // the file sent, kept for the thread
	// Contact, when set, is the recipient's contact as the caller read it
	// a moment ago (a campaign reads its batch's contacts in one query):
	// Prepare checks its consent without reading it again.
	Contact *store.Contact
	// CapInTx says the caller checks the marketing frequency cap itself,
	// in the transaction that queues the message (a campaign's
	// store.Dispatch.Caps): Prepare does not count the sends first.
	CapInTx bool
}

// Enqueue checks the message against Meta's limits and the 24-hour window,
// a template against the synced templates (it must exist, with its
// parameters), and a marketing template against the customer's consent;
// then it queues the message durably. Every sender goes through here: the
// API, the panel, the assistant. It returns the stored message; created is
// false when the idempotency key had already been used (the earlier message
// is returned). Errors are *whatsapp.ValidationError, *WindowError,
// *ConsentError, *TemplateSyncError or storage errors.
func (s *Service) Enqueue(ctx context.Context, req Request) (*store.Message, bool, error) {
	in, err := s.Prepare(ctx, req)
	if err != nil {
		return nil, false, err
	}
	return s.Store.QueueOutbound(ctx, in)
}

// Prepare makes all of Enqueue's checks and returns the message to queue,
// for a sender that queues it in a transaction of its own (a flow's step).
func (s *Service) Prepare(ctx context.Context, req Request) (store.OutboundInput, error) {
	m := req.Message
	if err := m.Validate(); err != nil {
		return store.OutboundInput{}, err
	}
	lane := req.Lane
	switch {
	case (req.AuthorID != 0 || req.Person) && (lane == "" || lane == events.LanePerson):
		lane = events.LanePerson
	case req.AuthorID != 0 || req.Person:
		return store.OutboundInput{}, &whatsapp.ValidationError{Field: "lane", Code: "invalid_lane",
			Message: fmt.Sprintf("a message a person wrote goes in the %q lane, not %q", events.LanePerson, lane)}
	case lane == "":
		lane = events.LaneTransactional
	case !events.ValidLane(lane):
		return store.OutboundInput{}, &whatsapp.ValidationError{Field: "lane", Code: "invalid_lane",
			Message: fmt.Sprintf("%q is not a sending lane: use %s", lane, strings.Join(events.Lanes(), ", "))}
	}
	if n := utf8.RuneCountInString(m.BizOpaque); n > whatsapp.MaxCallerOpaque {
		return store.OutboundInput{}, &whatsapp.ValidationError{Field: "biz_opaque_callback_data", Code: "biz_opaque_too_long",
			Message: fmt.Sprintf("is %d characters; the limit is %d (sendbox keeps the rest of Meta's %d for its own send id)",
				n, whatsapp.MaxCallerOpaque, whatsapp.MaxBizOpaque)}
	}
	to, err := whatsapp.NormalizeRecipient(m.To)
	if err != nil {
		return store.OutboundInput{}, err
	}
	m.To = to
	waID, userID := strings.TrimPrefix(to, "+"), ""
	if !strings.HasPrefix(to, "+") {
		waID, userID = "", to
	}
	var tp *store.Template
	var spec *whatsapp.TemplateSpec
	if m.IsTemplate() {
		// Its category and parameters come from the synced template, never
		// from the caller.
		if tp, err = s.template(ctx, m.Template); err != nil {
			return store.OutboundInput{}, err
		}
		if spec, err = whatsapp.ParseTemplate(tp.Components); err != nil {
			return store.OutboundInput{}, fmt.Errorf("template %s/%s: %w", tp.Name, tp.Language, err)
		}
		if err := spec.CheckParams(m.Template); err != nil {
			return store.OutboundInput{}, err
		}
	}
	if !m.IsTemplate() || tp.Category == Marketing || tp.Category == Utility {
		c := req.Contact
		if c == nil || waID != "" && c.WaID != waID || waID == "" && c.UserID != userID { // not this recipient's: read it
			c, err = s.Store.ContactByRecipient(ctx, waID, userID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				c = nil
			case err != nil:
				return store.OutboundInput{}, err
			}
		}
		if m.IsTemplate() && tp.Category == Utility {
			if err := checkUtility(ctx, s.Store, c); err != nil {
				return store.OutboundInput{}, err
			}
		} else if m.IsTemplate() {
			if err := checkMarketing(ctx, s.Store, c, waID, userID, s.now()); err != nil {
				return store.OutboundInput{}, err
			}
			if !req.CapInTx {
				if err := checkCap(ctx, s.Store, c, s.now()); err != nil {
					return store.OutboundInput{}, err
				}
			}
		} else {
			var last time.Time
			if c != nil {
				last = c.LastInboundAt
			}
			if !WindowOpen(last, s.now()) {
				return store.OutboundInput{}, &WindowError{LastInbound: last}
			}
		}
	}
	payload, err := json.Marshal(&m)
	if err != nil {
		return store.OutboundInput{}, fmt.Errorf("encode message: %w", err)
	}
	ctxWAMID := ""
	if m.Context != nil {
		ctxWAMID = m.Context.MessageID
	}
	text, filename := textOf(&m, spec)
	return store.OutboundInput{
		PhoneNumberID:  s.PhoneNumberID,
		WaID:           waID,
		UserID:         userID,
		Type:           m.Type,
		Text:           text,
		Preview:        inbox.Preview(m.Type, text, filename),
		ContextWAMID:   ctxWAMID,
		Payload:        payload,
		IdempotencyKey: req.IdempotencyKey,
		AuthorID:       req.AuthorID,
		Lane:           lane,
		Media:          req.Media,
		Marketing:      tp != nil && tp.Category == Marketing,
	}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// textOf is the text the customer reads, stored for the thread and search
// as inbound text is: a caption for media, the filled-in text of a template
// (spec is the template's, nil for other messages).
func textOf(m *whatsapp.OutboundMessage, spec *whatsapp.TemplateSpec) (text, filename string) {
	for _, mo := range []*whatsapp.MediaObject{m.Image, m.Video, m.Audio, m.Document, m.Sticker} {
		if mo != nil {
			return mo.Caption, mo.Filename
		}
	}
	switch {
	case m.Template != nil && spec != nil:
		return spec.Render(whatsapp.TemplateValues(m, spec)), ""
	case m.Interactive != nil && m.Interactive.Body != nil:
		return m.Interactive.Body.Text, ""
	case m.Location != nil:
		return strings.TrimSpace(m.Location.Name + " " + m.Location.Address), ""
	case m.Reaction != nil:
		return m.Reaction.Emoji, ""
	}
	return m.Summary(), ""
}
