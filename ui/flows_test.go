package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"sendbox/flows"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// formValues reads the values a browser would send from the form with id
// in page: inputs (checked boxes only), text areas and selects, not the
// buttons.
func formValues(t *testing.T, page, id string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, k string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val, true
			}
		}
		return "", false
	}
	text := func(n *html.Node) string {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
		}
		return b.String()
	}
	var form *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" {
			if v, _ := attr(n, "id"); v == id {
				form = n
			}
		}
		for c := n.FirstChild; c != nil && form == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		t.Fatalf("no form #%s in the page:\n%s", id, page)
	}
	vals := url.Values{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			name, named := attr(n, "name")
			switch n.Data {
			case "input":
				typ, _ := attr(n, "type")
				v, _ := attr(n, "value")
				_, checked := attr(n, "checked")
				switch {
				case !named || typ == "file" || typ == "submit":
				case typ == "checkbox":
					if checked && v != "" {
						vals.Add(name, v) // what a browser sends
					} else if checked {
						vals.Add(name, "on")
					}
				default:
					vals.Add(name, v)
				}
			case "textarea":
				if named {
					vals.Add(name, strings.TrimPrefix(text(n), "\n"))
				}
			case "select":
				if named {
					first, chosen := "", ""
					seen := false
					var opts func(*html.Node)
					opts = func(o *html.Node) {
						for c := o.FirstChild; c != nil; c = c.NextSibling {
							if c.Type == html.ElementNode && c.Data == "option" {
								v, ok := attr(c, "value")
								if !ok {
									v = text(c)
								}
								if !seen {
									first, seen = v, true
								}
								if _, sel := attr(c, "selected"); sel {
									chosen = v
								}
							}
							opts(c)
						}
					}
					opts(n)
					if chosen == "" {
						chosen = first
					}
					vals.Add(name, chosen)
				}
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return vals
}

// stepCard is the editor's card of the step with id.
func stepCard(t *testing.T, page, id string) string {
	t.Helper()
	for _, part := range strings.Split(page, `<li class="card step-card`)[1:] {
		if strings.Contains(part, `data-step="`+id+`"`) {
			card, _, _ := strings.Cut(part, "</li>\n")
			return card
		}
	}
	t.Fatalf("no card for the step %q in:\n%s", id, page)
	return ""
}

// edit posts the editor's form as the page shows it, changed by set, with
// the button op; htmx asks for the editor alone, as the browser does.
func (b *browser) edit(page string, id int64, op string, set map[string]string) (*http.Response, string) {
	b.t.Helper()
	vals := formValues(b.t.(*testing.T), page, "flow-form")
	for k, v := range set {
		vals.Set(k, v)
	}
	vals.Set("op", op)
	req, _ := http.NewRequest("POST", b.a.URL()+"/flows/"+itoa(id), strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", b.csrf)
	return b.do(req)
}

func createFlowInPanel(t *testing.T, b *browser, name string) int64 {
	t.Helper()
	resp, body := b.post("/flows", url.Values{"name": {name}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create a flow: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	var id int64
	if _, err := fmt.Sscanf(loc, "/flows/%d", &id); err != nil {
		t.Fatalf("created flow at %q", loc)
	}
	return id
}

// TestFlowEditor builds a flow in the editor as an owner would, through
// the form the page shows: a keyword, a question and a thank-you whose
// misspelt variable is reported next to that step until it is fixed; then
// publishes it with a note, switches it off, and exports and imports it.
func TestFlowEditor(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	b := setupOwner(t, a)
	id := createFlowInPanel(t, b, "Booking")

	_, page := b.get("/flows/" + itoa(id))
	if !strings.Contains(page, "A flow needs at least one step") {
		t.Fatalf("a blank flow's problems are not shown:\n%s", page)
	}
	resp, page := b.edit(page, id, "add:end", map[string]string{"t0.keywords": "book, booking", "add": "ask"})
	if resp.StatusCode != 200 || !strings.Contains(page, `data-step="ask"`) {
		t.Fatalf("add a question: %d\n%s", resp.StatusCode, page)
	}
	_, page = b.edit(page, id, "add:0", map[string]string{"s0.text": "Your name, please?", "s0.var": "name", "s0.add": "send"})
	_, page = b.edit(page, id, "add:1", map[string]string{"s1.text": "Thanks {{vars.nme}}, see you soon!", "s1.add": "end"})
	_, page = b.edit(page, id, "save", map[string]string{"s2.outcome": "booked"})

	// The misspelt variable is reported on the thank-you step, not elsewhere.
	if card := stepCard(t, page, "send"); !strings.Contains(card, `class="problems"`) || !strings.Contains(card, "no ask step fills the variable") {
		t.Fatalf("the send step's card does not show its problem:\n%s", card)
	}
	if card := stepCard(t, page, "ask"); strings.Contains(card, `class="problems"`) {
		t.Fatalf("the question's card shows a problem:\n%s", card)
	}
	f, err := a.Flows.Get(ctx, id)
	if err != nil || len(f.Problems) != 1 || f.Problems[0].Step != "send" || f.DraftDef.Triggers[0].Keywords[1] != "booking" {
		t.Fatalf("the draft saved: %+v %v", f, err)
	}
	// Publishing is refused while it is there, with the reason.
	resp, page = b.edit(page, id, "publish", map[string]string{"note": "too early"})
	if resp.StatusCode != 200 || !strings.Contains(page, `id="flow-error"`) || !strings.Contains(stepCard(t, page, "send"), "no ask step fills") {
		t.Fatalf("publish with a problem: %d\n%s", resp.StatusCode, page)
	}
	// Fixed, the message goes away.
	_, page = b.edit(page, id, "save", map[string]string{"s1.text": "Thanks {{vars.name}}, see you soon!"})
	if strings.Contains(page, `class="problems`) {
		t.Fatalf("problems left after the fix:\n%s", page)
	}
	// Renaming a step keeps the branches that lead to it.
	_, page = b.edit(page, id, "save", map[string]string{"s0.next": "end"})
	_, page = b.edit(page, id, "save", map[string]string{"s2.id": "done"})
	if f, _ := a.Flows.Get(ctx, id); f.DraftDef.Steps[0].Next != "done" || len(f.Problems) != 0 {
		t.Fatalf("after renaming the step end to done: %+v %v", f.DraftDef.Steps[0], f.Problems)
	}

	resp, page = b.edit(page, id, "publish", map[string]string{"note": "first version"})
	if resp.StatusCode != 200 || !strings.Contains(page, "Published as version 1") {
		t.Fatalf("publish: %d\n%s", resp.StatusCode, page)
	}
	vs, err := a.Store.FlowVersions(ctx, id)
	if err != nil || len(vs) != 1 || vs[0].Note != "first version" {
		t.Fatalf("versions: %+v %v", vs, err)
	}
	// The diagram: a box per step, the texts escaped.
	if !strings.Contains(page, `class="flow-diagram"`) || !strings.Contains(page, `data-step="done"`) || !strings.Contains(page, "Your name, please?") {
		t.Fatalf("no diagram:\n%s", page)
	}

	// Moving and removing steps.
	_, page = b.edit(page, id, "down:0", nil)
	if f, _ := a.Flows.Get(ctx, id); f.DraftDef.Steps[0].ID != "send" || f.DraftDef.Steps[1].ID != "ask" {
		t.Fatalf("move down: %+v", f.DraftDef.Steps)
	}
	_, page = b.edit(page, id, "up:1", nil)
	_, page = b.edit(page, id, "add:end", map[string]string{"add": "wait"})
	_, page = b.edit(page, id, "del:3", nil)
	if f, _ := a.Flows.Get(ctx, id); len(f.DraftDef.Steps) != 3 || f.DraftDef.Steps[0].ID != "ask" || len(f.Problems) != 0 {
		t.Fatalf("after moves and a removal: %+v %v", f.DraftDef.Steps, f.Problems)
	}

	// Without JavaScript: the form posts and the page comes back.
	vals := formValues(t, page, "flow-form")
	vals.Set("name", "Booking")
	vals.Set("op", "save")
	if resp, body := b.post("/flows/"+itoa(id), vals); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("plain save: %d %s", resp.StatusCode, body)
	}

	// Off, and on again.
	if resp, body := b.post("/flows/"+itoa(id)+"/active", url.Values{"active": {"off"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch off: %d %s", resp.StatusCode, body)
	}
	if f, _ := a.Flows.Get(ctx, id); f.Active {
		t.Fatal("still on after switching off")
	}
	if _, page = b.get("/flows/" + itoa(id) + "?ok=flow_off"); !strings.Contains(page, `id="flow-off"`) || !strings.Contains(page, "Switch on") {
		t.Fatalf("the page of a switched-off flow:\n%s", page)
	}

	// Export, then import: an equal definition under a free name.
	resp, exported := b.get("/flows/" + itoa(id) + "/export")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="booking.json"`) {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := b.post("/flows/import", url.Values{"json": {exported}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	var copyID int64
	fmt.Sscanf(resp.Header.Get("Location"), "/flows/%d", &copyID)
	orig, _ := a.Flows.Get(ctx, id)
	cp, err := a.Flows.Get(ctx, copyID)
	if err != nil || cp.Name != "Booking (2)" || !reflect.DeepEqual(orig.DraftDef, cp.DraftDef) || cp.Version != 0 {
		t.Fatalf("imported: %+v %v\nwant the definition of %+v", cp, err, orig)
	}
	resp, body = b.post("/flows/import", url.Values{"json": {exported}})
	if c, _ := a.Store.Flows(ctx); resp.StatusCode != http.StatusSeeOther || len(c) != 3 || c[2].Name != "Booking (3)" && c[0].Name != "Booking (3)" && c[1].Name != "Booking (3)" {
		t.Fatalf("import again: %d %+v", resp.StatusCode, c)
	}
	for _, bad := range []struct{ json, want string }{
		{`{"name": "x", "definition": {"steps": [}`, "the JSON does not read"},
		{`{"name": "x"}`, "no &#34;definition&#34;"},
		{`{"name": "x", "definition": {"stepz": []}}`, "unknown field"},
		{``, "Choose a file"},
	} {
		resp, body := b.post("/flows/import", url.Values{"json": {bad.json}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, bad.want) {
			t.Errorf("import %q: %d, want the page to say %q:\n%s", bad.json, resp.StatusCode, bad.want, body)
		}
	}

	// The list.
	_, list := b.get("/flows")
	for _, want := range []string{"Booking", "Booking (2)", "Version 1", "Draft, never published", `href="/flows/` + itoa(id) + `"`} {
		if !strings.Contains(list, want) {
			t.Errorf("the list does not show %q", want)
		}
	}

	// Bad input is refused, never a 500.
	for _, c := range []struct {
		method, path string
		vals         url.Values
		want         int
	}{
		{"GET", "/flows/abc", nil, 404},
		{"GET", "/flows/999999", nil, 404},
		{"GET", "/flows/" + itoa(id) + "/stats?version=7", nil, 404},
		{"GET", "/flows/" + itoa(id) + "/stats?version=x", nil, 404},
		{"POST", "/flows/999999", url.Values{"name": {"x"}}, 404},
		{"POST", "/flows/" + itoa(id), url.Values{"name": {""}, "steps": {"99999999"}, "op": {"del-choice:5:-1"}}, 422},
		{"POST", "/flows/" + itoa(id), url.Values{"name": {"Booking (2)"}}, 422},
		{"POST", "/flows", url.Values{"name": {"Booking"}}, 422},
		{"POST", "/flows/" + itoa(copyID) + "/active", url.Values{"active": {"on"}}, 422},
	} {
		var resp *http.Response
		if c.method == "GET" {
			resp, _ = b.get(c.path)
		} else {
			resp, _ = b.post(c.path, c.vals)
		}
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}

	// Delete.
	if resp, body := b.post("/flows/"+itoa(copyID)+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if _, err := a.Flows.Get(ctx, copyID); err == nil {
		t.Fatal("the deleted flow is still there")
	}
}

// TestFlowRoles: viewers and agents read flows but cannot change them; a
// form without the session's token is refused.
func TestFlowRoles(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	id := createFlowInPanel(t, owner, "Leads")
	for _, role := range []string{"viewer", "agent"} {
		b := userBrowser(t, a, role)
		resp, page := b.get("/flows/" + itoa(id))
		if resp.StatusCode != 200 || !strings.Contains(page, `<fieldset class="plain" disabled>`) || strings.Contains(page, `value="publish"`) {
			t.Fatalf("%s reads the editor: %d\n%s", role, resp.StatusCode, page)
		}
		if _, list := b.get("/flows"); strings.Contains(list, `action="/flows/import"`) {
			t.Fatalf("%s is offered the import", role)
		}
		for _, path := range []string{"/flows/" + itoa(id), "/flows", "/flows/import", "/flows/" + itoa(id) + "/delete", "/flows/" + itoa(id) + "/active"} {
			if resp, _ := b.post(path, url.Values{"name": {"Mine"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", role, path, resp.StatusCode)
			}
		}
		if resp, _ := b.get("/flows/" + itoa(id) + "/export"); resp.StatusCode != 200 {
			t.Errorf("%s cannot export: %d", role, resp.StatusCode)
		}
	}
	if resp, _ := owner.post("/flows/"+itoa(id), url.Values{"name": {"Hijacked"}, "csrf": {"wrong"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a save without the CSRF token: %d", resp.StatusCode)
	}
	if f, _ := a.Flows.Get(context.Background(), id); f.Name != "Leads" {
		t.Fatalf("the flow was changed: %q", f.Name)
	}
}

// TestFlowStatsPage: two customers start a published keyword flow; one
// answers and books, the other stops at the question. The analytics page
// counts them, per step and by outcome, for the version and for all.
func TestFlowStatsPage(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	def, _ := json.Marshal(flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"prenota"}}},
		Steps: []flows.Step{
			{ID: "name", Type: flows.StepAsk, Input: flows.InputText, Var: "name", Text: "Come si chiama?"},
			{ID: "thanks", Type: flows.StepSend, Text: "Grazie {{vars.name}}!"},
			{ID: "done", Type: flows.StepEnd, Outcome: "booked"},
		}})
	f, err := a.Flows.Create(ctx, "Prenotazione", def)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Flows.Publish(ctx, f.ID, "prima"); err != nil {
		t.Fatal(err)
	}
	say(t, a, "393401110001", "Anna", "prenota")
	say(t, a, "393401110002", "Bruno", "prenota")
	runs := func() []store.FlowRun {
		rs, _ := a.Store.RunsOfFlow(ctx, f.ID, 10)
		return rs
	}
	sendboxtest.Eventually(t, 30*time.Second, "two runs waiting at the question", func() bool {
		rs := runs()
		return len(rs) == 2 && rs[0].Step == "name" && rs[1].Step == "name"
	})
	say(t, a, "393401110001", "Anna", "Anna Neri")
	sendboxtest.Eventually(t, 30*time.Second, "Anna's run to end", func() bool {
		for _, r := range runs() {
			if r.Outcome == "booked" {
				return true
			}
		}
		return false
	})

	b := setupOwner(t, a)
	for _, q := range []string{"", "?version=1"} {
		resp, page := b.get("/flows/" + itoa(f.ID) + "/stats" + q)
		if resp.StatusCode != 200 {
			t.Fatalf("stats%s: %d %s", q, resp.StatusCode, page)
		}
		for _, want := range []string{`id="stat-started">2<`, `id="stat-active">1<`, `id="stat-conversion">100%<`,
			`<td class="mono">booked</td><td>1</td>`, `<svg class="funnel"`, `data-step="thanks"`,
			`<tr><td class="mono">name</td><td>2</td><td>1</td>`, `<tr><td class="mono">done</td><td>1</td><td>0</td>`, "prima"} {
			if !strings.Contains(page, want) {
				t.Errorf("stats%s do not show %q:\n%s", q, want, page)
			}
		}
		// The funnel's bars are in step order.
		if i, j := strings.Index(page, `class="funnel-bar" data-step="name"`), strings.Index(page, `class="funnel-bar" data-step="done"`); i < 0 || j < i {
			t.Errorf("funnel order: name at %d, done at %d", i, j)
		}
	}
	if _, list := b.get("/flows"); !strings.Contains(list, ">100%<") {
		t.Errorf("the list does not show the conversion:\n%s", list)
	}
}

// TestFlowEditorRoundTrip: a flow with a field of every kind, saved from
// the editor's form untouched, is the same flow; what the editor does not
// edit (a compound condition, a step type it does not know, a field it
// does not show) is kept.
func TestFlowEditorRoundTrip(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	want := flows.Definition{
		Reentry: flows.ReentryOnce,
		Triggers: []flows.Trigger{
			{Type: flows.TriggerKeyword, Keywords: []string{"appuntamento", "visita"}, Match: "contains"},
			{Type: flows.TriggerButton, Payload: "BOOK"},
			{Type: flows.TriggerEvent, Event: "order.created"},
			{Type: flows.TriggerFirstMessage},
			{Type: "carrier_pigeon"},
		},
		Steps: []flows.Step{
			{ID: "reason", Type: flows.StepAsk, Input: flows.InputChoice, Var: "reason", Text: "What is it about, {{contact.name}}?",
				Choices: []flows.Choice{{ID: "pain", Title: "Pain", Next: "urgent"}, {ID: "cleaning", Title: "Cleaning"}},
				Retries: 1, Reask: "Tap one, please.", Timeout: "2h", OnTimeout: "late", OnFail: "urgent"},
			{ID: "when", Type: flows.StepAsk, Input: flows.InputDate, Var: "when", Text: "Which day?"},
			{ID: "evening", Type: flows.StepCondition, If: &flows.Cond{All: []flows.Cond{{Left: "time.hour", Op: flows.OpGt, Right: "18"},
				{Left: "contact.tags", Op: flows.OpHas, Right: "vip"}}}, Then: "late", Else: "tag"},
			{ID: "budget", Type: flows.StepCondition, If: &flows.Cond{Left: "vars.reason", Op: flows.OpEq, Right: "pain"}, Then: "urgent"},
			{ID: "tag", Type: flows.StepSet, Attribute: "preferred_day", Value: "{{vars.when}}", AddTag: "patient", RemoveTag: "lead", Next: "confirm"},
			{ID: "confirm", Type: flows.StepSend, Text: "See you on {{vars.when}}.", Buttons: []flows.Choice{{ID: "ok", Title: "OK"}, {ID: "move", Title: "Move it"}}},
			{ID: "pause", Type: flows.StepWait, Duration: "3d", Next: "done"},
			{ID: "late", Type: flows.StepHandoff, Text: "A person will call you.", Team: "Front desk"},
			{ID: "urgent", Type: flows.StepHandoff, Urgent: true, Next: "done"}, // a field the editor does not show
			{ID: "teleport", Type: "teleport", Next: "done"},
			{ID: "done", Type: flows.StepEnd, Outcome: "booked"},
		},
	}
	raw, _ := json.Marshal(want)
	f, err := a.Flows.Create(ctx, "Everything", raw)
	if err != nil {
		t.Fatal(err)
	}
	b := setupOwner(t, a)
	_, page := b.get("/flows/" + itoa(f.ID))
	if resp, body := b.edit(page, f.ID, "save", nil); resp.StatusCode != 200 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	got, err := a.Flows.Get(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got.DraftDef, want) {
		g, _ := json.MarshalIndent(got.DraftDef, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("after a save from the editor:\n%s\nwant:\n%s", g, w)
	}
	// A trigger changed to another kind keeps nothing of the old one.
	if resp, body := b.edit(page, f.ID, "save", map[string]string{"t1.type": "event"}); resp.StatusCode != 200 {
		t.Fatalf("change a trigger's type: %d %s", resp.StatusCode, body)
	}
	if got, _ := a.Flows.Get(ctx, f.ID); !reflect.DeepEqual(got.DraftDef.Triggers[1], flows.Trigger{Type: flows.TriggerEvent}) {
		t.Fatalf("the button trigger made an event one: %+v", got.DraftDef.Triggers[1])
	}
	// The problems of the unknown trigger and step type are shown by them.
	if card := stepCard(t, page, "teleport"); !strings.Contains(card, "is not a step type") {
		t.Errorf("the unknown step's card:\n%s", card)
	}
	if _, tr, _ := strings.Cut(page, `id="trigger-4"`); !strings.Contains(tr[:min(len(tr), 3000)], "is not a trigger") {
		t.Errorf("the unknown trigger's problem is not by it")
	}
}
