package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"sendbox/accounts"
	"sendbox/events"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestCreateContact: an integration adds a contact by number before the
// customer writes, with the fields and rules of PATCH; the number is
// normalised, taken once, and the customer's first message lands on it.
func TestCreateContact(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	var mu sync.Mutex
	var created []events.Event
	sub, err := a.Broker.NC.Subscribe(events.SubjectsEvents, func(m *nats.Msg) {
		var ev events.Event
		if json.Unmarshal(m.Data, &ev) == nil && ev.Type == events.ContactCreated {
			mu.Lock()
			created = append(created, ev)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	key, _, err := accounts.CreateAPIKey(ctx, a.Store, "crm", "agent")
	if err != nil {
		t.Fatal(err)
	}
	viewer, _, err := accounts.CreateAPIKey(ctx, a.Store, "dashboard", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"phone": "+39 347 555 0101", "name": " Lucia Bianchi ", "email": "Lucia@Example.com",
		"tags": []string{"vip", "VIP", "nuova"}, "attributes": map[string]string{"tessera": "A-17"}, "consent": "opted_in"}
	for _, c := range []struct {
		key    string
		body   any
		status int
		code   string
	}{
		{viewer, good, 403, "forbidden"},
		{key, map[string]any{"phone": "0347 555 0101"}, 422, "invalid_phone"},
		{key, map[string]any{"phone": "US.13491208655302741918"}, 422, "invalid_phone"},
		{key, map[string]any{}, 422, "invalid_phone"},
		{key, map[string]any{"phone": "+393475550101", "email": "nope"}, 422, "invalid_email"},
		{key, map[string]any{"phone": "+393475550101", "consent": "yes"}, 422, "invalid_consent"},
		{key, map[string]any{"phone": "+393475550101", "wa_id": "393475550101"}, 400, "invalid_json"},
	} {
		code, body := a.DoAs(c.key, "POST", "/api/v1/contacts", c.body)
		if code != c.status || sendboxtest.JSON[apiErr](t, body).Error.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.body, code, body, c.status, c.code)
		}
	}
	if _, total, _, _ := a.Store.ListContacts(ctx, store.ContactFilter{Limit: 10}); total != 0 {
		t.Fatalf("refused creations left %d contacts", total)
	}

	code, body := a.DoAs(key, "POST", "/api/v1/contacts", good)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	c := sendboxtest.JSON[struct{ Data store.Contact }](t, body).Data
	if c.WaID != "393475550101" || c.Name != "Lucia Bianchi" || c.Email != "lucia@example.com" || len(c.Tags) != 2 ||
		c.Attributes["tessera"] != "A-17" || c.Consent != store.ConsentOptedIn || c.ConsentSource == "" {
		t.Fatalf("created %+v", c)
	}
	sendboxtest.Eventually(t, 20*time.Second, "contact.created", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(created) == 1
	})
	if ev := created[0]; ev.ContactID != c.ID || ev.Actor.Kind != events.ActorAPIKey || ev.Actor.Name != "crm" {
		t.Errorf("contact.created %+v", ev)
	}
	// The same number, written otherwise, is taken.
	code, body = a.DoAs(key, "POST", "/api/v1/contacts", map[string]any{"phone": "0039 347 555 0101"})
	if code != http.StatusConflict || sendboxtest.JSON[apiErr](t, body).Error.Code != "contact_exists" {
		t.Errorf("a second contact for the number: %d %s", code, body)
	}
	// The customer's first message is theirs.
	m, err := a.Store.MessageByWAMID(ctx, inbound(t, a, "393475550101", "Buongiorno"))
	if err != nil {
		t.Fatal(err)
	}
	conv, err := a.Store.ConversationByID(ctx, m.ConversationID)
	if err != nil || conv.ContactID != c.ID {
		t.Fatalf("the message went to contact %d, want %d (%v)", conv.ContactID, c.ID, err)
	}
	if got, _ := a.Store.ContactWithTags(ctx, c.ID); got.Email != "lucia@example.com" || got.Consent != store.ConsentOptedIn {
		t.Errorf("the customer's message changed the contact: %+v", got)
	}
}

// TestHandoffByAPI: an integration (a bot of its own, say) asks a person to
// take over, as sendbox's assistant does when it cannot answer: the
// assistant pauses, the conversation is routed to a person with the reason,
// and the handoff event names the key.
func TestHandoffByAPI(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	var mu sync.Mutex
	var handoffs []events.Event
	sub, err := a.Broker.NC.Subscribe(events.SubjectsEvents, func(m *nats.Msg) {
		var ev events.Event
		if json.Unmarshal(m.Data, &ev) == nil && ev.Status == events.ChangeHandoff {
			mu.Lock()
			handoffs = append(handoffs, ev)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	m, err := a.Store.MessageByWAMID(ctx, inbound(t, a, "393475550202", "Vorrei un preventivo"))
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/conversations/" + strconv.FormatInt(m.ConversationID, 10) + "/handoff"
	viewer, _, err := accounts.CreateAPIKey(ctx, a.Store, "dashboard", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key    string
		body   any
		status int
		code   string
	}{
		{viewer, map[string]any{"reason": "quote"}, 403, "forbidden"},
		{a.Key, map[string]any{"reason": "  "}, 422, "invalid_reason"},
		{a.Key, map[string]any{"reason": strings.Repeat("r", 501)}, 422, "invalid_reason"},
		{a.Key, map[string]any{"reason": "quote", "team_id": 424242}, 422, "invalid_team"},
		{a.Key, map[string]any{"reason": "quote", "urgent": "yes"}, 400, "invalid_json"},
		{a.Key, map[string]any{"why": "quote"}, 400, "invalid_json"},
	} {
		code, body := a.DoAs(c.key, "POST", path, c.body)
		if code != c.status || sendboxtest.JSON[apiErr](t, body).Error.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.body, code, body, c.status, c.code)
		}
	}
	if c, _ := a.Store.ConversationByID(ctx, m.ConversationID); c.Bot != store.BotOn || c.Urgent {
		t.Fatalf("refused handoffs changed the conversation: bot %s, urgent %v", c.Bot, c.Urgent)
	}
	team, _ := a.Store.CreateTeam(ctx, "Sales")
	code, body := a.Do("POST", path, map[string]any{"reason": "asks for a quote", "team_id": team.ID, "urgent": true})
	if code != http.StatusOK {
		t.Fatalf("handoff: %d %s", code, body)
	}
	c := sendboxtest.JSON[struct{ Data store.Conversation }](t, body).Data
	if c.Bot != store.BotPaused || !c.Urgent || c.TeamID != team.ID || c.Routing == nil ||
		c.Routing.To != store.RoutePerson || c.Routing.Reason != "handoff" || c.Routing.Detail != "asks for a quote" {
		t.Fatalf("after the handoff: %+v routing %+v", c, c.Routing)
	}
	sendboxtest.Eventually(t, 20*time.Second, "the handoff event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handoffs) == 1
	})
	if ev := handoffs[0]; ev.ConversationID != m.ConversationID || ev.Actor.Kind != events.ActorAPIKey || ev.Actor.Name != "test" {
		t.Errorf("handoff event %+v", ev)
	}
}

// TestEditTags: an integration adds and removes some tags without reading
// and rewriting the others, by the rules of the contact form, and edits
// made at the same time all count.
func TestEditTags(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	code, body := a.Do("POST", "/api/v1/contacts", map[string]any{"phone": "+393475550303", "tags": []string{"VIP", "lead"}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	id := sendboxtest.JSON[struct{ Data store.Contact }](t, body).Data.ID
	path := "/api/v1/contacts/" + strconv.FormatInt(id, 10) + "/tags"
	tags := func() []string {
		c, err := a.Store.ContactWithTags(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Tags
	}
	code, body = a.Do("POST", path, map[string]any{"add": []string{" cliente ", "vip"}, "remove": []string{"LEAD"}})
	if code != http.StatusOK {
		t.Fatalf("edit: %d %s", code, body)
	}
	if got := sendboxtest.JSON[struct{ Data store.Contact }](t, body).Data.Tags; fmt.Sprint(got) != "[cliente VIP]" {
		t.Errorf("tags after the edit: %q", got)
	}
	many := make([]string, 29)
	for i := range many {
		many[i] = "t" + strconv.Itoa(i)
	}
	for _, c := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{}, 422, "invalid_tag"},
		{map[string]any{"add": []string{"a,b"}}, 422, "invalid_tag"},
		{map[string]any{"add": many}, 422, "too_many_tags"}, // 2 + 29 > 30
		{map[string]any{"add": "vip"}, 400, "invalid_json"},
	} {
		code, body := a.Do("POST", path, c.body)
		if code != c.status || sendboxtest.JSON[apiErr](t, body).Error.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.body, code, body, c.status, c.code)
		}
	}
	if got := tags(); fmt.Sprint(got) != "[cliente VIP]" {
		t.Errorf("refused edits changed the tags: %q", got)
	}
	if code, body := a.Do("POST", "/api/v1/contacts/424242/tags", map[string]any{"add": []string{"x"}}); code != 404 {
		t.Errorf("no such contact: %d %s", code, body)
	}
	// Ten integrations tag at once: every tag is kept.
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if code, body := a.Do("POST", path, map[string]any{"add": []string{"c" + strconv.Itoa(i)}}); code != 200 {
				t.Errorf("concurrent edit %d: %d %s", i, code, body)
			}
		}(i)
	}
	wg.Wait()
	if got := tags(); len(got) != 12 {
		t.Errorf("after ten edits at once: %d tags %q", len(got), got)
	}
}
