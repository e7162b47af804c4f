package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sendbox/outbound"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/store"
)

// InvalidError is a flow that cannot be saved or published, with every
// problem found.
type InvalidError struct {
	Code     string
	Message  string
	Problems []Problem
}

func (e *InvalidError) Error() string {
	if len(e.Problems) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Message, e.Problems[0].Error())
}

// Flow is a flow as the API and the panel show it: the draft decoded, its
// problems, and the published version.
type Flow struct {
	store.Flow
	DraftDef *Definition `json:"-"`
	Problems []Problem   `json:"problems"`
}

const maxNameRunes = 100

// decode reads a definition strictly: an unknown field is a typo to report,
// not to ignore.
func decode(raw json.RawMessage) (*Definition, error) {
	var d Definition
	if len(bytes.TrimSpace(raw)) == 0 {
		return &d, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, &InvalidError{Code: "invalid_definition", Message: "the definition does not read: " + err.Error()}
	}
	return &d, nil
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes {
		return "", &InvalidError{Code: "invalid_name", Message: fmt.Sprintf("a flow's name is 1 to %d characters", maxNameRunes)}
	}
	return name, nil
}

// Create adds a flow with a draft, which may still have problems (they
// are returned with it); publishing is what refuses them.
func (e *Engine) Create(ctx context.Context, name string, def json.RawMessage) (*Flow, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, err
	}
	d, err := decode(def)
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(d)
	f, err := e.Store.CreateFlow(ctx, name, raw)
	if errors.Is(err, store.ErrFlowExists) {
		return nil, &InvalidError{Code: "name_taken", Message: fmt.Sprintf("a flow is called %q already", name)}
	}
	if err != nil {
		return nil, err
	}
	return e.Get(ctx, f.ID)
}

// SaveDraft replaces a flow's name and draft; runs and the published
// version are not touched.
func (e *Engine) SaveDraft(ctx context.Context, id int64, name string, def json.RawMessage) (*Flow, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, err
	}
	d, err := decode(def)
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(d)
	err = e.Store.SaveFlowDraft(ctx, id, name, raw)
	if errors.Is(err, store.ErrFlowExists) {
		return nil, &InvalidError{Code: "name_taken", Message: fmt.Sprintf("a flow is called %q already", name)}
	}
	if err != nil {
		return nil, err
	}
	return e.Get(ctx, id)
}

// Get returns a flow with its draft's problems.
func (e *Engine) Get(ctx context.Context, id int64) (*Flow, error) {
	f, err := e.Store.FlowByID(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := decode(f.Draft)
	if err != nil {
		return &Flow{Flow: *f, Problems: []Problem{{Code: "invalid_definition", Message: err.Error()}}}, nil
	}
	ps := d.Validate()
	if ps == nil {
		ps = []Problem{}
	}
	return &Flow{Flow: *f, DraftDef: d, Problems: ps}, nil
}

// Publish freezes the draft as the next version and switches the flow on;
// a draft with problems is refused with all of them. Runs in progress stay
// on their version.
func (e *Engine) Publish(ctx context.Context, id int64, note string) (*Flow, error) {
	f, err := e.ready(ctx, id, "published")
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(note) > 500 {
		return nil, &InvalidError{Code: "invalid_note", Message: "a version note is at most 500 characters"}
	}
	if _, err := e.Store.PublishFlow(ctx, id, f.Draft, strings.TrimSpace(note)); err != nil {
		return nil, err
	}
	if err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e.Get(ctx, id)
}

// ready returns the flow if its draft can run: no problem in it, and its
// templates usable; else an *InvalidError with every problem ("the draft
// has 2 problem(s) to fix before it can be <what>").
func (e *Engine) ready(ctx context.Context, id int64, what string) (*Flow, error) {
	f, err := e.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(f.Problems) == 0 && f.DraftDef != nil {
		f.Problems = e.checkTemplates(ctx, f.DraftDef)
		lp, err := e.checkLabels(ctx, f.DraftDef)
		if err != nil {
			return nil, err
		}
		f.Problems = append(f.Problems, lp...)
		if len(f.Problems) == 0 {
			qp, err := e.checkQuietWindow(ctx, f.DraftDef)
			if err != nil {
				return nil, err
			}
			f.Problems = qp
		}
	}
	if len(f.Problems) > 0 {
		return nil, &InvalidError{Code: "invalid_flow", Message: fmt.Sprintf("the draft has %d problem(s) to fix before it can be %s", len(f.Problems), what),
			Problems: f.Problems}
	}
	return f, nil
}

// SetActive switches a published flow's triggers on or off.
func (e *Engine) SetActive(ctx context.Context, id int64, active bool) (*Flow, error) {
	if err := e.Store.SetFlowActive(ctx, id, active); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			if _, gerr := e.Store.FlowByID(ctx, id); gerr == nil {
				return nil, &InvalidError{Code: "not_published", Message: "publish the flow before switching it on"}
			}
		}
		return nil, err
	}
	if err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e.Get(ctx, id)
}

// Delete removes a flow, its versions and its runs.
func (e *Engine) Delete(ctx context.Context, id int64) error {
	if err := e.Store.DeleteFlow(ctx, id); err != nil {
		return err
	}
	return e.Reload(ctx)
}

// Stop ends a contact's runs (of one flow, or all when flowID is 0), as a
// person asked from the thread or the API.
func (e *Engine) Stop(ctx context.Context, contactID, flowID int64) (int, error) {
	return e.Store.StopRuns(ctx, contactID, flowID, OutcomeStopped)
}

// Stats is a flow version's analytics.
type Stats struct {
	FlowID   int64                 `json:"flow_id"`
	Version  int                   `json:"version"` // 0: every version
	Started  int                   `json:"started"`
	Active   int                   `json:"active"`
	Outcomes map[string]int        `json:"outcomes"`
	Steps    []store.FlowStepCount `json:"steps"`
	// Conversion is the share of ended runs that reached an outcome other
	// than no_answer, stopped or a broken step.
	Conversion float64 `json:"conversion"`
	// StuckAfterHours is how long an active run waits for a reply at a
	// step before it counts as stuck there (a step's stuck_here).
	StuckAfterHours int `json:"stuck_after_hours"`
}

// StuckAfter is how long a run may wait for the customer's reply at a
// step before the analytics count it as stuck there: a day, past which a
// customer has in practice stopped answering (and the 24-hour window to
// write to them freely has closed).
const StuckAfter = 24 * time.Hour

// lostOutcomes are the ways a run ends without reaching an outcome: they
// do not count towards the conversion, and a run ending so ended "here",
// at the step where the customer stopped.
var lostOutcomes = []string{OutcomeNoAnswer, OutcomeStopped, OutcomeBroken, OutcomeExited, "opted_out", "escalated", "restarted", store.RunTakenOver}

// Stats counts a version's runs (every version when version is 0): starts,
// outcomes, and per step how many entered, how many are there now and the
// median time spent, in the version's step order.
func (e *Engine) Stats(ctx context.Context, id int64, version int) (*Stats, error) {
	f, err := e.Store.FlowByID(ctx, id)
	if err != nil {
		return nil, err
	}
	active, outcomes, err := e.Store.FlowRunCounts(ctx, id, version)
	if err != nil {
		return nil, err
	}
	steps, err := e.Store.FlowStepCounts(ctx, id, version)
	if err != nil {
		return nil, err
	}
	drops, err := e.Store.FlowStepDropOff(ctx, id, version, lostOutcomes, time.Now().Add(-StuckAfter))
	if err != nil {
		return nil, err
	}
	for i := range steps {
		d := drops[steps[i].Step]
		steps[i].EndedHere, steps[i].StuckHere = d.Ended, d.Stuck
	}
	st := &Stats{FlowID: id, Version: version, Active: active, Outcomes: outcomes, Steps: steps, StuckAfterHours: int(StuckAfter / time.Hour)}
	ended, won := 0, 0
	for o, n := range outcomes {
		ended += n
		if !slices.Contains(lostOutcomes, o) {
			won += n
		}
	}
	st.Started = active + ended
	if ended > 0 {
		st.Conversion = float64(won) / float64(ended)
	}
	// The steps in the order of the flow's definition.
	def := f.Definition
	if version > 0 {
		if v, err := e.Store.FlowVersionOf(ctx, id, version); err == nil {
			def = v.Definition
		}
	}
	if d, err := decode(def); err == nil && d != nil {
		order := map[string]int{}
		for i, s := range d.Steps {
			order[s.ID] = i
		}
		sortSteps(st.Steps, order)
	}
	if st.Steps == nil {
		st.Steps = []store.FlowStepCount{}
	}
	return st, nil
}

func sortSteps(steps []store.FlowStepCount, order map[string]int) {
	pos := func(s string) int {
		if i, ok := order[s]; ok {
			return i
		}
		return len(order)
	}
	for i := 1; i < len(steps); i++ {
		for j := i; j > 0 && pos(steps[j].Step) < pos(steps[j-1].Step); j-- {
			steps[j], steps[j-1] = steps[j-1], steps[j]
		}
	}
}

// checkTemplates finds the template steps sendbox could not send: a
// template Meta has not approved for the account (or not in that
// language), or one that takes other parameters.
func (e *Engine) checkTemplates(ctx context.Context, d *Definition) []Problem {
	if e.Outbound == nil {
		return nil
	}
	var ps []Problem
	for _, s := range d.Steps {
		if s.Type != StepSend || s.Template == nil {
			continue
		}
		if err := e.Outbound.CheckTemplate(ctx, s.Template.Name, s.Template.Language, len(s.Template.Params)); err != nil {
			ps = append(ps, Problem{Step: s.ID, Field: "template", Code: "template_unusable",
				Message: fmt.Sprintf("template %s (%s): %v", s.Template.Name, s.Template.Language, err)})
		}
	}
	return ps
}

// Try runs the draft, as it is now and without publishing it, for one
// contact (the test phone): the draft is frozen as a trial version (-1,
// -2…) that analytics leave out, the contact's run of the flow in
// progress ends, and a run starts on the trial version at the first step.
// A draft with problems is refused as Publish refuses it. The run then
// goes as any other: messages in the window rules, answers, timers.
func (e *Engine) Try(ctx context.Context, id, contactID int64) (*store.FlowRun, error) {
	f, err := e.ready(ctx, id, "tried")
	if err != nil {
		return nil, err
	}
	version, err := e.Store.TrySnapshot(ctx, id, f.Draft)
	if err != nil {
		return nil, err
	}
	if _, err := e.Store.StopRuns(ctx, contactID, id, "restarted"); err != nil {
		return nil, err
	}
	c := &compiled{flow: f.Flow, def: *f.DraftDef}
	c.flow.Version = version
	c.def.Reentry = ReentryEveryTime
	r, _, err := e.start(ctx, c, contactID, 0, fmt.Sprintf("try:%d", version), nil)
	return r, err
}

// MoveRuns moves the runs of version from that are at step onto version
// to, where the step must exist with the same type (so that what the runs
// wait for still makes sense there). It returns how many moved.
func (e *Engine) MoveRuns(ctx context.Context, id int64, from int, step string, to int) (int, error) {
	if from == to || from <= 0 || to <= 0 {
		return 0, &InvalidError{Code: "invalid_versions", Message: "move runs between two different published versions"}
	}
	load := func(v int) (*Definition, error) {
		fv, err := e.Store.FlowVersionOf(ctx, id, v)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, &InvalidError{Code: "unknown_version", Message: fmt.Sprintf("the flow has no version %d", v)}
			}
			return nil, err
		}
		return decode(fv.Definition)
	}
	src, err := load(from)
	if err != nil {
		return 0, err
	}
	dst, err := load(to)
	if err != nil {
		return 0, err
	}
	i, j := src.index(step), dst.index(step)
	switch {
	case i < 0:
		return 0, &InvalidError{Code: "unknown_step", Message: fmt.Sprintf("version %d has no step %q", from, step)}
	case j < 0:
		return 0, &InvalidError{Code: "unknown_step", Message: fmt.Sprintf("version %d has no step %q to move the runs to", to, step)}
	case src.Steps[i].Type != dst.Steps[j].Type:
		return 0, &InvalidError{Code: "step_changed", Message: fmt.Sprintf("step %q is a %s in version %d and a %s in version %d: runs waiting there cannot move",
			step, src.Steps[i].Type, from, dst.Steps[j].Type, to)}
	}
	return e.Store.MoveRunsToVersion(ctx, id, from, step, to)
}

// checkQuietWindow is the 24-hour window check again with the quiet hours
// on: a marketing send may wait for them to end (outbound.QuietHours
// MaxHold), and a free-form message after it may then come too late.
func (e *Engine) checkQuietWindow(ctx context.Context, d *Definition) ([]Problem, error) {
	if e.Outbound == nil {
		return nil, nil
	}
	loc := time.UTC
	if e.Location != nil {
		loc = e.Location()
	}
	q, err := outbound.LoadQuietHours(ctx, e.Store, loc)
	if err != nil {
		return nil, err
	}
	hold := q.MaxHold()
	if hold == 0 {
		return nil, nil
	}
	held := map[string]time.Duration{}
	for _, s := range d.Steps {
		if s.Type != StepSend || s.Template == nil {
			continue
		}
		if m, err := e.Outbound.IsMarketing(ctx, s.Template.Name, s.Template.Language); err == nil && m {
			held[s.ID] = hold
		}
	}
	if len(held) == 0 {
		return nil, nil
	}
	ps := d.checkWindowHeld(held)
	for i := range ps {
		ps[i].Code = "outside_window_quiet_hours"
		ps[i].Message = fmt.Sprintf("with the quiet hours on, a marketing message before this one can wait up to %s for them to end, "+
			"and this message can then come 24 hours or more after the customer last wrote, when WhatsApp only delivers approved templates; "+
			"send a template here, or ask a question before it", strings.TrimSuffix(hold.String(), "0m0s"))
	}
	return ps, nil
}
