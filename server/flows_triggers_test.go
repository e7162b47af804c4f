package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
	"sendbox/whatsapp/sim"
)

func addContact(t *testing.T, a *sendboxtest.App, body map[string]any) int64 {
	t.Helper()
	code, b := a.Do("POST", "/api/v1/contacts", body)
	if code != http.StatusCreated {
		t.Fatalf("create contact: %d %s", code, b)
	}
	return sendboxtest.JSON[struct{ Data struct{ ID int64 } }](t, b).Data.ID
}

func pendingTimers(t *testing.T, st *store.Store, kind string, owner int64) []store.Timer {
	t.Helper()
	all, err := st.TimersOf(context.Background(), kind, owner)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Timer
	for _, tm := range all {
		if tm.State == store.TimerPending {
			out = append(out, tm)
		}
	}
	return out
}

// scheduleRuns counts the flow's runs and checks each contact has one at
// most.
func scheduleRuns(t *testing.T, st *store.Store, flowID int64) int {
	t.Helper()
	runs, err := st.RunsOfFlow(context.Background(), flowID, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, r := range runs {
		if seen[r.ContactID] {
			t.Fatalf("contact %d has two runs: %+v", r.ContactID, runs)
		}
		seen[r.ContactID] = true
	}
	return len(runs)
}

// reschedule moves a pending timer's due time with sendbox stopped, as if
// the time had come while it was down.
func reschedule(t *testing.T, dir string, id int64, due time.Time) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.RescheduleTimer(context.Background(), id, due); err != nil {
		t.Fatal(err)
	}
}

// TestFlowScheduleOnceAcrossRestarts: a flow scheduled every day at 09:00
// for the "vip" contacts. Its occurrence comes due while sendbox is down:
// it fires when sendbox is back (the same day), once for each vip contact
// who did not opt out; restarting changes nothing; an occurrence found a
// day late is skipped; each time the next occurrence's timer is pending,
// alone.
func TestFlowScheduleOnceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := sendboxtest.New(t, sendboxtest.WithDataDir(dir))
	for i, c := range []map[string]any{
		{"tags": []string{"vip"}}, {"tags": []string{"VIP", "lead"}}, {"tags": []string{"vip"}},
		{"tags": []string{"lead"}}, {"tags": []string{"vip"}, "consent": "opted_out"},
	} {
		c["phone"] = fmt.Sprintf("+39347200000%d", i)
		addContact(t, a, c)
	}
	def := map[string]any{
		"triggers": []any{map[string]any{"type": "schedule", "at": "09:00", "tag": "vip"}},
		"steps": []any{
			map[string]any{"id": "mark", "type": "set", "attribute": "greeted_on", "value": "{{event.date}}"},
			map[string]any{"id": "done", "type": "end", "outcome": "greeted"},
		},
	}
	id := createFlow(t, a, "Morning", def)
	publishFlow(t, a, id)
	pend := pendingTimers(t, a.Store, store.TimerFlowSchedule, id)
	if len(pend) != 1 {
		t.Fatalf("pending schedule timers after publish: %+v", pend)
	}
	if h, m, _ := pend[0].DueAt.In(time.UTC).Clock(); h != 9 || m != 0 || !pend[0].DueAt.After(time.Now()) {
		t.Fatalf("the first occurrence is due %v, not the next 09:00", pend[0].DueAt)
	}
	first := pend[0].ID
	a.App.Close(ctx)

	// Due while sendbox was down, the same day: it fires at the start.
	reschedule(t, dir, first, time.Now())
	b := sendboxtest.New(t, sendboxtest.WithDataDir(dir))
	sendboxtest.Eventually(t, 20*time.Second, "the vip contacts' runs", func() bool { return scheduleRuns(t, b.Store, id) == 3 })
	today := time.Now().UTC().Format(time.DateOnly)
	runs, _ := b.Store.RunsOfFlow(ctx, id, 10)
	for _, r := range runs {
		sendboxtest.Eventually(t, 10*time.Second, "the run to end", func() bool {
			r, err := b.Store.RunByID(ctx, r.ID)
			return err == nil && r.State == store.RunEnded && r.Outcome == "greeted"
		})
		c, err := b.Store.ContactWithTags(ctx, r.ContactID)
		if err != nil || c.Attributes["greeted_on"] != today || c.Consent == store.ConsentOptedOut {
			t.Fatalf("contact %+v (%v)", c, err)
		}
	}
	if tm, err := b.Store.TimerByID(ctx, first); err != nil || tm.State != store.TimerFired {
		t.Fatalf("the missed occurrence: %+v %v", tm, err)
	}
	pend = pendingTimers(t, b.Store, store.TimerFlowSchedule, id)
	if len(pend) != 1 || pend[0].DueAt.UTC().Format(time.DateOnly) <= today {
		t.Fatalf("the next occurrence: %+v", pend)
	}
	next := pend[0].ID
	b.App.Close(ctx)

	// Restarted: nothing fires again, the next occurrence stays as it was.
	c := sendboxtest.New(t, sendboxtest.WithDataDir(dir))
	time.Sleep(2 * time.Second)
	if n := scheduleRuns(t, c.Store, id); n != 3 {
		t.Fatalf("%d runs after a restart", n)
	}
	if pend = pendingTimers(t, c.Store, store.TimerFlowSchedule, id); len(pend) != 1 || pend[0].ID != next {
		t.Fatalf("pending after a restart: %+v", pend)
	}
	c.App.Close(ctx)

	// Due yesterday: skipped, and the occurrence after it set.
	reschedule(t, dir, next, time.Now().Add(-24*time.Hour))
	d := sendboxtest.New(t, sendboxtest.WithDataDir(dir))
	sendboxtest.Eventually(t, 10*time.Second, "the stale occurrence to be skipped", func() bool {
		tm, err := d.Store.TimerByID(ctx, next)
		return err == nil && tm.State == store.TimerObsolete
	})
	if pend = pendingTimers(t, d.Store, store.TimerFlowSchedule, id); len(pend) != 1 || !pend[0].DueAt.After(time.Now()) {
		t.Fatalf("pending after a skipped occurrence: %+v", pend)
	}
	time.Sleep(time.Second)
	if n := scheduleRuns(t, d.Store, id); n != 3 {
		t.Fatalf("%d runs after a skipped occurrence", n)
	}

	// Switched off, its timer goes.
	if code, body := d.Do("PUT", fmt.Sprintf("/api/v1/flows/%d/active", id), map[string]any{"active": false}); code != http.StatusOK {
		t.Fatalf("switch off: %d %s", code, body)
	}
	if pend = pendingTimers(t, d.Store, store.TimerFlowSchedule, id); len(pend) != 0 {
		t.Fatalf("pending once switched off: %+v", pend)
	}
}

// TestFlowSilenceTrigger: a customer who stops writing for the silence's
// length gets the follow-up, once; a new message cancels the silence
// being measured; a conversation a person has gets none.
func TestFlowSilenceTrigger(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	welcome := createFlow(t, a, "Welcome", map[string]any{
		"triggers": []any{map[string]any{"type": "keyword", "keywords": []string{"hi"}}},
		"steps":    []any{map[string]any{"id": "hello", "type": "send", "text": "Welcome!"}},
	})
	publishFlow(t, a, welcome)
	nudge := createFlow(t, a, "Nudge", map[string]any{
		"triggers": []any{map[string]any{"type": "silence", "after": "2h"}},
		"steps":    []any{map[string]any{"id": "nudge", "type": "send", "text": "Still there? Nudge {{event.silence}}"}},
	})
	publishFlow(t, a, nudge)

	const customer = "393471119001"
	customerWrites(t, a, "+"+customer, "hi")
	phoneGot(t, a, customer, "Welcome!")
	c, err := a.Store.ContactByRecipient(ctx, customer, "")
	if err != nil {
		t.Fatal(err)
	}
	convs, _, _, _ := a.Store.ListConversations(ctx, store.ConversationFilter{ContactID: c.ID, Limit: 1})
	conv := convs[0].ID
	var t1 store.Timer
	sendboxtest.Eventually(t, 10*time.Second, "the silence timer", func() bool {
		p := pendingTimers(t, a.Store, store.TimerFlowSilence, conv)
		if len(p) == 1 {
			t1 = p[0]
		}
		return len(p) == 1
	})
	if d := time.Until(t1.DueAt); d < 119*time.Minute || d > 2*time.Hour {
		t.Fatalf("the silence ends in %v, not 2h", d)
	}

	// A new message: the first silence is broken, the second measured.
	customerWrites(t, a, "+"+customer, "hi")
	var t2 store.Timer
	sendboxtest.Eventually(t, 10*time.Second, "a new silence timer", func() bool {
		p := pendingTimers(t, a.Store, store.TimerFlowSilence, conv)
		if len(p) == 1 && p[0].ID != t1.ID {
			t2 = p[0]
		}
		return t2.ID != 0
	})
	if tm, _ := a.Store.TimerByID(ctx, t1.ID); tm.State != store.TimerCancelled {
		t.Fatalf("the broken silence's timer: %+v", tm)
	}
	if err := a.Store.RescheduleTimer(ctx, t2.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	phoneGot(t, a, customer, "Still there? Nudge 2h")
	runs, err := a.Store.RunsOfFlow(ctx, nudge, 10)
	if err != nil || len(runs) != 1 || runs[0].ConversationID != conv {
		t.Fatalf("nudge runs: %+v %v", runs, err)
	}

	// A person takes the conversation: the next silence starts nothing.
	customerWrites(t, a, "+"+customer, "hi")
	var t3 store.Timer
	sendboxtest.Eventually(t, 10*time.Second, "the third silence timer", func() bool {
		p := pendingTimers(t, a.Store, store.TimerFlowSilence, conv)
		if len(p) == 1 && p[0].ID != t2.ID {
			t3 = p[0]
		}
		return t3.ID != 0
	})
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/conversations/%d/handoff", conv), map[string]any{"reason": "a person answers"}); code != http.StatusOK {
		t.Fatalf("handoff: %d %s", code, body)
	}
	if err := a.Store.RescheduleTimer(ctx, t3.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the silence to be found obsolete", func() bool {
		tm, err := a.Store.TimerByID(ctx, t3.ID)
		return err == nil && tm.State == store.TimerObsolete
	})
	if runs, _ := a.Store.RunsOfFlow(ctx, nudge, 10); len(runs) != 1 {
		t.Fatalf("a nudge while a person has the conversation: %+v", runs)
	}
}

// TestFlowContactChangeTriggers: a tag added through the API and an
// attribute set by PATCH start their flows, whose own changes start the
// next (a chain); a flow that adds the tag that starts it is refused at
// publish; two flows that re-tag each other stop after maxChain links.
func TestFlowContactChangeTriggers(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	lead := createFlow(t, a, "Lead", map[string]any{
		"triggers": []any{map[string]any{"type": "tag_added", "tag": "lead"}},
		"steps":    []any{map[string]any{"id": "seen", "type": "set", "attribute": "lead_seen", "value": "{{event.tag}}"}},
	})
	publishFlow(t, a, lead)
	paid := createFlow(t, a, "Paid", map[string]any{
		"triggers": []any{map[string]any{"type": "attribute_changed", "attribute": "status", "value": "paid"}},
		"steps":    []any{map[string]any{"id": "tag", "type": "set", "add_tag": "customer"}},
	})
	publishFlow(t, a, paid)
	welcome := createFlow(t, a, "Customer", map[string]any{
		"triggers": []any{map[string]any{"type": "tag_added", "tag": "customer"}},
		"steps":    []any{map[string]any{"id": "w", "type": "set", "attribute": "welcomed", "value": "yes"}},
	})
	publishFlow(t, a, welcome)

	id := addContact(t, a, map[string]any{"phone": "+393472220001", "attributes": map[string]string{"status": "new"}})
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/tags", id), map[string]any{"add": []string{"Lead"}}); code != http.StatusOK {
		t.Fatalf("tag: %d %s", code, body)
	}
	attr := func(k string) string {
		c, err := a.Store.ContactWithTags(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Attributes[k]
	}
	sendboxtest.Eventually(t, 10*time.Second, "the lead flow", func() bool { return attr("lead_seen") == "Lead" })
	if code, body := a.Do("PATCH", fmt.Sprintf("/api/v1/contacts/%d", id), map[string]any{
		"attributes": map[string]string{"status": "pending", "lead_seen": "Lead"}}); code != http.StatusOK {
		t.Fatalf("patch: %d %s", code, body)
	}
	if code, body := a.Do("PATCH", fmt.Sprintf("/api/v1/contacts/%d", id), map[string]any{
		"attributes": map[string]string{"status": "paid", "lead_seen": "Lead"}}); code != http.StatusOK {
		t.Fatalf("patch: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 10*time.Second, "paid, then customer", func() bool { return attr("welcomed") == "yes" })
	for _, f := range []int64{lead, paid, welcome} {
		if runs, _ := a.Store.RunsOfFlow(ctx, f, 10); len(runs) != 1 || runs[0].Event["_chain"] == "" {
			t.Fatalf("flow %d: runs %+v", f, runs)
		}
	}

	// Publishing a flow that starts itself is refused.
	self := createFlow(t, a, "Self", map[string]any{
		"triggers": []any{map[string]any{"type": "tag_added", "tag": "vip"}},
		"steps":    []any{map[string]any{"id": "again", "type": "set", "add_tag": "VIP"}},
	})
	code, body := a.Do("POST", fmt.Sprintf("/api/v1/flows/%d/publish", self), nil)
	if code != 422 || !bytes.Contains(body, []byte("starts_itself")) {
		t.Fatalf("a flow that starts itself: %d %s", code, body)
	}

	// A ring of two flows: ping → pong → ping … stops.
	ping := createFlow(t, a, "Ping", map[string]any{
		"triggers": []any{map[string]any{"type": "tag_added", "tag": "ping"}},
		"steps":    []any{map[string]any{"id": "s", "type": "set", "remove_tag": "ping", "add_tag": "pong"}},
	})
	publishFlow(t, a, ping)
	pong := createFlow(t, a, "Pong", map[string]any{
		"triggers": []any{map[string]any{"type": "tag_added", "tag": "pong"}},
		"steps":    []any{map[string]any{"id": "s", "type": "set", "remove_tag": "pong", "add_tag": "ping"}},
	})
	publishFlow(t, a, pong)
	ring := addContact(t, a, map[string]any{"phone": "+393472220002"})
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/contacts/%d/tags", ring), map[string]any{"add": []string{"ping"}}); code != http.StatusOK {
		t.Fatalf("tag: %d %s", code, body)
	}
	count := func() int {
		runs, _ := a.Store.RunsOfContact(ctx, ring, 50)
		return len(runs)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the ring's runs", func() bool { return count() >= 3 })
	time.Sleep(2 * time.Second)
	if n := count(); n != 3 {
		t.Fatalf("the ring ran %d times, not 3 (ping, pong, ping)", n)
	}
}

// TestFlowAdTrigger: Meta's Click-to-WhatsApp referral payload (the
// fixture) starts the ad's flow, whose message names the ad; the router's
// decision says so; the same webhook again starts nothing more; a message
// from another ad is not the flow's.
func TestFlowAdTrigger(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	id := createFlow(t, a, "Sofa ad", map[string]any{
		"triggers": []any{map[string]any{"type": "ad", "ad_ids": []string{"ADID"}}},
		"steps": []any{map[string]any{"id": "hello", "type": "send",
			"text": "Thanks for tapping “{{referral.headline}}” ({{referral.source_id}})!"}},
	})
	publishFlow(t, a, id)
	raw, err := os.ReadFile("/work/shared/fixtures/whatsapp/split/pywa__tests__data__updates__message__referral.json")
	if err != nil {
		t.Skip("the referral fixture is not here:", err)
	}
	body := bytes.ReplaceAll(raw, []byte("1122334455667"), []byte(sim.DefaultPhoneNumberID))
	body = bytes.ReplaceAll(body, []byte("1697045000"), []byte(strconv.FormatInt(time.Now().Unix(), 10)))
	for range 2 {
		if code, resp := a.PostWebhook(body); code != http.StatusOK {
			t.Fatalf("webhook: %d %s", code, resp)
		}
	}
	const customer = "972987654321"
	phoneGot(t, a, customer, "Thanks for tapping “AD_TITLE” (ADID)!")
	c, err := a.Store.ContactByRecipient(ctx, customer, "")
	if err != nil {
		t.Fatal(err)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the router's decision", func() bool {
		convs, _, _, _ := a.Store.ListConversations(ctx, store.ConversationFilter{ContactID: c.ID, Limit: 1})
		return len(convs) == 1 && convs[0].Routing != nil && convs[0].Routing.To == store.RouteFlow &&
			convs[0].Routing.Detail == `Sofa ad: ad "ADID"`
	})
	runs, _ := a.Store.RunsOfFlow(ctx, id, 10)
	if len(runs) != 1 || runs[0].Event["referral.ctwa_clid"] != "CTWA_CLID" {
		t.Fatalf("runs: %+v", runs)
	}

	// Another ad's message: not this flow's.
	other := bytes.ReplaceAll(body, []byte(`"ADID"`), []byte(`"120999"`))
	other = bytes.ReplaceAll(other, []byte("wamid.ID"), []byte("wamid.ID2"))
	other = bytes.ReplaceAll(other, []byte("972987654321"), []byte("972987654322"))
	other = bytes.ReplaceAll(other, []byte("US.1349"), []byte("US.2349")) // another customer
	if code, resp := a.PostWebhook(other); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the other customer's message", func() bool {
		c, err := a.Store.ContactByRecipient(ctx, "972987654322", "")
		if err != nil {
			return false
		}
		convs, _, _, _ := a.Store.ListConversations(ctx, store.ConversationFilter{ContactID: c.ID, Limit: 1})
		return len(convs) == 1 && convs[0].Routing != nil
	})
	if runs, _ := a.Store.RunsOfFlow(ctx, id, 10); len(runs) != 1 {
		t.Fatalf("another ad started the flow: %+v", runs)
	}
}
