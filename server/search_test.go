package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
)

type searchResp struct {
	Data []struct {
		Kind           string
		ID             int64
		ConversationID int64 `json:"conversation_id"`
		ContactID      int64 `json:"contact_id"`
		Text           string
		Direction      string
		Type           string
		Highlights     []struct{ Start, End int }
		Contact        *store.Contact
	}
	Total  int
	Facets map[string][]struct {
		Term  string
		Count int
	}
}

func (r searchResp) texts() []string {
	var out []string
	for _, d := range r.Data {
		if d.Kind == "message" {
			out = append(out, d.Text)
		}
	}
	return out
}

func searchAPI(t *testing.T, a *sendboxtest.App, params url.Values) searchResp {
	t.Helper()
	code, body := a.Do("GET", "/api/v1/search?"+params.Encode(), nil)
	if code != 200 {
		t.Fatalf("search %s: %d %s", params.Encode(), code, body)
	}
	return sendboxtest.JSON[searchResp](t, body)
}

// indexed waits until the indexer has applied every change.
func indexed(t *testing.T, a *sendboxtest.App) {
	t.Helper()
	drained(t, a)
	sendboxtest.Eventually(t, 30*time.Second, "the search index to catch up", func() bool {
		_, body := a.Do("GET", "/metrics", nil)
		return strings.Contains(string(body), "sendbox_search_pending 0\n")
	})
}

// TestSearchAPI posts customer messages in five languages through the real
// webhook path and searches them with words, phrases, typos and filters.
func TestSearchAPI(t *testing.T) {
	a := sendboxtest.New(t)
	msgs := []struct{ wamid, from, name, text string }{
		{"wamid.s1", "393331110001", "Giulia Romano", "Buongiorno, avete ancora i divani in velluto verde?"},
		{"wamid.s2", "393331110002", "Marco Bruno", "Vorrei un appuntamento per la pulizia dei denti"},
		{"wamid.s3", "33611110003", "Chloé Martin", "Bonjour, l'école de mon fils est à côté, je passe demain"},
		{"wamid.s4", "4915111110004", "Jürgen Müller", "Ich brauche Öl für meinen Wagen, Kennzeichen AB123CD"},
		{"wamid.s5", "34611110005", "Lucía García", "¿Tienen el sofá de terciopelo verde en stock?"},
		{"wamid.s6", "447700110006", "Emma Jones", "Is the green velvet sofa still available? I loved it in March"},
	}
	for _, m := range msgs {
		if code, _ := a.PostWebhook(textWebhookNamed(m.wamid, m.from, m.name, m.text)); code != 200 {
			t.Fatal(code)
		}
	}
	indexed(t, a)
	has := func(r searchResp, frag string) bool {
		for _, s := range r.texts() {
			if strings.Contains(s, frag) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct{ q, want string }{
		{"divano", "divani in velluto"},      // Italian plural from the singular
		{"ecole", "l'école"},                 // French elision and accents
		{"appuntmento", "appuntamento"},      // a typo
		{`"velluto verde"`, "velluto verde"}, // a phrase
		{"terciopelo", "terciopelo"},         // Spanish
		{"ol", "Öl"},                         // German umlaut folded
		{"AB123CD", "AB123CD"},               // a plate, exactly
		{"appunt*", "appuntamento"},          // a prefix
		{"sofas", "green velvet sofa"},       // English stemming
	} {
		r := searchAPI(t, a, url.Values{"q": {c.q}, "kind": {"message"}})
		if !has(r, c.want) {
			t.Errorf("q=%s: %v, want one with %q", c.q, r.texts(), c.want)
		}
	}
	// A phrase in the wrong order is not the phrase.
	if r := searchAPI(t, a, url.Values{"q": {`"verde velluto"`}, "kind": {"message"}}); r.Total != 0 {
		t.Errorf("phrase out of order matched %v", r.texts())
	}
	// Highlights point at the right bytes of accented text.
	r := searchAPI(t, a, url.Values{"q": {"ecole"}, "kind": {"message"}})
	if len(r.Data) != 1 || len(r.Data[0].Highlights) == 0 {
		t.Fatalf("highlights: %+v", r.Data)
	}
	h := r.Data[0].Highlights[0]
	if got := r.Data[0].Text[h.Start:h.End]; got != "école" && got != "l'école" {
		t.Errorf("highlight covers %q", got)
	}
	// Contacts by name, accents folded.
	r = searchAPI(t, a, url.Values{"q": {"muller"}, "kind": {"contact"}})
	if len(r.Data) != 1 || r.Data[0].Contact == nil || r.Data[0].Contact.Name != "Jürgen Müller" {
		t.Errorf("contact search: %+v", r.Data)
	}
	// Filters: the contact, direction, date range.
	giulia, _ := a.Store.ContactByRecipient(context.Background(), "393331110001", "")
	r = searchAPI(t, a, url.Values{"q": {"verde"}, "contact": {fmt.Sprint(giulia.ID)}})
	if len(r.texts()) != 1 || !strings.Contains(r.texts()[0], "velluto") {
		t.Errorf("contact filter: %v", r.texts())
	}
	if r := searchAPI(t, a, url.Values{"q": {"verde"}, "direction": {"outbound"}}); r.Total != 0 {
		t.Errorf("direction filter: %v", r.texts())
	}
	tomorrow := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	if r := searchAPI(t, a, url.Values{"q": {"verde"}, "from": {tomorrow}, "kind": {"message"}}); r.Total != 0 {
		t.Errorf("date filter: %v", r.texts())
	}
	// Status and label live on the conversation: changing them re-indexes its messages.
	conv, _, _, _ := a.Store.ListConversations(context.Background(), store.ConversationFilter{ContactID: giulia.ID})
	lbl, _ := a.Store.CreateLabel(context.Background(), "Showroom", 1)
	a.Store.SetConversationLabels(context.Background(), conv[0].ID, []int64{lbl.ID})
	a.Store.SetStatus(context.Background(), conv[0].ID, "resolved", time.Time{})
	indexed(t, a)
	r = searchAPI(t, a, url.Values{"q": {"verde"}, "status": {"resolved"}, "label": {fmt.Sprint(lbl.ID)}, "facets": {"1"}})
	if len(r.texts()) != 1 || !strings.Contains(r.texts()[0], "velluto") {
		t.Errorf("status and label filters: %v", r.texts())
	}
	if len(r.Facets) == 0 {
		t.Error("no facets")
	}
	// Sorting by date and paging: no overlap, everything once.
	seen := map[int64]bool{}
	for off := 0; off < 10; off += 2 {
		r := searchAPI(t, a, url.Values{"q": {"verde sofa divani appuntamento ecole"}, "kind": {"message"}, "sort": {"date"},
			"limit": {"2"}, "offset": {fmt.Sprint(off)}})
		for _, d := range r.Data {
			if seen[d.ID] {
				t.Fatalf("message %d on two pages", d.ID)
			}
			seen[d.ID] = true
		}
	}
	// Bad parameters are refused with the error shape.
	for _, bad := range []string{"sort=size", "direction=up", "contact=x", "from=yesterday", "kind=kb", "offset=-1", "status=done"} {
		if code, body := a.Do("GET", "/api/v1/search?q=a&"+bad, nil); code != 400 || !strings.Contains(string(body), "invalid_query") {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	// Erasing a customer removes them from search.
	if code, _ := a.Do("DELETE", fmt.Sprintf("/api/v1/contacts/%d", giulia.ID), nil); code != 204 {
		t.Fatal("erase")
	}
	indexed(t, a)
	if r := searchAPI(t, a, url.Values{"q": {"velluto"}}); r.Total != 0 {
		t.Errorf("erased customer still found: %+v", r.Data)
	}
	if r := searchAPI(t, a, url.Values{"q": {"giulia"}, "kind": {"contact"}}); r.Total != 0 {
		t.Errorf("erased contact still found: %+v", r.Data)
	}
	_, metrics := a.Do("GET", "/metrics", nil)
	for _, want := range []string{"sendbox_search_pending", "sendbox_search_lag_seconds_count", `sendbox_search_indexed_total{kind="message",op="delete"}`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func textWebhookNamed(wamid, from, name, body string) []byte {
	return []byte(strings.Replace(string(textWebhook(wamid, from, body, "")), `"name":"Luca"`, fmt.Sprintf(`"name":%q`, name), 1))
}

// TestOnlySearchedChangesReindex: a change a search filter looks at (the
// status) re-indexes the conversation's messages; who answers it (recorded
// for every new conversation) and its team re-index nothing.
func TestOnlySearchedChangesReindex(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	m, err := a.Store.MessageByWAMID(ctx, inbound(t, a, "393331119911", "Avete il divano in velluto?"))
	if err != nil {
		t.Fatal(err)
	}
	indexed(t, a)
	upserts := func() string {
		_, body := a.Do("GET", "/metrics", nil)
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, `sendbox_search_indexed_total{kind="message",op="upsert"} `) {
				return line
			}
		}
		return ""
	}
	before := upserts()
	if err := a.Store.SetRouting(ctx, m.ConversationID, store.Routing{To: store.RouteAssistant, Reason: "assistant_on"}); err != nil {
		t.Fatal(err)
	}
	team, err := a.Store.CreateTeam(ctx, "Front desk")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.SetTeam(ctx, m.ConversationID, team.ID); err != nil {
		t.Fatal(err)
	}
	indexed(t, a)
	if after := upserts(); after != before {
		t.Fatalf("routing and team re-indexed messages: %q then %q", before, after)
	}
	if err := a.Store.SetStatus(ctx, m.ConversationID, "pending", time.Time{}); err != nil {
		t.Fatal(err)
	}
	indexed(t, a)
	if after := upserts(); after == before {
		t.Fatal("a status change did not re-index the conversation's messages")
	}
	if r := searchAPI(t, a, url.Values{"q": {"velluto"}, "status": {"pending"}}); r.Total != 1 {
		t.Fatalf("the pending conversation's message is not found by status: %+v", r)
	}
}
