package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// simOptions is an external simulator playing Meta with status webhooks.
func simOptions() sim.Options {
	return sim.Options{StatusWebhooks: true, SentDelay: 10 * time.Millisecond, DeliveredDelay: 30 * time.Millisecond}
}

func template(to string) map[string]any {
	return map[string]any{"to": to, "type": "template",
		"template": map[string]any{"name": "hello_world", "language": map[string]string{"code": "en_US"}}}
}

func queueOK(t *testing.T, a *sendboxtest.App, req map[string]any) store.Message {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/messages", req)
	if code != http.StatusAccepted {
		t.Fatalf("queue: %d %s", code, body)
	}
	return sendboxtest.JSON[struct{ Data store.Message }](t, body).Data
}

// settled waits until no message is queued or being sent any more and
// returns them all.
func settled(t *testing.T, a *sendboxtest.App, n int, timeout time.Duration) []store.Message {
	t.Helper()
	var msgs []store.Message
	sendboxtest.Eventually(t, timeout, fmt.Sprintf("%d messages to leave the queue", n), func() bool {
		var err error
		msgs, _, _, err = a.Store.ListMessages(context.Background(), store.MessageFilter{Direction: store.Outbound, Limit: 500, Ascending: true})
		if err != nil || len(msgs) != n {
			return false
		}
		for _, m := range msgs {
			if m.Status == store.StateQueued || m.Status == store.StateSending {
				return false
			}
		}
		return true
	})
	return msgs
}

// TestThroughputLimitHolds queues more than a few seconds' worth of sends at
// a low SENDBOX_WA_MPS: Meta (the simulator, enforcing the same limit) never
// answers 130429, and the sends are spread at the configured rate.
func TestThroughputLimitHolds(t *testing.T) {
	const mps, n = 20, 90
	a := sendboxtest.New(t, sendboxtest.WithGraph(func() sim.Options { o := simOptions(); o.MPS = mps; return o }()),
		sendboxtest.WithConfig(func(c *config.Config) { c.WA.MPS = mps }))
	for i := 0; i < n; i++ {
		queueOK(t, a, template(fmt.Sprintf("+3933340%05d", i%30))) // 30 recipients, 3 each
	}
	msgs := settled(t, a, n, 60*time.Second)
	for _, m := range msgs {
		if m.Status == store.StateFailed {
			t.Fatalf("message %d failed: %+v", m.ID, m.Error)
		}
	}
	st := a.Sim.Stats()
	if st.Rejected[130429] != 0 || st.Rejected[131056] != 0 || st.Accepted != n {
		t.Fatalf("simulator: accepted %d, rejected %v", st.Accepted, st.Rejected)
	}
	first, last := st.Recent[0].Time, st.Recent[len(st.Recent)-1].Time
	if rate := float64(n-1) / last.Sub(first).Seconds(); rate > mps*1.05 {
		t.Fatalf("sent %d in %s: %.1f/s over the %d/s limit", n, last.Sub(first), rate, mps)
	}
}

// TestPairPacing sends more than the 45-message burst to one customer: the
// 46th waits for the bucket (one message per 6 s), and Meta never answers 131056.
func TestPairPacing(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for pair pacing (~7 s)")
	}
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	const n = 46
	for i := 0; i < n; i++ {
		queueOK(t, a, template("+393335550001"))
	}
	msgs := settled(t, a, n, 60*time.Second)
	st := a.Sim.Stats()
	if st.Rejected[131056] != 0 || st.Accepted != n {
		t.Fatalf("simulator: accepted %d, rejected %v", st.Accepted, st.Rejected)
	}
	gap := st.Recent[n-1].Time.Sub(st.Recent[0].Time)
	if gap < 5900*time.Millisecond {
		t.Fatalf("46 messages to one customer went out within %s: the burst is 45, then 1 per 6 s", gap)
	}
	// And in the order they were queued: the phone shows them as sent.
	phone := a.Sim.Phone("393335550001", false)
	if len(phone) != n {
		t.Fatalf("the phone shows %d messages", len(phone))
	}
	for i, m := range msgs { // msgs are in queueing order
		if phone[i].ID != m.WAMID {
			t.Fatalf("message %d queued #%d arrived #%d", m.ID, i, indexOf(phone, m.WAMID))
		}
	}
}

// TestRetriesByErrorCode: throughput (130429) and server errors (5xx) are
// retried; undeliverable (131026) and unknown templates (132001: Meta
// dropped one still in sendbox's synced list) are not.
func TestRetriesByErrorCode(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	a.Sim.InjectFault(sim.Fault{To: "+393330000001", Code: 130429, Count: 2})
	a.Sim.InjectFault(sim.Fault{To: "+393330000002", Code: 131000, HTTPStatus: 500, Count: 1})
	a.Sim.InjectFault(sim.Fault{To: "+393330000003", Code: 2, HTTPStatus: 503, Count: 1})
	a.Sim.SetUnreachable("393330000004", true)
	a.Sim.InjectFault(sim.Fault{To: "+393330000005", Code: 132001, Count: 1})
	rate := queueOK(t, a, template("+393330000001"))
	server := queueOK(t, a, template("+393330000002"))
	unavailable := queueOK(t, a, template("+393330000003"))
	unreachable := queueOK(t, a, template("+393330000004"))
	unknown := queueOK(t, a, template("+393330000005"))

	settled(t, a, 5, 60*time.Second)
	get := func(id int64) *store.Message {
		m, err := a.Store.MessageByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, c := range []struct {
		name     string
		id       int64
		attempts int
		code     int
	}{
		{"130429 twice then accepted", rate.ID, 3, 0},
		{"500 once then accepted", server.ID, 2, 0},
		{"503 once then accepted", unavailable.ID, 2, 0},
		{"131026 not retried", unreachable.ID, 1, 131026},
		{"132001 not retried", unknown.ID, 1, 132001},
	} {
		m := get(c.id)
		if m.Attempts != c.attempts {
			t.Errorf("%s: %d attempts", c.name, m.Attempts)
		}
		if c.code == 0 && (m.Status == store.StateFailed || m.WAMID == "") {
			t.Errorf("%s: %s %+v", c.name, m.Status, m.Error)
		}
		if c.code != 0 && (m.Status != store.StateFailed || m.Error == nil || m.Error.Code != c.code) {
			t.Errorf("%s: %s %+v", c.name, m.Status, m.Error)
		}
	}
	st := a.Sim.Stats()
	if st.Rejected[131026] != 1 || st.Rejected[132001] != 1 || st.Rejected[130429] != 2 {
		t.Fatalf("simulator saw %v", st.Rejected)
	}
	_, metrics := a.Do("GET", "/metrics", nil)
	for _, want := range []string{`sendbox_sends_total{result="accepted"} 3`, `sendbox_sends_total{result="failed"} 2`, `sendbox_sends_total{result="retried"} 4`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestWindowCheckedAgainAtSend: a text queued inside the window but retried
// after it closed is refused by sendbox without calling Meta again.
func TestWindowCheckedAgainAtSend(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	if testing.Short() {
		t.Skip("waits for the window to close (~15 s)")
	}
	// The customer wrote 24 hours minus 6 seconds ago; Meta fails the first
	// attempts (retried after about 2, 4 and 8 s), so a retry comes after
	// the window closed.
	old := time.Now().Add(-24*time.Hour + 6*time.Second).Unix()
	body := []byte(strings.Replace(string(textWebhook("wamid.w1", "393336660001", "ciao", "")),
		fmt.Sprintf(`"timestamp":"%d"`, time.Now().Unix()), fmt.Sprintf(`"timestamp":"%d"`, old), 1))
	if code, _ := a.PostWebhook(body); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	a.Sim.InjectFault(sim.Fault{To: "+393336660001", Code: 131000, HTTPStatus: 500, Count: 3})
	m := queueOK(t, a, map[string]any{"to": "+393336660001", "type": "text", "text": map[string]string{"body": "Ecco la conferma"}})
	settled(t, a, 1, 30*time.Second)
	got, _ := a.Store.MessageByID(context.Background(), m.ID)
	if got.Status != store.StateFailed || got.Error == nil || got.Error.Code != 131047 || !strings.Contains(got.Error.Detail, "before calling Meta") {
		t.Fatalf("message: %s %+v", got.Status, got.Error)
	}
	if calls := a.Sim.Stats().Rejected[131000]; calls < 1 || calls > 3 || a.Sim.Stats().Accepted != 0 {
		t.Fatalf("Meta was called after the window closed: %+v", a.Sim.Stats())
	}
	// Now the API refuses outright.
	code, resp := a.Do("POST", "/api/v1/messages", map[string]any{"to": "+393336660001", "type": "text", "text": map[string]string{"body": "?"}})
	if code != 422 || !strings.Contains(string(resp), "outside_window") {
		t.Fatalf("%d %s", code, resp)
	}
	// A template still passes.
	queueOK(t, a, template("+393336660001"))
}

// TestAsyncFailureFromMeta: Meta accepts a send, then reports it failed
// (131047 from the simulator's own window check): the message ends failed
// with the code, whatever order the statuses arrive in.
func TestAsyncFailureFromMeta(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	// sendbox saw the customer write (so it sends), the simulator did not.
	if code, _ := a.PostWebhook(textWebhook("wamid.a1", "393337770001", "ciao", "")); code != 200 {
		t.Fatal(code)
	}
	drained(t, a)
	m := queueOK(t, a, map[string]any{"to": "+393337770001", "type": "text", "text": map[string]string{"body": "Salve!"}})
	sendboxtest.Eventually(t, 20*time.Second, "the failed status", func() bool {
		got, _ := a.Store.MessageByID(context.Background(), m.ID)
		return got.Status == store.StateFailed && got.Error != nil && got.Error.Code == 131047
	})
}

func indexOf(phone []sim.PhoneMessage, wamid string) int {
	for i, p := range phone {
		if p.ID == wamid {
			return i
		}
	}
	return -1
}
