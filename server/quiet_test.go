package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/business"
	"sendbox/outbound"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestFlowMarketingWaitsForQuietHours: a shop in Rome, a customer in New
// York, quiet hours that end at the next minute by New York's clock (a
// real night would make the test wait till morning; the rule's edges are
// outbound's tests). An order event starts the after-purchase flow during
// them: the utility confirmation goes at once; the marketing reminder
// waits at its step on a timer due when they end, is queued then, not
// before, reaches the phone once, and the run goes on to its end.
func TestFlowMarketingWaitsForQuietHours(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	p, _ := business.Load(ctx, a.Store)
	p.Timezone = "Europe/Rome"
	if err := business.Save(ctx, a.Store, p); err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Now().In(ny)
	end := now.Truncate(time.Minute).Add(time.Minute)
	if end.Sub(now) < 8*time.Second { // time enough to look before it ends
		end = end.Add(time.Minute)
	}
	q := outbound.QuietHours{On: true, From: now.Add(-time.Hour).Format("15:04"), To: end.Format("15:04")}
	if err := outbound.SaveQuietHours(ctx, a.Store, q); err != nil {
		t.Fatal(err)
	}
	id := createFlow(t, a, "After the purchase", map[string]any{
		"triggers": []any{map[string]any{"type": "event", "event": "order.created"}},
		"steps": []any{
			map[string]any{"id": "confirm", "type": "send", "template": map[string]any{"name": "order_confirmation", "language": "en",
				"params": []string{"{{event.order_id}}"}}},
			map[string]any{"id": "remind", "type": "send", "template": map[string]any{"name": "reorder_reminder", "language": "en",
				"params": []string{"{{contact.name}}", "{{event.product}}", "{{event.url}}"}}},
			map[string]any{"id": "done", "type": "end", "outcome": "reminded"},
		}})
	publishFlow(t, a, id)
	const buyer = "12125550123"
	if code, body := a.Do("POST", "/api/v1/contacts", map[string]any{"phone": "+" + buyer, "name": "Ann", "consent": "opted_in"}); code != 201 {
		t.Fatalf("contact: %d %s", code, body)
	}
	if code, body := a.Do("POST", "/api/v1/events", map[string]any{"name": "order.created", "contact": "+" + buyer, "key": "NY-1",
		"data": map[string]string{"order_id": "NY-1", "product": "Vitamin C serum", "url": "https://shop.example/r/vc"}}); code != http.StatusAccepted {
		t.Fatalf("event: %d %s", code, body)
	}
	phoneGot(t, a, buyer, "Thank you for your order NY-1!")
	var run store.FlowRun
	sendboxtest.Eventually(t, 10*time.Second, "the run to wait at the reminder", func() bool {
		runs := runsOf(t, a, buyer)
		if len(runs) == 1 {
			run = runs[0]
		}
		return len(runs) == 1 && runs[0].Step == "remind" && runs[0].Waiting == store.WaitTimer
	})
	tms, err := a.Store.TimersOf(ctx, store.TimerFlowRun, run.ID)
	if err != nil || len(tms) != 1 || !tms[0].DueAt.Equal(end) {
		t.Fatalf("timers %+v (%v), want one due at %s", tms, err, end)
	}
	reminders := func() int {
		n := 0
		for _, m := range a.Sim.Phone(buyer, false) {
			if m.Direction == "out" && strings.Contains(m.Text, "running low") {
				n++
			}
		}
		return n
	}
	if n := reminders(); n != 0 || time.Now().After(end) {
		t.Fatalf("%d reminders during the quiet hours (now %s, end %s)", n, time.Now(), end)
	}
	time.Sleep(time.Until(end))
	phoneGot(t, a, buyer, "Hi Ann, your Vitamin C serum may be running low")
	c, err := a.Store.ContactByRecipient(ctx, buyer, "")
	if err != nil {
		t.Fatal(err)
	}
	ms, _, _, err := a.Store.ListMessages(ctx, store.MessageFilter{Direction: store.Outbound, ContactID: c.ID, Ascending: true})
	if err != nil || len(ms) != 2 {
		t.Fatalf("messages: %+v %v", ms, err)
	}
	if ms[0].CreatedAt.After(end) || ms[1].CreatedAt.Before(end) {
		t.Fatalf("the confirmation was queued at %s and the reminder at %s; the quiet hours ended at %s", ms[0].CreatedAt, ms[1].CreatedAt, end)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the run to end", func() bool {
		runs := runsOf(t, a, buyer)
		return len(runs) == 1 && runs[0].State == store.RunEnded && runs[0].Outcome == "reminded"
	})
	time.Sleep(time.Second)
	if n := reminders(); n != 1 {
		t.Fatalf("%d reminders on the phone, want 1", n)
	}
}

// TestFlowBusinessOpenCondition: the clinic's flow says "we're closed,
// we'll call you back" out of its opening hours, and asks for the reason
// when it is open, as its profile's hours say at the moment the customer
// writes.
func TestFlowBusinessOpenCondition(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	setOpen := func(open bool) {
		p, _ := business.Load(ctx, a.Store)
		p.Timezone = "Europe/Rome"
		for i := range p.Hours {
			p.Hours[i] = business.DayHours{Closed: !open, Open: "00:00", Close: "23:59"}
		}
		if err := business.Save(ctx, a.Store, p); err != nil {
			t.Fatal(err)
		}
	}
	id := createFlow(t, a, "Clinic hours", map[string]any{
		"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{"cleaning"}}},
		"reentry":  "every_time",
		"steps": []any{
			map[string]any{"id": "hours", "type": "condition", "if": map[string]any{"left": "time.open", "op": "eq", "right": "yes"},
				"then": "open", "else": "closed"},
			map[string]any{"id": "open", "type": "send", "text": "We are open: how can we help?", "next": "end"},
			map[string]any{"id": "closed", "type": "send", "text": "We're closed now, we'll call you back."},
			map[string]any{"id": "end", "type": "end"},
		}})
	publishFlow(t, a, id)
	const patient = "393471110077"
	setOpen(false)
	customerWrites(t, a, "+"+patient, "Cleaning")
	phoneGot(t, a, patient, "We're closed now, we'll call you back.")
	setOpen(true)
	customerWrites(t, a, "+"+patient, "Cleaning")
	phoneGot(t, a, patient, "We are open: how can we help?")
}
