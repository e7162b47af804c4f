package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// now anchors the fixtures' dates and the date facets.
var now = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

// fixture message i is i*3 days and an hour old: ids 1–2 are in the last 7
// days, 1–9 in the last 30, 10+ older.
func msg(id, conv, contact int64, text string, opts ...func(*Message)) Message {
	m := Message{
		ID: id, ConversationID: conv, ContactID: contact, Text: text,
		Direction: "inbound", Type: "text", Status: "open",
		At: now.Add(-time.Duration(id)*72*time.Hour - time.Hour),
	}
	for _, o := range opts {
		o(&m)
	}
	return m
}

func out(agent int64) func(*Message) {
	return func(m *Message) { m.Direction, m.AgentID = "outbound", agent }
}
func typ(t string) func(*Message)      { return func(m *Message) { m.Type = t } }
func status(s string) func(*Message)   { return func(m *Message) { m.Status = s } }
func labels(l ...int64) func(*Message) { return func(m *Message) { m.Labels = l } }

func fixtureMessages() []Message {
	return []Message{
		msg(1, 10, 100, "Vorrei prenotare una vacanza al mare", labels(1)),
		msg(2, 10, 100, "Avete ancora il divano in velluto verde in vetrina?", labels(1, 2)),
		msg(3, 10, 100, "Le confermo l'appuntamento di lunedì alle 15:30", out(7), typ("template"), labels(1, 2)),
		msg(4, 11, 101, "Ho un forte mal di denti, potete vedermi oggi?", status("pending"), labels(2)),
		msg(5, 12, 102, "L'école de ma fille demande un certificat", status("resolved")),
		msg(6, 12, 102, "Vous avez encore le canapé en velours vert ?", status("resolved")),
		msg(7, 13, 103, "Ich brauche Öl für den Wagen", status("snoozed")),
		msg(8, 13, 103, "Termin bei Frau Müller am Montag", out(8), status("snoozed")),
		msg(9, 14, 104, "¿Tienen hueco para una limpieza el lunes?"),
		msg(10, 15, 105, "I booked two appointments for cleaning"),
		msg(11, 16, 106, "Mi serve il filtro olio per la targa AB123CD", labels(3)),
		msg(12, 13, 103, "Die Teilenummer ist 3C1 807 217", status("snoozed")),
		msg(13, 10, 100, "I divani sono arrivati", out(7), labels(1, 2)),
		msg(14, 17, 107, "Le vacanze sono finite"),
		msg(15, 17, 107, "Tessuto verde velluto o lino per il divano?"),
		msg(16, 15, 105, "Do you still have the green velvet sofa?", out(9)),
		msg(17, 18, 100, "Via Roma 12, Milano", typ("location")),
		msg(18, 18, 100, "ecco la foto del graffio", typ("image")),
	}
}

func fixtureContacts() []Contact {
	return []Contact{
		{ID: 100, Name: "Giulia Bianchi", Phone: "+39 333 123 4567", Email: "giulia.b@example.com", Tags: []string{"vip"},
			Attributes: map[string]string{"city": "Milano"}, Notes: "preferisce essere chiamata la mattina"},
		{ID: 101, Name: "Jürgen Müller", Phone: "+49 151 2345678", Tags: []string{"b2b"}, Username: "jmueller"},
		{ID: 102, Name: "Élodie Lefèvre", Phone: "+33 6 12 34 56 78"},
	}
}

func fixtureKB() []KBChunk {
	return []KBChunk{
		{ID: "5-0", DocID: 5, Title: "Orari di apertura", Text: "Lo studio è aperto dal lunedì al venerdì dalle 9 alle 19."},
		{ID: "6-0", DocID: 6, Title: "Prices", Text: "A professional cleaning costs 80 pounds."},
	}
}

func openTest(t *testing.T) *Index {
	t.Helper()
	x, err := Open(Options{Dir: t.TempDir(), DefaultLang: "it"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func fixtureIndex(t *testing.T) *Index {
	t.Helper()
	x := openTest(t)
	err := x.Apply(context.Background(), &Batch{Messages: fixtureMessages(), Contacts: fixtureContacts(), KB: fixtureKB()})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// keys names hits "m12", "c100", "k5-0", sorted.
func keys(r *Result) []string {
	var out []string
	for _, h := range r.Hits {
		switch h.Kind {
		case KindMessage:
			out = append(out, fmt.Sprintf("m%d", h.ID))
		case KindContact:
			out = append(out, fmt.Sprintf("c%d", h.ID))
		case KindKB:
			out = append(out, "k"+h.KBID)
		}
	}
	slices.Sort(out)
	return out
}

func mustSearch(t *testing.T, x *Index, q Query) *Result {
	t.Helper()
	if q.Now.IsZero() {
		q.Now = now
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	r, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return r
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	cases := []struct {
		name, q string
		want    []string
	}{
		{"italian singular finds plural", "vacanza", []string{"m1", "m14"}},
		{"italian plural finds singular", "vacanze", []string{"m1", "m14"}},
		{"italian divano/divani", "divani", []string{"m13", "m15", "m2"}},
		{"italian short plural", "dente", []string{"m4"}},
		{"italian elision", "appuntamento", []string{"m3"}},
		{"italian typo", "appuntmento", []string{"m3"}},
		{"italian stop word left out", "mal di denti", []string{"m4"}},
		{"french elision and accents", "ecole", []string{"m5"}},
		{"french accented query", "école", []string{"m5"}},
		{"french accent folding", "canape", []string{"m6"}},
		{"french accented", "canapé", []string{"m6"}},
		{"german umlaut folded", "ol", []string{"m7"}},
		{"german umlaut", "Öl", []string{"m7"}},
		{"german ue spelling", "Mueller", []string{"m8"}},
		{"german umlaut name", "muller", []string{"m8"}},
		{"spanish", "limpieza", []string{"m9"}},
		{"spanish plural", "limpiezas", []string{"m9"}},
		{"english stemming", "appointment", []string{"m10"}},
		{"english stemming booking", "booking", []string{"m10"}},
		{"english words", "green velvet", []string{"m16"}},
		{"english typo", "velvett", []string{"m16"}},
		{"words in any order", "velluto verde", []string{"m15", "m2"}},
		{"phrase", `"velluto verde"`, []string{"m2"}},
		{"reversed phrase", `"verde velluto"`, []string{"m15"}},
		{"phrase with a stop word", `"mal di denti"`, []string{"m4"}},
		{"explicit prefix", "vell*", []string{"m15", "m2"}},
		{"as-you-type prefix", "canap", []string{"m6"}},
		{"as-you-type prefix italian", "appunt", []string{"m3"}},
		{"plate exact", "AB123CD", []string{"m11"}},
		{"plate lowercase", "ab123cd", []string{"m11"}},
		{"plate one off is another plate", "AB123CE", nil},
		{"part number words", "3C1 807 217", []string{"m12"}},
		{"part number dashes", "3C1-807-217", []string{"m12"}},
		{"part number wrong", "3C1 807 218", nil},
		{"excluded word", "divano -velluto", []string{"m13"}},
		{"short word no typo", "olo", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustSearch(t, x, Query{Q: c.q, Kinds: []string{KindMessage}})
			if got := keys(r); !slices.Equal(got, c.want) {
				t.Errorf("%q: got %v, want %v", c.q, got, c.want)
			}
		})
	}
}

func TestShortWords(t *testing.T) {
	t.Parallel()
	x := openTest(t)
	err := x.Apply(context.Background(), &Batch{Messages: []Message{
		msg(1, 1, 1, "Quería pedir cita para una limpieza"),
		msg(2, 1, 1, "Tengo dos citas el lunes, ¿es posible?"),
		msg(3, 1, 1, "Mi fa male un dente da ieri"),
		msg(4, 1, 1, "Ho i denti sensibili, che cosa posso fare?"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{
		"cita": {"m1", "m2"}, "citas": {"m1", "m2"}, "dente": {"m3", "m4"}, "denti": {"m3", "m4"},
	} {
		if got := keys(mustSearch(t, x, Query{Q: q, Kinds: []string{KindMessage}})); !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", q, got, want)
		}
	}
}

func TestExactOutranksFuzzyAndPrefix(t *testing.T) {
	t.Parallel()
	x := openTest(t)
	err := x.Apply(context.Background(), &Batch{Messages: []Message{
		msg(1, 1, 1, "Il preventivo è pronto"),
		msg(2, 1, 1, "Il preventvo è pronto"),         // typo in the text
		msg(3, 1, 1, "preventivi per i preventivati"), // plural + a longer word
		msg(4, 1, 1, "Ecco il preventivo, il preventivo firmato"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := mustSearch(t, x, Query{Q: "preventivo", Kinds: []string{KindMessage}})
	if len(r.Hits) < 3 {
		t.Fatalf("hits %v", keys(r))
	}
	pos := map[int64]int{}
	for i, h := range r.Hits {
		pos[h.ID] = i
	}
	if pos[2] < pos[1] || pos[2] < pos[4] {
		t.Errorf("fuzzy match ranked above exact ones: %+v", r.Hits)
	}
}

func TestContacts(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	cases := []struct {
		q    string
		want []string
	}{
		{"bianchi", []string{"c100"}},
		{"Giulia", []string{"c100"}},
		{"giul", []string{"c100"}},       // as you type
		{"jurgen", []string{"c101"}},     // folded
		{"Jürgen", []string{"c101"}},     // as written
		{"elodie", []string{"c102"}},     // folded
		{"lefevre", []string{"c102"}},    // folded
		{"4567", []string{"c100"}},       // phone suffix
		{"+39 333", []string{"c100"}},    // phone prefix, spaced
		{"3331234567", []string{"c100"}}, // local number
		{"vip", []string{"c100"}},        // tag
		{"jmueller", []string{"c101"}},   // username
		{"giulia.b@example.com", []string{"c100"}},
		{"mattina", []string{"c100"}}, // notes
		{"Milano", []string{"c100"}},
		{"Bianchy", []string{"c100"}}, // typo
	}
	for _, c := range cases {
		r := mustSearch(t, x, Query{Q: c.q, Kinds: []string{KindContact}})
		if got := keys(r); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %v, want %v", c.q, got, c.want)
		}
	}
	// The default kinds are messages and contacts.
	if got := keys(mustSearch(t, x, Query{Q: "Milano"})); !slices.Equal(got, []string{"c100", "m17"}) {
		t.Errorf("Milano: got %v", got)
	}
	// Contact hits carry the contact id.
	r := mustSearch(t, x, Query{Q: "bianchi", Kinds: []string{KindContact}})
	if len(r.Hits) != 1 || r.Hits[0].ContactID != 100 || r.Hits[0].Kind != KindContact {
		t.Errorf("contact hit %+v", r.Hits)
	}
}

func TestKB(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	r := mustSearch(t, x, Query{Q: "orari apertura", Kinds: []string{KindKB}})
	if got := keys(r); !slices.Equal(got, []string{"k5-0"}) {
		t.Fatalf("got %v", got)
	}
	if r.Hits[0].ID != 5 {
		t.Errorf("kb hit doc id %d", r.Hits[0].ID)
	}
	if got := keys(mustSearch(t, x, Query{Q: "cleaning", Kinds: []string{KindKB}})); !slices.Equal(got, []string{"k6-0"}) {
		t.Errorf("cleaning in kb: %v", got)
	}
	// Not in the default kinds.
	if got := keys(mustSearch(t, x, Query{Q: "orari"})); len(got) != 0 {
		t.Errorf("kb in default kinds: %v", got)
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	all := func(ids ...int) []string {
		var s []string
		for _, i := range ids {
			s = append(s, fmt.Sprintf("m%d", i))
		}
		slices.Sort(s)
		return s
	}
	cases := []struct {
		name string
		q    Query
		want []string
	}{
		{"date range", Query{From: now.AddDate(0, 0, -10), To: now.AddDate(0, 0, -4)}, all(2, 3)},
		{"date from", Query{From: now.AddDate(0, 0, -7)}, all(1, 2)},
		{"date to", Query{To: now.AddDate(0, 0, -50)}, all(17, 18)},
		{"contact", Query{ContactID: 103}, all(7, 8, 12)},
		{"contact with words", Query{Q: "divano", ContactID: 100}, all(13, 2)},
		{"conversation", Query{ConversationID: 13}, all(7, 8, 12)},
		{"status", Query{Status: "snoozed"}, all(7, 8, 12)},
		{"status with words", Query{Q: "canape", Status: "resolved"}, all(6)},
		{"status excludes", Query{Q: "canape", Status: "open"}, nil},
		{"label", Query{LabelID: 2}, all(2, 3, 4, 13)},
		{"label with words", Query{Q: "divano", LabelID: 2}, all(2, 13)},
		{"direction", Query{Direction: "outbound"}, all(3, 8, 13, 16)},
		{"type", Query{MessageType: "template"}, all(3)},
		{"type image", Query{MessageType: "image"}, all(18)},
		{"agent", Query{AgentID: 7}, all(3, 13)},
		{"combined", Query{Q: "divani", Direction: "outbound", AgentID: 7, LabelID: 1}, all(13)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := c.q
			q.Kinds = []string{KindMessage}
			if got := keys(mustSearch(t, x, q)); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	// A message-only filter leaves contacts out; ContactID keeps the contact.
	if got := keys(mustSearch(t, x, Query{Q: "Milano", Status: "open"})); !slices.Equal(got, []string{"m17"}) {
		t.Errorf("status filter with contacts: %v", got)
	}
	if got := keys(mustSearch(t, x, Query{Q: "Milano", ContactID: 100})); !slices.Equal(got, []string{"c100", "m17"}) {
		t.Errorf("contact filter: %v", got)
	}
}

func TestFacets(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	r := mustSearch(t, x, Query{Kinds: []string{KindMessage}, Facets: true})
	if r.Total != 18 {
		t.Fatalf("total %d", r.Total)
	}
	count := func(facet, term string) int {
		for _, f := range r.Facets[facet] {
			if f.Term == term {
				return f.Count
			}
		}
		return 0
	}
	checks := []struct {
		facet, term string
		want        int
	}{
		{FacetType, "text", 15}, {FacetType, "template", 1}, {FacetType, "location", 1}, {FacetType, "image", 1},
		{FacetDirection, "inbound", 14}, {FacetDirection, "outbound", 4},
		{FacetStatus, "open", 12}, {FacetStatus, "snoozed", 3}, {FacetStatus, "resolved", 2}, {FacetStatus, "pending", 1},
		{FacetLabel, "1", 4}, {FacetLabel, "2", 4}, {FacetLabel, "3", 1},
		{FacetDate, "7d", 2}, {FacetDate, "30d", 9}, {FacetDate, "older", 9},
	}
	for _, c := range checks {
		if got := count(c.facet, c.term); got != c.want {
			t.Errorf("facet %s %s = %d, want %d (%v)", c.facet, c.term, got, c.want, r.Facets[c.facet])
		}
	}
	// Facets follow the query.
	r = mustSearch(t, x, Query{Q: "divano", Kinds: []string{KindMessage}, Facets: true})
	if got := count(FacetDirection, "outbound"); got != 1 {
		t.Errorf("divano outbound facet %d (%v)", got, r.Facets)
	}
}

func TestSortByDateAndPagination(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	var seen []int64
	for off := 0; off < 20; off += 5 {
		r := mustSearch(t, x, Query{Kinds: []string{KindMessage}, Sort: SortDate, Offset: off, Limit: 5})
		for _, h := range r.Hits {
			seen = append(seen, h.ID)
		}
	}
	want := make([]int64, 18)
	for i := range want {
		want[i] = int64(i + 1) // newest first: id 1 is the newest
	}
	if !slices.Equal(seen, want) {
		t.Errorf("pages by date: %v", seen)
	}
	// Relevance pages do not overlap either.
	got := map[string]bool{}
	total := 0
	for off := 0; off < 30; off += 2 {
		r := mustSearch(t, x, Query{Q: "il", Offset: off, Limit: 2})
		for _, k := range keys(r) {
			if got[k] {
				t.Errorf("%s on two pages", k)
			}
			got[k] = true
		}
		total = int(r.Total)
	}
	if len(got) != total {
		t.Errorf("pages held %d of %d", len(got), total)
	}
	// Hits carry what the panel needs.
	r := mustSearch(t, x, Query{Q: "canape"})
	h := r.Hits[0]
	if h.ConversationID != 12 || h.ContactID != 102 || !h.At.Equal(fixtureMessages()[5].At) {
		t.Errorf("hit %+v", h)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	r, err := x.Search(context.Background(), Query{Kinds: []string{KindMessage}, Limit: 1000})
	if err != nil || len(r.Hits) != 18 {
		t.Fatalf("%v %v", err, r)
	}
	r, _ = x.Search(context.Background(), Query{Kinds: []string{KindMessage}, Limit: 3})
	if len(r.Hits) != 3 || r.Total != 18 {
		t.Errorf("limit 3: %d hits of %d", len(r.Hits), r.Total)
	}
	r, _ = x.Search(context.Background(), Query{Kinds: []string{KindMessage}, Offset: 1 << 40})
	if len(r.Hits) != 0 {
		t.Errorf("huge offset: %d hits", len(r.Hits))
	}
	if r, err := x.Search(context.Background(), Query{Q: `"" *** -- " `}); err != nil || len(r.Hits) != 0 {
		t.Errorf("garbage query: %v %v", r, err)
	}
}

func TestDeleteAndErase(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	ctx := context.Background()
	if err := x.Apply(ctx, &Batch{DeleteMessages: []int64{2}}); err != nil {
		t.Fatal(err)
	}
	if got := keys(mustSearch(t, x, Query{Q: `"velluto verde"`})); len(got) != 0 {
		t.Errorf("deleted message found: %v", got)
	}
	// Erasing a contact removes the contact and their messages.
	if err := x.Apply(ctx, &Batch{DeleteContacts: []int64{100}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{{Q: "bianchi"}, {Q: "Milano"}, {ContactID: 100}, {Q: "divani"}} {
		for _, k := range keys(mustSearch(t, x, q)) {
			if k == "c100" || slices.Contains([]string{"m1", "m3", "m13", "m17", "m18"}, k) {
				t.Errorf("%+v: erased document %s found", q, k)
			}
		}
	}
	// The others stay.
	if got := keys(mustSearch(t, x, Query{Q: "jurgen"})); !slices.Equal(got, []string{"c101"}) {
		t.Errorf("other contact: %v", got)
	}
	st := x.Stats()
	if st.Messages != 18-1-5 || st.Contacts != 2 || st.KB != 2 {
		t.Errorf("stats %+v", st)
	}
	// KB deletes.
	if err := x.Apply(ctx, &Batch{DeleteKB: []string{"5-0"}}); err != nil {
		t.Fatal(err)
	}
	if got := keys(mustSearch(t, x, Query{Q: "orari", Kinds: []string{KindKB}})); len(got) != 0 {
		t.Errorf("deleted kb: %v", got)
	}
}

func TestApplyIdempotentAndUpdates(t *testing.T) {
	t.Parallel()
	x := fixtureIndex(t)
	ctx := context.Background()
	b := &Batch{Messages: fixtureMessages(), Contacts: fixtureContacts(), KB: fixtureKB(), DeleteMessages: []int64{999}}
	for range 2 {
		if err := x.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if st := x.Stats(); st.Messages != 18 || st.Contacts != 3 || st.KB != 2 {
		t.Errorf("stats after re-apply %+v", st)
	}
	// An upsert replaces the document: new status, new text.
	m := fixtureMessages()[1]
	m.Status, m.Text = "resolved", "Avete ancora il divano in pelle blu?"
	if err := x.Apply(ctx, &Batch{Messages: []Message{m}}); err != nil {
		t.Fatal(err)
	}
	if got := keys(mustSearch(t, x, Query{Q: `"velluto verde"`})); len(got) != 0 {
		t.Errorf("old text still found: %v", got)
	}
	if got := keys(mustSearch(t, x, Query{Q: "pelle blu", Status: "resolved"})); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("new text: %v", got)
	}
	if err := x.Apply(ctx, nil); err != nil {
		t.Errorf("nil batch: %v", err)
	}
}

func TestLocked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	x, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	start := time.Now()
	y, err := Open(Options{Dir: dir, LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		if y != nil {
			y.Close()
		}
		t.Fatalf("second open: %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("ErrLocked after %v", el)
	}
	x.Close()
	y, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	y.Close()
}

func TestReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	x, err := Open(Options{Dir: dir, DefaultLang: "it"})
	if err != nil {
		t.Fatal(err)
	}
	if !x.Stats().NeedsRebuild {
		t.Error("a new index should ask for a rebuild")
	}
	if err := x.Apply(context.Background(), &Batch{Messages: fixtureMessages()}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	if _, err := x.Search(context.Background(), Query{Q: "divano"}); !errors.Is(err, ErrClosed) {
		t.Errorf("search after close: %v", err)
	}
	x, err = Open(Options{Dir: dir, DefaultLang: "it"})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if st := x.Stats(); st.NeedsRebuild || st.Messages != 18 {
		t.Errorf("reopened: %+v", st)
	}
	if got := keys(mustSearch(t, x, Query{Q: `"velluto verde"`})); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("after reopen: %v", got)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	if _, err := Open(Options{}); err == nil {
		t.Error("empty Dir accepted")
	}
	if _, err := Open(Options{Dir: t.TempDir(), DefaultLang: "xx"}); err == nil {
		t.Error("unknown language accepted")
	}
}

func TestDetectLang(t *testing.T) {
	t.Parallel()
	cases := []struct{ text, want string }{
		{"Vorrei prenotare un appuntamento per la pulizia", "it"},
		{"divano in velluto verde", "it"},
		{"grazie!", "it"},
		{"L'école de ma fille", "fr"},
		{"merci beaucoup", "fr"},
		{"Ich brauche einen Termin", "de"},
		{"danke", "de"},
		{"¿Cuánto cuesta?", "es"},
		{"muchas gracias", "es"},
		{"Do you still have the sofa?", "en"},
		{"thanks!", "en"},
		{"ok", "xx"}, // too short: the default
		{"AB123CD", "xx"},
		{"", "xx"},
	}
	for _, c := range cases {
		if got := detectLang(c.text, "xx"); got != c.want {
			t.Errorf("detectLang(%q) = %s, want %s", c.text, got, c.want)
		}
	}
}

// The knowledge base's typo and prefix expansions are kept between
// searches; a change to an article must show in the very next search.
func TestKBExpansionsFollowChanges(t *testing.T) {
	x := fixtureIndex(t)
	ctx := context.Background()
	q := Query{Q: "profesional cleening", Kinds: []string{KindKB}, Any: true}
	if got := keys(mustSearch(t, x, q)); !slices.Equal(got, []string{"k6-0"}) {
		t.Fatalf("typos before the change: %v", got)
	}
	// The article changes words: the kept expansions of "cleening" and
	// "profesional" (in every language's field) must not outlive it.
	if err := x.Apply(ctx, &Batch{KB: []KBChunk{{ID: "6-0", DocID: 6, Title: "Prices", Text: "A whitening costs 200 pounds."}}}); err != nil {
		t.Fatal(err)
	}
	if got := keys(mustSearch(t, x, q)); len(got) != 0 {
		t.Fatalf("the old words still match after the article changed: %v", got)
	}
	if got := keys(mustSearch(t, x, Query{Q: "whitenning", Kinds: []string{KindKB}})); !slices.Equal(got, []string{"k6-0"}) {
		t.Fatalf("a typo of the new word: %v", got)
	}
	// A new article with a word that was unknown until now.
	if got := keys(mustSearch(t, x, Query{Q: "courtyrd", Kinds: []string{KindKB}})); len(got) != 0 {
		t.Fatalf("courtyard before the article: %v", got)
	}
	if err := x.Apply(ctx, &Batch{KB: []KBChunk{{ID: "7-0", DocID: 7, Title: "Parking", Text: "Free parking in the courtyard behind the clinic."}}}); err != nil {
		t.Fatal(err)
	}
	if got := keys(mustSearch(t, x, Query{Q: "courtyrd", Kinds: []string{KindKB}})); !slices.Equal(got, []string{"k7-0"}) {
		t.Fatalf("a new article's word: %v", got)
	}
	if err := x.Apply(ctx, &Batch{DeleteKB: []string{"7-0"}}); err != nil {
		t.Fatal(err)
	}
	if got := keys(mustSearch(t, x, Query{Q: "courtyrd", Kinds: []string{KindKB}})); len(got) != 0 {
		t.Fatalf("a deleted article: %v", got)
	}
}
