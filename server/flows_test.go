package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sendbox/flows"
	"sendbox/sendboxtest"
	"sendbox/store"
)

type flowResp struct {
	Data struct {
		ID       int64
		Version  int
		Active   bool
		Problems []flows.Problem
	}
}

type flowErr struct {
	Error struct {
		Code     string
		Message  string
		Problems []flows.Problem
	}
}

// triage is the dental clinic's triage, as a business would write it.
var triage = map[string]any{
	"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{"appuntamento", "appointment"}}},
	"steps": []any{
		map[string]any{"id": "reason", "type": "ask", "input": "choice", "var": "reason",
			"text": "Hello! What is it about?", "choices": []any{
				map[string]any{"id": "pain", "title": "Pain", "next": "urgent"},
				map[string]any{"id": "cleaning", "title": "Cleaning"},
				map[string]any{"id": "checkup", "title": "Check-up"}}},
		map[string]any{"id": "name", "type": "ask", "input": "text", "var": "name", "text": "Your name, please?"},
		map[string]any{"id": "when", "type": "ask", "input": "date", "var": "when", "retries": 1,
			"text": "Which day suits you, {{vars.name}}?", "reask": "I need a date like 24/12/2026.", "on_fail": "book"},
		map[string]any{"id": "tag", "type": "set", "add_tag": "patient", "attribute": "preferred_day", "value": "{{vars.when}}"},
		map[string]any{"id": "book", "type": "handoff", "text": "Thank you {{vars.name}}: a person will confirm your visit."},
		map[string]any{"id": "urgent", "type": "handoff", "urgent": true, "text": "We are calling you back at once."},
	},
}

func createFlow(t *testing.T, a *sendboxtest.App, name string, def any) int64 {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/flows", map[string]any{"name": name, "definition": def})
	if code != http.StatusCreated {
		t.Fatalf("create flow: %d %s", code, body)
	}
	return sendboxtest.JSON[flowResp](t, body).Data.ID
}

func publishFlow(t *testing.T, a *sendboxtest.App, id int64) {
	t.Helper()
	code, body := a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/publish", id), map[string]any{"note": "first"})
	if code != http.StatusOK {
		t.Fatalf("publish: %d %s", code, body)
	}
}

// phoneGot waits until the customer's phone shows a business message
// containing want, and returns its text.
func phoneGot(t *testing.T, a *sendboxtest.App, waID, want string) {
	t.Helper()
	sendboxtest.Eventually(t, 30*time.Second, "the phone to get "+want, func() bool {
		for _, m := range a.Sim.Phone(waID, false) {
			if m.Direction == "out" && strings.Contains(m.Text, want) {
				return true
			}
		}
		return false
	})
}

func tap(t *testing.T, a *sendboxtest.App, from, id, title string) {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": from, "type": "interactive",
		"interactive": map[string]any{"type": "button_reply", "button_reply": map[string]string{"id": id, "title": title}}})
	if code != http.StatusCreated {
		t.Fatalf("tap: %d %s", code, body)
	}
}

func runsOf(t *testing.T, a *sendboxtest.App, waID string) []store.FlowRun {
	t.Helper()
	c, err := a.Store.ContactByRecipient(context.Background(), waID, "")
	if err != nil {
		return nil
	}
	runs, err := a.Store.RunsOfContact(context.Background(), c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestFlowTriageEndToEnd: the clinic publishes its triage through the API;
// a patient writes the keyword, taps a reason, answers, gets a date wrong
// once, and is handed to a person with a summary; the router's decision,
// the tag and attribute set, and the analytics say what happened.
func TestFlowTriageEndToEnd(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	id := createFlow(t, a, "Dental triage", triage)
	publishFlow(t, a, id)

	const patient = "393471110001"
	customerWrites(t, a, "+"+patient, "Appuntamento!")
	phoneGot(t, a, patient, "What is it about?")
	c, err := a.Store.ContactByRecipient(ctx, patient, "")
	if err != nil {
		t.Fatal(err)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the router to give the conversation to the flow", func() bool {
		convs, _, _, _ := a.Store.ListConversations(ctx, store.ConversationFilter{ContactID: c.ID, Limit: 1})
		return len(convs) == 1 && convs[0].Routing != nil && convs[0].Routing.To == store.RouteFlow &&
			strings.Contains(convs[0].Routing.Detail, "Dental triage")
	})
	tap(t, a, patient, "cleaning", "Cleaning")
	phoneGot(t, a, patient, "Your name, please?")
	customerWrites(t, a, "+"+patient, "Giulia Rossi")
	phoneGot(t, a, patient, "Which day suits you, Giulia Rossi?")
	customerWrites(t, a, "+"+patient, "tomorrow morning")
	phoneGot(t, a, patient, "I need a date like 24/12/2026.")
	customerWrites(t, a, "+"+patient, "24/12/2026")
	phoneGot(t, a, patient, "Thank you Giulia Rossi: a person will confirm your visit.")

	sendboxtest.Eventually(t, 10*time.Second, "the run to end handed off", func() bool {
		runs := runsOf(t, a, patient)
		return len(runs) == 1 && runs[0].State == store.RunEnded && runs[0].Outcome == flows.OutcomeHandedOff
	})
	run := runsOf(t, a, patient)[0]
	if run.Vars["reason"] != "cleaning" || run.Vars["name"] != "Giulia Rossi" || run.Vars["when"] != "2026-12-24" {
		t.Fatalf("answers kept: %v", run.Vars)
	}
	c, _ = a.Store.ContactWithTags(ctx, c.ID)
	if c.Attributes["preferred_day"] != "2026-12-24" || !strings.Contains(strings.Join(c.Tags, ","), "patient") {
		t.Fatalf("contact after the set step: %+v %v", c.Attributes, c.Tags)
	}
	conv, err := a.Store.ConversationByID(ctx, run.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	out, _, _, err := a.Store.ListMessages(ctx, store.MessageFilter{ConversationID: conv.ID, Direction: store.Outbound, Limit: 50})
	if err != nil || len(out) < 5 {
		t.Fatalf("the flow's messages: %d %v", len(out), err)
	}
	for _, m := range out {
		if m.Origin != store.OriginFlow || m.Lane != "transactional" {
			t.Fatalf("a flow's message: origin %q lane %q", m.Origin, m.Lane)
		}
	}
	if conv.Routing == nil || conv.Routing.To != store.RoutePerson || conv.Bot == store.BotOn {
		t.Fatalf("after the hand-off: routing %+v, bot %s", conv.Routing, conv.Bot)
	}
	tl, err := a.Store.ConversationEvents(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var note string
	for _, e := range tl {
		if strings.Contains(e.Body, "handed this conversation over") {
			note = e.Body
		}
	}
	if !strings.Contains(note, "Cleaning") || !strings.Contains(note, "Giulia Rossi") || !strings.Contains(note, "2026-12-24") {
		t.Fatalf("hand-off summary: %q", note)
	}

	// Handed over, the patient writes the keyword again: a person has the
	// conversation, no flow starts.
	customerWrites(t, a, "+"+patient, "appuntamento")
	time.Sleep(time.Second)
	if runs := runsOf(t, a, patient); len(runs) != 1 {
		t.Fatalf("a flow started in a conversation a person has: %+v", runs)
	}

	code, body := a.Do("GET", fmt.Sprintf("/api/v1/flows/%d/stats", id), nil)
	if code != 200 {
		t.Fatalf("stats: %d %s", code, body)
	}
	st := sendboxtest.JSON[struct{ Data flows.Stats }](t, body).Data
	if st.Started != 1 || st.Outcomes[flows.OutcomeHandedOff] != 1 || st.Conversion != 1 || len(st.Steps) < 4 || st.Steps[0].Step != "reason" {
		t.Fatalf("stats: %+v", st)
	}
	for _, s := range st.Steps {
		if s.Entered != 1 || s.Waiting != 0 {
			t.Fatalf("step %s: %+v", s.Step, s)
		}
	}

	// Pain goes to a person at once, flagged urgent: the escalation policy
	// sees the tap before the flow does, ends the run and hands over (the
	// flow's own urgent branch is the same outcome, for a reason the policy
	// does not know).
	const second = "393471110002"
	customerWrites(t, a, "+"+second, "appointment")
	phoneGot(t, a, second, "What is it about?")
	tap(t, a, second, "pain", "Pain")
	sendboxtest.Eventually(t, 20*time.Second, "the urgent hand-off", func() bool {
		runs := runsOf(t, a, second)
		if len(runs) != 1 || runs[0].State != store.RunEnded || runs[0].ConversationID == 0 {
			return false
		}
		conv, err := a.Store.ConversationByID(ctx, runs[0].ConversationID)
		return err == nil && conv.Urgent
	})
}

// TestFlowEscalationWins: a patient in the middle of a flow who says they
// are in pain is taken out of it and handed to a person by the policy.
func TestFlowEscalationWins(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	id := createFlow(t, a, "Dental triage", triage)
	publishFlow(t, a, id)
	const patient = "393471110003"
	customerWrites(t, a, "+"+patient, "appuntamento")
	phoneGot(t, a, patient, "What is it about?")
	customerWrites(t, a, "+"+patient, "ho un dolore terribile e sanguina")
	sendboxtest.Eventually(t, 20*time.Second, "the run to be stopped by the escalation", func() bool {
		runs := runsOf(t, a, patient)
		return len(runs) == 1 && runs[0].State == store.RunEnded && runs[0].Outcome == "escalated"
	})
}

// TestFlowTwoMessagesOneRun: a customer who sends the keyword twice in
// quick succession starts one run, and the second message is not taken
// as the answer to a question it did not answer.
func TestFlowTwoMessagesOneRun(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	id := createFlow(t, a, "Dental triage", triage)
	publishFlow(t, a, id)
	const patient = "393471110004"
	for range 2 {
		code, body := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": "+" + patient, "type": "text",
			"text": map[string]string{"body": "appuntamento"}})
		if code != http.StatusCreated {
			t.Fatalf("inbound: %d %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	phoneGot(t, a, patient, "What is it about?")
	time.Sleep(2 * time.Second) // the second message is screened and routed too
	runs := runsOf(t, a, patient)
	if len(runs) != 1 || runs[0].State != store.RunActive || runs[0].Step != "reason" {
		t.Fatalf("runs: %+v", runs)
	}
}

// TestFlowEventAndWait: the shop's system posts an order event; the flow
// it triggers records the order, waits, and ends; the same event posted
// again starts nothing.
func TestFlowEventAndWait(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	def := map[string]any{
		"triggers": []any{map[string]any{"type": "event", "event": "order.created"}},
		"reentry":  "every_time",
		"steps": []any{
			map[string]any{"id": "record", "type": "set", "attribute": "last_order", "value": "{{event.order_id}}", "add_tag": "buyer"},
			map[string]any{"id": "pause", "type": "wait", "duration": "1s"},
			map[string]any{"id": "after", "type": "set", "attribute": "followed_up", "value": "yes"},
			map[string]any{"id": "done", "type": "end", "outcome": "ordered"},
		},
	}
	id := createFlow(t, a, "After the order", def)
	publishFlow(t, a, id)
	ev := map[string]any{"name": "order.created", "contact": "+33 6 12 34 56 78", "key": "A-1001",
		"data": map[string]string{"order_id": "A-1001"}}
	code, body := a.Do("POST", "/api/v1/events", ev)
	if code != http.StatusAccepted {
		t.Fatalf("event: %d %s", code, body)
	}
	got := sendboxtest.JSON[struct {
		Data struct {
			ContactID   int64   `json:"contact_id"`
			RunsStarted []int64 `json:"runs_started"`
		}
	}](t, body).Data
	if len(got.RunsStarted) != 1 {
		t.Fatalf("runs started: %s", body)
	}
	if code, body := a.Do("POST", "/api/v1/events", ev); code != http.StatusAccepted || !strings.Contains(string(body), `"runs_started":[]`) {
		t.Fatalf("the same event again: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the run to end after its wait", func() bool {
		r, err := a.Store.RunByID(ctx, got.RunsStarted[0])
		return err == nil && r.State == store.RunEnded && r.Outcome == "ordered"
	})
	c, err := a.Store.ContactWithTags(ctx, got.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Attributes["last_order"] != "A-1001" || c.Attributes["followed_up"] != "yes" || strings.Join(c.Tags, ",") != "buyer" {
		t.Fatalf("contact: %+v %v", c.Attributes, c.Tags)
	}
	for _, bad := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"name": "order created!", "contact": "+33612345678", "key": "x"}, "invalid_name"},
		{map[string]any{"name": "order.created", "contact": "0612345678", "key": "x"}, "invalid_contact"},
		{map[string]any{"name": "order.created", "contact": "+33612345678"}, "invalid_key"},
		{map[string]any{"name": "order.created", "contact": "+33612345678", "key": "x", "data": map[string]string{"Bad Key": "1"}}, "invalid_data"},
	} {
		code, body := a.Do("POST", "/api/v1/events", bad.body)
		if code != 422 || sendboxtest.JSON[apiErr](t, body).Error.Code != bad.code {
			t.Fatalf("%v: %d %s", bad.body, code, body)
		}
	}
}

// TestFlowPublishRefusesProblems: a draft saves with its problems shown;
// publishing refuses it with every problem next to its step.
func TestFlowPublishRefusesProblems(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	bad := map[string]any{
		"triggers": []any{map[string]any{"type": "keyword"}},
		"steps": []any{
			map[string]any{"id": "hello", "type": "send", "text": "Hi {{vars.nobody}}"},
			map[string]any{"id": "again", "type": "condition", "if": map[string]any{"left": "contact.name", "op": "exists"}, "then": "hello"},
		},
	}
	id := createFlow(t, a, "Broken", bad)
	code, body := a.Do("GET", fmt.Sprintf("/api/v1/flows/%d", id), nil)
	if code != 200 || len(sendboxtest.JSON[flowResp](t, body).Data.Problems) < 2 {
		t.Fatalf("draft problems: %d %s", code, body)
	}
	code, body = a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/publish", id), nil)
	e := sendboxtest.JSON[flowErr](t, body)
	if code != 422 || e.Error.Code != "invalid_flow" || len(e.Error.Problems) < 2 {
		t.Fatalf("publish: %d %s", code, body)
	}
	steps := map[string]string{}
	for _, p := range e.Error.Problems {
		steps[p.Code] = p.Step
	}
	if steps["unknown_variable"] != "hello" || steps["required"] != "" {
		t.Fatalf("problems: %+v", e.Error.Problems)
	}
	// Fixed but for the loop: now the loop is what is refused.
	bad["triggers"] = []any{map[string]any{"type": "keyword", "keywords": []string{"hi"}}}
	bad["steps"].([]any)[0] = map[string]any{"id": "hello", "type": "send", "text": "Hi {{contact.name}}"}
	if code, body := a.Do("PUT", fmt.Sprintf("/api/v1/flows/%d", id), map[string]any{"name": "Broken", "definition": bad}); code != 200 {
		t.Fatalf("save: %d %s", code, body)
	}
	code, body = a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/publish", id), nil)
	if e := sendboxtest.JSON[flowErr](t, body); code != 422 || len(e.Error.Problems) != 1 || e.Error.Problems[0].Code != "loop_without_wait" {
		t.Fatalf("publish a loop: %d %s", code, body)
	}
	if code, body := a.Do("POST", "/api/v1/flows", map[string]any{"name": "broken", "definition": triage}); code != 422 ||
		sendboxtest.JSON[flowErr](t, body).Error.Code != "name_taken" {
		t.Fatalf("a taken name: %d %s", code, body)
	}
	for path, want := range map[string]int{fmt.Sprintf("/api/v1/flows/%d/versions", id): 200, fmt.Sprintf("/api/v1/flows/%d/runs", id): 200,
		"/api/v1/flows/999/versions": 404, "/api/v1/flows/999/runs": 404, "/api/v1/contacts/999/runs": 404} {
		if code, body := a.Do("GET", path, nil); code != want || code == 200 && !strings.Contains(string(body), `"data":[]`) {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	if code, body := a.Do("POST", "/api/v1/flows", map[string]any{"name": "typo", "definition": map[string]any{"stepz": []any{}}}); code != 422 ||
		sendboxtest.JSON[flowErr](t, body).Error.Code != "invalid_definition" {
		t.Fatalf("an unknown field: %d %s", code, body)
	}
}

// readyFlow creates a draft from a ready-made flow through the API and
// returns its id and definition.
func readyFlow(t *testing.T, a *sendboxtest.App, key string) (int64, map[string]any) {
	t.Helper()
	code, body := a.Do("POST", "/api/v1/ready-flows/"+key, nil)
	if code != http.StatusCreated {
		t.Fatalf("ready flow %s: %d %s", key, code, body)
	}
	f := sendboxtest.JSON[struct {
		Data struct {
			ID    int64
			Draft map[string]any
		}
	}](t, body).Data
	return f.ID, f.Draft
}

// TestReadyFlowsPublish: every ready-made flow publishes as it comes, its
// templates found in the sandbox's catalogue; a second copy gets a name
// of its own.
func TestReadyFlowsPublish(t *testing.T) {
	a := sendboxtest.New(t)
	code, body := a.Do("GET", "/api/v1/ready-flows", nil)
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	all := sendboxtest.JSON[struct{ Data []flows.ReadyFlow }](t, body).Data
	if len(all) < 4 {
		t.Fatalf("ready-made flows: %s", body)
	}
	for _, r := range all {
		id, _ := readyFlow(t, a, r.Key)
		publishFlow(t, a, id)
	}
	id, _ := readyFlow(t, a, "dental_triage")
	f, err := a.Store.FlowByID(context.Background(), id)
	if err != nil || f.Name != "Dental clinic: triage (2)" {
		t.Fatalf("second copy: %+v %v", f, err)
	}
	if code, _ := a.Do("POST", "/api/v1/ready-flows/nothing", nil); code != 404 {
		t.Fatalf("unknown ready flow: %d", code)
	}
}

// TestReadyShowroomLead: the showroom's lead qualification, end to end on
// the test phone: a customer asking about a sofa answers every question
// (skipping the photo), asks for a visit, and reaches sales as a qualified
// lead with the summary of their answers.
func TestReadyShowroomLead(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	id, _ := readyFlow(t, a, "showroom_leads")
	publishFlow(t, a, id)
	const lead = "393331230001"
	customerWrites(t, a, "+"+lead, "Hello, I'm looking for a new sofa")
	phoneGot(t, a, lead, "What are you looking for?")
	tap(t, a, lead, "sofa", "Sofa")
	phoneGot(t, a, lead, "What budget do you have in mind?")
	tap(t, a, lead, "mid", "€1,000 to €3,000")
	phoneGot(t, a, lead, "square metres")
	customerWrites(t, a, "+"+lead, "about 18")
	phoneGot(t, a, lead, "Just the number, like 18.")
	customerWrites(t, a, "+"+lead, "18")
	phoneGot(t, a, lead, "Which style do you like best?")
	tap(t, a, lead, "nordic", "Scandinavian")
	phoneGot(t, a, lead, "send a photo of the room")
	customerWrites(t, a, "+"+lead, "skip")
	phoneGot(t, a, lead, "When would you like to have it?")
	tap(t, a, lead, "soon", "Within a month")
	phoneGot(t, a, lead, "Would you like to visit the showroom")
	tap(t, a, lead, "yes", "Yes, book a visit")
	phoneGot(t, a, lead, "A designer will write to you shortly")
	sendboxtest.Eventually(t, 10*time.Second, "the lead to be qualified", func() bool {
		runs := runsOf(t, a, lead)
		return len(runs) == 1 && runs[0].Outcome == "qualified"
	})
	run := runsOf(t, a, lead)[0]
	want := map[string]string{"looking": "sofa", "budget": "mid", "room_m2": "18", "style": "nordic", "photo": "", "timing": "soon", "visit": "yes"}
	for k, v := range want {
		if run.Vars[k] != v {
			t.Fatalf("answers: %v", run.Vars)
		}
	}
	c, _ := a.Store.ContactByRecipient(ctx, lead, "")
	c, _ = a.Store.ContactWithTags(ctx, c.ID)
	if c.Attributes["interest"] != "sofa" || !strings.Contains(strings.Join(c.Tags, ","), "lead") {
		t.Fatalf("contact: %+v %v", c.Attributes, c.Tags)
	}
	tl, _ := a.Store.ConversationEvents(ctx, run.ConversationID)
	var note string
	for _, e := range tl {
		if strings.Contains(e.Body, "handed this conversation over") {
			note = e.Body
		}
	}
	for _, w := range []string{"Sofa", "€1,000 to €3,000", "18", "Scandinavian", "Within a month"} {
		if !strings.Contains(note, w) {
			t.Fatalf("summary lacks %q: %q", w, note)
		}
	}
}

// TestReadyCosmeticsAfterPurchase: the shop's order event starts the
// after-purchase flow (its waits shortened here from days to seconds):
// confirmation, tips, the reorder reminder (marketing: the customer opted
// in), the cross-sell; a "yes" to it goes to the shop. A customer without
// consent gets the utility messages and not the marketing ones.
func TestReadyCosmeticsAfterPurchase(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	id, def := readyFlow(t, a, "cosmetics_after_purchase")
	for _, st := range def["steps"].([]any) {
		s := st.(map[string]any)
		switch s["id"] {
		case "wait_tips", "wait_cross":
			s["duration"], s["at"] = "1s", ""
		case "wait_reorder":
			s["duration"], s["at"] = "{{event.reorder_days}}s", ""
		case "wait_answer":
			s["duration"] = "60s"
		}
	}
	if code, body := a.Do("PUT", fmt.Sprintf("/api/v1/flows/%d", id), map[string]any{"name": "Cosmetics, quick", "definition": def}); code != 200 {
		t.Fatalf("save: %d %s", code, body)
	}
	publishFlow(t, a, id)
	const buyer, other = "393471230010", "393471230011"
	if code, body := a.Do("POST", "/api/v1/contacts", map[string]any{"phone": "+" + buyer, "name": "Sara", "consent": "opted_in"}); code != 201 {
		t.Fatalf("contact: %d %s", code, body)
	}
	order := func(to, key string) {
		code, body := a.Do("POST", "/api/v1/events", map[string]any{"name": "order.created", "contact": "+" + to, "key": key,
			"data": map[string]string{"order_id": key, "product": "Vitamin C serum", "tip": "apply it in the morning, before sunscreen",
				"reorder_days": "1", "reorder_url": "https://shop.example/r/vc", "cross_sell": "Hyaluronic cream"}})
		if code != http.StatusAccepted {
			t.Fatalf("event: %d %s", code, body)
		}
	}
	order(buyer, "SO-1")
	order(other, "SO-2")
	phoneGot(t, a, buyer, "Thank you for your order SO-1!")
	phoneGot(t, a, buyer, "A tip for the best results: apply it in the morning")
	phoneGot(t, a, buyer, "Hi Sara, your Vitamin C serum may be running low")
	phoneGot(t, a, buyer, "Customers who love Vitamin C serum also like Hyaluronic cream")
	tap(t, a, buyer, "yes", "Yes, tell me")
	phoneGot(t, a, buyer, "Someone from the shop will tell you more")
	sendboxtest.Eventually(t, 10*time.Second, "the buyer's run to end with the cross-sell interest", func() bool {
		runs := runsOf(t, a, buyer)
		return len(runs) == 1 && runs[0].Outcome == "cross_sell_interest"
	})
	// Without consent: the confirmation and the tips, no marketing.
	phoneGot(t, a, other, "Thank you for your order SO-2!")
	phoneGot(t, a, other, "A tip for the best results")
	sendboxtest.Eventually(t, 20*time.Second, "the other run to end", func() bool {
		runs := runsOf(t, a, other)
		return len(runs) == 1 && runs[0].State == store.RunEnded
	})
	for _, m := range a.Sim.Phone(other, false) {
		if m.Direction == "out" && (strings.Contains(m.Text, "running low") || strings.Contains(m.Text, "also like")) {
			t.Fatalf("marketing sent without consent: %q", m.Text)
		}
	}
}

// TestFlowTryDraft: the draft runs on the test phone without being
// published; its runs stay out of the analytics; a second try restarts it.
func TestFlowTryDraft(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	id := createFlow(t, a, "Dental triage", triage)
	const tester = "393479990000"
	customerWrites(t, a, "+"+tester, "hi") // the test phone opens the window, as a tester does
	code, body := a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/try", id), map[string]any{"contact": "+" + tester})
	if code != http.StatusAccepted {
		t.Fatalf("try: %d %s", code, body)
	}
	phoneGot(t, a, tester, "What is it about?")
	tap(t, a, tester, "cleaning", "Cleaning")
	phoneGot(t, a, tester, "Your name, please?")
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/try", id), map[string]any{"contact": "+" + tester}); code != http.StatusAccepted {
		t.Fatalf("try again: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the first try to be restarted", func() bool {
		runs := runsOf(t, a, tester)
		return len(runs) == 2 && runs[1].Outcome == "restarted" && runs[0].State == store.RunActive && runs[0].Version < 0
	})
	f, _ := a.Store.FlowByID(context.Background(), id)
	if f.Version != 0 || f.Active {
		t.Fatalf("trying published the flow: %+v", f)
	}
	code, body = a.Do("GET", fmt.Sprintf("/api/v1/flows/%d/stats", id), nil)
	if st := sendboxtest.JSON[struct{ Data flows.Stats }](t, body).Data; code != 200 || st.Started != 0 || len(st.Steps) != 0 {
		t.Fatalf("tries counted in the analytics: %s", body)
	}
	bad := createFlow(t, a, "Broken", map[string]any{"steps": []any{}})
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/try", bad), map[string]any{"contact": "+" + tester}); code != 422 {
		t.Fatalf("try a broken draft: %d %s", code, body)
	}
}

// TestReadyAutoParts: the dealer's quote flow, end to end in the sandbox:
// the plate typed loosely, the part tapped, the demo catalogue called over
// HTTP through the guarded client, the quote with its price, the order
// handed to the sales desk; a part that does not fit and an unknown car go
// to a person. Then a return, with the photo of the part.
func TestReadyAutoParts(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	id, _ := readyFlow(t, a, "auto_parts_quote")
	publishFlow(t, a, id)
	rid, _ := readyFlow(t, a, "auto_parts_returns")
	publishFlow(t, a, rid)

	const buyer = "393401110001"
	customerWrites(t, a, "+"+buyer, "Hi, I need brake pads")
	phoneGot(t, a, buyer, "Which car is it for?")
	customerWrites(t, a, "+"+buyer, "my car")
	phoneGot(t, a, buyer, "Please write the number plate")
	customerWrites(t, a, "+"+buyer, "ab 123 cd")
	phoneGot(t, a, buyer, "Which part do you need?")
	tap(t, a, buyer, "BP", "Brake pads")
	phoneGot(t, a, buyer, "Brake pads (front) for your Fiat Panda 1.2 2019: €")
	tap(t, a, buyer, "order", "Order it")
	phoneGot(t, a, buyer, "Your order for Brake pads (front) is noted")
	sendboxtest.Eventually(t, 10*time.Second, "the order", func() bool {
		runs := runsOf(t, a, buyer)
		return len(runs) == 1 && runs[0].Outcome == "ordered" && runs[0].Vars["car"] == "AB123CD" && runs[0].Vars["sku"] != ""
	})

	const chain = "393401110002"
	customerWrites(t, a, "+"+chain, "timing belt please")
	phoneGot(t, a, chain, "Which car is it for?")
	customerWrites(t, a, "+"+chain, "EF456GH")
	phoneGot(t, a, chain, "Which part do you need?")
	tap(t, a, chain, "TB", "Timing belt kit")
	phoneGot(t, a, chain, "That part does not fit your Fiat 500")
	sendboxtest.Eventually(t, 10*time.Second, "the incompatible part", func() bool {
		runs := runsOf(t, a, chain)
		return len(runs) == 1 && runs[0].Outcome == "incompatible"
	})

	const stranger = "393401110003"
	customerWrites(t, a, "+"+stranger, "battery")
	phoneGot(t, a, stranger, "Which car is it for?")
	customerWrites(t, a, "+"+stranger, "ZZ999ZZ")
	phoneGot(t, a, stranger, "Which part do you need?")
	tap(t, a, stranger, "BT", "Battery")
	phoneGot(t, a, stranger, "We could not find that car in our catalogue")
	sendboxtest.Eventually(t, 10*time.Second, "the unknown car", func() bool {
		runs := runsOf(t, a, stranger)
		return len(runs) == 1 && runs[0].Outcome == "unknown_vehicle"
	})

	// A return, later, from the first customer: the photo is required. The
	// sales desk resolved the order's conversation first (while a person has
	// a conversation, no flow starts in it).
	conv := runsOf(t, a, buyer)[0].ConversationID
	if code, body := a.Do("PUT", fmt.Sprintf("/api/v1/conversations/%d/status", conv), map[string]any{"status": "resolved"}); code != 200 {
		t.Fatalf("resolve: %d %s", code, body)
	}
	customerWrites(t, a, "+"+buyer, "I want to return the pads")
	phoneGot(t, a, buyer, "What is the order number?")
	customerWrites(t, a, "+"+buyer, "A-5521")
	phoneGot(t, a, buyer, "Why are you returning it?")
	tap(t, a, buyer, "wrong", "Does not fit")
	phoneGot(t, a, buyer, "Please send a photo of the part")
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}, 300)
	if code, body := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": buyer, "type": "image",
		"image": map[string]string{"caption": "the box"},
		"media": map[string]string{"data": base64.StdEncoding.EncodeToString(photo), "mime_type": "image/jpeg"}}); code != 201 {
		t.Fatalf("photo: %d %s", code, body)
	}
	phoneGot(t, a, buyer, "The returns desk will check your request for order A-5521")
	sendboxtest.Eventually(t, 10*time.Second, "the return", func() bool {
		runs := runsOf(t, a, buyer)
		return len(runs) == 2 && runs[0].Outcome == "return_requested" && runs[0].Vars["photo"] != ""
	})
}

// TestFlowMoveRunsToVersion: runs stay on their version after a publish,
// until moved explicitly; moved runs go on from the same step in the new
// version.
func TestFlowMoveRunsToVersion(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	id := createFlow(t, a, "Dental triage", triage)
	publishFlow(t, a, id)
	const stays, moves = "393471110010", "393471110011"
	for _, p := range []string{stays, moves} {
		customerWrites(t, a, "+"+p, "appuntamento")
		phoneGot(t, a, p, "What is it about?")
		tap(t, a, p, "cleaning", "Cleaning")
		phoneGot(t, a, p, "Your name, please?")
	}
	customerWrites(t, a, "+"+stays, "Lucia") // this one is at "when" by the time v2 is published
	phoneGot(t, a, stays, "Which day suits you, Lucia?")
	v2 := map[string]any{"triggers": triage["triggers"], "steps": append([]any{}, triage["steps"].([]any)...)}
	when := map[string]any{}
	for k, v := range triage["steps"].([]any)[2].(map[string]any) {
		when[k] = v
	}
	when["text"] = "Which day would you like, {{vars.name}}? (new wording)"
	v2["steps"].([]any)[2] = when
	if code, body := a.Do("PUT", fmt.Sprintf("/api/v1/flows/%d", id), map[string]any{"name": "Dental triage", "definition": v2}); code != 200 {
		t.Fatalf("save v2: %d %s", code, body)
	}
	publishFlow(t, a, id)
	// Move only the second patient's run (both wait at "name"): first move nothing by a wrong step.
	code, body := a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/move-runs", id), map[string]any{"from_version": 1, "step": "nowhere", "to_version": 2})
	if code != 422 {
		t.Fatalf("move from an unknown step: %d %s", code, body)
	}
	code, body = a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/move-runs", id), map[string]any{"from_version": 1, "step": "name", "to_version": 2})
	if code != 200 || !strings.Contains(string(body), `"moved":1`) {
		t.Fatalf("move: %d %s", code, body)
	}
	customerWrites(t, a, "+"+moves, "Marco")
	phoneGot(t, a, moves, "Which day would you like, Marco? (new wording)")
	if runs := runsOf(t, a, moves); len(runs) != 1 || runs[0].Version != 2 {
		t.Fatalf("moved run: %+v", runs)
	}
	// The one not moved finishes on version 1.
	customerWrites(t, a, "+"+stays, "24/12/2026")
	phoneGot(t, a, stays, "Thank you Lucia: a person will confirm your visit.")
	if runs := runsOf(t, a, stays); len(runs) != 1 || runs[0].Version != 1 || runs[0].Outcome != flows.OutcomeHandedOff {
		t.Fatalf("run left on version 1: %+v", runs)
	}
}
