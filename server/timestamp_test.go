package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
)

// TestFutureTimestampsAreClamped: a message stamped in the year 9999 pinned
// its conversation on top of the inbox and held the customer's 24-hour
// window open for ever; a marketing stop stamped then made every later
// choice of the customer look older, so a resume was ignored. Each is now
// taken as happening when sendbox received it.
func TestFutureTimestampsAreClamped(t *testing.T) {
	a := sendboxtest.New(t)
	const year9999 = "253402300799"
	before := time.Now()
	future := strings.Replace(string(textWebhook("wamid.future", "393330000009", "dal futuro", "")),
		fmt.Sprintf(`"timestamp":"%d"`, time.Now().Unix()), `"timestamp":"`+year9999+`"`, 1)
	if !strings.Contains(future, year9999) {
		t.Fatal("the test webhook has no timestamp to change")
	}
	if code, _ := a.PostWebhook([]byte(future)); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	time.Sleep(10 * time.Millisecond) // the next message is later by the clock
	if code, _ := a.PostWebhook(textWebhook("wamid.present", "393330000010", "dal presente", "")); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	after := time.Now()

	code, b := a.Do("GET", "/api/v1/conversations", nil)
	convs := sendboxtest.JSON[struct{ Data []struct{ Preview string } }](t, b).Data
	if code != 200 || len(convs) != 2 {
		t.Fatalf("%d %s", code, b)
	}
	if convs[0].Preview != "dal presente" {
		t.Errorf("the year-9999 conversation is pinned on top: %s", b)
	}
	code, b = a.Do("GET", "/api/v1/messages?direction=inbound", nil)
	for _, m := range sendboxtest.JSON[struct {
		Data []struct {
			WAMID     string
			Timestamp time.Time
		}
	}](t, b).Data {
		if m.Timestamp.Before(before.Add(-time.Second)) || m.Timestamp.After(after) {
			t.Errorf("%s is stamped %s, not when it arrived (%s to %s)", m.WAMID, m.Timestamp, before, after)
		}
	}
	// The window runs from when the message arrived, not from 9999.
	code, b = a.Do("GET", "/api/v1/contacts?q=393330000009", nil)
	contacts := sendboxtest.JSON[struct {
		Data []struct {
			LastInboundAt time.Time `json:"last_inbound_at"`
		}
	}](t, b).Data
	if code != 200 || len(contacts) != 1 || contacts[0].LastInboundAt.After(after) {
		t.Errorf("the customer's window runs from %v: %d %s", contacts, code, b)
	}

	// Meta stamps in whole seconds, so a resume a moment after a stop may
	// carry the next second: taken, too, as when it arrived.
	preference := func(value, ts string) []byte {
		return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"user_preferences","value":{
			"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},
			"contacts":[{"wa_id":"393330000009"}],
			"user_preferences":[{"wa_id":"393330000009","category":"marketing_messages","value":%q,"timestamp":%s}]}}]}]}`, value, ts))
	}
	if code, _ := a.PostWebhook(preference("stop", year9999)); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	time.Sleep(10 * time.Millisecond)
	if code, _ := a.PostWebhook(preference("resume", fmt.Sprint(time.Now().Unix()+1))); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	code, b = a.Do("GET", "/api/v1/contacts?q=393330000009", nil)
	if !strings.Contains(string(b), `"consent":"opted_in"`) {
		t.Errorf("a resume after a stop stamped in 9999 was ignored: %d %s", code, b)
	}
}
