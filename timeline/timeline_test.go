package timeline

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sendbox/events"
)

// TestEveryFormatFills: each sentence fills with any actor and values
// without fmt's complaints, so no line shows "%!".
func TestEveryFormatFills(t *testing.T) {
	for _, k := range Keys() {
		f, _ := English(k)
		if k == "timeline.snooze_time" || !strings.HasPrefix(k, "timeline.") {
			continue
		}
		if got := (printer{}).say(k, "A", "B", "C"); strings.Contains(got, "%!") {
			t.Errorf("%s (%q) says %q", k, f, got)
		}
	}
}

// TestRowsReadTheSameStoredOrEmitted: data as the store emits it (Go
// values) and as it reads it back (decoded JSON) say the same.
func TestRowsReadTheSameStoredOrEmitted(t *testing.T) {
	until := time.Date(2030, 1, 2, 8, 0, 0, 0, time.UTC)
	maria := events.User(3, "Maria")
	for _, r := range []Row{
		{Kind: events.ChangeAssigned, Actor: maria, Data: map[string]any{events.DataAssignee: int64(4), events.DataAssigneeName: "Luca"}},
		{Kind: events.ChangeStatus, Actor: maria, Data: map[string]any{events.DataStatus: "snoozed", events.DataSnoozedUntil: until}},
		{Kind: events.ChangeLabels, Actor: maria, Data: map[string]any{events.DataLabels: []int64{1}, events.DataLabelNames: []string{"VIP"}}},
	} {
		b, _ := json.Marshal(r.Data)
		stored := Row{Kind: r.Kind, Actor: r.Actor}
		json.Unmarshal(b, &stored.Data)
		if a, b := Text(r, nil), Text(stored, nil); a != b || strings.Contains(a, "?") {
			t.Errorf("emitted %q, stored %q", a, b)
		}
	}
}

// TestAnotherLanguage: a reader's language words what it has; what it
// lacks falls back to English; what no language knows shows its code.
func TestAnotherLanguage(t *testing.T) {
	italian := map[string]string{
		"timeline.status.resolved": "%[1]s ha risolto la conversazione",
		"timeline.actor.assistant": "L'assistente",
	}
	w := func(k string) (string, bool) { s, ok := italian[k]; return s, ok }
	for _, c := range []struct {
		row  Row
		want string
	}{
		{Row{Kind: events.ChangeStatus, Actor: events.User(1, "Maria"), Data: map[string]any{"status": "resolved"}},
			"Maria ha risolto la conversazione"},
		{Row{Kind: events.ChangeUnurgent, Actor: events.Assistant()}, "L'assistente cleared the urgent flag"},
		{Row{Kind: events.ChangeStatus, Actor: events.System("x"), Data: map[string]any{"status": "archived"}}, "status.archived"},
		{Row{Kind: "merged", Body: "Merged with #4"}, "Merged with #4"},
		{Row{Kind: events.ChangeLegacy, Body: "Resolved", Data: map[string]any{"kind": "status"}}, "Resolved"},
		{Row{Kind: events.ChangeLegacy, Actor: events.APIKey(2, "crm"), Body: "Assistant switched off"},
			"The API key crm: Assistant switched off"},
		{Row{Kind: events.ChangeRouted, Actor: events.Assistant(), Data: map[string]any{"routed_to": "person", "reason": "escalated",
			"detail": "medical_urgency"}}, "Answered by a person · reason: escalated (Medical urgency)"},
		{Row{Kind: events.ChangeAssigned, Actor: events.User(1, "")}, "Someone unassigned the conversation"},
	} {
		if got := Text(c.row, w); got != c.want {
			t.Errorf("%+v: %q, want %q", c.row, got, c.want)
		}
	}
}
