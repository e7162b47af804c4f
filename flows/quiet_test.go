package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sendbox/business"
	"sendbox/outbound"
	"sendbox/schedule"
	"sendbox/store"
)

// testEngine opens a store with two templates (a utility and a marketing
// one), marketing allowed to contacts of unknown consent, a business in
// Rome, and a customer in New York who wrote a minute ago.
func testEngine(t *testing.T) (*Engine, *store.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	body := func(s string) json.RawMessage { return json.RawMessage(`[{"type":"BODY","text":"` + s + `"}]`) }
	if err := st.ReplaceTemplates(ctx, []store.Template{
		{Name: "order_confirmation", Language: "en", Category: "UTILITY", Status: "APPROVED", Components: body("Order {{1}} confirmed")},
		{Name: "reorder_reminder", Language: "en", Category: "MARKETING", Status: "APPROVED", Components: body("Time to reorder {{1}}")},
	}); err != nil {
		t.Fatal(err)
	}
	if err := outbound.SetAllowUnknownConsent(ctx, st, true); err != nil {
		t.Fatal(err)
	}
	p, _ := business.Load(ctx, st)
	p.Timezone = "Europe/Rome"
	if err := business.Save(ctx, st, p); err != nil {
		t.Fatal(err)
	}
	const waID = "12125550100"
	if _, err := st.Ingest(ctx, &store.IngestBatch{Messages: []store.InboundMessage{{WAMID: "wamid.q1", PhoneNumberID: "1",
		WaID: waID, Type: "text", Text: "hi", Timestamp: time.Now().Add(-time.Minute)}}}); err != nil {
		t.Fatal(err)
	}
	c, err := st.ContactByRecipient(ctx, waID, "")
	if err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	e := &Engine{Store: st, Outbound: &outbound.Service{Store: st, PhoneNumberID: "1"},
		Location: func() *time.Location { return rome }}
	return e, st, c.ID
}

// publishTest publishes def, triggered by the event "go".
func publishTest(t *testing.T, e *Engine, steps []Step) {
	t.Helper()
	ctx := context.Background()
	def := Definition{Triggers: []Trigger{{Type: TriggerEvent, Event: "go"}}, Reentry: ReentryEveryTime, Steps: steps}
	raw, _ := json.Marshal(def)
	f, err := e.Create(ctx, "test", raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Publish(ctx, f.ID, ""); err != nil {
		t.Fatal(err)
	}
}

func sentTo(t *testing.T, st *store.Store, contactID int64) []store.Message {
	t.Helper()
	ms, _, _, err := st.ListMessages(context.Background(), store.MessageFilter{Direction: store.Outbound, ContactID: contactID, Ascending: true, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func hhmm(t time.Time) string { return t.Format("15:04") }

// TestQuietHoursHoldMarketingSend: during the customer's quiet hours (by
// New York's clock, for a business in Rome) a utility template goes at
// once and a marketing one waits at its step, on a timer due when they
// end; a timer firing while still quiet holds it again (new token), an
// obsolete timer does nothing, and once they are over the step sends it
// and the run goes on: the message is queued once.
func TestQuietHoursHoldMarketingSend(t *testing.T) {
	e, st, contact := testEngine(t)
	ctx := context.Background()
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Now().In(ny)
	// Quiet from an hour ago to two hours from now, New York time.
	q := outbound.QuietHours{On: true, From: hhmm(now.Add(-time.Hour)), To: hhmm(now.Add(2 * time.Hour))}
	if err := outbound.SaveQuietHours(ctx, st, q); err != nil {
		t.Fatal(err)
	}
	to := now.Add(2 * time.Hour)
	wantDue := schedule.NextLocal(now, to.Hour(), to.Minute(), ny)
	publishTest(t, e, []Step{
		{ID: "confirm", Type: StepSend, Template: &TemplateRef{Name: "order_confirmation", Language: "en", Params: []string{"{{event.order}}"}}},
		{ID: "remind", Type: StepSend, Template: &TemplateRef{Name: "reorder_reminder", Language: "en", Params: []string{"{{event.product}}"}}},
		{ID: "bye", Type: StepEnd, Outcome: "reminded"},
	})
	runs, err := e.Event(ctx, "go", contact, "k1", map[string]string{"order": "A-1", "product": "serum"})
	if err != nil || len(runs) != 1 {
		t.Fatalf("event: %v %v", runs, err)
	}
	run := runs[0]
	if ms := sentTo(t, st, contact); len(ms) != 1 || ms[0].Text != "Order A-1 confirmed" {
		t.Fatalf("during quiet hours: %d messages queued (%+v), want the utility one only", len(ms), ms)
	}
	r, err := st.RunByID(ctx, run)
	if err != nil || r.Step != "remind" || r.Waiting != store.WaitTimer || r.State != store.RunActive {
		t.Fatalf("run: %+v %v", r, err)
	}
	firstToken := r.Token
	pending := func() []store.Timer {
		tms, err := st.TimersOf(ctx, store.TimerFlowRun, run)
		if err != nil {
			t.Fatal(err)
		}
		var out []store.Timer
		for _, tm := range tms {
			if tm.State == store.TimerPending {
				out = append(out, tm)
			}
		}
		return out
	}
	tms := pending()
	if len(tms) != 1 || !tms[0].DueAt.Equal(wantDue) {
		t.Fatalf("timers %+v, want one due at %s", tms, wantDue)
	}

	// The timer fires (early, here) while it is still quiet: held again.
	if res, err := st.FireDue(ctx, wantDue, 10, e.FireTimer); err != nil || res.Fired != 1 {
		t.Fatalf("fire: %+v %v", res, err)
	}
	if ms := sentTo(t, st, contact); len(ms) != 1 {
		t.Fatalf("a timer firing during quiet hours sent it: %d messages", len(ms))
	}
	r, _ = st.RunByID(ctx, run)
	if r.Step != "remind" || r.Waiting != store.WaitTimer || r.Token == firstToken {
		t.Fatalf("after firing early: %+v", r)
	}
	if tms := pending(); len(tms) != 1 || tms[0].Token != strconv.FormatInt(r.Token, 10) {
		t.Fatalf("held again: timers %+v, token %d", tms, r.Token)
	}
	// A timer of the first hold (its token) does nothing.
	if _, err := st.AddTimers(ctx, []store.TimerSpec{{Kind: store.TimerFlowRun, Owner: run,
		Token: strconv.FormatInt(firstToken, 10), DueAt: time.Now().Add(-time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if res, err := st.FireDue(ctx, time.Now(), 10, e.FireTimer); err != nil || res.Obsolete != 1 || res.Fired != 0 {
		t.Fatalf("an obsolete timer: %+v %v", res, err)
	}

	// The quiet hours are over (switched off here): the step sends, once.
	q.On = false
	if err := outbound.SaveQuietHours(ctx, st, q); err != nil {
		t.Fatal(err)
	}
	if res, err := st.FireDue(ctx, wantDue, 10, e.FireTimer); err != nil || res.Fired != 1 {
		t.Fatalf("fire: %+v %v", res, err)
	}
	if res, err := st.FireDue(ctx, wantDue.Add(time.Hour), 10, e.FireTimer); err != nil || res.Claimed != 0 {
		t.Fatalf("a second fire: %+v %v", res, err)
	}
	ms := sentTo(t, st, contact)
	if len(ms) != 2 || ms[1].Text != "Time to reorder serum" {
		t.Fatalf("after the quiet hours: %+v", ms)
	}
	if r, _ := st.RunByID(ctx, run); r.State != store.RunEnded || r.Outcome != "reminded" {
		t.Fatalf("the run did not go on: %+v", r)
	}
}

// TestQuietHoursOutsideSendAtOnce: outside the quiet hours a marketing
// template goes at once.
func TestQuietHoursOutsideSendAtOnce(t *testing.T) {
	e, st, contact := testEngine(t)
	ctx := context.Background()
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Now().In(ny)
	q := outbound.QuietHours{On: true, From: hhmm(now.Add(2 * time.Hour)), To: hhmm(now.Add(4 * time.Hour))}
	if err := outbound.SaveQuietHours(ctx, st, q); err != nil {
		t.Fatal(err)
	}
	publishTest(t, e, []Step{
		{ID: "remind", Type: StepSend, Template: &TemplateRef{Name: "reorder_reminder", Language: "en", Params: []string{"serum"}}},
	})
	if _, err := e.Event(ctx, "go", contact, "k1", nil); err != nil {
		t.Fatal(err)
	}
	if ms := sentTo(t, st, contact); len(ms) != 1 {
		t.Fatalf("outside quiet hours: %d messages", len(ms))
	}
}

// TestConditionBusinessOpen: time.open follows the profile's opening
// hours, read when the condition runs.
func TestConditionBusinessOpen(t *testing.T) {
	e, st, contact := testEngine(t)
	ctx := context.Background()
	publishTest(t, e, []Step{
		{ID: "check", Type: StepCondition, If: &Cond{Left: "time.open", Op: OpEq, Right: "yes"}, Then: "open", Else: "closed"},
		{ID: "open", Type: StepSend, Template: &TemplateRef{Name: "order_confirmation", Language: "en", Params: []string{"open"}}, Next: "done"},
		{ID: "closed", Type: StepSend, Template: &TemplateRef{Name: "order_confirmation", Language: "en", Params: []string{"closed"}}},
		{ID: "done", Type: StepEnd},
	})
	setHours := func(open bool) {
		p, _ := business.Load(ctx, st)
		for i := range p.Hours {
			p.Hours[i] = business.DayHours{Closed: !open, Open: "00:00", Close: "23:59"}
		}
		if err := business.Save(ctx, st, p); err != nil {
			t.Fatal(err)
		}
	}
	for i, open := range []bool{true, false} {
		setHours(open)
		if _, err := e.Event(ctx, "go", contact, strconv.Itoa(i), nil); err != nil {
			t.Fatal(err)
		}
		want := "Order closed confirmed"
		if open {
			want = "Order open confirmed"
		}
		ms := sentTo(t, st, contact)
		if len(ms) != i+1 || ms[i].Text != want {
			t.Fatalf("open %v: %+v", open, ms)
		}
	}
}

func TestLookupTimeOpen(t *testing.T) {
	env := &Env{Now: time.Now()}
	if _, ok := env.Lookup("time.open"); ok {
		t.Error("time.open set without hours")
	}
	env.OpenAt = func(time.Time) bool { return false }
	if v, _ := env.Lookup("time.open"); v != OpenNo || !env.Holds(&Cond{Left: "time.open", Op: OpEq, Right: "no"}) {
		t.Errorf("closed: %q", v)
	}
	env.OpenAt = func(time.Time) bool { return true }
	if v, _ := env.Lookup("time.open"); v != OpenYes {
		t.Errorf("open: %q", v)
	}
	d := Definition{Triggers: []Trigger{{Type: TriggerKeyword, Keywords: []string{"hi"}}}, Steps: []Step{
		{ID: "c", Type: StepCondition, If: &Cond{Left: "time.open", Op: OpEq, Right: "yes"}, Then: "a", Else: "a"},
		{ID: "a", Type: StepSend, Text: "hello"}}}
	if ps := d.Validate(); len(ps) > 0 {
		t.Errorf("time.open refused: %+v", ps)
	}
}

// TestWaitOnCustomerClock: a wait until 10:00 with customer_time ends at
// 10:00 in New York for a New York number, though the business is in
// Rome; without it, at 10:00 in Rome.
func TestWaitOnCustomerClock(t *testing.T) {
	e, st, contact := testEngine(t)
	ctx := context.Background()
	ny, _ := time.LoadLocation("America/New_York")
	rome, _ := time.LoadLocation("Europe/Rome")
	publishTest(t, e, []Step{
		{ID: "theirs", Type: StepWait, Duration: "1d", At: "10:00", CustomerTime: true},
		{ID: "ours", Type: StepWait, Duration: "1d", At: "10:00"},
		{ID: "bye", Type: StepEnd},
	})
	runs, err := e.Event(ctx, "go", contact, "k1", nil)
	if err != nil || len(runs) != 1 {
		t.Fatalf("event: %v %v", runs, err)
	}
	due := func() time.Time {
		tms, err := st.TimersOf(ctx, store.TimerFlowRun, runs[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range tms {
			if tm.State == store.TimerPending {
				return tm.DueAt
			}
		}
		t.Fatal("no timer pending")
		return time.Time{}
	}
	if d := due().In(ny); d.Hour() != 10 || d.Minute() != 0 || d.Before(time.Now().Add(24*time.Hour)) {
		t.Fatalf("customer_time: due %v, want 10:00 New York time a day or more from now", d)
	}
	if res, err := st.FireDue(ctx, due(), 10, e.FireTimer); err != nil || res.Fired != 1 {
		t.Fatalf("fire the first wait: %+v %v", res, err)
	}
	if d := due().In(rome); d.Hour() != 10 || d.Minute() != 0 {
		t.Fatalf("business time: due %v, want 10:00 Rome time", d)
	}
}

// TestPublishCountsQuietHours: a text 12 hours after a customer's keyword
// is inside the window; after a marketing template that can wait 13 hours
// for the quiet hours, it is not, and publishing says so; a utility
// template is never held, and with the quiet hours off nothing is.
func TestPublishCountsQuietHours(t *testing.T) {
	e, st, _ := testEngine(t)
	ctx := context.Background()
	def := func(template string) []byte {
		raw, _ := json.Marshal(Definition{Triggers: []Trigger{{Type: TriggerKeyword, Keywords: []string{"hi"}}}, Steps: []Step{
			{ID: "later", Type: StepWait, Duration: "12h"},
			{ID: "offer", Type: StepSend, Template: &TemplateRef{Name: template, Language: "en", Params: []string{"x"}}},
			{ID: "note", Type: StepSend, Text: "Tell us if you need help."},
		}})
		return raw
	}
	n := 0
	publish := func(template string) error {
		n++
		f, err := e.Create(ctx, fmt.Sprintf("q%d-%s", n, template), def(template))
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Publish(ctx, f.ID, "")
		return err
	}
	if err := outbound.SaveQuietHours(ctx, st, outbound.QuietHours{On: true, From: "20:00", To: "09:00"}); err != nil {
		t.Fatal(err)
	}
	err := publish("reorder_reminder")
	var ie *InvalidError
	if !errors.As(err, &ie) || len(ie.Problems) != 1 || ie.Problems[0].Step != "note" || ie.Problems[0].Code != "outside_window_quiet_hours" ||
		!strings.Contains(ie.Problems[0].Message, "13h") {
		t.Fatalf("a text after a held marketing template: %v %+v", err, ie)
	}
	if err := publish("order_confirmation"); err != nil {
		t.Fatalf("after a utility template: %v", err)
	}
	if err := outbound.SaveQuietHours(ctx, st, outbound.QuietHours{From: "20:00", To: "09:00"}); err != nil {
		t.Fatal(err)
	}
	if err := publish("reorder_reminder"); err != nil {
		t.Fatalf("quiet hours off: %v", err)
	}
}
