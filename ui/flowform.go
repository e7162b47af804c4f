package ui

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"sendbox/flows"
)

// The editor's form, field by field: t0.type, t0.keywords… for the
// triggers, s0.id, s0.text, s0.c1.title… for the steps, with counts in
// "triggers", "steps" and s0.nc. Each trigger and step also travels whole
// as JSON (t0.raw, s0.raw), and the fields the editor shows are written
// over it: what it does not show (a field added to the flow model since, a
// compound condition, a step type it does not know) is kept as it was,
// not dropped by a save from the panel.

// Bounds on the counts a form may claim, beyond what the engine allows, so
// that a forged form cannot make the handler loop for long.
const (
	maxFormTriggers = 50
	maxFormSteps    = 250
	maxFormChoices  = 20
)

func formCount(get func(string) string, key string, limit int) int {
	n, err := strconv.Atoi(get(key))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, limit)
}

// parseFlowForm reads the editor's form into a name and a definition.
func parseFlowForm(r *http.Request) (string, *flows.Definition) {
	get := func(k string) string { return r.PostFormValue(k) }
	trim := func(k string) string { return strings.TrimSpace(get(k)) }
	d := &flows.Definition{Reentry: get("reentry"), Triggers: []flows.Trigger{}, Steps: []flows.Step{}}
	if d.Reentry == flows.ReentryOneAtATime {
		d.Reentry = "" // the default, as the API leaves it
	}
	d.ExitOn = parseExitOn(get("exit_on"))
	for i := range formCount(get, "triggers", maxFormTriggers) {
		pre := "t" + strconv.Itoa(i) + "."
		var t flows.Trigger
		json.Unmarshal([]byte(get(pre+"raw")), &t) // nothing kept when it does not read
		if typ := get(pre + "type"); typ != t.Type {
			t = flows.Trigger{Type: typ} // another kind of trigger: nothing of the old one applies
		}
		switch t.Type {
		case flows.TriggerKeyword:
			t.Keywords, t.Match = nil, ""
			for _, k := range strings.FieldsFunc(get(pre+"keywords"), func(r rune) bool { return r == ',' || r == '\n' }) {
				if k = strings.TrimSpace(k); k != "" {
					t.Keywords = append(t.Keywords, k)
				}
			}
			if m := get(pre + "match"); m == "contains" {
				t.Match = m
			}
		case flows.TriggerButton:
			t.Payload = trim(pre + "payload")
		case flows.TriggerEvent:
			t.Event = trim(pre + "event")
		default:
			parseTriggerFields(r, pre, &t)
		}
		d.Triggers = append(d.Triggers, t)
	}
	renamed := map[string]string{}
	for i := range formCount(get, "steps", maxFormSteps) {
		pre := "s" + strconv.Itoa(i) + "."
		var s flows.Step
		json.Unmarshal([]byte(get(pre+"raw")), &s) // nothing kept when it does not read
		s.ID, s.Type = trim(pre+"id"), get(pre+"type")
		if was := get(pre + "was"); was != "" && was != s.ID && s.ID != "" {
			renamed[was] = s.ID
		}
		choices := func(branch bool) []flows.Choice {
			var cs []flows.Choice
			for j := range formCount(get, pre+"nc", maxFormChoices) {
				cp := pre + "c" + strconv.Itoa(j) + "."
				c := flows.Choice{ID: strings.TrimSpace(get(cp + "id")), Title: strings.TrimSpace(get(cp + "title"))}
				if c.ID == "" {
					c.ID = choiceID(c.Title)
				}
				if branch {
					c.Next = get(cp + "next")
				}
				cs = append(cs, c)
			}
			return cs
		}
		switch s.Type {
		case flows.StepSend:
			s.Text, s.Next, s.Buttons, s.Template = get(pre+"text"), get(pre+"next"), choices(false), nil
			s.Media, s.CTA = nil, nil
			if s.Text == "" {
				s.Text = get(pre + "media_caption") // from a media back to a text
			}
			if kind, ok := strings.CutPrefix(get(pre+"tmpl"), "="); ok {
				sendKind(&s, kind, pre, get)
			} else if name, lang, ok := strings.Cut(get(pre+"tmpl"), "|"); ok && name != "" {
				// A template has the buttons Meta approved with it, and no text of its own.
				s.Template, s.Text, s.Buttons = &flows.TemplateRef{Name: name, Language: lang}, "", nil
				for _, line := range strings.Split(strings.ReplaceAll(get(pre+"params"), "\r\n", "\n"), "\n") {
					if line = strings.TrimSpace(line); line != "" {
						s.Template.Params = append(s.Template.Params, line)
					}
				}
			}
		case flows.StepAsk:
			s.Text, s.Input, s.Var, s.Next = get(pre+"text"), get(pre+"input"), trim(pre+"var"), get(pre+"next")
			s.Optional = get(pre+"optional") == "on"
			s.Choices, s.Retries, s.OnTimeout = nil, 0, ""
			if s.Input == flows.InputChoice {
				s.Choices = choices(true)
			}
			if rt := trim(pre + "retries"); rt != "" {
				n, err := strconv.Atoi(rt)
				if err != nil {
					n = -1 // out of bounds: Validate says what retries may be
				}
				s.Retries = n
			}
			s.Reask, s.Timeout, s.OnFail = get(pre+"reask"), trim(pre+"timeout"), get(pre+"on_fail")
			if s.Timeout != "" {
				s.OnTimeout = get(pre + "on_timeout")
			}
		case flows.StepCondition:
			s.Then, s.Else, s.If = get(pre+"then"), get(pre+"else"), nil
			if raw := get(pre + "cond"); raw != "" {
				var c flows.Cond
				if json.Unmarshal([]byte(raw), &c) == nil {
					s.If = &c
				}
			} else if left, op, right := trim(pre+"left"), get(pre+"op"), get(pre+"right"); left != "" || right != "" {
				s.If = &flows.Cond{Left: left, Op: op, Right: right}
			}
		case flows.StepSet:
			s.Attribute, s.Value, s.Next = trim(pre+"attribute"), get(pre+"value"), get(pre+"next")
			s.AddTag, s.RemoveTag = trim(pre+"add_tag"), trim(pre+"remove_tag")
			s.AddLabel, s.RemoveLabel = trim(pre+"add_label"), trim(pre+"remove_label")
		case flows.StepWait:
			s.Duration, s.Next, s.At = trim(pre+"duration"), get(pre+"next"), trim(pre+"at")
			s.CustomerTime = get(pre+"customer_time") == "on"
			s.UntilReply, s.OnReply, s.Var = get(pre+"until_reply") == "on", "", ""
			if s.UntilReply {
				s.OnReply, s.Var = get(pre+"on_reply"), trim(pre+"var")
			}
			parseEventWait(get, pre, &s)
			waitUntil(d, &s, pre, get)
		case flows.StepHandoff:
			s.Text, s.Team, s.Urgent = get(pre+"text"), trim(pre+"team"), get(pre+"urgent") == "on"
			s.Outcome = trim(pre + "outcome")
		case flows.StepEnd:
			s.Outcome = trim(pre + "outcome")
		case flows.StepAI:
			parseAIStep(get, pre, &s)
		case flows.StepJump:
			s.Next = get(pre + "next")
		case flows.StepSplit:
			s.Split = nil
			for j := range formCount(get, pre+"nb", maxFormChoices) {
				bp := pre + "b" + strconv.Itoa(j) + "."
				w, err := strconv.Atoi(trim(bp + "weight"))
				if err != nil {
					w = 0 // out of bounds: Validate says what a weight may be
				}
				s.Split = append(s.Split, flows.SplitBranch{Name: trim(bp + "name"), Weight: w, Next: get(bp + "next")})
			}
		case flows.StepHTTP:
			s.Next = get(pre + "next")
			hp := pre + "h."
			h := &flows.HTTPRequest{Method: get(hp + "method"), URL: trim(hp + "url"), Body: get(hp + "body"),
				Timeout: trim(hp + "timeout"), StatusVar: trim(hp + "status_var"), OnError: get(hp + "on_error"), OnTimeout: get(hp + "on_timeout")}
			h.Body = strings.ReplaceAll(h.Body, "\r\n", "\n")
			// Rows left blank stay (as one), for Validate to point at, until removed.
			for j := range formCount(get, hp+"nh", maxFormChoices) {
				rp := hp + "h" + strconv.Itoa(j) + "."
				if h.Headers == nil {
					h.Headers = map[string]string{}
				}
				h.Headers[trim(rp+"key")] = strings.TrimSpace(get(rp + "value"))
			}
			for j := range formCount(get, hp+"nm", maxFormChoices) {
				rp := hp + "m" + strconv.Itoa(j) + "."
				if h.Map == nil {
					h.Map = map[string]string{}
				}
				h.Map[trim(rp+"var")] = trim(rp + "path")
			}
			s.HTTP = h
		}
		s.Text = strings.ReplaceAll(s.Text, "\r\n", "\n")
		d.Steps = append(d.Steps, s)
	}
	// A step renamed in the editor keeps the branches that led to it.
	if len(renamed) > 0 {
		for i := range d.Steps {
			eachBranch(&d.Steps[i], func(to *string) {
				if n, ok := renamed[*to]; ok {
					*to = n
				}
			})
		}
	}
	return strings.TrimSpace(get("name")), d
}

// eachBranch calls f with every "go to" of s.
func eachBranch(s *flows.Step, f func(*string)) {
	for _, p := range []*string{&s.Next, &s.Then, &s.Else, &s.OnFail, &s.OnTimeout} {
		if *p != "" {
			f(p)
		}
	}
	for j := range s.Choices {
		if s.Choices[j].Next != "" {
			f(&s.Choices[j].Next)
		}
	}
	for j := range s.Split {
		if s.Split[j].Next != "" {
			f(&s.Split[j].Next)
		}
	}
	if s.OnReply != "" {
		f(&s.OnReply)
	}
	for _, p := range []*string{&s.OnEvent, &s.OnUnanswered} {
		if *p != "" {
			f(p)
		}
	}
	if s.OnMissing != "" {
		f(&s.OnMissing)
	}
	if h := s.HTTP; h != nil {
		for _, p := range []*string{&h.OnError, &h.OnTimeout} {
			if *p != "" {
				f(p)
			}
		}
	}
}

// sendKind reads what a send step sends besides a text or a template
// (the "send as" select's "=image", "=video", "=document", "=cta"). A
// text becomes a media's caption, and back, when the kind changes.
func sendKind(s *flows.Step, kind, pre string, get func(string) string) {
	trim := func(k string) string { return strings.TrimSpace(get(k)) }
	switch kind {
	case flows.MediaImage, flows.MediaVideo, flows.MediaDocument:
		s.Media = &flows.MediaRef{Type: kind, Link: trim(pre + "media_link"),
			Caption: strings.ReplaceAll(cmp.Or(get(pre+"media_caption"), s.Text), "\r\n", "\n")}
		if kind == flows.MediaDocument {
			s.Media.Filename = trim(pre + "media_filename")
		}
		s.Text, s.Buttons = "", nil
	case "cta":
		s.CTA = &flows.CTAButton{DisplayText: trim(pre + "cta_text"), URL: trim(pre + "cta_url")}
		s.Buttons = nil
	}
}

// waitUntil reads a wait step's "until a date" fields when its mode is
// "date" (a duration's fields otherwise). Switched to a date, the step
// waits for the first date question's answer, else for a birthday, until
// the owner names the date.
func waitUntil(d *flows.Definition, s *flows.Step, pre string, get func(string) string) {
	trim := func(k string) string { return strings.TrimSpace(get(k)) }
	s.UntilAttribute, s.Offset, s.Yearly, s.OnMissing = "", "", false, ""
	if get(pre+"wait_kind") != "date" {
		return
	}
	s.Duration = ""
	s.UntilAttribute, s.Offset, s.Yearly = trim(pre+"until_attribute"), trim(pre+"offset"), get(pre+"yearly") == "on"
	s.OnMissing = get(pre + "on_missing")
	if s.UntilAttribute == "" {
		s.UntilAttribute = "birthday"
		for _, q := range d.Steps {
			if q.Type == flows.StepAsk && q.Input == flows.InputDate && q.Var != "" {
				s.UntilAttribute = "vars." + q.Var
				break
			}
		}
	}
}

// rowKeys are the keys of a step's headers or map in the order the editor
// shows them: by name, a row left blank last. The ops that remove a row
// count in this order.
func rowKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "":
			return 1
		case b == "":
			return -1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// choiceID makes a choice's id of its title when none was given: its
// letters and digits in lower case, words joined by _.
func choiceID(title string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), "_")
}

// applyFlowOp makes the change a button of the editor asks for: op is
// add:N (a step of the type chosen in sN.add after step N, or "add:end"
// with "add"), up:N, down:N, del:N, add-choice:N, del-choice:N:J,
// add-branch:N, del-branch:N:J (a split's), add-header:N, del-header:N:J,
// add-map:N, del-map:N:J (an http step's), add-trigger, del-trigger:N.
// Anything else changes nothing.
func applyFlowOp(d *flows.Definition, op string, get func(string) string) {
	verb, arg, _ := strings.Cut(op, ":")
	n, err := strconv.Atoi(arg)
	valid := err == nil && n >= 0
	step := valid && n < len(d.Steps)
	// row is step i and row j of a del-…:I:J op, ok when both are numbers
	// and i is a step.
	row := func() (*flows.Step, int, bool) {
		a, b, _ := strings.Cut(arg, ":")
		i, err1 := strconv.Atoi(a)
		j, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || i < 0 || i >= len(d.Steps) || j < 0 {
			return nil, 0, false
		}
		return &d.Steps[i], j, true
	}
	delKey := func(m map[string]string, j int) {
		if keys := rowKeys(m); j < len(keys) {
			delete(m, keys[j])
		}
	}
	switch {
	case verb == "add-branch" && step && d.Steps[n].Type == flows.StepSplit:
		d.Steps[n].Split = append(d.Steps[n].Split, flows.SplitBranch{Name: string(rune('A' + len(d.Steps[n].Split)%26)), Weight: 50})
	case verb == "del-branch":
		if s, j, ok := row(); ok && j < len(s.Split) {
			s.Split = slices.Delete(s.Split, j, j+1)
		}
	case (verb == "add-header" || verb == "add-map") && step && d.Steps[n].Type == flows.StepHTTP:
		s := &d.Steps[n]
		if s.HTTP == nil {
			s.HTTP = &flows.HTTPRequest{Method: "GET"}
		}
		m := &s.HTTP.Headers
		if verb == "add-map" {
			m = &s.HTTP.Map
		}
		if *m == nil {
			*m = map[string]string{}
		}
		if _, blank := (*m)[""]; !blank {
			(*m)[""] = ""
		}
	case verb == "del-header" || verb == "del-map":
		if s, j, ok := row(); ok && s.HTTP != nil {
			m := s.HTTP.Headers
			if verb == "del-map" {
				m = s.HTTP.Map
			}
			delKey(m, j)
			if len(s.HTTP.Headers) == 0 {
				s.HTTP.Headers = nil
			}
			if len(s.HTTP.Map) == 0 {
				s.HTTP.Map = nil
			}
		}
	case verb == "add" && arg == "end":
		d.Steps = append(d.Steps, newStep(d, get("add")))
	case verb == "add" && step:
		d.Steps = slices.Insert(d.Steps, n+1, newStep(d, get("s"+arg+".add")))
	case verb == "up" && step && n > 0:
		d.Steps[n-1], d.Steps[n] = d.Steps[n], d.Steps[n-1]
	case verb == "down" && step && n+1 < len(d.Steps):
		d.Steps[n+1], d.Steps[n] = d.Steps[n], d.Steps[n+1]
	case verb == "del" && step:
		d.Steps = slices.Delete(d.Steps, n, n+1)
	case verb == "add-choice" && step:
		s := &d.Steps[n]
		if s.Type == flows.StepSend {
			s.Buttons = append(s.Buttons, flows.Choice{})
		} else if s.Type == flows.StepAsk {
			s.Input = flows.InputChoice
			s.Choices = append(s.Choices, flows.Choice{})
		}
	case verb == "del-choice":
		a, b, _ := strings.Cut(arg, ":")
		i, err1 := strconv.Atoi(a)
		j, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || i < 0 || i >= len(d.Steps) || j < 0 {
			return
		}
		s := &d.Steps[i]
		if s.Type == flows.StepSend && j < len(s.Buttons) {
			s.Buttons = slices.Delete(s.Buttons, j, j+1)
		} else if s.Type == flows.StepAsk && j < len(s.Choices) {
			s.Choices = slices.Delete(s.Choices, j, j+1)
		}
	case verb == "add-trigger":
		d.Triggers = append(d.Triggers, flows.Trigger{Type: flows.TriggerKeyword})
	case verb == "del-trigger" && valid && n < len(d.Triggers):
		d.Triggers = slices.Delete(d.Triggers, n, n+1)
	}
}

// editorStepTypes are the step types the editor adds, in its menus' order.
var editorStepTypes = []string{flows.StepSend, flows.StepAsk, flows.StepCondition, flows.StepSet, flows.StepWait,
	flows.StepHandoff, flows.StepSplit, flows.StepJump, flows.StepHTTP, flows.StepAI, flows.StepEnd}

// newStep is a step of type typ with an id and, for a question, a
// variable that no other step uses.
func newStep(d *flows.Definition, typ string) flows.Step {
	if !slices.Contains(editorStepTypes, typ) {
		typ = flows.StepSend
	}
	unique := func(base string, taken func(string) bool) string {
		if !taken(base) {
			return base
		}
		for i := 2; ; i++ {
			if c := base + "_" + strconv.Itoa(i); !taken(c) {
				return c
			}
		}
	}
	s := flows.Step{Type: typ, ID: unique(typ, func(id string) bool {
		return slices.ContainsFunc(d.Steps, func(s flows.Step) bool { return s.ID == id })
	})}
	switch typ {
	case flows.StepSplit:
		s.Split = []flows.SplitBranch{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}}
	case flows.StepHTTP:
		s.HTTP = &flows.HTTPRequest{Method: "GET"}
	case flows.StepAsk:
		s.Input = flows.InputText
		s.Var = unique("answer", func(v string) bool {
			return slices.ContainsFunc(d.Steps, func(s flows.Step) bool { return s.Type == flows.StepAsk && s.Var == v })
		})
	}
	return s
}
