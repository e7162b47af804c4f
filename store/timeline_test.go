package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sendbox/events"
	"sendbox/timeline"
)

// TestTimelineRowsSayWhatChanged: each change writes a row of its kind,
// by the context's actor, with what changed as data, the same kind, actor
// and data as its domain event; and the row reads back as the sentence,
// naming the actor, in English.
func TestTimelineRowsSayWhatChanged(t *testing.T) {
	s := openTest(t)
	bg := context.Background()
	m := queue(t, s, "391", "hello")
	conv := m.ConversationID
	user := func(name string) *User {
		u, err := s.CreateUser(bg, strings.ToLower(name)+"@example.com", name, "agent", "hash")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	maria, luca := user("Maria"), user("Luca")
	team, err := s.CreateTeam(bg, "Front desk")
	if err != nil {
		t.Fatal(err)
	}
	vip, _ := s.CreateLabel(bg, "VIP", 1)
	billing, _ := s.CreateLabel(bg, "Billing", 2)
	byMaria := events.WithActor(bg, events.User(maria.ID, maria.Name))
	byKey := events.WithActor(bg, events.APIKey(3, "crm"))
	byFlow := events.WithActor(bg, events.Flow(7, "Welcome"))
	byAssistant := events.WithActor(bg, events.Assistant())
	until := time.Date(2030, 3, 4, 9, 30, 0, 0, time.UTC)

	steps := []struct {
		name  string
		do    func() error
		kind  string
		actor events.Actor
		data  string // the row's data as JSON
		text  string
	}{
		{"assigned", func() error { return s.Assign(byMaria, conv, luca.ID) }, events.ChangeAssigned, events.User(maria.ID, "Maria"),
			`{"assignee_id":` + itoa(luca.ID) + `,"assignee_name":"Luca"}`, "Maria assigned the conversation to Luca"},
		{"unassigned", func() error { return s.Assign(byKey, conv, 0) }, events.ChangeAssigned, events.APIKey(3, "crm"),
			`{"assignee_id":0}`, "The API key crm unassigned the conversation"},
		{"team", func() error { return s.SetTeam(byMaria, conv, team.ID) }, events.ChangeTeam, events.User(maria.ID, "Maria"),
			`{"team_id":` + itoa(team.ID) + `,"team_name":"Front desk"}`, "Maria gave the conversation to the team Front desk"},
		{"no team", func() error { return s.SetTeam(byMaria, conv, 0) }, events.ChangeTeam, events.User(maria.ID, "Maria"),
			`{"team_id":0}`, "Maria removed the conversation from its team"},
		{"resolved", func() error { return s.SetStatus(byFlow, conv, "resolved", time.Time{}) }, events.ChangeStatus,
			events.Flow(7, "Welcome"), `{"status":"resolved"}`, "The flow Welcome resolved the conversation"},
		{"pending", func() error { return s.SetStatus(byMaria, conv, "pending", time.Time{}) }, events.ChangeStatus,
			events.User(maria.ID, "Maria"), `{"status":"pending"}`, "Maria marked the conversation pending"},
		{"reopened", func() error { return s.SetStatus(byMaria, conv, "open", time.Time{}) }, events.ChangeStatus,
			events.User(maria.ID, "Maria"), `{"status":"open"}`, "Maria reopened the conversation"},
		{"snoozed", func() error { return s.SetStatus(byMaria, conv, "snoozed", until) }, events.ChangeStatus,
			events.User(maria.ID, "Maria"), `{"status":"snoozed","snoozed_until":"2030-03-04T09:30:00Z"}`,
			"Maria snoozed the conversation until " + until.Local().Format("Mon 2 Jan 15:04")},
		{"woke", func() error {
			_, err := s.FireDue(bg, until.Add(time.Second), 10, func(_ context.Context, x *TimerTx, tm *Timer) (bool, error) {
				return x.WakeSnoozed(tm.Owner, tm.Token)
			})
			return err
		}, events.ChangeWoke, events.System(""), `{"status":"open"}`, "Snooze ended: Sendbox reopened the conversation"},
		{"labels", func() error { return s.SetConversationLabels(byMaria, conv, []int64{vip.ID, billing.ID, 999}) },
			events.ChangeLabels, events.User(maria.ID, "Maria"),
			`{"label_ids":[` + itoa(billing.ID) + `,` + itoa(vip.ID) + `],"label_names":["Billing","VIP"]}`,
			"Maria set the labels: Billing, VIP"},
		{"labels cleared", func() error { return s.SetConversationLabels(byMaria, conv, nil) }, events.ChangeLabels,
			events.User(maria.ID, "Maria"), `{"label_ids":[],"label_names":[]}`, "Maria removed the labels"},
		{"language", func() error { return s.SetConversationLanguage(byMaria, conv, "it") }, events.ChangeLanguage,
			events.User(maria.ID, "Maria"), `{"language":"it"}`, "Maria set the language to Italian"},
		{"language detected", func() error { return s.SetConversationLanguage(byKey, conv, "") }, events.ChangeLanguage,
			events.APIKey(3, "crm"), `{"language":""}`,
			"The API key crm gave the language back to detection from the customer's messages"},
		{"bot off", func() error { return s.SetBot(byMaria, conv, BotOff, "") }, events.ChangeBot, events.User(maria.ID, "Maria"),
			`{"bot":"off"}`, "Maria switched the assistant off"},
		{"bot on", func() error { return s.SetBot(byKey, conv, BotOn, "") }, events.ChangeBot, events.APIKey(3, "crm"),
			`{"bot":"on"}`, "The API key crm switched the assistant on"},
		{"paused by a reply", func() error {
			_, _, err := s.QueueOutbound(byMaria, OutboundInput{PhoneNumberID: "pn1", WaID: "391", Type: "text", Text: "hi",
				Payload: []byte(`{}`), AuthorID: maria.ID, Lane: events.LanePerson})
			return err
		}, events.ChangeBot, events.User(maria.ID, "Maria"), `{"bot":"paused","reason":"agent_replied"}`,
			"Maria replied to the customer: the assistant paused"},
		{"kept paused", func() error { return s.SetBot(byAssistant, conv, BotPaused, events.BotPausedBefore) }, events.ChangeBot,
			events.Assistant(), `{"bot":"paused","reason":"paused_before"}`,
			"The assistant stays paused: a person took over this customer before"},
		{"routed", func() error {
			return s.SetRouting(byAssistant, conv, Routing{To: RouteAssistant, Reason: "no_flow_matched"})
		}, events.ChangeRouted, events.Assistant(), `{"routed_to":"assistant","reason":"no_flow_matched"}`,
			"Answered by the assistant · reason: no flow matched"},
		{"note", func() error { return s.AddNote(byMaria, conv, "called her back") }, events.ChangeNote,
			events.User(maria.ID, "Maria"), `{}`, "Maria added a private note"},
		{"escalated", func() error {
			return s.Escalate(byAssistant, conv, Escalation{Category: "medical_urgency", Urgent: true, Detail: "sanguina",
				Summary: "Escalation: medical urgency", Routing: &Routing{To: RoutePerson, Reason: "escalated", Detail: "medical_urgency"}})
		}, events.ChangeEscalated, events.Assistant(), `{"category":"medical_urgency","detail":"sanguina"}`,
			`The assistant escalated the conversation: Medical urgency ("sanguina")`},
		{"urgent cleared", func() error { return s.ClearUrgent(byMaria, conv) }, events.ChangeUnurgent,
			events.User(maria.ID, "Maria"), `{}`, "Maria cleared the urgent flag"},
		{"handoff", func() error {
			return s.Escalate(byAssistant, conv, Escalation{Detail: "the knowledge base has nothing on this question"})
		}, events.ChangeHandoff, events.Assistant(), `{"detail":"the knowledge base has nothing on this question"}`,
			"The assistant handed the conversation to a person: the knowledge base has nothing on this question"},
	}
	seen := 0
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		rows, err := s.ConversationEvents(bg, conv)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) <= seen {
			t.Fatalf("%s: no timeline row", st.name)
		}
		e := rows[len(rows)-1]
		seen = len(rows)
		data, _ := json.Marshal(e.Data)
		if e.Kind != st.kind || e.Actor != st.actor || !sameJSON(data, []byte(st.data)) {
			t.Errorf("%s: row %s by %+v with %s\n want %s by %+v with %s", st.name, e.Kind, e.Actor, data, st.kind, st.actor, st.data)
		}
		if got := timeline.Text(timeline.Row{Kind: e.Kind, Actor: e.Actor, Data: e.Data, Body: e.Body}, nil); got != st.text {
			t.Errorf("%s: reads %q, want %q", st.name, got, st.text)
		}
		// The domain event says the same.
		evs := outboxEvents(t, s)
		var ev *events.Event
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Type == events.ConversationUpdated && evs[i].Status != events.ChangeNote {
				ev = &evs[i]
				break
			}
		}
		if st.kind == events.ChangeNote {
			continue
		}
		evData, _ := json.Marshal(ev.Data)
		if ev.Status != e.Kind || ev.Actor != e.Actor || !sameJSON(evData, data) {
			t.Errorf("%s: event %s by %+v with %s, row %s by %+v with %s", st.name, ev.Status, ev.Actor, evData, e.Kind, e.Actor, data)
		}
	}

	// The escalation's summary is a note by the assistant, before its line.
	rows, _ := s.ConversationEvents(bg, conv)
	for i, e := range rows {
		if e.Kind == events.ChangeEscalated {
			if n := rows[i-1]; n.Kind != events.ChangeNote || n.Body != "Escalation: medical urgency" || n.Actor != events.Assistant() {
				t.Errorf("summary note: %+v", n)
			}
		}
		if e.Kind == events.ChangeNote && e.Actor.Kind == events.ActorUser && e.Body != "called her back" {
			t.Errorf("note's text: %+v", e)
		}
	}
}

// sameJSON compares two JSON texts as values: an empty object and null alike.
func sameJSON(a, b []byte) bool {
	var x, y map[string]any
	json.Unmarshal(a, &x)
	json.Unmarshal(b, &y)
	if len(x) == 0 && len(y) == 0 {
		return true
	}
	return reflect.DeepEqual(x, y)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestTimelineNamesWhoIsGoneAndWhoWasRenamed: a person's line shows their
// name now, a key's its name at the time; a user that no longer exists
// leaves the name the row was written with.
func TestTimelineNamesWhoIsGoneAndWhoWasRenamed(t *testing.T) {
	s := openTest(t)
	bg := context.Background()
	m := queue(t, s, "391", "hello")
	u, err := s.CreateUser(bg, "maria@example.com", "Maria", "agent", "hash")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddNote(events.WithActor(bg, events.User(u.ID, "Maria")), m.ConversationID, "one"); err != nil {
		t.Fatal(err)
	}
	// A user id that is not (any longer) a user: the row is still written and read.
	if err := s.AddNote(events.WithActor(bg, events.User(999, "Gone")), m.ConversationID, "two"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec("UPDATE users SET name = 'Maria Rossi' WHERE id = ?", u.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := s.ConversationEvents(bg, m.ConversationID)
	if err != nil || len(rows) != 2 {
		t.Fatal(rows, err)
	}
	if rows[0].Actor != events.User(u.ID, "Maria Rossi") || rows[1].Actor != (events.Actor{Kind: events.ActorUser, Name: "Gone"}) {
		t.Fatalf("actors: %+v %+v", rows[0].Actor, rows[1].Actor)
	}
}

// TestMigrationKeepsOldTimelineAsLegacy: the sentences of a database from
// before migration 12 stay as they were, as legacy rows with the kind they
// had; notes stay notes; the assistant's rows (no person) say so; and an
// urgent spell begun before the upgrade goes on after it.
func TestMigrationKeepsOldTimelineAsLegacy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, &IngestBatch{Messages: []InboundMessage{text("wamid.1", "391", "ciao", time.Now())}}); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, "maria@example.com", "Maria", "agent", "hash")
	if err != nil {
		t.Fatal(err)
	}
	undoMigrations(t, s, 12)
	old := []struct {
		kind  string
		actor any
		body  string
	}{
		{"assigned", u.ID, "Assigned to Luca"},
		{"note", u.ID, "called her back"},
		{"status", nil, "Resolved"},
		{"note", nil, "Escalation: medical urgency"},
		{"escalated", nil, `Escalated: medical urgency ("sanguina")`},
	}
	for i, o := range old {
		if _, err := s.w.Exec(`INSERT INTO conversation_events (conversation_id, kind, actor_id, body, created_at)
			VALUES (1, ?, ?, ?, ?)`, o.kind, o.actor, o.body, 1000+i); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.ConversationEvents(ctx, 1)
	if err != nil || len(rows) != len(old) {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	maria := events.User(u.ID, "Maria")
	want := []struct {
		kind  string
		actor events.Actor
		data  string
		text  string
	}{
		{"legacy", maria, `{"kind":"assigned"}`, "Maria: Assigned to Luca"},
		{"note", maria, `{}`, "Maria added a private note"},
		{"legacy", events.Actor{}, `{"kind":"status"}`, "Resolved"},
		{"note", events.Assistant(), `{}`, "The assistant added a private note"},
		{"legacy", events.Assistant(), `{"kind":"escalated"}`, `The assistant: Escalated: medical urgency ("sanguina")`},
	}
	for i, e := range rows {
		w := want[i]
		data, _ := json.Marshal(e.Data)
		text := timeline.Text(timeline.Row{Kind: e.Kind, Actor: e.Actor, Data: e.Data, Body: e.Body}, nil)
		if e.Kind != w.kind || e.Actor != w.actor || string(data) != w.data || e.Body != old[i].body || text != w.text {
			t.Errorf("row %d: %s by %+v with %s, body %q, reads %q\nwant %s by %+v with %s, body %q, reads %q", i,
				e.Kind, e.Actor, data, e.Body, text, w.kind, w.actor, w.data, old[i].body, w.text)
		}
	}
	// Escalated again after the upgrade: still the spell the old row began.
	if err := s.Escalate(events.WithActor(ctx, events.Assistant()), 1, Escalation{Category: "medical_urgency", Urgent: true}); err != nil {
		t.Fatal(err)
	}
	if spell, err := s.EscalationSpell(ctx, 1); err != nil || spell != rows[4].ID {
		t.Fatalf("spell %d (%v), want the old escalation %d", spell, err, rows[4].ID)
	}
	if err := s.ClearUrgent(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if spell, _ := s.EscalationSpell(ctx, 1); spell != 0 {
		t.Fatalf("spell %d after the flag came off", spell)
	}
}
