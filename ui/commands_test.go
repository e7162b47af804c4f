package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"sendbox/accounts"
	sbevents "sendbox/events"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// watcher keeps the domain events the broker carries, to find the one a
// command caused.
type watcher struct {
	t    *testing.T
	mu   sync.Mutex
	seen []sbevents.Event
}

func watch(t *testing.T, a *sendboxtest.App) *watcher {
	w := &watcher{t: t}
	sub, err := a.Broker.NC.Subscribe(sbevents.SubjectsEvents, func(m *nats.Msg) {
		var ev sbevents.Event
		if json.Unmarshal(m.Data, &ev) == nil {
			w.mu.Lock()
			w.seen = append(w.seen, ev)
			w.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	return w
}

// take waits for an event that matches and removes it, so the next
// command's look finds its own.
func (w *watcher) take(what string, match func(sbevents.Event) bool) sbevents.Event {
	w.t.Helper()
	var found sbevents.Event
	sendboxtest.Eventually(w.t, 20*time.Second, what, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for i, ev := range w.seen {
			if match(ev) {
				found = ev
				w.seen = append(w.seen[:i:i], w.seen[i+1:]...)
				return true
			}
		}
		return false
	})
	return found
}

// apiError is the API's error shape.
type apiError struct {
	Error struct{ Code, Message, Field string }
}

// convState is what the conversation commands change, for comparing the
// conversation one front changed with the one the other did.
func convState(t *testing.T, a *sendboxtest.App, id int64) string {
	t.Helper()
	c, err := a.Store.ConversationByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var labels []int64
	for _, l := range c.Labels {
		labels = append(labels, l.ID)
	}
	snoozed := !c.SnoozedUntil.IsZero()
	return fmt.Sprintf("assignee=%d team=%d status=%s snoozed=%v labels=%v bot=%s urgent=%v", c.AssigneeID, c.TeamID,
		c.Status, snoozed, labels, c.Bot, c.Urgent)
}

// TestConversationCommandsThroughBothFronts: each command an agent gives in
// the panel, given through the REST API with an agent's key, changes the
// same thing, causes the same conversation.updated event (with the person,
// or the key, as actor) and is refused for the same bad input.
func TestConversationCommandsThroughBothFronts(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	ev := watch(t, a)
	agent := userBrowser(t, a, "agent")
	viewerUser, err := a.Store.CreateUser(ctx, "viewer@example.com", "Viewer", "viewer", accounts.HashPassword("password-of-viewer"))
	if err != nil {
		t.Fatal(err)
	}
	colleague, err := a.Store.CreateUser(ctx, "colleague@example.com", "Colleague", "agent", accounts.HashPassword("password-of-colleague"))
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := accounts.CreateAPIKey(ctx, a.Store, "integration", "agent")
	if err != nil {
		t.Fatal(err)
	}
	viewerKey, _, err := accounts.CreateAPIKey(ctx, a.Store, "dashboard", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	team, _ := a.Store.CreateTeam(ctx, "Front desk")
	l1, _ := a.Store.CreateLabel(ctx, "Preventivo", 3)
	l2, _ := a.Store.CreateLabel(ctx, "Richiamare", 1)
	panelConv := say(t, a, "393471110001", "Paola", "Salve").ConversationID
	apiConv := say(t, a, "393471110002", "Aldo", "Salve").ConversationID
	for _, id := range []int64{panelConv, apiConv} {
		if err := a.Store.Escalate(ctx, id, store.Escalation{Urgent: true, Detail: "test: urgent"}); err != nil {
			t.Fatal(err)
		}
	}
	ev.mu.Lock()
	ev.seen = nil
	ev.mu.Unlock()

	type bad struct {
		form       url.Values // to the panel
		panelCode  int
		panelWords string // in the panel's error
		body       any    // to the API
		code       string // the API's error code
		field      string
	}
	steps := []struct {
		name       string
		panelPath  string
		form       url.Values
		method     string
		apiPath    string
		body       any
		change     string
		data       map[string]any // in the event (JSON numbers as float64)
		state      string         // the conversation after
		bad        []bad
		checkAfter func(t *testing.T, conv int64)
	}{
		{name: "assign", panelPath: "/assign", form: url.Values{"assignee": {itoa(colleague.ID)}},
			method: "PUT", apiPath: "/assignee", body: map[string]any{"user_id": colleague.ID},
			change: sbevents.ChangeAssigned, data: map[string]any{sbevents.DataAssignee: float64(colleague.ID), sbevents.DataAssigneeName: "Colleague"},
			state: fmt.Sprintf("assignee=%d team=0 status=open snoozed=false labels=[] bot=paused urgent=true", colleague.ID),
			bad: []bad{
				{url.Values{"assignee": {itoa(viewerUser.ID)}}, 422, "only to active agents", map[string]any{"user_id": viewerUser.ID}, "invalid_assignee", "user_id"},
				{url.Values{"assignee": {"424242"}}, 422, "only to active agents", map[string]any{"user_id": 424242}, "invalid_assignee", "user_id"},
				// A good assignee with a bad team: neither is written.
				{url.Values{"assignee": {itoa(colleague.ID)}, "team": {"424242"}}, 422, "No such team",
					map[string]any{"user_id": viewerUser.ID}, "invalid_assignee", "user_id"},
			}},
		{name: "unassign", panelPath: "/assign", form: url.Values{"assignee": {""}},
			method: "PUT", apiPath: "/assignee", body: map[string]any{"user_id": nil},
			change: sbevents.ChangeAssigned, data: map[string]any{sbevents.DataAssignee: float64(0)},
			state: "assignee=0 team=0 status=open snoozed=false labels=[] bot=paused urgent=true"},
		{name: "team", panelPath: "/assign", form: url.Values{"team": {itoa(team.ID)}},
			method: "PUT", apiPath: "/team", body: map[string]any{"team_id": team.ID},
			change: sbevents.ChangeTeam, data: map[string]any{sbevents.DataTeam: float64(team.ID), sbevents.DataTeamName: "Front desk"},
			state: fmt.Sprintf("assignee=0 team=%d status=open snoozed=false labels=[] bot=paused urgent=true", team.ID),
			bad:   []bad{{url.Values{"team": {"424242"}}, 422, "No such team", map[string]any{"team_id": 424242}, "invalid_team", "team_id"}}},
		{name: "pending", panelPath: "/status", form: url.Values{"action": {"pending"}},
			method: "PUT", apiPath: "/status", body: map[string]any{"status": "pending"},
			change: sbevents.ChangeStatus, data: map[string]any{sbevents.DataStatus: "pending"},
			state: fmt.Sprintf("assignee=0 team=%d status=pending snoozed=false labels=[] bot=paused urgent=true", team.ID),
			bad:   []bad{{url.Values{"action": {"explode"}}, 400, "", map[string]any{"status": "snoozed"}, "invalid_status", "status"}}},
		{name: "snooze", panelPath: "/status", form: url.Values{"action": {"snooze"}, "snooze": {"1h"}},
			method: "POST", apiPath: "/snooze", body: map[string]any{"for": "1h"},
			change: sbevents.ChangeStatus,
			state:  fmt.Sprintf("assignee=0 team=%d status=snoozed snoozed=true labels=[] bot=paused urgent=true", team.ID),
			bad: []bad{
				{url.Values{"action": {"snooze"}, "snooze": {"custom"}, "until": {"2001-01-01T10:00"}}, 422, "in the future",
					map[string]any{"until": "2001-01-01T10:00:00Z"}, "snooze_past", "until"},
				{url.Values{"action": {"snooze"}, "snooze": {"custom"}, "until": {time.Now().AddDate(2, 0, 0).Format("2006-01-02T15:04")}}, 422, "within a year",
					map[string]any{"until": time.Now().AddDate(2, 0, 0).Format(time.RFC3339)}, "snooze_too_far", "until"},
			},
			checkAfter: func(t *testing.T, conv int64) {
				c, _ := a.Store.ConversationByID(ctx, conv)
				if d := time.Until(c.SnoozedUntil); d < 58*time.Minute || d > time.Hour {
					t.Errorf("snoozed for %s, want an hour", d)
				}
			}},
		{name: "reopen", panelPath: "/status", form: url.Values{"action": {"reopen"}},
			method: "PUT", apiPath: "/status", body: map[string]any{"status": "open"},
			change: sbevents.ChangeStatus, data: map[string]any{sbevents.DataStatus: "open"},
			state: fmt.Sprintf("assignee=0 team=%d status=open snoozed=false labels=[] bot=paused urgent=true", team.ID)},
		{name: "labels", panelPath: "/labels", form: url.Values{"label": {itoa(l1.ID), itoa(l2.ID)}},
			method: "PUT", apiPath: "/labels", body: map[string]any{"label_ids": []int64{l1.ID, l2.ID}},
			change: sbevents.ChangeLabels, data: map[string]any{sbevents.DataLabels: []any{float64(l1.ID), float64(l2.ID)}, sbevents.DataLabelNames: []any{"Preventivo", "Richiamare"}},
			state: fmt.Sprintf("assignee=0 team=%d status=open snoozed=false labels=[%d %d] bot=paused urgent=true", team.ID, l1.ID, l2.ID),
			bad: []bad{{url.Values{"label": {itoa(l1.ID), "424242"}}, 422, "no longer exists",
				map[string]any{"label_ids": []int64{l1.ID, 424242}}, "unknown_label", "label_ids"}}},
		{name: "note", panelPath: "/reply", form: url.Values{"mode": {"note"}, "body": {"Richiamare martedì"}},
			method: "POST", apiPath: "/notes", body: map[string]any{"body": "Richiamare martedì"},
			change: sbevents.ChangeNote,
			state:  fmt.Sprintf("assignee=0 team=%d status=open snoozed=false labels=[%d %d] bot=paused urgent=true", team.ID, l1.ID, l2.ID),
			bad: []bad{
				{url.Values{"mode": {"note"}, "body": {"  "}}, 422, "Write something", map[string]any{"body": "  "}, "empty_note", "body"},
				{url.Values{"mode": {"note"}, "body": {strings.Repeat("é", 5001)}}, 422, "at most 5,000",
					map[string]any{"body": strings.Repeat("é", 5001)}, "note_too_long", "body"},
			},
			checkAfter: func(t *testing.T, conv int64) {
				tl, _ := a.Store.ConversationEvents(ctx, conv)
				if last := tl[len(tl)-1]; last.Kind != sbevents.ChangeNote || last.Body != "Richiamare martedì" {
					t.Errorf("last timeline row %+v, want the note", last)
				}
			}},
		{name: "bot", panelPath: "/bot", form: url.Values{"state": {"off"}},
			method: "PUT", apiPath: "/bot", body: map[string]any{"state": "off"},
			change: sbevents.ChangeBot, data: map[string]any{sbevents.DataBot: "off"},
			state: fmt.Sprintf("assignee=0 team=%d status=open snoozed=false labels=[%d %d] bot=off urgent=true", team.ID, l1.ID, l2.ID),
			bad:   []bad{{url.Values{"state": {"paused"}}, 400, "", map[string]any{"state": "paused"}, "invalid_state", "state"}}},
		{name: "urgent", panelPath: "/urgent/clear", form: url.Values{},
			method: "DELETE", apiPath: "/urgent",
			change: sbevents.ChangeUnurgent,
			state:  fmt.Sprintf("assignee=0 team=%d status=open snoozed=false labels=[%d %d] bot=off urgent=false", team.ID, l1.ID, l2.ID)},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			panelPath := fmt.Sprintf("/inbox/%d%s", panelConv, s.panelPath)
			apiPath := fmt.Sprintf("/api/v1/conversations/%d%s", apiConv, s.apiPath)
			// Bad input first: refused by both, nothing changed.
			before := convState(t, a, panelConv)
			for _, b := range s.bad {
				resp, _ := agent.htmx("POST", panelPath, b.form)
				if msg := resp.Header.Get("X-Sendbox-Error"); resp.StatusCode != b.panelCode || !strings.Contains(msg, b.panelWords) {
					t.Errorf("panel %v: %d %q, want %d %q", b.form, resp.StatusCode, msg, b.panelCode, b.panelWords)
				}
				code, body := a.DoAs(key, s.method, apiPath, b.body)
				if e := sendboxtest.JSON[apiError](t, body).Error; code != 422 || e.Code != b.code || e.Field != b.field || e.Message == "" {
					t.Errorf("API %v: %d %s, want 422 %s on %s", b.body, code, body, b.code, b.field)
				}
			}
			if after := convState(t, a, panelConv); after != before {
				t.Errorf("a refused command changed the conversation: %s, was %s", after, before)
			}
			if after := convState(t, a, apiConv); after != before {
				t.Errorf("a refused API command changed the conversation: %s, was %s", after, before)
			}
			// A viewer's key may not.
			if code, body := a.DoAs(viewerKey, s.method, apiPath, s.body); code != http.StatusForbidden {
				t.Errorf("viewer key: %d %s", code, body)
			}

			if resp, body := agent.htmx("POST", panelPath, s.form); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("panel: %d %s %s", resp.StatusCode, resp.Header.Get("X-Sendbox-Error"), body)
			}
			code, body := a.DoAs(key, s.method, apiPath, s.body)
			want := http.StatusOK
			if s.method == "POST" && s.apiPath == "/notes" {
				want = http.StatusCreated
			}
			if code != want {
				t.Fatalf("API: %d %s", code, body)
			}
			// The API answers the conversation as it now is.
			if got := sendboxtest.JSON[struct{ Data store.Conversation }](t, body).Data; got.ID != apiConv {
				t.Errorf("API answered %s", body)
			}
			if got := convState(t, a, panelConv); got != s.state {
				t.Errorf("through the panel: %s\n                        want %s", got, s.state)
			}
			if got := convState(t, a, apiConv); got != s.state {
				t.Errorf("through the API:   %s\n                        want %s", got, s.state)
			}
			if s.checkAfter != nil {
				s.checkAfter(t, panelConv)
				s.checkAfter(t, apiConv)
			}
			byPanel := ev.take("the panel's "+s.change, func(e sbevents.Event) bool {
				return e.Type == sbevents.ConversationUpdated && e.ConversationID == panelConv && e.Status == s.change
			})
			byAPI := ev.take("the API's "+s.change, func(e sbevents.Event) bool {
				return e.Type == sbevents.ConversationUpdated && e.ConversationID == apiConv && e.Status == s.change
			})
			if byPanel.Actor.Kind != sbevents.ActorUser || byPanel.Actor.Name != "Agent" {
				t.Errorf("panel's event by %+v", byPanel.Actor)
			}
			if byAPI.Actor.Kind != sbevents.ActorAPIKey || byAPI.Actor.Name != "integration" {
				t.Errorf("API's event by %+v", byAPI.Actor)
			}
			if s.change == sbevents.ChangeStatus && s.data == nil { // a snooze: the same, but for the exact time
				delete(byPanel.Data, sbevents.DataSnoozedUntil)
				delete(byAPI.Data, sbevents.DataSnoozedUntil)
				s.data = map[string]any{sbevents.DataStatus: "snoozed"}
			}
			if !reflect.DeepEqual(byPanel.Data, s.data) || !reflect.DeepEqual(byAPI.Data, s.data) {
				t.Errorf("event data: panel %v, API %v, want %v", byPanel.Data, byAPI.Data, s.data)
			}
		})
	}

	// No such conversation: 404 from both.
	if resp, _ := agent.htmx("POST", "/inbox/424242/assign", url.Values{"assignee": {"me"}}); resp.StatusCode != 404 {
		t.Errorf("panel, no such conversation: %d", resp.StatusCode)
	}
	if code, body := a.DoAs(key, "PUT", "/api/v1/conversations/424242/status", map[string]string{"status": "open"}); code != 404 {
		t.Errorf("API, no such conversation: %d %s", code, body)
	}
}

// TestCommandJSONIsStrict: the API's command endpoints refuse unknown
// fields, wrong types, missing values and oversized bodies, and change
// nothing when they do.
func TestCommandJSONIsStrict(t *testing.T) {
	a := sendboxtest.New(t)
	conv := say(t, a, "393471110003", "Bruno", "Salve").ConversationID
	c, _ := a.Store.ConversationByID(context.Background(), conv)
	before := convState(t, a, conv)
	base := fmt.Sprintf("/api/v1/conversations/%d", conv)
	contact := fmt.Sprintf("/api/v1/contacts/%d", c.ContactID)
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"PUT", base + "/assignee", map[string]any{"user": 1}, 400, "invalid_json"},
		{"PUT", base + "/assignee", map[string]any{"user_id": "1"}, 400, "invalid_json"},
		{"PUT", base + "/assignee", map[string]any{}, 422, "invalid_assignee"},
		{"PUT", base + "/team", map[string]any{"team_id": -3}, 400, "invalid_json"},
		{"PUT", base + "/status", map[string]any{"status": 1}, 400, "invalid_json"},
		{"PUT", base + "/status", map[string]any{}, 422, "invalid_status"},
		{"POST", base + "/snooze", map[string]any{}, 422, "invalid_snooze"},
		{"POST", base + "/snooze", map[string]any{"for": "1h", "until": "2030-01-01T00:00:00Z"}, 422, "invalid_snooze"},
		{"POST", base + "/snooze", map[string]any{"for": "fortnight"}, 422, "invalid_snooze"},
		{"POST", base + "/snooze", map[string]any{"until": "tomorrow"}, 400, "invalid_json"},
		{"PUT", base + "/labels", map[string]any{}, 422, "unknown_label"},
		{"PUT", base + "/labels", map[string]any{"label_ids": "1"}, 400, "invalid_json"},
		{"POST", base + "/notes", map[string]any{"body": strings.Repeat("x", 70<<10)}, 413, "body_too_large"},
		{"PUT", base + "/bot", map[string]any{"state": "on", "extra": true}, 400, "invalid_json"},
		{"PATCH", contact, map[string]any{"tags": "vip"}, 400, "invalid_json"},
		{"PATCH", contact, map[string]any{"phone": "+39"}, 400, "invalid_json"},
		{"PATCH", "/api/v1/contacts/424242", map[string]any{"name": "X"}, 404, "not_found"},
		{"PUT", "/api/v1/conversations/x/status", map[string]any{"status": "open"}, 400, "invalid_id"},
	} {
		code, body := a.Do(tc.method, tc.path, tc.body)
		if e := sendboxtest.JSON[apiError](t, body).Error; code != tc.status || e.Code != tc.code {
			t.Errorf("%s %s %v: %d %s, want %d %s", tc.method, tc.path, tc.body, code, body, tc.status, tc.code)
		}
	}
	if after := convState(t, a, conv); after != before {
		t.Errorf("refused requests changed the conversation: %s, was %s", after, before)
	}
}

// TestContactCommandsThroughBothFronts: the contact form and PATCH
// /contacts/{id} save the same fields by the same rules, with the same
// contact.updated events naming who did it, and refuse the same bad input
// without saving any of it.
func TestContactCommandsThroughBothFronts(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	ev := watch(t, a)
	agent := userBrowser(t, a, "agent")
	key, _, err := accounts.CreateAPIKey(ctx, a.Store, "integration", "agent")
	if err != nil {
		t.Fatal(err)
	}
	viewerKey, _, err := accounts.CreateAPIKey(ctx, a.Store, "dashboard", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	byPanel := say(t, a, "393471110011", "Paola", "Salve").ContactID
	byAPI := say(t, a, "393471110012", "Aldo", "Salve").ContactID
	panelPath := fmt.Sprintf("/contacts/%d", byPanel)
	apiPath := fmt.Sprintf("/api/v1/contacts/%d", byAPI)
	type fields struct {
		Name, Email, Notes, Consent string
		Attributes                  map[string]string
		Tags                        []string
	}
	state := func(id int64) fields {
		t.Helper()
		c, err := a.Store.ContactWithTags(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return fields{c.Name, c.Email, c.Notes, c.Consent, c.Attributes, c.Tags}
	}
	form := func(over map[string]string) url.Values {
		f := url.Values{"name": {"Maria Rossi"}, "email": {"Maria@Example.com"}, "notes": {"Preferisce il mattino"},
			"tags": {"vip, paziente, VIP"}, "attributes": {"targa = AB123CD\nallergie = penicillina"}, "consent": {"opted_in"}}
		for k, v := range over {
			f.Set(k, v)
		}
		return f
	}
	body := func(over map[string]any) map[string]any {
		b := map[string]any{"name": "Maria Rossi", "email": "Maria@Example.com", "notes": "Preferisce il mattino",
			"tags": []string{"vip", "paziente", "VIP"}, "attributes": map[string]string{"targa": "AB123CD", "allergie": "penicillina"},
			"consent": "opted_in"}
		for k, v := range over {
			b[k] = v
		}
		return b
	}

	// Bad input: refused by both, with the same rule, nothing saved.
	beforePanel, beforeAPI := state(byPanel), state(byAPI)
	for _, c := range []struct {
		form        map[string]string
		words       string
		json        map[string]any
		code, field string
	}{
		{map[string]string{"email": "nope"}, "is not an e-mail address", map[string]any{"email": "nope"}, "invalid_email", "email"},
		{map[string]string{"tags": "vip, " + strings.Repeat("t", 41)}, "at most 40 characters",
			map[string]any{"tags": []string{"vip", strings.Repeat("t", 41)}}, "invalid_tag", "tags"},
		{map[string]string{"attributes": strings.Repeat("k", 61) + " = v"}, "keys have 1 to 60",
			map[string]any{"attributes": map[string]string{strings.Repeat("k", 61): "v"}}, "invalid_attribute", "attributes"},
		{map[string]string{"consent": "maybe"}, "not understood", map[string]any{"consent": "maybe"}, "invalid_consent", "consent"},
		{map[string]string{"notes": strings.Repeat("n", 5001)}, "at most 5,000", map[string]any{"notes": strings.Repeat("n", 5001)},
			"notes_too_long", "notes"},
		{map[string]string{"name": strings.Repeat("n", 101)}, "at most 100", map[string]any{"name": strings.Repeat("n", 101)},
			"invalid_name", "name"},
	} {
		agent.get(panelPath)
		if resp, page := agent.post(panelPath, form(c.form)); resp.StatusCode != 422 || !strings.Contains(page, c.words) {
			t.Errorf("panel %v: %d, want 422 saying %q", c.form, resp.StatusCode, c.words)
		}
		code, b := a.DoAs(key, "PATCH", apiPath, body(c.json))
		if e := sendboxtest.JSON[apiError](t, b).Error; code != 422 || e.Code != c.code || e.Field != c.field {
			t.Errorf("API %v: %d %s, want 422 %s on %s", c.json, code, b, c.code, c.field)
		}
	}
	if got := state(byPanel); !reflect.DeepEqual(got, beforePanel) {
		t.Errorf("refused forms changed the contact: %+v", got)
	}
	if got := state(byAPI); !reflect.DeepEqual(got, beforeAPI) {
		t.Errorf("refused PATCHes changed the contact: %+v", got)
	}
	if code, b := a.DoAs(viewerKey, "PATCH", apiPath, body(nil)); code != http.StatusForbidden {
		t.Errorf("viewer key: %d %s", code, b)
	}

	// The same change through each.
	agent.get(panelPath)
	if resp, page := agent.post(panelPath, form(nil)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("panel: %d %s", resp.StatusCode, page)
	}
	code, b := a.DoAs(key, "PATCH", apiPath, body(nil))
	if code != http.StatusOK {
		t.Fatalf("API: %d %s", code, b)
	}
	if got := sendboxtest.JSON[struct{ Data store.Contact }](t, b).Data; got.ID != byAPI || len(got.Tags) != 2 {
		t.Errorf("API answered %s", b)
	}
	want := fields{Name: "Maria Rossi", Email: "maria@example.com", Notes: "Preferisce il mattino", Consent: store.ConsentOptedIn,
		Attributes: map[string]string{"targa": "AB123CD", "allergie": "penicillina"}, Tags: []string{"paziente", "vip"}}
	for who, id := range map[string]int64{"panel": byPanel, "API": byAPI} {
		if got := state(id); !reflect.DeepEqual(got, want) {
			t.Errorf("through the %s: %+v\nwant %+v", who, got, want)
		}
	}
	for _, c := range []struct {
		contact int64
		actor   sbevents.Actor
	}{{byPanel, sbevents.Actor{Kind: sbevents.ActorUser, Name: "Agent"}}, {byAPI, sbevents.Actor{Kind: sbevents.ActorAPIKey, Name: "integration"}}} {
		for _, change := range []string{"", sbevents.ChangeConsent} {
			e := ev.take("contact.updated "+change, func(e sbevents.Event) bool {
				return e.Type == sbevents.ContactUpdated && e.ContactID == c.contact && e.Status == change
			})
			if e.Actor.Kind != c.actor.Kind || e.Actor.Name != c.actor.Name || e.Actor.ID == 0 {
				t.Errorf("contact %d %q by %+v, want %+v", c.contact, change, e.Actor, c.actor)
			}
			if change == sbevents.ChangeConsent && (e.Data[sbevents.DataConsent] != store.ConsentOptedIn ||
				!strings.Contains(fmt.Sprint(e.Data[sbevents.DataSource]), c.actor.Name)) {
				t.Errorf("consent event data %v", e.Data)
			}
		}
	}

	// PATCH changes only what it names.
	if code, b := a.DoAs(key, "PATCH", apiPath, map[string]any{"tags": []string{"nuovo"}}); code != http.StatusOK {
		t.Fatalf("PATCH tags: %d %s", code, b)
	}
	want.Tags = []string{"nuovo"}
	if got := state(byAPI); !reflect.DeepEqual(got, want) {
		t.Errorf("after PATCH tags: %+v\nwant %+v", got, want)
	}
	// GET shows the tags too.
	if code, b := a.Do("GET", apiPath, nil); code != 200 || !strings.Contains(b2s(b), `"tags":["nuovo"]`) {
		t.Errorf("GET contact: %d %s", code, b)
	}
}

func b2s(b []byte) string { return string(b) }
