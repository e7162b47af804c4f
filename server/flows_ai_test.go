package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
)

// helpDesk answers questions from the knowledge base within a flow: the
// first from an ask step's answer, the next from the customer's next
// message; what the knowledge base does not cover goes to a person.
var helpDesk = map[string]any{
	"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{"info"}}},
	"steps": []any{
		map[string]any{"id": "q", "type": "ask", "input": "text", "var": "question", "text": "What would you like to know?"},
		map[string]any{"id": "answer", "type": "ai", "question": "{{vars.question}}", "var": "answer", "on_unanswered": "human"},
		map[string]any{"id": "more", "type": "send", "text": "Anything else?"},
		map[string]any{"id": "again", "type": "ai", "var": "second"},
		map[string]any{"id": "bye", "type": "end", "outcome": "answered"},
		map[string]any{"id": "human", "type": "handoff", "text": "A person will answer you shortly."},
	},
}

// TestFlowAIAnswersFromKnowledge: with no model (the assistant quotes the
// knowledge base), a flow's ai step answers a question from a FAQ, sends
// the answer and goes on; an ai step without a question answers the
// customer's next message; a question the knowledge base does not cover
// sends nothing and goes to on_unanswered (a hand-off).
func TestFlowAIAnswersFromKnowledge(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	if code, body := a.Do("POST", "/api/v1/knowledge", map[string]string{"question": "Do you have parking?",
		"answer": "Yes: free parking for patients in the courtyard, entrance from Via Roma 12."}); code != http.StatusCreated {
		t.Fatalf("add FAQ: %d %s", code, body)
	}
	if code, body := a.Do("POST", "/api/v1/knowledge", map[string]string{"question": "When are you open?",
		"answer": "Monday to Friday, from 9:00 to 18:00."}); code != http.StatusCreated {
		t.Fatalf("add FAQ: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the knowledge to be indexed", func() bool {
		r, err := a.KB.Retrieve(ctx, "parking open", 4)
		return err == nil && r.ByWords > 1
	})
	id := createFlow(t, a, "Help desk", helpDesk)
	publishFlow(t, a, id)

	const patient = "393471110101"
	customerWrites(t, a, "+"+patient, "info")
	phoneGot(t, a, patient, "What would you like to know?")
	customerWrites(t, a, "+"+patient, "Is there parking for patients?")
	phoneGot(t, a, patient, "Yes: free parking for patients in the courtyard")
	phoneGot(t, a, patient, "Anything else?")
	sendboxtest.Eventually(t, 10*time.Second, "the run to wait for the next question", func() bool {
		runs := runsOf(t, a, patient)
		return len(runs) == 1 && runs[0].Step == "again" && runs[0].Waiting == store.WaitReply
	})
	customerWrites(t, a, "+"+patient, "When are you open?")
	phoneGot(t, a, patient, "Monday to Friday, from 9:00 to 18:00.")
	sendboxtest.Eventually(t, 10*time.Second, "the run to end answered", func() bool {
		runs := runsOf(t, a, patient)
		return len(runs) == 1 && runs[0].Outcome == "answered"
	})
	r := runsOf(t, a, patient)[0]
	if !strings.HasPrefix(r.Vars["answer"], "Yes: free parking") || !strings.HasPrefix(r.Vars["second"], "Monday to Friday") {
		t.Fatalf("vars: %+v", r.Vars)
	}
	// Each answer was sent once, by the flow.
	for _, want := range []string{"Yes: free parking", "Monday to Friday"} {
		n := 0
		for _, m := range a.Sim.Phone(patient, false) {
			if m.Direction == "out" && strings.Contains(m.Text, want) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%q sent %d times", want, n)
		}
	}

	const other = "393471110102"
	customerWrites(t, a, "+"+other, "info")
	phoneGot(t, a, other, "What would you like to know?")
	customerWrites(t, a, "+"+other, "Which colour is the sky on Mars?")
	phoneGot(t, a, other, "A person will answer you shortly.")
	sendboxtest.Eventually(t, 10*time.Second, "the run to end handed off", func() bool {
		runs := runsOf(t, a, other)
		return len(runs) == 1 && runs[0].Outcome == "handed_off" && runs[0].Vars["answer"] == ""
	})
	for _, m := range a.Sim.Phone(other, false) {
		if m.Direction == "out" && (strings.Contains(m.Text, "parking") || strings.Contains(m.Text, "Anything else")) {
			t.Fatalf("sent without a grounded answer: %q", m.Text)
		}
	}
}

type eventResp struct {
	Data struct {
		ContactID   int64   `json:"contact_id"`
		RunsStarted []int64 `json:"runs_started"`
		RunsResumed []int64 `json:"runs_resumed"`
		RunsExited  []int64 `json:"runs_exited"`
	}
}

// TestFlowWaitsForEvent: a run waits for the order's delivery event; the
// delivery resumes it (its data over the order's in {{event.*}}), once
// however often it is posted, even to the next wait for a delivery; a new
// order or a cancellation ends a run (exit_on), once, and the order that
// started a run, posted again, does not end it; the response says which
// runs moved.
func TestFlowWaitsForEvent(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	def := map[string]any{
		"triggers": []any{map[string]any{"type": "event", "event": "order.created"}},
		"exit_on":  []string{"order.cancelled", "order.created"},
		"steps": []any{
			map[string]any{"id": "placed", "type": "set", "attribute": "order_state", "value": "placed {{event.order_id}}"},
			map[string]any{"id": "delivery", "type": "wait", "until_event": "order.delivered", "timeout": "2d", "on_timeout": "late"},
			map[string]any{"id": "delivered", "type": "set", "attribute": "order_state", "value": "delivered {{event.order_id}} by {{event.carrier}}"},
			map[string]any{"id": "parcel2", "type": "wait", "until_event": "order.delivered"},
			map[string]any{"id": "done", "type": "end", "outcome": "delivered"},
			map[string]any{"id": "late", "type": "end", "outcome": "late"},
		},
	}
	id := createFlow(t, a, "Deliveries", def)
	publishFlow(t, a, id)
	post := func(name, to, key string, data map[string]string) eventResp {
		t.Helper()
		code, body := a.Do("POST", "/api/v1/events", map[string]any{"name": name, "contact": to, "key": key, "data": data})
		if code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", name, code, body)
		}
		return sendboxtest.JSON[eventResp](t, body)
	}
	got := post("order.created", "+33612345601", "A1", map[string]string{"order_id": "A1"}).Data
	if len(got.RunsStarted) != 1 || got.RunsResumed == nil || got.RunsExited == nil {
		t.Fatalf("order.created: %+v", got)
	}
	run := got.RunsStarted[0]
	r, err := a.Store.RunByID(ctx, run)
	if err != nil || r.Step != "delivery" || r.Waiting != store.WaitEvent || r.WaitEvent != "order.delivered" {
		t.Fatalf("the run waiting: %+v %v", r, err)
	}
	if timers, _ := a.Store.TimersOf(ctx, store.TimerFlowRun, run); len(timers) != 1 || timers[0].DueAt.Before(time.Now().Add(47*time.Hour)) {
		t.Fatalf("the wait's timeout: %+v", timers)
	}
	// Another event, or the delivery of another contact, moves nothing.
	if d := post("order.shipped", "+33612345601", "A1", nil).Data; len(d.RunsResumed) != 0 {
		t.Fatalf("order.shipped resumed %v", d.RunsResumed)
	}
	if d := post("order.delivered", "+33612345602", "B1", nil).Data; len(d.RunsResumed) != 0 {
		t.Fatalf("another contact's delivery resumed %v", d.RunsResumed)
	}
	d := post("order.delivered", "+33612345601", "A1", map[string]string{"carrier": "DHL"}).Data
	if fmt.Sprint(d.RunsResumed) != fmt.Sprint([]int64{run}) || len(d.RunsStarted) != 0 {
		t.Fatalf("order.delivered: %+v", d)
	}
	r, _ = a.Store.RunByID(ctx, run)
	c, _ := a.Store.ContactWithTags(ctx, got.ContactID)
	if r.Step != "parcel2" || r.Waiting != store.WaitEvent || c.Attributes["order_state"] != "delivered A1 by DHL" {
		t.Fatalf("after the delivery: %+v %v", r, c.Attributes)
	}
	if d := post("order.delivered", "+33612345601", "A1", map[string]string{"carrier": "DHL"}).Data; len(d.RunsResumed) != 0 {
		t.Fatalf("the same delivery again resumed %v", d.RunsResumed)
	}
	if d := post("order.delivered", "+33612345601", "A1-2", nil).Data; fmt.Sprint(d.RunsResumed) != fmt.Sprint([]int64{run}) {
		t.Fatalf("the second parcel: %+v", d)
	}
	if r, _ = a.Store.RunByID(ctx, run); r.State != store.RunEnded || r.Outcome != "delivered" {
		t.Fatalf("after the second parcel: %+v", r)
	}
	if timers, _ := a.Store.TimersOf(ctx, store.TimerFlowRun, run); len(timers) != 1 || timers[0].State == store.TimerPending {
		t.Fatalf("the timeout after the delivery: %+v", timers)
	}

	// No delivery within the timeout: on_timeout; the delivery after it
	// resumes nothing.
	late := post("order.created", "+33612345604", "D1", map[string]string{"order_id": "D1"}).Data.RunsStarted
	if n, err := a.Scheduler.FireDue(ctx, time.Now().Add(49*time.Hour)); err != nil || n < 1 {
		t.Fatalf("fire the timeout: %d %v", n, err)
	}
	if r, _ = a.Store.RunByID(ctx, late[0]); r.State != store.RunEnded || r.Outcome != "late" {
		t.Fatalf("after the timeout: %+v", r)
	}
	if d := post("order.delivered", "+33612345604", "D1", nil).Data; len(d.RunsResumed) != 0 {
		t.Fatalf("a delivery after the timeout resumed %v", d.RunsResumed)
	}

	// exit_on: a cancellation ends the run, once; the same order created
	// again (a retry) neither ends nor restarts the new run.
	got = post("order.created", "+33612345603", "C1", map[string]string{"order_id": "C1"}).Data
	if len(got.RunsStarted) != 1 {
		t.Fatalf("order.created: %+v", got)
	}
	if d := post("order.created", "+33612345603", "C1", map[string]string{"order_id": "C1"}).Data; len(d.RunsStarted)+len(d.RunsExited) != 0 {
		t.Fatalf("the same order again: %+v", d)
	}
	d = post("order.created", "+33612345603", "C2", map[string]string{"order_id": "C2"}).Data
	if fmt.Sprint(d.RunsExited) != fmt.Sprint(got.RunsStarted) || len(d.RunsStarted) != 1 {
		t.Fatalf("a new order: %+v", d)
	}
	r, _ = a.Store.RunByID(ctx, got.RunsStarted[0])
	if r.State != store.RunEnded || r.Outcome != "exited" {
		t.Fatalf("the first order's run: %+v", r)
	}
	second := d.RunsStarted
	if d := post("order.cancelled", "+33612345603", "C2", nil).Data; fmt.Sprint(d.RunsExited) != fmt.Sprint(second) {
		t.Fatalf("order.cancelled: %+v", d)
	}
	if d := post("order.cancelled", "+33612345603", "C2", nil).Data; len(d.RunsExited) != 0 {
		t.Fatalf("the same cancellation again: %+v", d)
	}
}

// TestReadyCosmeticsExitsOnCancel: the cosmetics flow, as it comes, ends
// when the shop cancels the order: no tips or reorder reminder follow.
func TestReadyCosmeticsExitsOnCancel(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	id, _ := readyFlow(t, a, "cosmetics_after_purchase")
	publishFlow(t, a, id)
	const buyer = "393471230020"
	code, body := a.Do("POST", "/api/v1/events", map[string]any{"name": "order.created", "contact": "+" + buyer, "key": "SO-9",
		"data": map[string]string{"order_id": "SO-9", "product": "Vitamin C serum", "reorder_days": "30"}})
	if code != http.StatusAccepted {
		t.Fatalf("order: %d %s", code, body)
	}
	started := sendboxtest.JSON[eventResp](t, body).Data.RunsStarted
	phoneGot(t, a, buyer, "Thank you for your order SO-9!")
	code, body = a.Do("POST", "/api/v1/events", map[string]any{"name": "order.cancelled", "contact": "+" + buyer, "key": "SO-9"})
	if got := sendboxtest.JSON[eventResp](t, body).Data; code != http.StatusAccepted || len(started) != 1 ||
		fmt.Sprint(got.RunsExited) != fmt.Sprint(started) {
		t.Fatalf("cancel: %d %s", code, body)
	}
	runs := runsOf(t, a, buyer)
	if len(runs) != 1 || runs[0].Outcome != "exited" {
		t.Fatalf("runs: %+v", runs)
	}
	if timers, _ := a.Store.TimersOf(context.Background(), store.TimerFlowRun, runs[0].ID); len(timers) != 1 || timers[0].State == store.TimerPending {
		t.Fatalf("the wait for the tips is still pending: %+v", timers)
	}
}
