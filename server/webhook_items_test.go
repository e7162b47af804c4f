package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/sendboxtest"
)

// messagesWebhook wraps message and status items in one webhook.
func messagesWebhook(messages, statuses []string) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{`+
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},`+
		`"contacts":[{"profile":{"name":"Sara"},"wa_id":"393337770001"}],"messages":[%s],"statuses":[%s]}}]}]}`,
		strings.Join(messages, ","), strings.Join(statuses, ",")))
}

func textItem(wamid, body string) string {
	id := ""
	if wamid != "" {
		id = fmt.Sprintf(`"id":%q,`, wamid)
	}
	return fmt.Sprintf(`{"from":"393337770001",%s"timestamp":"%d","type":"text","text":{"body":%q}}`, id, time.Now().Unix(), body)
}

type eventRow struct {
	Field, Type string
	Value       json.RawMessage
}

func webhookEvents(t *testing.T, a *sendboxtest.App, field string) []eventRow {
	t.Helper()
	code, b := a.Do("GET", "/api/v1/webhook-events?field="+field, nil)
	if code != 200 {
		t.Fatalf("webhook events: %d %s", code, b)
	}
	return sendboxtest.JSON[struct{ Data []eventRow }](t, b).Data
}

// TestBadItemDoesNotHoldBackGoodOnes: a message without an id kept the
// valid messages of the same webhook out of the inbox (the whole body was
// retried, then parked). Now the good items are stored at once and only
// the bad one is parked, with its reason, once, however often Meta retries.
func TestBadItemDoesNotHoldBackGoodOnes(t *testing.T) {
	a := sendboxtest.New(t)
	body := messagesWebhook(
		[]string{textItem("wamid.items.1", "Buongiorno"), textItem("", "senza id"), textItem("wamid.items.2", "A che ora aprite?")},
		[]string{`{"status":"delivered","timestamp":"1","recipient_id":"393337770001"}`})
	if code, _ := a.PostWebhook(body); code != 200 {
		t.Fatal(code)
	}
	// Meta's retry: the same items (bytes that differ only in blanks get
	// past the broker's deduplication and reach ingest again).
	if code, _ := a.PostWebhook(append(body, ' ')); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	for _, w := range []string{"wamid.items.1", "wamid.items.2"} {
		if _, err := a.Store.MessageByWAMID(context.Background(), w); err != nil {
			t.Fatalf("%s was held back by the item without an id: %v", w, err)
		}
	}
	if c := counts(t, a); c.Inbound != 2 {
		t.Fatalf("stored %d messages, want 2", c.Inbound)
	}
	parked := webhookEvents(t, a, events.FieldUnstoredMessage)
	if len(parked) != 1 || !strings.Contains(parked[0].Type, "no id") || !strings.Contains(string(parked[0].Value), "senza id") {
		t.Fatalf("parked messages: %+v", parked)
	}
	if st := webhookEvents(t, a, events.FieldUnstoredStatus); len(st) != 1 || !strings.Contains(string(st[0].Value), "delivered") {
		t.Fatalf("parked statuses: %+v", st)
	}
	// Nothing else was parked: not the body as a whole (sendbox once kept it
	// under "sendbox.unstored_webhook"), nor its other items.
	for _, field := range []string{"sendbox.unstored_webhook", events.FieldUnparsedWebhook, events.FieldUnstoredEvent,
		events.FieldUnattributedMessage} {
		if whole := webhookEvents(t, a, field); len(whole) != 0 {
			t.Fatalf("parked under %s: %+v", field, whole)
		}
	}
}

// TestItemTheStoreRefuses: an item that passes every check but that the
// database refuses (here a trigger stands in for any lasting failure) does
// not hold back the rest of its webhook either; after a few deliveries it
// is parked alone with the database's reason.
func TestItemTheStoreRefuses(t *testing.T) {
	a := sendboxtest.New(t)
	db, err := sql.Open("sqlite", "file:"+a.Store.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON messages WHEN NEW.wamid = 'wamid.poison'
		BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	body := messagesWebhook([]string{textItem("wamid.ok.1", "uno"), textItem("wamid.poison", "due"), textItem("wamid.ok.2", "tre")}, nil)
	if code, _ := a.PostWebhook(body); code != 200 {
		t.Fatal(code)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the good items to be stored while the bad one is retried", func() bool {
		_, err1 := a.Store.MessageByWAMID(context.Background(), "wamid.ok.1")
		_, err2 := a.Store.MessageByWAMID(context.Background(), "wamid.ok.2")
		return err1 == nil && err2 == nil
	})
	sendboxtest.Eventually(t, 90*time.Second, "the bad item to be parked", func() bool {
		return len(webhookEvents(t, a, events.FieldUnstoredMessage)) > 0
	})
	drained(t, a)
	parked := webhookEvents(t, a, events.FieldUnstoredMessage)
	if len(parked) != 1 || !strings.Contains(parked[0].Type, "refused by the test") || !strings.Contains(string(parked[0].Value), "wamid.poison") {
		t.Fatalf("parked: %+v", parked)
	}
	if c := counts(t, a); c.Inbound != 2 {
		t.Fatalf("stored %d messages, want 2", c.Inbound)
	}
}
