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

	"sendbox/flows"
	"sendbox/sendboxtest"
)

// TestFlowFromReady: an owner sees the ready-made flows on /flows and
// makes a draft copy of one, opened in the editor; a second copy gets a
// name of its own; a key that names none is a 404; viewers are not
// offered them and cannot post.
func TestFlowFromReady(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	b := setupOwner(t, a)
	_, list := b.get("/flows")
	ready, err := a.Flows.ReadyFlows()
	if err != nil || len(ready) < 4 {
		t.Fatalf("ready-made flows: %v %v", ready, err)
	}
	for _, r := range ready {
		for _, want := range []string{`id="ready-` + r.Key + `"`, htmlEscape(r.Name), htmlEscape(r.Business), htmlEscape(r.Description)} {
			if !strings.Contains(list, want) {
				t.Errorf("/flows does not show %q", want)
			}
		}
	}
	for i, want := range []string{"Dental clinic: triage", "Dental clinic: triage (2)"} {
		resp, body := b.post("/flows/ready", url.Values{"key": {"dental_triage"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("copy %d: %d %s", i, resp.StatusCode, body)
		}
		var id int64
		if _, err := fmt.Sscanf(resp.Header.Get("Location"), "/flows/%d?ok=flow_ready", &id); err != nil {
			t.Fatalf("copy %d went to %q", i, resp.Header.Get("Location"))
		}
		f, err := a.Flows.Get(ctx, id)
		if err != nil || f.Name != want || f.Version != 0 || len(f.Problems) != 0 || f.DraftDef.Steps[0].ID != "reason" {
			t.Fatalf("copy %d: %+v %v", i, f, err)
		}
		_, page := b.get(resp.Header.Get("Location"))
		if !strings.Contains(page, "A draft copy of the ready-made flow") || !strings.Contains(page, `data-step="urgent"`) {
			t.Fatalf("the editor after the copy:\n%s", page)
		}
	}
	if resp, _ := b.post("/flows/ready", url.Values{"key": {"nothing"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown ready-made flow: %d", resp.StatusCode)
	}
	viewer := userBrowser(t, a, "viewer")
	if _, list := viewer.get("/flows"); strings.Contains(list, `action="/flows/ready"`) {
		t.Fatal("a viewer is offered the ready-made flows")
	}
	if resp, _ := viewer.post("/flows/ready", url.Values{"key": {"dental_triage"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a viewer copies a ready-made flow: %d", resp.StatusCode)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// TestFlowTry: trying a draft with a problem is refused with the problem
// by its step; fixed, it starts a trial run on the test phone's number
// (a contact made for it), links to the test phone, and warns that the
// number has not written in 24 hours until it has.
func TestFlowTry(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	b := setupOwner(t, a)
	def, _ := json.Marshal(flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"prova"}}},
		Steps: []flows.Step{
			{ID: "name", Type: flows.StepAsk, Input: flows.InputText, Var: "name", Text: "Come si chiama?"},
			{ID: "thanks", Type: flows.StepSend, Text: "Grazie {{vars.nome}}!"},
		}})
	f, err := a.Flows.Create(ctx, "Prova", def)
	if err != nil {
		t.Fatal(err)
	}
	const phone = "393401130001"
	try := func(number string) (*http.Response, string) {
		vals := url.Values{"contact": {number}, "csrf": {b.csrf}}
		req, _ := http.NewRequest("POST", a.URL()+"/flows/"+itoa(f.ID)+"/try", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.do(req)
	}
	_, page := b.get("/flows/" + itoa(f.ID))
	if !strings.Contains(page, `id="flow-try"`) || !strings.Contains(page, "Try it on the test phone") || !strings.Contains(page, "write from the test phone first") {
		t.Fatalf("the editor offers no trial:\n%s", page)
	}
	resp, page := try("+" + phone)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "before it can be tried") ||
		!strings.Contains(stepCard(t, page, "thanks"), "no ask step fills the variable") {
		t.Fatalf("try with a problem: %d\n%s", resp.StatusCode, page)
	}
	for _, bad := range []string{"", "hello", "<script>"} {
		if resp, page := try(bad); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "with its country code") {
			t.Errorf("try on %q: %d", bad, resp.StatusCode)
		}
	}
	fixed, _ := json.Marshal(flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"prova"}}},
		Steps: []flows.Step{
			{ID: "name", Type: flows.StepAsk, Input: flows.InputText, Var: "name", Text: "Come si chiama?"},
			{ID: "thanks", Type: flows.StepSend, Text: "Grazie {{vars.name}}!"},
		}})
	if _, err := a.Flows.SaveDraft(ctx, f.ID, "Prova", fixed); err != nil {
		t.Fatal(err)
	}
	resp, page = try("+39 340 113 0001")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="try-ok"`) || !strings.Contains(page, `href="/phone?wa=`+phone+`"`) ||
		!strings.Contains(page, `id="try-window"`) {
		t.Fatalf("try: %d\n%s", resp.StatusCode, page)
	}
	c, err := a.Store.ContactByRecipient(ctx, phone, "")
	if err != nil {
		t.Fatalf("no contact for the number tried: %v", err)
	}
	runs, _ := a.Store.ActiveRunsOf(ctx, c.ID)
	if len(runs) != 1 || runs[0].Version >= 0 || runs[0].Step != "name" {
		t.Fatalf("the trial run: %+v", runs)
	}
	// Once the phone wrote, the window is open: no warning, and a second
	// try restarts the trial.
	say(t, a, phone, "Tina", "Tina")
	sendboxtest.Eventually(t, 30*time.Second, "the trial run to take the answer and end", func() bool {
		runs, _ := a.Store.ActiveRunsOf(ctx, c.ID)
		return len(runs) == 0
	})
	resp, page = try("+" + phone)
	if resp.StatusCode != 200 || strings.Contains(page, `id="try-window"`) {
		t.Fatalf("try after writing: %d\n%s", resp.StatusCode, page)
	}
	sendboxtest.Eventually(t, 10*time.Second, "one trial run", func() bool {
		runs, _ := a.Store.ActiveRunsOf(ctx, c.ID)
		return len(runs) == 1 && runs[0].Version == -2
	})
	// The editor then offers the test phone's number.
	if _, page := b.get("/flows/" + itoa(f.ID)); !strings.Contains(page, `value="&#43;`+phone+`"`) {
		t.Fatal("the editor does not offer the test phone's number")
	}
	if resp, _ := userBrowser(t, a, "agent").post("/flows/"+itoa(f.ID)+"/try", url.Values{"contact": {"+" + phone}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent tries a flow: %d", resp.StatusCode)
	}
}

// TestFlowEditorNewFields: every field the editor gained (a template with
// its parameters, an http step with headers and a map, a split, a jump,
// a wait until a time or a reply, an optional question, a vehicle
// answer, a hand-off's outcome) survives a save from the form; the
// buttons that add and remove rows work, and renaming a step keeps the
// branches of a split, a wait and an http step that led to it.
func TestFlowEditorNewFields(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	want := flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerEvent, Event: "order.created"}},
		Steps: []flows.Step{
			{ID: "notice", Type: flows.StepSend, Template: &flows.TemplateRef{Name: "parcel_news", Language: "en_US",
				Params: []string{"{{event.order_id}}", "{{contact.name}}"}}},
			{ID: "pause", Type: flows.StepWait, Duration: "1d", At: "10:00", UntilReply: true, OnReply: "plate", Var: "reply", Next: "ab"},
			{ID: "ab", Type: flows.StepSplit, Split: []flows.SplitBranch{{Name: "A", Weight: 30, Next: "plate"}, {Name: "B", Weight: 70, Next: "hop"}}},
			{ID: "hop", Type: flows.StepJump, Next: "plate"},
			{ID: "plate", Type: flows.StepAsk, Input: flows.InputVehicle, Var: "car", Text: "Your number plate?", Optional: true},
			{ID: "where", Type: flows.StepAsk, Input: flows.InputLocation, Var: "place", Text: "Where are you?"},
			{ID: "pic", Type: flows.StepAsk, Input: flows.InputPhoto, Var: "pic", Text: "A photo?", Optional: true},
			{ID: "stock", Type: flows.StepHTTP, Next: "sales", HTTP: &flows.HTTPRequest{Method: "POST", URL: "https://shop.example.com/api/stock?plate={{vars.car_plate}}",
				Headers: map[string]string{"Authorization": "Bearer {{secrets.SHOP_TOKEN}}", "X-Shop": "main"},
				Body:    `{"vin": "{{vars.car_vin}}"}`, Timeout: "5s",
				Map: map[string]string{"price": "data.items.0.price", "sku": "data.items.0.sku"}, StatusVar: "status",
				OnError: "sales", OnTimeout: "hop"}},
			{ID: "sales", Type: flows.StepHandoff, Team: "Sales", Urgent: true, Outcome: "quoted", Text: "A person will quote {{vars.price}}."},
		},
	}
	raw, _ := json.Marshal(want)
	f, err := a.Flows.Create(ctx, "Every new field", raw)
	if err != nil {
		t.Fatal(err)
	}
	b := setupOwner(t, a)
	_, page := b.get("/flows/" + itoa(f.ID))
	if resp, body := b.edit(page, f.ID, "save", nil); resp.StatusCode != 200 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	got, _ := a.Flows.Get(ctx, f.ID)
	if !reflect.DeepEqual(*got.DraftDef, want) {
		g, _ := json.MarshalIndent(got.DraftDef, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("after a save from the editor:\n%s\nwant:\n%s", g, w)
	}
	for _, w := range []string{"The template parcel_news (en_US): not among the approved ones", "{{secrets.NAME}} works in headers only",
		`value="data.items.0.price"`, `value="10:00"`, `name="s1.until_reply" checked`, `name="s4.optional" checked`} {
		if !strings.Contains(page, htmlEscape(w)) && !strings.Contains(page, w) {
			t.Errorf("the editor does not show %q", w)
		}
	}

	// Rows added and removed.
	_, page = b.edit(page, f.ID, "add-header:7", nil)
	_, page = b.edit(page, f.ID, "save", map[string]string{"s7.h.h2.key": "X-Trace", "s7.h.h2.value": "{{vars.sku}}"})
	_, page = b.edit(page, f.ID, "del-header:7:1", nil) // X-Shop, after Authorization and before X-Trace
	_, page = b.edit(page, f.ID, "del-map:7:0", nil)    // price
	_, page = b.edit(page, f.ID, "add-branch:2", nil)
	_, page = b.edit(page, f.ID, "save", map[string]string{"s2.b2.weight": "10", "s2.b2.next": "sales"})
	_, page = b.edit(page, f.ID, "del-branch:2:0", nil)
	got, _ = a.Flows.Get(ctx, f.ID)
	h := got.DraftDef.Steps[7].HTTP
	if !reflect.DeepEqual(h.Headers, map[string]string{"Authorization": "Bearer {{secrets.SHOP_TOKEN}}", "X-Trace": "{{vars.sku}}"}) ||
		!reflect.DeepEqual(h.Map, map[string]string{"sku": "data.items.0.sku"}) {
		t.Fatalf("headers and map after the rows' buttons: %v %v", h.Headers, h.Map)
	}
	if sp := got.DraftDef.Steps[2].Split; !reflect.DeepEqual(sp, []flows.SplitBranch{{Name: "B", Weight: 70, Next: "hop"}, {Name: "C", Weight: 10, Next: "sales"}}) {
		t.Fatalf("branches: %+v", sp)
	}
	// The handoff text now names a variable no step fills: the problem is by it.
	if !strings.Contains(stepCard(t, page, "sales"), "no ask step fills the variable") {
		t.Errorf("the hand-off's card does not show the unknown variable")
	}
	// Renames follow into the branches of split, wait and http.
	_, page = b.edit(page, f.ID, "save", map[string]string{"s3.id": "skip", "s8.id": "people"})
	got, _ = a.Flows.Get(ctx, f.ID)
	st := got.DraftDef.Steps
	if st[2].Split[0].Next != "skip" || st[2].Split[1].Next != "people" || st[7].HTTP.OnTimeout != "skip" || st[7].HTTP.OnError != "people" || st[7].Next != "people" {
		t.Fatalf("after renaming: %+v %+v", st[2].Split, st[7].HTTP)
	}
	// A template chosen from the synced ones, and a text again.
	_, page = b.edit(page, f.ID, "save", map[string]string{"s0.tmpl": ""})
	if got, _ := a.Flows.Get(ctx, f.ID); got.DraftDef.Steps[0].Template != nil {
		t.Fatalf("back to a text: %+v", got.DraftDef.Steps[0])
	}
	// New steps of the new types.
	for _, typ := range []string{"split", "jump", "http"} {
		_, page = b.edit(page, f.ID, "add:end", map[string]string{"add": typ})
		if !strings.Contains(page, `data-step="`+typ+`"`) {
			t.Fatalf("add a %s step:\n%s", typ, page)
		}
	}
	got, _ = a.Flows.Get(ctx, f.ID)
	n := len(got.DraftDef.Steps)
	if s := got.DraftDef.Steps[n-3]; len(s.Split) != 2 || got.DraftDef.Steps[n-1].HTTP == nil || got.DraftDef.Steps[n-1].HTTP.Method != "GET" {
		t.Fatalf("new steps: %+v", got.DraftDef.Steps[n-3:])
	}
	// Forged rows are bounded, never a 500.
	for _, op := range []string{"del-header:99:0", "del-map:7:-1", "add-header:0", "del-branch:x:y", "add-branch:999"} {
		if resp, _ := b.edit(page, f.ID, op, map[string]string{"s7.h.nh": "99999", "s2.nb": "-4"}); resp.StatusCode >= 500 {
			t.Errorf("%s: %d", op, resp.StatusCode)
		}
	}
}

// TestFlowTemplateSelect: the send step's template select lists the
// approved templates synced from Meta, and choosing one saves its name
// and language.
func TestFlowTemplateSelect(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	b := setupOwner(t, a)
	if resp, _ := b.post("/settings/templates/sync", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync the templates: %d", resp.StatusCode)
	}
	tps, err := a.Store.ListTemplates(ctx, true)
	if err != nil || len(tps) == 0 {
		t.Fatalf("no approved templates in the sandbox: %v", err)
	}
	raw, _ := json.Marshal(flows.Definition{Steps: []flows.Step{{ID: "hi", Type: flows.StepSend, Text: "Hi"}}})
	f, _ := a.Flows.Create(ctx, "Templates", raw)
	_, page := b.get("/flows/" + itoa(f.ID))
	key := tps[0].Name + "|" + tps[0].Language
	if !strings.Contains(page, `value="`+key+`"`) {
		t.Fatalf("the select does not offer %s", key)
	}
	_, page = b.edit(page, f.ID, "save", map[string]string{"s0.tmpl": key})
	_, _ = b.edit(page, f.ID, "save", map[string]string{"s0.params": "{{contact.name}}\n\n  two \n"})
	got, _ := a.Flows.Get(ctx, f.ID)
	if tr := got.DraftDef.Steps[0].Template; tr == nil || tr.Name != tps[0].Name || tr.Language != tps[0].Language ||
		!reflect.DeepEqual(tr.Params, []string{"{{contact.name}}", "two"}) || got.DraftDef.Steps[0].Text != "" {
		t.Fatalf("the template chosen: %+v", got.DraftDef.Steps[0])
	}
}

// TestStopRunFromThread: a customer waiting in a flow's question shows in
// the thread's details with the flow, the step and what it waits for; an
// agent stops it there, and the run ends "stopped"; a viewer sees it but
// cannot stop it.
func TestStopRunFromThread(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	def, _ := json.Marshal(flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"prenota"}}},
		Steps:    []flows.Step{{ID: "name", Type: flows.StepAsk, Input: flows.InputText, Var: "name", Text: "Come si chiama?"}}})
	f, err := a.Flows.Create(ctx, "Prenotazione <b>", def)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Flows.Publish(ctx, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	m := say(t, a, "393401140001", "Ugo", "prenota")
	sendboxtest.Eventually(t, 30*time.Second, "the run at the question", func() bool {
		rs, _ := a.Store.RunsOfFlow(ctx, f.ID, 10)
		return len(rs) == 1 && rs[0].Step == "name" && rs[0].Waiting == "reply"
	})
	conv := itoa(m.ConversationID)
	b := setupOwner(t, a)
	agent := userBrowser(t, a, "agent")
	_, details := agent.get("/inbox/" + conv + "/details?part=details")
	for _, w := range []string{`id="flow-runs"`, "Prenotazione &lt;b&gt;", "At the step name", "waiting for the customer&#39;s answer",
		`hx-post="/inbox/` + conv + `/runs/stop"`, `name="flow_id" value="` + itoa(f.ID) + `"`} {
		if !strings.Contains(details, w) {
			t.Errorf("the details do not show %q:\n%s", w, details)
		}
	}
	viewer := userBrowser(t, a, "viewer")
	if _, d := viewer.get("/inbox/" + conv + "/details?part=details"); !strings.Contains(d, "Prenotazione &lt;b&gt;") || strings.Contains(d, "/runs/stop") {
		t.Errorf("a viewer's details:\n%s", d)
	}
	if resp, _ := viewer.post("/inbox/"+conv+"/runs/stop", url.Values{"flow_id": {itoa(f.ID)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer stops a run: %d", resp.StatusCode)
	}
	for _, c := range []struct {
		path, flow string
		want       int
	}{
		{"/inbox/" + conv + "/runs/stop", "", 422},
		{"/inbox/" + conv + "/runs/stop", "abc", 422},
		{"/inbox/999999/runs/stop", itoa(f.ID), 404},
		{"/inbox/x/runs/stop", itoa(f.ID), 404},
	} {
		if resp, _ := agent.post(c.path, url.Values{"flow_id": {c.flow}}); resp.StatusCode != c.want {
			t.Errorf("POST %s flow_id=%q: %d, want %d", c.path, c.flow, resp.StatusCode, c.want)
		}
	}
	if resp, _ := agent.post("/inbox/"+conv+"/runs/stop", url.Values{"flow_id": {itoa(f.ID)}, "csrf": {"wrong"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("stop without the CSRF token: %d", resp.StatusCode)
	}
	resp, _ := agent.post("/inbox/"+conv+"/runs/stop", url.Values{"flow_id": {itoa(f.ID)}})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Trigger") != "refresh-conv" {
		t.Fatalf("stop: %d %v", resp.StatusCode, resp.Header)
	}
	rs, _ := a.Store.RunsOfFlow(ctx, f.ID, 10)
	if len(rs) != 1 || rs[0].State == "active" || rs[0].Outcome != flows.OutcomeStopped {
		t.Fatalf("after stopping: %+v", rs)
	}
	if _, d := b.get("/inbox/" + conv + "/details?part=details"); strings.Contains(d, `id="flow-runs"`) {
		t.Fatalf("the stopped run is still listed:\n%s", d)
	}
}
