package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const fixtureDir = "../testdata/whatsapp/split"

// fixtureFiles lists every split envelope.
func fixtureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 119 {
		t.Fatalf("found %d fixture envelopes in %s, want 119", len(files), fixtureDir)
	}
	return files
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t testing.TB, name string) *Webhook {
	t.Helper()
	w, err := ParseWebhook(readFixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w
}

// expectedCounts counts the items of an envelope independently of the
// parser, through a generic decode.
func expectedCounts(t *testing.T, body []byte) (messages, statuses, echoes, events int) {
	t.Helper()
	var env struct {
		Entry []struct {
			Changes []struct {
				Field string                     `json:"field"`
				Value map[string]json.RawMessage `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	count := func(raw json.RawMessage) int {
		var items []json.RawMessage
		_ = json.Unmarshal(raw, &items)
		return len(items)
	}
	for _, e := range env.Entry {
		for _, c := range e.Changes {
			if n := count(c.Value["message_echoes"]); c.Field == "smb_message_echoes" && n > 0 {
				echoes += n
				continue
			}
			if c.Field != "messages" {
				events++
				continue
			}
			m, s, errs := count(c.Value["messages"]), count(c.Value["statuses"]), count(c.Value["errors"])
			messages, statuses, events = messages+m, statuses+s, events+errs
			if m+s+errs == 0 {
				events++
			}
		}
	}
	return
}

func TestParseWebhookFixtures(t *testing.T) {
	t.Parallel()
	for _, path := range fixtureFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := readFixture(t, name)
			w, err := ParseWebhook(body)
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			m, s, ec, e := expectedCounts(t, body)
			if len(w.Messages) != m || len(w.Statuses) != s || len(w.Echoes) != ec || len(w.Events) != e {
				t.Fatalf("got %d messages, %d statuses, %d echoes, %d events; want %d, %d, %d, %d",
					len(w.Messages), len(w.Statuses), len(w.Echoes), len(w.Events), m, s, ec, e)
			}
			for _, echo := range w.Echoes {
				if !json.Valid(echo.Raw) || !bytes.Contains(body, echo.Raw) || echo.ID == "" || echo.Type == "" {
					t.Errorf("echo %+v: lacks id or type, or Raw is not an exact excerpt of the body", echo)
				}
				if echo.CustomerWaID == "" && echo.CustomerUserID == "" {
					t.Errorf("echo %s: no customer", echo.ID)
				}
			}
			if m+s+ec+e == 0 {
				t.Fatal("fixture yielded nothing")
			}
			for _, msg := range w.Messages {
				if !json.Valid(msg.Raw) || !bytes.Contains(body, msg.Raw) {
					t.Errorf("message %s: Raw is not an exact excerpt of the body", msg.ID)
				}
				if msg.Type == "" || msg.ID == "" || msg.Timestamp.IsZero() {
					t.Errorf("message %+v lacks type, id or timestamp", msg)
				}
				if msg.PhoneNumberID == "" || msg.WABAID == "" {
					t.Errorf("message %s lacks metadata: %+v", msg.ID, msg.Metadata)
				}
			}
			for _, st := range w.Statuses {
				if !json.Valid(st.Raw) || !bytes.Contains(body, st.Raw) {
					t.Errorf("status %s: Raw is not an exact excerpt of the body", st.ID)
				}
				if st.Status == "" || st.ID == "" || st.Timestamp.IsZero() {
					t.Errorf("status %+v lacks status, id or timestamp", st)
				}
			}
			for _, ev := range w.Events {
				if ev.Field == "" || !json.Valid(ev.Value) {
					t.Errorf("event %+v lacks field or value", ev)
				}
			}
		})
	}
}

// TestParseWebhookIndex checks each classified envelope lands where its
// classification in index.json says.
func TestParseWebhookIndex(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "..", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range rows {
		class, _ := r[2].(string)
		file, _ := r[3].(string)
		if file == "" {
			continue
		}
		checked++
		w := parseFixture(t, file)
		switch {
		case strings.HasPrefix(class, "message:"):
			want := strings.Fields(strings.SplitN(strings.TrimPrefix(class, "message:"), ":", 2)[0])[0]
			want = strings.TrimSuffix(want, ";")
			if len(w.Messages) == 0 || w.Messages[0].Type != want {
				t.Errorf("%s (%s): messages %+v", file, class, w.Messages)
			}
		case strings.HasPrefix(class, "status:"):
			want := strings.Fields(strings.TrimPrefix(class, "status:"))[0]
			if len(w.Statuses) == 0 || w.Statuses[0].Status != want {
				t.Errorf("%s (%s): statuses %+v", file, class, w.Statuses)
			}
		case strings.HasPrefix(class, "smb_message_echoes;"):
			want := strings.TrimPrefix(class, "smb_message_echoes; smb_message_echoes/message_echoes:")
			if len(w.Echoes) != 1 || len(w.Events) != 0 || w.Echoes[0].Type != want {
				t.Errorf("%s (%s): echoes %+v, events %+v", file, class, w.Echoes, w.Events)
			}
		default:
			field, event, _ := strings.Cut(strings.Split(class, ";")[0], ":")
			if len(w.Events) != 1 || w.Events[0].Field != field || w.Events[0].Type != event {
				t.Errorf("%s (%s): events %+v", file, class, w.Events)
			}
		}
	}
	if checked != 119 {
		t.Errorf("index.json names %d split files, want 119", checked)
	}
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func TestParseWebhookMessageTypes(t *testing.T) {
	t.Parallel()
	const p = "pywa__tests__data__updates__"
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, m InboundMessage)
	}{
		{"text", p + "message__text.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Type", m.Type, "text")
			eq(t, "Text", m.Text, "Body Text")
			eq(t, "ID", m.ID, "wamid.xyzxyz")
			eq(t, "From", m.From, "972987654321")
			eq(t, "Timestamp", m.Timestamp, unix(1697043223))
			eq(t, "PhoneNumberID", m.PhoneNumberID, "1122334455667")
			eq(t, "DisplayPhoneNumber", m.DisplayPhoneNumber, "972123456789")
			eq(t, "WABAID", m.WABAID, "1234567890987654321")
			eq(t, "Profile", m.Profile, Profile{WaID: "972987654321", UserID: "US.13491208655302741918", ParentUserID: "US.ENT.11815799212886844830", Name: "Test Name"})
			eq(t, "Context", m.Context, (*Context)(nil))
		}},
		{"image", p + "message__image.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Media", *m.Media, Media{ID: "65463453", MimeType: "image/jpeg", SHA256: "4654+8g="})
			eq(t, "Text", m.Text, "")
		}},
		{"image with url and caption", "whatsapp-cloud-api-client__tests__examples__WebhookMessageEvent.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Caption", m.Media.Caption, "Image caption example")
			eq(t, "Text", m.Text, "Image caption example")
			eq(t, "SHA256", m.Media.SHA256, "Q52F7LwESzuX3Tk3telFo9BXgzG/4vtJ3JQ30PwNxK8=")
		}},
		{"image url", p + "message__media_with_url.json", func(t *testing.T, m InboundMessage) {
			eq(t, "URL", m.Media.URL, "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=65463453&source=webhook&ext=487r9re&hash=heiwchueowbcew-dnedcw")
		}},
		{"video", p + "message__video.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Media", *m.Media, Media{ID: "765756756", MimeType: "video/mp4", SHA256: "Jh+2ij6PzUv/J2y+grrtegr/ZMzRxkEPwc24Oyib4s03w9Jc=", Caption: "caption"})
			eq(t, "Text", m.Text, "caption")
			eq(t, "Forwarded", m.Context.Forwarded, true)
		}},
		{"audio", p + "message__audio.json", func(t *testing.T, m InboundMessage) {
			eq(t, "MimeType", m.Media.MimeType, "audio/ogg; codecs=opus")
			eq(t, "Voice", m.Media.Voice, false)
		}},
		{"voice", p + "message__voice.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Type", m.Type, "audio")
			eq(t, "Voice", m.Media.Voice, true)
			eq(t, "ID", m.Media.ID, "1234567890987654321")
		}},
		{"document", p + "message__document.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Media", *m.Media, Media{ID: "1234567890987654321", MimeType: "application/pdf", SHA256: "grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=", Caption: "caption", Filename: "filename.pdf"})
		}},
		{"sticker animated", p + "message__animated_sticker.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Animated", m.Media.Animated, true)
			eq(t, "MimeType", m.Media.MimeType, "image/webp")
		}},
		{"sticker static", p + "message__static_sticker.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Type", m.Type, "sticker")
			eq(t, "Animated", m.Media.Animated, false)
		}},
		{"location", p + "message__chosen_location.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Location", *m.Location, Location{Latitude: 37.4611978, Longitude: -122.2164385, Name: "Facebook HQ", Address: "1 Hacker Way, Menlo Park, CA 94025", URL: "https://maps.google.com/?cid=2000000000000000000"})
			eq(t, "Text", m.Text, "Facebook HQ")
		}},
		{"location current", p + "message__current_location.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Location", *m.Location, Location{Latitude: 12.25089, Longitude: 43.90539})
		}},
		{"contacts", p + "message__contacts.json", func(t *testing.T, m InboundMessage) {
			if len(m.Contacts) != 3 {
				t.Fatalf("Contacts = %+v", m.Contacts)
			}
			c := m.Contacts[0]
			eq(t, "FormattedName", c.FormattedName, "Chandler Bing")
			eq(t, "Phones", strings.Join(c.Phones, ","), "+1 555-555-5555")
			if !json.Valid(c.Raw) || !strings.Contains(string(c.Raw), `"first_name": "Chandler"`) {
				t.Errorf("Raw = %s", c.Raw)
			}
			eq(t, "Text", m.Text, "Chandler Bing, Monica, Rachel Green")
		}},
		{"interactive button_reply", p + "callback_button__button.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Interactive", *m.Interactive, InteractiveReply{Type: "button_reply", ID: "callback_data", Title: "title"})
			eq(t, "Text", m.Text, "title")
			eq(t, "Context", *m.Context, Context{From: "1122334455667", ID: "wamid.xyzxyz"})
		}},
		{"interactive list_reply", p + "callback_selection__description.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Interactive", *m.Interactive, InteractiveReply{Type: "list_reply", ID: "callback_data", Title: "title", Description: "description"})
		}},
		{"interactive nfm_reply", p + "flow_completion__completion.json", func(t *testing.T, m InboundMessage) {
			in := m.Interactive
			eq(t, "FlowName", in.FlowName, "flow")
			eq(t, "FlowBody", in.FlowBody, "Sent")
			eq(t, "FlowToken", in.FlowToken, "AQAAAAACS5FpgQ_cAAAAAD0QI3s.")
			var resp map[string]string
			if err := json.Unmarshal(in.FlowResponse, &resp); err != nil {
				t.Fatalf("FlowResponse %s: %v", in.FlowResponse, err)
			}
			eq(t, "delivery_rating", resp["delivery_rating"], "4")
			eq(t, "Text", m.Text, "Sent")
		}},
		{"interactive nfm_reply without token", p + "flow_completion__without_flow_token.json", func(t *testing.T, m InboundMessage) {
			eq(t, "FlowToken", m.Interactive.FlowToken, "")
			if !json.Valid(m.Interactive.FlowResponse) {
				t.Errorf("FlowResponse = %s", m.Interactive.FlowResponse)
			}
		}},
		{"interactive call_permission_reply", p + "call_permission_update__accept.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Interactive", *m.Interactive, InteractiveReply{Type: "call_permission_reply", Response: "accept", ResponseSource: "user_action", ExpiresAt: unix(1753186982)})
		}},
		{"interactive call_permission_reply reject", p + "call_permission_update__reject.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Response", m.Interactive.Response, "reject")
			eq(t, "ExpiresAt", m.Interactive.ExpiresAt, time.Time{})
		}},
		{"interactive without payload, with value.errors", p + "message__interactive_message_with_err.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Type", m.Type, "interactive")
			eq(t, "Interactive", m.Interactive, (*InteractiveReply)(nil))
		}},
		{"button", p + "callback_button__quick_reply.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Button", *m.Button, ButtonReply{Payload: "callback_data", Text: "title"})
			eq(t, "Text", m.Text, "title")
			eq(t, "Context.ID", m.Context.ID, "wamid.xyzxyz==")
		}},
		{"button without context", p + "callback_button__quick_reply_without_context.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Context", m.Context, (*Context)(nil))
			eq(t, "Type", m.Type, "button")
		}},
		{"reaction", p + "message__reaction.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Reaction", *m.Reaction, Reaction{MessageID: "wamid.yzxyzx=", Emoji: "😮"})
			eq(t, "Text", m.Text, "😮")
		}},
		{"reaction removed (empty)", p + "message__unreaction_empty.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Reaction", *m.Reaction, Reaction{MessageID: "wamid.yzxyzx="})
		}},
		{"reaction removed (no emoji)", p + "message__unreaction_no_emoji.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Reaction", *m.Reaction, Reaction{MessageID: "wamid.yzxyzx="})
		}},
		{"order", p + "message__order.json", func(t *testing.T, m InboundMessage) {
			o := m.Order
			eq(t, "CatalogID", o.CatalogID, "354160437058781")
			if len(o.Items) != 3 {
				t.Fatalf("Items = %+v", o.Items)
			}
			eq(t, "Items[0]", o.Items[0], OrderItem{ProductRetailerID: "HAMBURGER", Quantity: 3, ItemPrice: 30, Currency: "ILS"})
		}},
		{"system user_changed_number", p + "system__phone_number_change.json", func(t *testing.T, m InboundMessage) {
			eq(t, "System", *m.System, System{Type: "user_changed_number", Body: "User A changed from 972987654321 to 972912345678", NewWaID: "972912345678"})
			eq(t, "Text", m.Text, m.System.Body)
			eq(t, "Profile", m.Profile, Profile{})
		}},
		{"system customer_identity_changed", p + "system__identity_change.json", func(t *testing.T, m InboundMessage) {
			eq(t, "System", *m.System, System{Type: "customer_identity_changed", Body: "User identity changed"})
		}},
		{"edit text", "pywa__history__646f6c777983__tests__data__updates__edit_message__edit_text.json", func(t *testing.T, m InboundMessage) {
			eq(t, "OriginalID", m.Edit.OriginalID, "wamid.zzzzzz")
			n := m.Edit.Message
			eq(t, "nested Type", n.Type, "text")
			eq(t, "nested ID", n.ID, "wamid.yyyyyy")
			eq(t, "nested From", n.From, "972987654321")
			eq(t, "nested Timestamp", n.Timestamp, unix(1697044968))
			eq(t, "Text", m.Text, "Text was edited")
			eq(t, "nested Raw", string(n.Raw), "{\n                    \"type\": \"text\",\n                    \"text\": {\n                      \"body\": \"Text was edited\"\n                    }\n                  }")
		}},
		{"edit image caption", p + "edited_message__image.json", func(t *testing.T, m InboundMessage) {
			n := m.Edit.Message
			eq(t, "nested Media.Caption", n.Media.Caption, "Updated image caption")
			eq(t, "nested Context.ID", n.Context.ID, "M0")
			eq(t, "Text", m.Text, "Updated image caption")
			eq(t, "Media", m.Media, (*Media)(nil))
		}},
		{"revoke", p + "deleted_message__revoke.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Revoke", *m.Revoke, Revoke{OriginalID: "<ORIGINAL_WHATSAPP_MESSAGE_ID>"})
			eq(t, "Text", m.Text, "")
		}},
		{"unsupported", p + "message__unsupported.json", func(t *testing.T, m InboundMessage) {
			eq(t, "UnsupportedType", m.UnsupportedType, "")
			eq(t, "Errors", m.Errors, []Error{{Code: 131051, Title: "Message type unknown", Message: "Message type unknown", Details: "Message type is currently not supported."}})
		}},
		{"unsupported with type", p + "message__unsupported_with_type.json", func(t *testing.T, m InboundMessage) {
			eq(t, "UnsupportedType", m.UnsupportedType, "pool")
			eq(t, "Errors[0].Code", m.Errors[0].Code, 131051)
		}},
		{"request_welcome", "pywa__history__0e721509e63f__tests__data__updates__chat_opened__chat_opened.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Type", m.Type, "request_welcome")
			eq(t, "Text", m.Text, "")
			eq(t, "Profile.Name", m.Profile.Name, "Test Name")
		}},
		{"referral", p + "message__referral.json", func(t *testing.T, m InboundMessage) {
			r := m.Referral
			eq(t, "Referral", Referral{SourceURL: r.SourceURL, SourceID: r.SourceID, SourceType: r.SourceType, Headline: r.Headline, Body: r.Body, MediaType: r.MediaType, ImageURL: r.ImageURL, VideoURL: r.VideoURL, ThumbnailURL: r.ThumbnailURL, CtwaClid: r.CtwaClid},
				Referral{SourceURL: "AD_OR_POST_FB_URL", SourceID: "ADID", SourceType: "ad or post", Headline: "AD_TITLE", Body: "AD_DESCRIPTION", MediaType: "image or video", ImageURL: "RAW_IMAGE_URL", VideoURL: "RAW_VIDEO_URL", ThumbnailURL: "RAW_THUMBNAIL_URL", CtwaClid: "CTWA_CLID"})
			if !json.Valid(r.Raw) || !strings.Contains(string(r.Raw), "CTWA_CLID") {
				t.Errorf("Referral.Raw = %s", r.Raw)
			}
			eq(t, "Text", m.Text, "BODY")
		}},
		{"context reply", p + "message__reply.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Context", *m.Context, Context{From: "972123456789", ID: "wamid.xyzxyz=="})
			eq(t, "Text", m.Text, "replied text")
		}},
		{"context forwarded", p + "message__forwarded.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Context", *m.Context, Context{Forwarded: true})
		}},
		{"context frequently forwarded", p + "message__forwarded_many_times.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Context", *m.Context, Context{FrequentlyForwarded: true})
		}},
		{"BSUID only", "pywa__history__ec7c739bde17__tests__data__updates__message__text_bsuid.json", func(t *testing.T, m InboundMessage) {
			eq(t, "From", m.From, "")
			eq(t, "FromUserID", m.FromUserID, "US.13491208655302741918")
			eq(t, "FromParentUserID", m.FromParentUserID, "US.11815799212886844830")
			eq(t, "Text", m.Text, "Does it come in another color?")
			// The fixture's contact user_id differs from from_user_id: the
			// only contact is taken.
			eq(t, "Profile.Username", m.Profile.Username, "@realsheenanelson")
			eq(t, "Profile.WaID", m.Profile.WaID, "")
		}},
		{"java text", "whatsapp-business-java-api__src__test__resources__deserialization__textMessage.json", func(t *testing.T, m InboundMessage) {
			eq(t, "Type", m.Type, "text")
			if m.Text == "" || m.Profile.Name == "" {
				t.Errorf("Text %q, Profile %+v", m.Text, m.Profile)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := parseFixture(t, tt.file)
			if len(w.Messages) != 1 {
				t.Fatalf("got %d messages, want 1", len(w.Messages))
			}
			tt.check(t, w.Messages[0])
		})
	}
}

func TestParseWebhookStatuses(t *testing.T) {
	t.Parallel()
	const p = "pywa__tests__data__updates__message_status__"
	yes := true
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, s Status)
	}{
		{"sent", p + "sent.json", func(t *testing.T, s Status) {
			eq(t, "Status", s.Status, "sent")
			eq(t, "ID", s.ID, "wamid.xyzxyz")
			eq(t, "RecipientID", s.RecipientID, "972987654321")
			eq(t, "PricingCategory", s.PricingCategory, "service")
			eq(t, "PricingModel", s.PricingModel, "CBP")
			eq(t, "Billable", s.Billable, &yes)
			eq(t, "ConversationOrigin", s.ConversationOrigin, "service")
			if s.ConversationID == "" || s.ConversationExpiresAt.IsZero() {
				t.Errorf("conversation %q expires %v", s.ConversationID, s.ConversationExpiresAt)
			}
			eq(t, "Profile.Name", s.Profile.Name, "Test Name")
		}},
		{"delivered", p + "delivered.json", func(t *testing.T, s Status) {
			eq(t, "Status", s.Status, "delivered")
		}},
		{"delivered BSUID PMP", "pywa__history__ec7c739bde17__tests__data__updates__message_status__delivered_bsuid.json", func(t *testing.T, s Status) {
			eq(t, "RecipientID", s.RecipientID, "")
			eq(t, "RecipientUserID", s.RecipientUserID, "US.13491208655302741918")
			eq(t, "PricingType", s.PricingType, "regular")
			eq(t, "PricingCategory", s.PricingCategory, "marketing")
			eq(t, "PricingModel", s.PricingModel, "PMP")
			eq(t, "Timestamp", s.Timestamp, unix(1750030073))
			eq(t, "Profile.UserID", s.Profile.UserID, "US.13491208655302741918")
		}},
		{"read", p + "read.json", func(t *testing.T, s Status) {
			eq(t, "Status", s.Status, "read")
		}},
		{"read group", p + "group.json", func(t *testing.T, s Status) {
			eq(t, "RecipientType", s.RecipientType, "group")
			eq(t, "RecipientParticipantID", s.RecipientParticipantID, "<GROUP_PARTICIPANT_USER_PHONE_NUMBER>")
		}},
		{"played", p + "played.json", func(t *testing.T, s Status) {
			eq(t, "Status", s.Status, "played")
		}},
		{"failed", p + "failed.json", func(t *testing.T, s Status) {
			eq(t, "Status", s.Status, "failed")
			eq(t, "Errors", s.Errors, []Error{{Code: 130472, Title: "User's number is part of an experiment", Message: "User's number is part of an experiment",
				Details: "Failed to send message because this user's phone number is part of an experiment", Href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}})
			eq(t, "Billable", s.Billable, (*bool)(nil))
		}},
		{"failed 131047", "whatsapp-business-java-api__src__test__resources__deserialization__reEngagementMessageError.json", func(t *testing.T, s Status) {
			eq(t, "Errors[0].Code", s.Errors[0].Code, 131047)
		}},
		{"failed 131053", "whatsapp-business-java-api__src__test__resources__deserialization__mediaUploadError.json", func(t *testing.T, s Status) {
			eq(t, "Details", s.Errors[0].Details, "Unsupported Video mime type text/html. Please use one of video/3gpp, video/mp4.")
		}},
		{"biz_opaque_callback_data", p + "with_tracker.json", func(t *testing.T, s Status) {
			if s.BizOpaque == "" {
				t.Error("BizOpaque is empty")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := parseFixture(t, tt.file)
			if len(w.Statuses) != 1 || len(w.Messages) != 0 {
				t.Fatalf("got %d statuses, %d messages", len(w.Statuses), len(w.Messages))
			}
			eq(t, "PhoneNumberID", w.Statuses[0].PhoneNumberID != "", true)
			tt.check(t, w.Statuses[0])
		})
	}
}

func TestParseWebhookEvents(t *testing.T) {
	t.Parallel()
	const p = "pywa__tests__data__updates__"
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, e Event)
	}{
		{"template status", p + "template_status_update__approved.json", func(t *testing.T, e Event) {
			eq(t, "Field", e.Field, "message_template_status_update")
			eq(t, "Type", e.Type, "APPROVED")
			eq(t, "Time", e.Time, unix(1751247548))
			eq(t, "WABAID", e.WABAID, "102290129340398")
			var v struct {
				ID int64 `json:"message_template_id"`
			}
			if err := json.Unmarshal(e.Value, &v); err != nil || v.ID != 1689556908129832 {
				t.Errorf("Value %s: %v", e.Value, err)
			}
		}},
		{"account_update", p + "account_update__account_deleted.json", func(t *testing.T, e Event) {
			eq(t, "Field", e.Field, "account_update")
			eq(t, "Type", e.Type, "ACCOUNT_DELETED")
			eq(t, "Time", e.Time, unix(1743451903))
		}},
		{"account_review_update (decision)", "whatsapp-business-java-api__src__test__resources__deserialization__accountReview.json", func(t *testing.T, e Event) {
			eq(t, "Field", e.Field, "account_review_update")
			eq(t, "Type", e.Type, "APPROVED")
			eq(t, "Value", string(e.Value), `{
            "decision": "APPROVED"
          }`)
		}},
		{"user_preferences", p + "user_marketing_preferences__signup.json", func(t *testing.T, e Event) {
			eq(t, "Field", e.Field, "user_preferences")
			eq(t, "PhoneNumberID", e.PhoneNumberID, "106540352242922")
			eq(t, "UserPreferences", e.UserPreferences, []UserPreference{{WaID: "16505551234", Category: "marketing_messages", Value: "signup", Detail: "User signed up via signup link", Timestamp: unix(1731705721)}})
		}},
		{"calls", p + "call_connect__user_initiated.json", func(t *testing.T, e Event) {
			eq(t, "Field", e.Field, "calls")
			eq(t, "PhoneNumberID", e.PhoneNumberID, "743897493242")
			eq(t, "Time", e.Time, time.Time{})
		}},
		{"messages.errors", p + "message__interactive_message_with_err.json", func(t *testing.T, e Event) {
			eq(t, "Field", e.Field, FieldMessagesErrors)
			eq(t, "Error", *e.Error, Error{Code: 131000, Title: "Something went wrong", Message: "Something went wrong", Details: "Unsupported webhook payload"})
			eq(t, "PhoneNumberID", e.PhoneNumberID, "1122334455667")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := parseFixture(t, tt.file)
			if len(w.Events) != 1 {
				t.Fatalf("got %d events, want 1", len(w.Events))
			}
			tt.check(t, w.Events[0])
		})
	}
}

// envelope wraps a "messages" value in Meta's envelope.
func envelope(value string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":` + value + `}]}]}`)
}

func TestParseWebhookEdgeCases(t *testing.T) {
	t.Parallel()
	t.Run("unknown type kept raw", func(t *testing.T) {
		t.Parallel()
		item := `{"from":"15550001111","id":"wamid.NEW","timestamp":"1750000000","type":"hologram","hologram":{"depth":3}}`
		w, err := ParseWebhook(envelope(`{"metadata":{"phone_number_id":"42"},"messages":[` + item + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		m := w.Messages[0]
		eq(t, "Type", m.Type, "hologram")
		eq(t, "Raw", string(m.Raw), item)
		eq(t, "Text", m.Text, "")
		eq(t, "PhoneNumberID", m.PhoneNumberID, "42")
	})
	t.Run("timestamps: numbers, garbage, out of range", func(t *testing.T) {
		t.Parallel()
		w, err := ParseWebhook(envelope(`{"messages":[
			{"id":"a","timestamp":1750000000,"type":"text","text":{"body":"x"}},
			{"id":"b","timestamp":"yesterday","type":"text"},
			{"id":"c","timestamp":"99999999999999999999","type":"text"},
			{"id":"d","timestamp":{"x":1},"type":"text"},
			{"id":"e","timestamp":"-5","type":"text"},
			{"id":"f","timestamp":1.75e9,"type":"text"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		want := []time.Time{unix(1750000000), {}, {}, {}, {}, unix(1750000000)}
		for i, m := range w.Messages {
			eq(t, "Timestamp "+m.ID, m.Timestamp, want[i])
		}
	})
	t.Run("wrong JSON types cost one field, not the message", func(t *testing.T) {
		t.Parallel()
		w, err := ParseWebhook(envelope(`{"contacts":"nope","messages":[
			{"id":"a","from":16505551234,"timestamp":"1750000000","type":"location","location":{"latitude":"12.5","longitude":true,"name":7}},
			{"id":"b","type":"order","order":{"product_items":[{"quantity":"2","item_price":"9.5"}]}},
			{"id":"c","type":"text","text":"not an object","context":[1,2]},
			5, null, "str"]}`))
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Messages) != 6 {
			t.Fatalf("got %d messages, want 6", len(w.Messages))
		}
		eq(t, "From", w.Messages[0].From, "16505551234")
		eq(t, "Location", *w.Messages[0].Location, Location{Latitude: 12.5})
		eq(t, "Item", w.Messages[1].Order.Items[0], OrderItem{Quantity: 2, ItemPrice: 9.5})
		eq(t, "Text", w.Messages[2].Text, "")
		eq(t, "Raw", string(w.Messages[3].Raw), "5")
	})
	t.Run("profile matched by wa_id among several", func(t *testing.T) {
		t.Parallel()
		w, err := ParseWebhook(envelope(`{"contacts":[{"wa_id":"1","profile":{"name":"One"}},{"wa_id":"2","profile":{"name":"Two"}},{"user_id":"US.9","profile":{"name":"Nine"}}],
			"messages":[{"from":"2","id":"a","type":"text"},{"from":"","from_user_id":"US.9","id":"b","type":"text"},{"from":"3","id":"c","type":"text"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "a", w.Messages[0].Profile.Name, "Two")
		eq(t, "b", w.Messages[1].Profile.Name, "Nine")
		eq(t, "c", w.Messages[2].Profile, Profile{})
	})
	t.Run("empty messages change becomes an event", func(t *testing.T) {
		t.Parallel()
		w, err := ParseWebhook(envelope(`{"metadata":{"phone_number_id":"42"},"message_echoes":[{"id":"x"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Events) != 1 || w.Events[0].Field != "messages" || w.Events[0].PhoneNumberID != "42" {
			t.Fatalf("events %+v", w.Events)
		}
	})
	t.Run("edit nesting is bounded", func(t *testing.T) {
		t.Parallel()
		msg := `{"type":"text","text":{"body":"deep"}}`
		for range 50 {
			msg = `{"type":"edit","edit":{"original_message_id":"o","message":` + msg + `}}`
		}
		w, err := ParseWebhook(envelope(`{"messages":[` + msg + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		depth := 0
		for m := &w.Messages[0]; m.Edit != nil; m = m.Edit.Message {
			depth++
		}
		if depth != maxEditDepth {
			t.Errorf("parsed %d edit levels, want %d", depth, maxEditDepth)
		}
	})
	t.Run("no object, no entry", func(t *testing.T) {
		t.Parallel()
		for _, body := range []string{`{}`, `{"entry":[]}`, `{"object":null,"entry":null}`, `{"entry":5}`, `{"entry":[{"changes":[5,{"field":1}]}]}`} {
			if _, err := ParseWebhook([]byte(body)); err != nil {
				t.Errorf("%s: %v", body, err)
			}
		}
	})
}

func TestParseWebhookMalformed(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"blank", "  \n"},
		{"not JSON", "hello"},
		{"truncated", `{"object":"whatsapp_business_account","entry":[`},
		{"array", `[{"object":"whatsapp_business_account"}]`},
		{"string", `"whatsapp_business_account"`},
		{"null", `null`},
		{"number", `42`},
		{"trailing garbage", `{"object":"whatsapp_business_account"} {`},
		{"other object", `{"object":"page","entry":[]}`},
		{"object not a string", `{"object":5}`},
		{"huge nesting", `{"object":"whatsapp_business_account","entry":` + deep + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := ParseWebhook([]byte(tt.body))
			if !errors.Is(err, ErrMalformed) || w != nil {
				t.Fatalf("got %v, %v; want ErrMalformed", w, err)
			}
		})
	}
}

// TestParseWebhookDeepValues checks deep nesting inside an otherwise valid
// envelope: no panic, no error.
func TestParseWebhookDeepValues(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	body := envelope(`{"messages":[{"id":"x","type":"text","text":` + deep + `,"context":` + deep + `}]}`)
	w, err := ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ID", w.Messages[0].ID, "x")
}

func FuzzParseWebhook(f *testing.F) {
	for _, path := range fixtureFiles(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"edit","edit":{"message":{"type":"edit"}}}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || w != nil {
				t.Fatalf("error %v does not wrap ErrMalformed (webhook %v)", err, w)
			}
			return
		}
		for _, m := range w.Messages {
			if len(m.Raw) == 0 || !json.Valid(m.Raw) || !utf8.Valid(m.Raw) || !utf8.ValidString(m.Text) || !utf8.ValidString(m.ID) {
				t.Fatalf("message Raw %q, Text %q", m.Raw, m.Text)
			}
		}
		for _, s := range w.Statuses {
			if !json.Valid(s.Raw) || !utf8.Valid(s.Raw) {
				t.Fatalf("status Raw %q", s.Raw)
			}
		}
		for _, e := range w.Events {
			if !json.Valid(e.Value) || !utf8.Valid(e.Value) {
				t.Fatalf("event Value %q", e.Value)
			}
		}
	})
}

// TestInvalidUTF8IsReplaced: bytes that are not UTF-8 inside the strings of
// a webhook (encoding/json accepts them there) are replaced by U+FFFD in
// every raw excerpt and text, which stay valid JSON.
func TestInvalidUTF8IsReplaced(t *testing.T) {
	body := []byte("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[" +
		"{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"2\"},\"messages\":[" +
		"{\"from\":\"39333\xff\",\"id\":\"wamid.\xc3\",\"timestamp\":\"1\",\"type\":\"text\",\"text\":{\"body\":\"caff\xe8 \xed\xa0\x80\"}}]," +
		"\"statuses\":[{\"id\":\"wamid.s\",\"status\":\"sent\",\"recipient_id\":\"\xfe\"}]}}," +
		"{\"field\":\"account_update\",\"value\":{\"event\":\"\x80\"}}]}]}")
	if utf8.Valid(body) || !json.Valid(body) {
		t.Fatal("the test body should be JSON with invalid UTF-8")
	}
	w, err := ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	m, s, e := w.Messages[0], w.Statuses[0], w.Events[0]
	for what, b := range map[string][]byte{"message raw": m.Raw, "status raw": s.Raw, "event value": e.Value} {
		if !utf8.Valid(b) || !json.Valid(b) || !bytes.Contains(b, []byte("\uFFFD")) {
			t.Errorf("%s: %q", what, b)
		}
	}
	eq(t, "text", m.Text, "caff\uFFFD \uFFFD") // a run of bad bytes becomes one
	eq(t, "id", m.ID, "wamid.\uFFFD")
	eq(t, "from", m.From, "39333\uFFFD")
	eq(t, "recipient", s.RecipientID, "\uFFFD")
}

// eq fails the test when got and want differ (deeply).
func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %s, want %s", what, show(got), show(want))
	}
}

// show prints pointers by what they point to.
func show(v any) string {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return fmt.Sprintf("&%+v", rv.Elem().Interface())
	}
	return fmt.Sprintf("%+v", v)
}

// benchTextWebhook is a realistic single-text webhook, as Meta sends it
// (compact JSON, BSUID fields of 2026).
const benchTextWebhook = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson","username":"@realsheenanelson","country_code":"US"},"wa_id":"16505551234","user_id":"US.13491208655302741918","parent_user_id":"US.11815799212886844830"}],"messages":[{"from":"16505551234","from_user_id":"US.13491208655302741918","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}`

// benchBatchWebhook builds one webhook carrying n text messages from n
// customers, the batched shape Meta uses under load.
func benchBatchWebhook(n int) []byte {
	var contacts, messages []string
	for i := range n {
		wa := fmt.Sprintf("1650555%04d", i)
		contacts = append(contacts, fmt.Sprintf(`{"profile":{"name":"Customer %d"},"wa_id":"%s","user_id":"US.1349120865530274%04d"}`, i, wa, i))
		messages = append(messages, fmt.Sprintf(`{"from":"%s","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAz%06d=","timestamp":"17494163%02d","type":"text","text":{"body":"Hello, I would like to know whether order %d has shipped yet. Thanks!"}}`, wa, i, i%100, i))
	}
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[` +
		strings.Join(contacts, ",") + `],"messages":[` + strings.Join(messages, ",") + `]},"field":"messages"}]}]}`)
}

func BenchmarkParseWebhook(b *testing.B) {
	for _, bc := range []struct {
		name string
		body []byte
		msgs int
	}{
		{"text", []byte(benchTextWebhook), 1},
		{"batch100", benchBatchWebhook(100), 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				w, err := ParseWebhook(bc.body)
				if err != nil || len(w.Messages) != bc.msgs {
					b.Fatalf("%v, %d messages", err, len(w.Messages))
				}
			}
		})
	}
}

// TestParseEchoes: the business's messages from the WhatsApp Business app
// are decoded like a customer's, with the customer they went to: Meta's
// samples put the business's number in "from" in one and in "to" in
// others, so the number is compared.
func TestParseEchoes(t *testing.T) {
	p := "pywa__tests__data__updates__"
	h := "pywa__history__646f6c777983__tests__data__updates__"
	for _, c := range []struct {
		file, typ, text, customer, original string
	}{
		{p + "outgoing_message__text.json", "text", "Test message", "<WHATSAPP_USER_PHONE_NUMBER>", ""},
		{p + "outgoing_message__edit.json", "edit", "Text was edited", "972987654321", "wamid.zzzzzz"},
		{p + "outgoing_message__delete.json", "revoke", "", "972987654321", "wamid.zzzzzz"},
		{h + "message__coexistence_text.json", "text", "Body Text", "972987654321", ""},
	} {
		w := parseFixture(t, c.file)
		if len(w.Echoes) != 1 {
			t.Fatalf("%s: %d echoes", c.file, len(w.Echoes))
		}
		e := w.Echoes[0]
		original := ""
		switch {
		case e.Edit != nil:
			original = e.Edit.OriginalID
		case e.Revoke != nil:
			original = e.Revoke.OriginalID
		}
		if e.Type != c.typ || e.Text != c.text || e.CustomerWaID != c.customer || original != c.original ||
			e.PhoneNumberID != "1122334455667" {
			t.Errorf("%s: %s %q to %q (original %q, number %q)", c.file, e.Type, e.Text, e.CustomerWaID, original, e.PhoneNumberID)
		}
	}
	// With only a BSUID for the customer.
	body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"smb_message_echoes","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"99"},
		"message_echoes":[{"from":"15550001111","to_user_id":"US.123","id":"wamid.e1","timestamp":"1700000000","type":"text","text":{"body":"hi"}}]}}]}]}`
	w, err := ParseWebhook([]byte(body))
	if err != nil || len(w.Echoes) != 1 || w.Echoes[0].CustomerUserID != "US.123" || w.Echoes[0].CustomerWaID != "" {
		t.Fatalf("BSUID echo: %+v %v", w, err)
	}
}
