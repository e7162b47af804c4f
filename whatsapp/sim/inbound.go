package sim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Inbound is a message a customer writes to the business.
type Inbound struct {
	From   string // customer's wa_id (digits; any phone notation is accepted); "" for a BSUID-only user
	UserID string // optional business-scoped user id (BSUID)
	Name   string // profile name ("" keeps the last one known)
	// Message is the messages[] item in Meta's shape minus from, id and
	// timestamp, e.g. {"type":"text","text":{"body":"hi"}} or
	// {"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"yes","title":"Yes"}}}.
	// It may include "context".
	Message json.RawMessage
	// Media carries the bytes of an image, video, audio, document or sticker:
	// the simulator stores them and fills id, mime_type and sha256 in the
	// message, keeping its caption or filename.
	Media *InboundMedia
}

// InboundMedia is the file of an inbound media message.
type InboundMedia struct {
	Data     []byte
	MimeType string
	Filename string // documents
}

// inboundMediaTTL is how long Meta keeps a customer's media downloadable.
const inboundMediaTTL = 7 * 24 * time.Hour

// inboundRetries are the waits before each try of an inbound webhook.
var inboundRetries = []time.Duration{0, 100 * time.Millisecond, 400 * time.Millisecond}

// SendInbound writes as a customer: it builds Meta's full webhook envelope
// for the message, signs it and POSTs it to Options.WebhookURL, trying three
// times quickly. It returns the message's wamid, or an error if sendbox did
// not answer 200. Either way the customer's 24-hour window opens (Meta saw
// the message) and the message shows on the phone view.
func (s *Simulator) SendInbound(ctx context.Context, in Inbound) (string, error) {
	if s.closed.Load() {
		return "", ErrClosed
	}
	from := ""
	if in.From != "" {
		from = chatKey(in.From)
		if !isPhone(from) {
			return "", fmt.Errorf("whatsapp simulator: inbound from %q: not a phone number", in.From)
		}
	}
	if from == "" && in.UserID == "" {
		return "", errors.New("whatsapp simulator: inbound message needs From or UserID")
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(in.Message, &msg); err != nil || msg == nil {
		return "", fmt.Errorf("whatsapp simulator: inbound message must be a JSON object: %v", err)
	}
	var typ string
	if err := json.Unmarshal(msg["type"], &typ); err != nil || typ == "" {
		return "", errors.New(`whatsapp simulator: inbound message needs a "type"`)
	}
	for _, k := range []string{"from", "id", "timestamp", "from_user_id"} {
		delete(msg, k)
	}
	now := s.now()
	mediaID := ""
	if in.Media != nil {
		id, err := s.attachMedia(msg, typ, in.Media, now)
		if err != nil {
			return "", err
		}
		mediaID = id
	}

	key := from
	if key == "" {
		key = in.UserID
	}
	wamid := newWAMID(cmp.Or(from, in.UserID), false)
	ts := strconv.FormatInt(now.Unix(), 10)

	// The messages[] item, keys in Meta's order: from, id, timestamp, type,
	// then the rest.
	var item bytes.Buffer
	item.WriteByte('{')
	if from != "" {
		item.WriteString(`"from":`)
		writeJSONString(&item, from)
		item.WriteByte(',')
	}
	if in.UserID != "" {
		item.WriteString(`"from_user_id":`)
		writeJSONString(&item, in.UserID)
		item.WriteByte(',')
	}
	item.WriteString(`"id":`)
	writeJSONString(&item, wamid)
	item.WriteString(`,"timestamp":`)
	writeJSONString(&item, ts)
	item.WriteString(`,"type":`)
	writeJSONString(&item, typ)
	rest := make([]string, 0, len(msg))
	for k := range msg {
		if k != "type" {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		item.WriteByte(',')
		writeJSONString(&item, k)
		item.WriteByte(':')
		item.Write(msg[k])
	}
	item.WriteByte('}')

	pm := &phoneMsg{PhoneMessage: PhoneMessage{
		ID:        wamid,
		Direction: DirectionIn,
		Type:      typ,
		Text:      inboundText(typ, msg),
		Body:      slices.Clone(item.Bytes()),
		Time:      now,
		MediaID:   mediaID,
	}}
	if ctxRaw, ok := msg["context"]; ok {
		var c struct {
			ID string `json:"id"`
		}
		json.Unmarshal(ctxRaw, &c)
		pm.ReplyTo = c.ID
	}

	// Record before posting: sendbox may answer this message before the POST
	// returns, and its reply must find the window open.
	s.mu.Lock()
	c := s.chatFor(key, now)
	if from != "" {
		c.waID = from
	}
	if in.UserID != "" {
		c.userID = in.UserID
		s.windows[in.UserID] = now.Unix()
	}
	if in.Name != "" {
		c.name = in.Name
	}
	name := c.name
	s.windows[key] = now.Unix()
	if len(s.windows) > s.windowsMax {
		s.pruneWindows(now)
	}
	s.appendMsg(c, pm)
	s.mu.Unlock()
	s.countInbound()

	var env bytes.Buffer
	env.Grow(512 + item.Len())
	s.writeEnvelopeHead(&env)
	env.WriteString(`"contacts":[{"profile":{"name":`)
	writeJSONString(&env, name)
	env.WriteByte('}')
	if from != "" {
		env.WriteString(`,"wa_id":`)
		writeJSONString(&env, from)
	}
	if in.UserID != "" {
		env.WriteString(`,"user_id":`)
		writeJSONString(&env, in.UserID)
	}
	env.WriteString(`}],"messages":[`)
	env.Write(item.Bytes())
	env.WriteString(`]},"field":"messages"}]}]}`)

	if s.opts.WebhookURL == "" {
		return wamid, nil
	}
	if err := s.postInbound(ctx, env.Bytes()); err != nil {
		s.stats.inbound(false)
		s.mu.Lock()
		pm.Status = "failed"
		s.mu.Unlock()
		return wamid, fmt.Errorf("whatsapp simulator: inbound webhook: %w", err)
	}
	s.stats.inbound(true)
	return wamid, nil
}

// postInbound posts an inbound webhook, trying a few times quickly: the
// caller (a person on the test phone, or an API client) is waiting.
func (s *Simulator) postInbound(ctx context.Context, body []byte) error {
	var err error
	for _, wait := range inboundRetries {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(wait):
			}
		}
		if err = s.post(ctx, body); err == nil {
			return nil
		}
	}
	return err
}

// attachMedia stores an inbound file and fills the media object of msg
// (id, mime_type, sha256 in base64 as webhooks carry it, filename).
func (s *Simulator) attachMedia(msg map[string]json.RawMessage, typ string, m *InboundMedia, now time.Time) (string, error) {
	switch typ {
	case "image", "video", "audio", "document", "sticker":
	default:
		return "", fmt.Errorf("whatsapp simulator: media attached to a %q message", typ)
	}
	if len(m.Data) == 0 || m.MimeType == "" {
		return "", errors.New("whatsapp simulator: inbound media needs data and a MIME type")
	}
	obj := map[string]json.RawMessage{}
	if raw, ok := msg[typ]; ok {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", fmt.Errorf("whatsapp simulator: inbound %s object: %w", typ, err)
		}
	}
	it := s.media.put(m.MimeType, slices.Clone(m.Data), now, inboundMediaTTL)
	set := func(k, v string) {
		b, _ := json.Marshal(v)
		obj[k] = b
	}
	set("id", it.id)
	set("mime_type", m.MimeType)
	set("sha256", base64.StdEncoding.EncodeToString(it.sum[:]))
	if typ == "document" && m.Filename != "" {
		if _, ok := obj["filename"]; !ok {
			set("filename", m.Filename)
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	msg[typ] = b
	return it.id, nil
}

// pruneWindows forgets closed customer service windows, so that the map is
// bounded by the customers who wrote in the last 24 hours. The next prune
// waits until the map doubles, which keeps the cost per message constant.
// Called with s.mu held.
func (s *Simulator) pruneWindows(now time.Time) {
	cutoff := now.Add(-windowDuration).Unix()
	for k, v := range s.windows {
		if v < cutoff {
			delete(s.windows, k)
		}
	}
	s.windowsMax = max(1024, 2*len(s.windows))
}
