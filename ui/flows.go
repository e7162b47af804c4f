package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"sendbox/accounts"
	"sendbox/flows"
	"sendbox/inbox"
	"sendbox/outbound"
	"sendbox/store"
	"sendbox/templates"
	"sendbox/whatsapp"
)

// The flow builder: the list of flows, the step-list editor (every save a
// draft through flows.Engine, its problems shown by the step they are
// about), publishing, switching on and off, export and import.

// flowRow is a flow in the list, with its figures over every version.
type flowRow struct {
	store.Flow
	Problems   int
	Stats      *flows.Stats
	Conversion string
}

// flowsView is the list of flows and the forms that create and import one.
type flowsView struct {
	Rows    []flowRow
	Ready   []flows.ReadyFlow
	CanEdit bool
	CSRF    string
	// What was refused, by the form it came from (create, import).
	Where, Error string
	Name, JSON   string
}

func (p *Panel) flowsPage(w http.ResponseWriter, r *http.Request, status int, v *flowsView) {
	ctx := r.Context()
	s := sessionFrom(r)
	v.CanEdit, v.CSRF = accounts.Can(s.User.Role, accounts.Admin), s.CSRF
	all, err := p.Store.Flows(ctx)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	for _, f := range all {
		row := flowRow{Flow: f}
		if ff, err := p.Flows.Get(ctx, f.ID); err == nil {
			row.Problems = len(ff.Problems)
		}
		if row.Stats, err = p.Flows.Stats(ctx, f.ID, 0); err != nil {
			p.internal(w, r, err)
			return
		}
		row.Conversion = fmt.Sprintf("%.0f%%", row.Stats.Conversion*100)
		v.Rows = append(v.Rows, row)
	}
	if v.CanEdit {
		if v.Ready, err = p.Flows.ReadyFlows(); err != nil {
			p.internal(w, r, err)
			return
		}
	}
	p.page(w, r, status, "flows", &view{Title: p.T("flows.title"), Nav: "flows", Data: v})
}

func (p *Panel) handleFlows(w http.ResponseWriter, r *http.Request) {
	p.flowsPage(w, r, http.StatusOK, &flowsView{})
}

// flowMessage words a refusal of the flow engine, or reports that err is
// not one.
func flowMessage(err error) (string, bool) {
	var ie *flows.InvalidError
	if errors.As(err, &ie) {
		return sentence(ie.Message), true
	}
	return "", false
}

// handleFlowCreate adds a blank flow and opens it in the editor.
func (p *Panel) handleFlowCreate(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	f, err := p.Flows.Create(r.Context(), name, json.RawMessage(`{"triggers":[{"type":"keyword"}],"steps":[]}`))
	if msg, ok := flowMessage(err); ok {
		p.flowsPage(w, r, http.StatusUnprocessableEntity, &flowsView{Where: "create", Error: msg, Name: name})
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, flowURL(f.ID, ""), http.StatusSeeOther)
}

func flowURL(id int64, tail string) string { return "/flows/" + strconv.FormatInt(id, 10) + tail }

// flowExport is a flow as a file: what export writes and import reads.
type flowExport struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

// handleFlowImport creates a flow from an exported file or pasted JSON;
// a name already taken gets " (2)", " (3)"…
func (p *Panel) handleFlowImport(w http.ResponseWriter, r *http.Request) {
	pasted := r.FormValue("json")
	raw := []byte(pasted)
	if file, _, err := r.FormFile("file"); err == nil {
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, maxFormBytes+1))
		if err != nil {
			p.internal(w, r, err)
			return
		}
		if len(b) > maxFormBytes {
			p.flowsPage(w, r, http.StatusUnprocessableEntity, &flowsView{Where: "import", Error: p.T("flows.import_too_large")})
			return
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			raw = b
		}
	}
	refuse := func(msg string) {
		p.flowsPage(w, r, http.StatusUnprocessableEntity, &flowsView{Where: "import", Error: msg, JSON: pasted})
	}
	if strings.TrimSpace(string(raw)) == "" {
		refuse(p.T("flows.import_empty"))
		return
	}
	var x flowExport
	if err := json.Unmarshal(raw, &x); err != nil {
		refuse(p.T("flows.import_bad_json", err.Error()))
		return
	}
	if len(x.Definition) == 0 || string(x.Definition) == "null" {
		refuse(p.T("flows.import_no_definition"))
		return
	}
	base := strings.TrimSpace(x.Name)
	if base == "" {
		base = p.T("flows.imported_name")
	}
	name := base
	for n := 2; ; n++ {
		f, err := p.Flows.Create(r.Context(), name, x.Definition)
		var ie *flows.InvalidError
		if errors.As(err, &ie) && ie.Code == "name_taken" && n < 100 {
			name = fmt.Sprintf("%s (%d)", base, n)
			continue
		}
		if msg, ok := flowMessage(err); ok {
			refuse(msg)
			return
		}
		if err != nil {
			p.internal(w, r, err)
			return
		}
		http.Redirect(w, r, flowURL(f.ID, "?ok=flow_imported"), http.StatusSeeOther)
		return
	}
}

// handleFlowExport downloads a flow's draft with its name.
func (p *Panel) handleFlowExport(w http.ResponseWriter, r *http.Request) {
	f, ok := p.flowOf(w, r)
	if !ok {
		return
	}
	b, err := json.MarshalIndent(flowExport{Name: f.Name, Definition: f.Draft}, "", "  ")
	if err != nil {
		p.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+fileSlug(f.Name)+`.json"`)
	w.Write(append(b, '\n'))
}

// fileSlug makes a file name of a flow's name: ASCII letters and digits
// joined by dashes.
func fileSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "flow"
	}
	return b.String()
}

// flowOf loads the flow of the request's path, answering 404 itself.
func (p *Panel) flowOf(w http.ResponseWriter, r *http.Request) (*flows.Flow, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return nil, false
	}
	f, err := p.Flows.Get(r.Context(), id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return nil, false
	}
	return f, true
}

// flowView is the editor: the flow as stored, and the draft as shown (the
// one posted when it could not be saved).
type flowView struct {
	Flow     *flows.Flow
	Name     string
	Def      *flows.Definition
	Problems []flows.Problem
	Error    string // why the last action was refused
	Flash    string
	Note     string
	CanEdit  bool
	CSRF     string
	Diagram  template.HTML
	Vars     []string
	StepIDs  []string
	// Adds are the step types chosen to add, by select ("add", "s2.add"),
	// kept when the editor is redrawn.
	Adds map[string]string
	// Templates are the approved templates a send step may use.
	Templates []store.Template
	// Labels are the business's conversation labels, for set steps.
	Labels []store.Label
	// Quiet is the marketing quiet hours, told next to marketing sends.
	Quiet outbound.QuietHours
	// Missing are the templates the draft sends that Meta has not
	// approved, with the wording to submit.
	Missing []flows.MissingTemplate
	// Try: the sandbox's test phone, or a number to type with Meta's
	// credentials; the number last tried, and what came of it.
	Sandbox   bool
	TryNumber string
	TryPhones []string // the test phone's customers, newest first
	Tried     string   // the number a trial started on, digits
	TryWindow bool     // that number wrote in the last 24 hours
}

// StepProblems are the problems about the step with id.
func (v *flowView) StepProblems(id string) []flows.Problem {
	var out []flows.Problem
	for _, p := range v.Problems {
		if p.Step != "" && p.Step == id {
			out = append(out, p)
		}
	}
	return out
}

// TriggerProblems are the problems about the i-th trigger (0-based).
func (v *flowView) TriggerProblems(i int) []flows.Problem {
	var out []flows.Problem
	for _, p := range v.Problems {
		if p.Step == "" && p.Trigger == i+1 {
			out = append(out, p)
		}
	}
	return out
}

// FlowProblems are the problems about the flow as a whole.
func (v *flowView) FlowProblems() []flows.Problem {
	var out []flows.Problem
	for _, p := range v.Problems {
		if p.Step == "" && p.Trigger == 0 {
			out = append(out, p)
		}
	}
	return out
}

// Changed says whether the draft differs from the published version.
func (v *flowView) Changed() bool { return !bytes.Equal(v.Flow.Draft, v.Flow.Definition) }

// Known says whether a step id exists: a "go to" naming another is kept
// in its select, marked missing.
func (v *flowView) Known(id string) bool { return slices.Contains(v.StepIDs, id) }

// SimpleCond says whether the editor can edit a condition: none yet, or
// one comparison. All, any and not are shown read only.
func (v *flowView) SimpleCond(c *flows.Cond) bool {
	return c == nil || (len(c.All) == 0 && len(c.Any) == 0 && c.Not == nil)
}

// StepTypes and friends are the options of the editor's selects.
func (v *flowView) StepTypes() []string { return editorStepTypes }
func (v *flowView) TriggerTypes() []string {
	return []string{flows.TriggerKeyword, flows.TriggerFirstMessage, flows.TriggerButton, flows.TriggerEvent,
		flows.TriggerSchedule, flows.TriggerSilence, flows.TriggerTagAdded, flows.TriggerAttributeChanged, flows.TriggerAd}
}

// KnownTrigger says whether the editor knows a trigger type; another (from
// an import) stays selected as it is, for Validate to report.
func (v *flowView) KnownTrigger(typ string) bool { return slices.Contains(v.TriggerTypes(), typ) }

// KnownInput says the same of an answer type.
func (v *flowView) KnownInput(typ string) bool { return slices.Contains(v.InputTypes(), typ) }

func (v *flowView) InputTypes() []string {
	return []string{flows.InputText, flows.InputNumber, flows.InputEmail, flows.InputDate, flows.InputChoice, flows.InputPhone,
		flows.InputPhoto, flows.InputLocation, flows.InputVehicle}
}

// Methods are the HTTP methods an http step may use.
func (v *flowView) Methods() []string { return []string{"GET", "POST", "PUT", "PATCH", "DELETE"} }

// KnownMethod says whether the editor offers a method; another stays
// selected as it is, for Validate to report.
func (v *flowView) KnownMethod(m string) bool { return slices.Contains(v.Methods(), m) }

// flowRow is one row of an http step's headers or map.
type kvRow struct{ Key, Value string }

// Rows are an http step's headers or map as the editor's rows, in the
// order the remove buttons count.
func (v *flowView) Rows(m map[string]string) []kvRow {
	var out []kvRow
	for _, k := range rowKeys(m) {
		out = append(out, kvRow{k, m[k]})
	}
	return out
}

// MediaTypes are what a send step can send by link, besides a text.
func (v *flowView) MediaTypes() []string {
	return []string{flows.MediaImage, flows.MediaVideo, flows.MediaDocument}
}

// TemplateKey is how the template select names a template.
func (v *flowView) TemplateKey(name, lang string) string { return name + "|" + lang }

// KnownTemplate says whether a send step's template is among the approved
// ones synced from Meta; another stays selected, marked, for Publish to
// check.
func (v *flowView) KnownTemplate(t *flows.TemplateRef) bool {
	return t == nil || slices.ContainsFunc(v.Templates, func(x store.Template) bool { return x.Name == t.Name && x.Language == t.Language })
}

// MarketingTemplate says whether a send step's template is a marketing
// one (by the synced list): it waits for the end of the quiet hours.
func (v *flowView) MarketingTemplate(t *flows.TemplateRef) bool {
	return t != nil && slices.ContainsFunc(v.Templates, func(x store.Template) bool {
		return x.Name == t.Name && x.Language == t.Language && x.Category == outbound.Marketing
	})
}

// Params are a template's parameters, one a line, for its text box.
func (v *flowView) Params(t *flows.TemplateRef) string {
	if t == nil {
		return ""
	}
	return strings.Join(t.Params, "\n")
}
func (v *flowView) Ops() []string {
	return []string{flows.OpEq, flows.OpNe, flows.OpContains, flows.OpExists, flows.OpMissing, flows.OpGt, flows.OpLt, flows.OpHas}
}
func (v *flowView) Reentries() []string {
	return []string{flows.ReentryOneAtATime, flows.ReentryOnce, flows.ReentryEveryTime}
}

// Raw is a value as JSON, for the parts the editor keeps but does not edit.
func (v *flowView) Raw(x any) string { b, _ := json.Marshal(x); return string(b) }

func (p *Panel) flowView(r *http.Request, f *flows.Flow) *flowView {
	s := sessionFrom(r)
	v := &flowView{Flow: f, Name: f.Name, Def: f.DraftDef, Problems: f.Problems,
		CanEdit: accounts.Can(s.User.Role, accounts.Admin), CSRF: s.CSRF}
	if v.Def == nil {
		v.Def = &flows.Definition{}
	}
	return v
}

// render fills in what follows from the definition shown, and renders the
// editor: the whole page, or for htmx the editor alone.
func (p *Panel) renderFlow(w http.ResponseWriter, r *http.Request, status int, v *flowView) {
	v.Diagram = template.HTML(flows.Diagram(v.Def)) // flows.Diagram escapes every text
	v.Vars = templateVars(v.Def)
	v.StepIDs = nil
	for _, s := range v.Def.Steps {
		v.StepIDs = append(v.StepIDs, s.ID)
	}
	if ls, err := p.Store.ListLabels(r.Context()); err == nil {
		v.Labels = ls
	} else {
		p.Log.Warn("list labels for the flow editor", slog.Any("err", err))
	}
	if tps, err := p.Store.ListTemplates(r.Context(), true); err == nil {
		v.Templates = tps
	} else {
		p.Log.Warn("list templates for the flow editor", slog.Any("err", err))
	}
	if q, err := outbound.LoadQuietHours(r.Context(), p.Store, nil); err == nil {
		v.Quiet = q
	} else {
		p.Log.Warn("read the quiet hours for the flow editor", slog.Any("err", err))
	}
	p.flowMissingTemplates(r, v)
	if v.Sandbox = p.Sim != nil; v.Sandbox {
		v.TryPhones = nil
		for _, c := range p.Sim.Chats() {
			if c.WaID != "" {
				v.TryPhones = append(v.TryPhones, "+"+c.WaID)
			}
		}
		if v.TryNumber == "" && len(v.TryPhones) > 0 {
			v.TryNumber = v.TryPhones[0]
		}
	}
	if r.Header.Get("HX-Request") == "true" {
		p.fragment(w, r, "flow", "flow_page", v) // swapped even when refused: the reason is in it
		return
	}
	p.page(w, r, status, "flow", &view{Title: v.Flow.Name + " · " + p.T("flows.title"), Nav: "flows", Data: v})
}

// flowMissingTemplates finds the templates the draft shown sends that
// Meta has not approved, for the editor to show their wording to submit.
func (p *Panel) flowMissingTemplates(r *http.Request, v *flowView) {
	var err error
	if v.Missing, err = p.Flows.MissingTemplates(r.Context(), v.Def); err != nil {
		p.Log.Warn("missing templates for the flow editor", slog.Any("err", err))
	}
}

// ManagerURL is where templates are submitted to Meta.
func (v *flowView) ManagerURL() string { return templates.ManagerURL }

// templateVars are the names a flow's texts can use.
func templateVars(d *flows.Definition) []string {
	out := []string{"contact.name", "contact.phone", "contact.language", "contact.tags", "contact.consent", "contact.country"}
	seen := map[string]bool{}
	addVar := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, "vars."+v)
		}
	}
	for _, s := range d.Steps {
		switch {
		case s.Type == flows.StepAsk:
			addVar(s.Var)
			if s.Input == flows.InputVehicle && s.Var != "" {
				addVar(s.Var + "_plate")
				addVar(s.Var + "_vin")
			}
		case s.Type == flows.StepWait && s.UntilReply:
			addVar(s.Var)
		case s.Type == flows.StepAI:
			addVar(s.Var)
		case s.Type == flows.StepHTTP && s.HTTP != nil:
			for _, k := range rowKeys(s.HTTP.Map) {
				addVar(k)
			}
			addVar(s.HTTP.StatusVar)
		}
	}
	for _, s := range d.Steps {
		if s.Type == flows.StepSet && s.Attribute != "" && !seen["a:"+s.Attribute] {
			seen["a:"+s.Attribute] = true
			out = append(out, "attributes."+s.Attribute)
		}
	}
	for _, t := range d.Triggers {
		if t.Type == flows.TriggerEvent {
			out = append(out, "event.NAME")
			break
		}
	}
	out = append(out, triggerVars(d)...)
	return append(out, "attributes.NAME", "time.hour", "time.weekday", "time.open")
}

func (p *Panel) handleFlow(w http.ResponseWriter, r *http.Request) {
	f, ok := p.flowOf(w, r)
	if !ok {
		return
	}
	p.renderFlow(w, r, http.StatusOK, p.flowView(r, f))
}

// handleFlowSave saves the editor's draft, after the change its button
// asked for (add, move or delete a step, a trigger or a choice), and
// publishes it when asked.
func (p *Panel) handleFlowSave(w http.ResponseWriter, r *http.Request) {
	f, ok := p.flowOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	name, def := parseFlowForm(r)
	op := r.PostFormValue("op")
	applyFlowOp(def, op, r.PostFormValue)
	raw, err := json.Marshal(def)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	saved, err := p.Flows.SaveDraft(ctx, f.ID, name, raw)
	if msg, ok := flowMessage(err); ok {
		// Not saved: show what was posted, with the reason and the
		// problems the posted draft would have.
		v := p.flowView(r, f)
		v.Name, v.Def, v.Error, v.Problems = name, def, msg, def.Validate()
		p.renderFlow(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	v := p.flowView(r, saved)
	if !strings.HasPrefix(op, "add:") {
		v.Adds = map[string]string{}
		for k := range r.PostForm {
			if k == "add" || (strings.HasPrefix(k, "s") && strings.HasSuffix(k, ".add")) {
				v.Adds[k] = r.PostForm.Get(k)
			}
		}
	}
	if op == "publish" {
		v.Note = r.PostFormValue("note")
		pub, err := p.Flows.Publish(ctx, f.ID, v.Note)
		if p.flowRefused(w, r, v, err) {
			return
		}
		if err != nil {
			p.internal(w, r, err)
			return
		}
		v = p.flowView(r, pub)
		v.Flash = p.T("flows.published", pub.Version)
	}
	if r.Header.Get("HX-Request") != "true" && v.Flash == "" {
		http.Redirect(w, r, flowURL(f.ID, "?ok=saved"), http.StatusSeeOther)
		return
	}
	p.renderFlow(w, r, http.StatusOK, v)
}

// handleFlowActive switches a published flow's triggers on or off.
func (p *Panel) handleFlowActive(w http.ResponseWriter, r *http.Request) {
	f, ok := p.flowOf(w, r)
	if !ok {
		return
	}
	on := r.PostFormValue("active") == "on"
	_, err := p.Flows.SetActive(r.Context(), f.ID, on)
	if msg, ok := flowMessage(err); ok {
		v := p.flowView(r, f)
		v.Error = msg
		p.renderFlow(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	ok2 := "flow_off"
	if on {
		ok2 = "flow_on"
	}
	http.Redirect(w, r, flowURL(f.ID, "?ok="+ok2), http.StatusSeeOther)
}

// handleFlowDelete removes a flow with its versions and runs.
func (p *Panel) handleFlowDelete(w http.ResponseWriter, r *http.Request) {
	f, ok := p.flowOf(w, r)
	if !ok {
		return
	}
	if err := p.Flows.Delete(r.Context(), f.ID); err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	http.Redirect(w, r, "/flows?ok=deleted", http.StatusSeeOther)
}

// handleFlowReady adds a draft copy of a ready-made flow and opens it in
// the editor, to change and publish.
func (p *Panel) handleFlowReady(w http.ResponseWriter, r *http.Request) {
	f, err := p.Flows.CreateReady(r.Context(), r.PostFormValue("key"))
	if errors.Is(err, flows.ErrNoReadyFlow) {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	if msg, ok := flowMessage(err); ok {
		p.flowsPage(w, r, http.StatusUnprocessableEntity, &flowsView{Where: "ready", Error: msg})
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, flowURL(f.ID, "?ok=flow_ready"), http.StatusSeeOther)
}

// handleFlowTry runs the draft, unpublished, for one number: the test
// phone's in the sandbox. A draft with problems is refused with them, by
// their steps.
func (p *Panel) handleFlowTry(w http.ResponseWriter, r *http.Request) {
	f, ok := p.flowOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v := p.flowView(r, f)
	v.TryNumber = strings.TrimSpace(r.PostFormValue("contact"))
	to, err := whatsapp.NormalizeRecipient(v.TryNumber)
	if err != nil || !strings.HasPrefix(to, "+") {
		v.Error = p.T("flows.try_bad_number")
		p.renderFlow(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	contactID, err := inbox.ContactForPhone(r.Context(), p.Store, to, p.T)
	if err != nil {
		p.commandError(w, r, err)
		return
	}
	_, err = p.Flows.Try(ctx, f.ID, contactID)
	if p.flowRefused(w, r, v, err) {
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	v.Tried = to[1:]
	if c, err := p.Store.ContactByID(ctx, contactID); err == nil {
		v.TryWindow = outbound.WindowOpen(c.LastInboundAt, time.Now())
	}
	p.renderFlow(w, r, http.StatusOK, v)
}

// flowRefused shows the editor again with why a publish or a try was
// refused (the draft's problems next to their steps), and reports whether
// err was such a refusal.
func (p *Panel) flowRefused(w http.ResponseWriter, r *http.Request, v *flowView, err error) bool {
	var ie *flows.InvalidError
	if !errors.As(err, &ie) {
		return false
	}
	v.Error = sentence(ie.Message)
	if len(ie.Problems) > 0 {
		v.Problems = ie.Problems
	}
	p.renderFlow(w, r, http.StatusUnprocessableEntity, v)
	return true
}
