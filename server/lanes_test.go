package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/config"
	"sendbox/events"
	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

// TestSendLaneAndPerson: a message sent through the API says its lane
// (transactional unless told) and whether a person wrote it. Only a
// person's message pauses the assistant: a shop's automated order update
// leaves it on. Wrong combinations get a 422 naming the field.
func TestSendLaneAndPerson(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	const from = "393401112200"
	m, err := a.Store.MessageByWAMID(ctx, inbound(t, a, from, "Buongiorno, il mio ordine è partito?"))
	if err != nil {
		t.Fatal(err)
	}
	bot := func() string {
		t.Helper()
		c, err := a.Store.ConversationByID(ctx, m.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		return c.Bot
	}
	text := func(body string, extra map[string]any) map[string]any {
		req := map[string]any{"to": "+" + from, "type": "text", "text": map[string]string{"body": body}}
		for k, v := range extra {
			req[k] = v
		}
		return req
	}

	update := queueOK(t, a, text("Il suo ordine 1042 è partito.", nil))
	if update.Lane != events.LaneTransactional {
		t.Fatalf("default lane %q", update.Lane)
	}
	if b := bot(); b != "on" {
		t.Fatalf("an automated update set the assistant %q", b)
	}
	if promo := queueOK(t, a, map[string]any{"to": "+" + from, "type": "template", "lane": "bulk",
		"template": map[string]any{"name": "hello_world", "language": map[string]string{"code": "en_US"}}}); promo.Lane != events.LaneBulk {
		t.Fatalf("bulk lane %q", promo.Lane)
	}

	for _, c := range []struct {
		extra       map[string]any
		code, field string
	}{
		{map[string]any{"lane": "urgent"}, "invalid_lane", "lane"},
		{map[string]any{"person": true, "lane": "bulk"}, "invalid_lane", "lane"},
		{map[string]any{"author_user_id": 987654}, "unknown_user", "author_user_id"},
	} {
		code, body := a.Do("POST", "/api/v1/messages", text("x", c.extra))
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"code":"`+c.code+`"`) ||
			!strings.Contains(string(body), `"field":"`+c.field+`"`) {
			t.Errorf("%v: %d %s", c.extra, code, body)
		}
	}
	if b := bot(); b != "on" {
		t.Fatalf("refused sends changed the assistant to %q", b)
	}

	// A person writing from a CRM, without a sendbox user.
	reply := queueOK(t, a, text("Le scrivo io: arriva domani.", map[string]any{"person": true}))
	if reply.Lane != events.LanePerson {
		t.Fatalf("a person's message in lane %q", reply.Lane)
	}
	if b := bot(); b != "paused" {
		t.Fatalf("a person's message left the assistant %q", b)
	}

	// A named agent: the message is theirs in the thread.
	u, err := a.Store.CreateUser(ctx, "luca@example.com", "Luca", "agent", "unused-hash")
	if err != nil {
		t.Fatal(err)
	}
	named := queueOK(t, a, text("Sono Luca, la richiamo.", map[string]any{"author_user_id": u.ID}))
	if named.Lane != events.LanePerson || named.AuthorID != u.ID {
		t.Fatalf("a named agent's message: lane %q author %d", named.Lane, named.AuthorID)
	}
}

// TestPersonReplyOvertakesBulk: with a campaign queued in the bulk lane at
// a low SENDBOX_WA_MPS, a person's reply queued after it leaves at once,
// not behind it, and the campaign keeps to its share of the number.
func TestPersonReplyOvertakesBulk(t *testing.T) {
	const mps, n = 10, 40
	a := sendboxtest.New(t, sendboxtest.WithGraph(func() sim.Options { o := simOptions(); o.MPS = mps; return o }()),
		sendboxtest.WithConfig(func(c *config.Config) { c.WA.MPS = mps; c.WA.BulkShare = 50 }))
	for i := range n {
		queueOK(t, a, map[string]any{"to": fmt.Sprintf("+3933350%05d", i), "type": "template", "lane": "bulk",
			"template": map[string]any{"name": "hello_world", "language": map[string]string{"code": "en_US"}}})
	}
	sendboxtest.Eventually(t, 30*time.Second, "the campaign to start", func() bool { return a.Sim.Stats().Accepted >= 3 })
	const to = "393335199999"
	queued := time.Now()
	queueOK(t, a, map[string]any{"to": "+" + to, "type": "template", "person": true,
		"template": map[string]any{"name": "hello_world", "language": map[string]string{"code": "en_US"}}})
	var sentAt time.Time
	sendboxtest.Eventually(t, 30*time.Second, "the reply to leave", func() bool {
		for _, r := range a.Sim.Stats().Recent {
			if r.To == to && r.Code == 0 {
				sentAt = r.Time
				return true
			}
		}
		return false
	})
	// At 5 bulk sends a second, a reply behind the 35-odd still queued
	// would wait 7 s; given a lane, it waits for nothing but its place.
	wait := sentAt.Sub(queued)
	t.Logf("the reply left %s after it was queued", wait)
	if wait > 2*time.Second {
		t.Fatal("that is behind the campaign")
	}
	msgs := settled(t, a, n+1, 60*time.Second)
	var bulk []time.Time
	for _, r := range a.Sim.Stats().Recent {
		if r.Code == 0 && r.To != to {
			bulk = append(bulk, r.Time)
		}
	}
	for _, m := range msgs {
		if m.Status == store.StateFailed {
			t.Fatalf("message %d failed: %+v", m.ID, m.Error)
		}
	}
	if len(bulk) != n {
		t.Fatalf("%d campaign sends reached Meta, want %d", len(bulk), n)
	}
	// Bulk holds at most half the places: no second has more than 5 of them.
	for i, j := 0, 0; j < len(bulk); j++ {
		for bulk[j].Sub(bulk[i]) >= time.Second {
			i++
		}
		if j-i+1 > mps/2 {
			t.Fatalf("%d campaign sends arrived within one second (share 50 %% of %d/s)", j-i+1, mps)
		}
	}
	if st := a.Sim.Stats(); st.Rejected[130429] != 0 || st.Rejected[131056] != 0 {
		t.Fatalf("simulator refused sends: %v", st.Rejected)
	}
}
