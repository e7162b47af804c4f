package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"sendbox/accounts"
	"sendbox/events"
	"sendbox/sendboxtest"
)

// TestTimelineAPI: the timeline gives each row's kind, actor and data,
// a note's text, and the line in English.
func TestTimelineAPI(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	m, err := a.Store.MessageByWAMID(ctx, inbound(t, a, "393401112299", "Buongiorno"))
	if err != nil {
		t.Fatal(err)
	}
	key, k, err := accounts.CreateAPIKey(ctx, a.Store, "crm", "agent")
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/conversations/%d", m.ConversationID)
	if code, body := a.DoAs(key, "PUT", path+"/bot", map[string]string{"state": "off"}); code != http.StatusOK {
		t.Fatalf("bot off: %d %s", code, body)
	}
	u, err := a.Store.CreateUser(ctx, "maria@example.com", "Maria", "agent", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.AddNote(events.WithActor(ctx, events.User(u.ID, u.Name)), m.ConversationID, "called her back"); err != nil {
		t.Fatal(err)
	}

	code, body := a.DoAs(key, "GET", path+"/timeline", nil)
	if code != http.StatusOK {
		t.Fatalf("timeline: %d %s", code, body)
	}
	type line struct {
		Kind  string
		Actor *events.Actor
		Data  map[string]any
		Body  string
		Text  string
	}
	got := sendboxtest.JSON[struct {
		Data  []line
		Total int
	}](t, body)
	var bot, note *line
	for i, l := range got.Data {
		switch l.Kind {
		case events.ChangeBot:
			bot = &got.Data[i]
		case events.ChangeNote:
			note = &got.Data[i]
		}
	}
	if got.Total != len(got.Data) || bot == nil || note == nil {
		t.Fatalf("timeline: %s", body)
	}
	if bot.Actor == nil || *bot.Actor != events.APIKey(k.ID, "crm") || len(bot.Data) != 1 || bot.Data["bot"] != "off" ||
		bot.Body != "" || bot.Text != "The API key crm switched the assistant off" {
		t.Errorf("the switch: %+v", bot)
	}
	if note.Actor == nil || *note.Actor != events.User(u.ID, "Maria") || note.Body != "called her back" ||
		note.Text != "Maria added a private note" {
		t.Errorf("the note: %+v", note)
	}
	if code, _ := a.Do("GET", "/api/v1/conversations/999999/timeline", nil); code != http.StatusNotFound {
		t.Errorf("no such conversation: %d", code)
	}
}
