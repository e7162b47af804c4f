package ui_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"sendbox/flows"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestFlowStatsDropOff: four customers start an order flow. One finishes,
// one is stopped at the first question, one waits at the second for more
// than a day, one has just been asked. The analytics page and the API say
// where customers stopped answering: one ended at "name", one stuck at
// "city", and the run asked a moment ago is waiting, not stuck.
func TestFlowStatsDropOff(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithAssistant())
	ctx := context.Background()
	def, _ := json.Marshal(flows.Definition{
		Triggers: []flows.Trigger{{Type: flows.TriggerKeyword, Keywords: []string{"ordina"}}},
		Steps: []flows.Step{
			{ID: "name", Type: flows.StepAsk, Input: flows.InputText, Var: "name", Text: "Il suo nome?"},
			{ID: "city", Type: flows.StepAsk, Input: flows.InputText, Var: "city", Text: "La città?"},
			{ID: "done", Type: flows.StepEnd, Outcome: "ordered"},
		}})
	f, err := a.Flows.Create(ctx, "Ordini", def)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Flows.Publish(ctx, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	runAt := func(contact int64) *store.FlowRun {
		rs, _ := a.Store.RunsOfFlow(ctx, f.ID, 10)
		for i := range rs {
			if rs[i].ContactID == contact {
				return &rs[i]
			}
		}
		return nil
	}
	waitStep := func(contact int64, step, outcome string) *store.FlowRun {
		t.Helper()
		var r *store.FlowRun
		sendboxtest.Eventually(t, 30*time.Second, fmt.Sprintf("contact %d's run at %s %s", contact, step, outcome), func() bool {
			r = runAt(contact)
			return r != nil && r.Step == step && r.Outcome == outcome
		})
		return r
	}
	done := say(t, a, "393401120001", "Anna", "ordina").ContactID
	waitStep(done, "name", "")
	say(t, a, "393401120001", "Anna", "Anna Neri")
	waitStep(done, "city", "")
	say(t, a, "393401120001", "Anna", "Milano")
	waitStep(done, "done", "ordered")

	stuck := say(t, a, "393401120002", "Bruno", "ordina").ContactID
	waitStep(stuck, "name", "")
	say(t, a, "393401120002", "Bruno", "Bruno Bianchi")
	stuckRun := waitStep(stuck, "city", "")

	stopped := say(t, a, "393401120003", "Carla", "ordina").ContactID
	waitStep(stopped, "name", "")
	if _, err := a.Flows.Stop(ctx, stopped, f.ID); err != nil {
		t.Fatal(err)
	}
	fresh := say(t, a, "393401120004", "Dario", "ordina").ContactID
	waitStep(fresh, "name", "")

	// Bruno was asked for his city a day and an hour ago.
	db, err := sql.Open("sqlite", "file:"+a.Store.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE flow_steps SET entered_at = entered_at - ? WHERE run_id = ? AND left_at IS NULL`,
		(flows.StuckAfter + time.Hour).Milliseconds(), stuckRun.ID); err != nil {
		t.Fatal(err)
	}

	want := map[string][4]int{ // entered, waiting, stuck here, ended here
		"name": {4, 1, 0, 1},
		"city": {2, 1, 1, 0},
		"done": {1, 0, 0, 0},
	}
	code, body := a.Do("GET", "/api/v1/flows/"+itoa(f.ID)+"/stats", nil)
	if code != 200 {
		t.Fatalf("stats: %d %s", code, body)
	}
	st := sendboxtest.JSON[struct{ Data flows.Stats }](t, body).Data
	if st.StuckAfterHours != 24 || len(st.Steps) != 3 {
		t.Fatalf("stats: %s", body)
	}
	for _, s := range st.Steps {
		if got := [4]int{s.Entered, s.Waiting, s.StuckHere, s.EndedHere}; got != want[s.Step] {
			t.Errorf("API, step %s: %v, want %v", s.Step, got, want[s.Step])
		}
	}
	if !strings.Contains(string(body), `"ended_here":1`) || !strings.Contains(string(body), `"stuck_here":1`) {
		t.Errorf("the API's field names: %s", body)
	}

	b := setupOwner(t, a)
	_, page := b.get("/flows/" + itoa(f.ID) + "/stats")
	for step, w := range want {
		row := fmt.Sprintf(`<td class="stuck-here">%d</td><td class="ended-here">%d</td></tr>`, w[2], w[3])
		i := strings.Index(page, `<tr><td class="mono">`+step+`</td>`)
		if i < 0 || !strings.Contains(page[i:], row) || strings.Index(page[i:], row) > strings.Index(page[i:], "</tr>") {
			t.Errorf("the table's row for %s lacks %s", step, row)
		}
	}
	for _, want := range []string{
		`data-step="name">`, `class="bar-ended"`, `4 · 1 waiting · 1 ended here`,
		`class="bar-stuck"`, `2 · 1 waiting · 1 stuck here`, "more than 24 hours",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Count(page, `class="bar-ended"`) != 1 || strings.Count(page, `class="bar-stuck"`) != 1 {
		t.Errorf("the funnel draws %d ended and %d stuck segments, want 1 each",
			strings.Count(page, `class="bar-ended"`), strings.Count(page, `class="bar-stuck"`))
	}
}
