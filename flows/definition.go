// Package flows runs the business's processes: a flow is a list of steps
// (send, ask, condition, set, wait, hand off, end with an outcome) started
// by a trigger (a keyword, a customer's first message, a button, an event
// from the business's own system). Each publish freezes an immutable
// version; a run follows one version for one contact, one step transaction
// at a time.
package flows

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Definition is what a business edits and publishes: triggers, the re-entry
// rule and the steps. Stored and exchanged as JSON (export, import, API).
type Definition struct {
	Triggers []Trigger `json:"triggers"`
	// Reentry says when a contact may run the flow again: ReentryOnce,
	// ReentryOneAtATime (the default) or ReentryEveryTime.
	Reentry string `json:"reentry,omitempty"`
	// ExitOn names events (POST /api/v1/events) that end a contact's run
	// of the flow, outcome "exited": the reasons to stop following up (a
	// cancelled order, a new one). Runs of the version that says so.
	ExitOn []string `json:"exit_on,omitempty"`
	Steps  []Step   `json:"steps"`
}

// Re-entry rules.
const (
	ReentryOnce       = "once"          // a contact runs it once, ever
	ReentryOneAtATime = "one_at_a_time" // again once the last run ended
	ReentryEveryTime  = "every_time"    // a trigger restarts it, ending the run in progress
)

// Trigger types.
const (
	TriggerKeyword      = "keyword"       // the message is, or contains, one of Keywords
	TriggerFirstMessage = "first_message" // the contact's first message ever
	TriggerButton       = "button"        // a button or list reply whose id is Payload
	TriggerEvent        = "event"         // POST /api/v1/events with this Event name
)

// Trigger starts a run.
type Trigger struct {
	Type     string   `json:"type"`
	Keywords []string `json:"keywords,omitempty"`
	// Match is how keywords match: "exact" (the whole message, the
	// default) or "contains" (a whole word or phrase of it).
	Match   string `json:"match,omitempty"`
	Payload string `json:"payload,omitempty"`
	Event   string `json:"event,omitempty"`

	// schedule (see triggers.go): At ("09:00", the business's time zone)
	// on Days ("mon"…"sun"; every day when empty) or on one Date
	// ("2026-12-24"), for the contacts with Tag and, with DateAttribute,
	// only those whose attribute falls on that day (a birthday).
	At            string   `json:"at,omitempty"`
	Days          []string `json:"days,omitempty"`
	Date          string   `json:"date,omitempty"`
	Tag           string   `json:"tag,omitempty"` // also tag_added's tag
	DateAttribute string   `json:"date_attribute,omitempty"`
	// silence: the customer has not written for After ("2d", "4h").
	After string `json:"after,omitempty"`
	// attribute_changed: Attribute set to Value (to any value when "").
	Attribute string `json:"attribute,omitempty"`
	Value     string `json:"value,omitempty"`
	// ad: the ads (Meta's ad ids, a referral's source_id) whose
	// Click-to-WhatsApp messages start the flow; any ad when empty.
	AdIDs []string `json:"ad_ids,omitempty"`
}

// Step types.
const (
	StepSend      = "send"      // a text, with reply buttons, a list or a link button; media; a template
	StepAsk       = "ask"       // a question whose typed answer goes in a variable
	StepCondition = "condition" // branch on variables, attributes, tags, time
	StepSet       = "set"       // set an attribute, add or remove a tag or a conversation label
	StepWait      = "wait"      // a duration, or until a date (an attribute's, ± an offset)
	StepHandoff   = "handoff"   // to a person, with a summary of the answers
	StepEnd       = "end"       // the run ends with an outcome
	StepSplit     = "split"     // A/B: each contact always takes the same branch, by weight
	StepJump      = "jump"      // go to Next
	StepHTTP      = "http"      // call the business's own system; see HTTPRequest
	StepAI        = "ai"        // the assistant answers a question from the knowledge base; see ai.go
)

// Step is one step. Which fields apply depends on Type; Next is where the
// run goes after it (the following step when empty).
type Step struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Next string `json:"next,omitempty"`

	// send, ask: the text, with {{variables}}; Buttons (up to 3) or, over
	// 3 and up to 10, a list of Choices.
	Text    string   `json:"text,omitempty"`
	Buttons []Choice `json:"buttons,omitempty"`

	// send: a template approved by Meta instead of a text, for messages
	// that may leave 24 hours or more after the customer last wrote.
	Template *TemplateRef `json:"template,omitempty"`

	// send: an image, a video or a document by its link, instead of a
	// text (its caption says what Text would); or a text with one button
	// that opens a link (WhatsApp's cta_url), instead of reply buttons.
	Media *MediaRef  `json:"media,omitempty"`
	CTA   *CTAButton `json:"cta,omitempty"`

	// ask
	Input   string   `json:"input,omitempty"` // InputText, InputNumber, InputEmail, InputDate, InputChoice, InputPhone, InputPhoto, InputLocation
	Var     string   `json:"var,omitempty"`   // where the answer goes: {{vars.NAME}}
	Choices []Choice `json:"choices,omitempty"`
	Retries int      `json:"retries,omitempty"` // re-asks after an invalid answer before OnFail (default 2)
	// Optional lets the customer skip the question with one of the skip
	// words ("skip", "no", "salta", "passer"…): the variable stays empty.
	Optional bool   `json:"optional,omitempty"`
	Reask    string `json:"reask,omitempty"`   // said before asking again (a default per input type)
	Timeout  string `json:"timeout,omitempty"` // no answer in this long: OnTimeout ("" waits for ever)
	// OnFail and OnTimeout are where the run goes when the answers stay
	// invalid or do not come; empty ends the run, outcome "no_answer".
	OnFail    string `json:"on_fail,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"`

	// condition: Then if If holds, else Else (the following step when empty).
	If   *Cond  `json:"if,omitempty"`
	Then string `json:"then,omitempty"`
	Else string `json:"else,omitempty"`

	// set
	Attribute string `json:"attribute,omitempty"`
	Value     string `json:"value,omitempty"` // with {{variables}}
	AddTag    string `json:"add_tag,omitempty"`
	RemoveTag string `json:"remove_tag,omitempty"`
	// AddLabel and RemoveLabel put a label (by name, one the business
	// made in Settings → Labels) on the run's conversation, or take it off.
	AddLabel    string `json:"add_label,omitempty"`
	RemoveLabel string `json:"remove_label,omitempty"`

	// wait: Duration ("90m", "3d", "72h", or with variables:
	// "{{attributes.reorder_days}}d"), then, if At is set, until the next
	// At ("09:30") in the business's time zone. With UntilReply, a reply
	// before then goes to OnReply (kept in Var if set).
	Duration   string `json:"duration,omitempty"`
	At         string `json:"at,omitempty"`
	UntilReply bool   `json:"until_reply,omitempty"`
	OnReply    string `json:"on_reply,omitempty"`
	// CustomerTime reads At (and a date's midnight) on the customer's
	// clock, their time zone from their number (outbound.CustomerZone),
	// instead of the business's: a reminder at 10:00 wherever they are.
	// Without a time of day or a date it changes nothing.
	CustomerTime bool `json:"customer_time,omitempty"`
	// wait, instead of a duration: until the event UntilEvent arrives for
	// the contact (POST /api/v1/events), then OnEvent (Next when empty),
	// its data in {{event.*}}; with Timeout, OnTimeout (Next when empty)
	// if it has not come by then.
	UntilEvent string `json:"until_event,omitempty"`
	OnEvent    string `json:"on_event,omitempty"`

	// ai: the assistant answers Question (with {{variables}}; empty: the
	// customer's next message) from the knowledge base, the answer is sent
	// and kept in Var if set, and the run goes to Next; with no grounded
	// answer nothing is sent and the run goes to OnUnanswered (Next when
	// empty).
	Question     string `json:"question,omitempty"`
	OnUnanswered string `json:"on_unanswered,omitempty"`

	// wait until a date, instead of a duration: UntilAttribute names the
	// date, a contact attribute ("birthday", or "attributes.birthday"), an
	// answer ("vars.next_visit") or the event's data ("event.delivery");
	// it reads as YYYY-MM-DD (midnight in the business's time zone, as
	// date answers keep it), as 29/03/2026, or as an RFC 3339 moment.
	// Offset moves it ("-1d", "+2h", "-30m"); At then sets the time of day
	// on the day it lands. Yearly waits for the date's next anniversary
	// (a birthday). A moment already past goes on at once; a date missing
	// or unreadable goes to OnMissing (empty: the run ends, "no_date").
	UntilAttribute string `json:"until_attribute,omitempty"`
	Offset         string `json:"offset,omitempty"`
	Yearly         bool   `json:"yearly,omitempty"`
	OnMissing      string `json:"on_missing,omitempty"`

	// handoff: the conversation goes to a person (Team if set), with a
	// private note summarising the answers; Urgent flags it.
	Team   string `json:"team,omitempty"`
	Urgent bool   `json:"urgent,omitempty"`

	// http: the request, where its answer goes, and the ways out (Next on
	// a 2xx answer).
	HTTP *HTTPRequest `json:"http,omitempty"`

	// split: the branches and their weights (any positive numbers; a
	// contact's share is its weight over the total).
	Split []SplitBranch `json:"split,omitempty"`

	// end, handoff: the run's outcome (handoff: "handed_off" by default)
	Outcome string `json:"outcome,omitempty"`
}

// TemplateRef names an approved template: its name, its exact language
// ("it", "en_US") and its body parameters in order, with {{variables}}.
type TemplateRef struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Params   []string `json:"params,omitempty"`
}

// MediaRef is a send step's media: an image, a video or a document that
// WhatsApp fetches from an https link ({{variables}} allowed after the
// host), with a caption and, for a document, the file name shown.
type MediaRef struct {
	Type     string `json:"type"` // MediaImage, MediaVideo, MediaDocument
	Link     string `json:"link"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Media types a send step can send.
const (
	MediaImage    = "image"
	MediaVideo    = "video"
	MediaDocument = "document"
)

// CTAButton is a send step's link button (WhatsApp's cta_url): its label
// (up to 20 characters) and the https link it opens, with {{variables}}.
type CTAButton struct {
	DisplayText string `json:"display_text"`
	URL         string `json:"url"`
}

// SplitBranch is one way out of an A/B split.
type SplitBranch struct {
	Name   string `json:"name"` // A, B…: in the analytics, the run's variable split_<step id>
	Weight int    `json:"weight"`
	Next   string `json:"next"`
}

// Choice is a reply button or a list row. An ask step's choice may branch.
type Choice struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Next  string `json:"next,omitempty"`
}

// Input types of an ask step.
const (
	InputText     = "text"
	InputNumber   = "number"
	InputEmail    = "email"
	InputDate     = "date"
	InputChoice   = "choice"
	InputPhone    = "phone"
	InputPhoto    = "photo"    // an image; the value is the message's id (the thread shows it)
	InputLocation = "location" // a shared location; the value is "latitude,longitude"
	// InputVehicle is an Italian or French number plate, or a VIN; the
	// value is written as the country writes it, and VAR_plate or VAR_vin
	// holds it too (the other empty), for a catalogue's query.
	InputVehicle = "vehicle"
)

// Cond is a condition: one comparison, or All / Any of others, or Not one.
type Cond struct {
	// Left is what is compared: a variable ("vars.budget"), an attribute
	// ("attributes.city"), "contact.tags", "contact.language",
	// "contact.consent" (opted_in, opted_out or unknown: marketing
	// consent), "contact.country" (IT, FR…: from the number's calling
	// code), "time.hour", "time.weekday" (1 Monday … 7 Sunday), "time.open"
	// ("yes" while the business is open by its profile's hours, else "no").
	Left  string `json:"left,omitempty"`
	Op    string `json:"op,omitempty"` // OpEq, OpNe, OpContains, OpExists, OpMissing, OpGt, OpLt, OpHas
	Right string `json:"right,omitempty"`
	All   []Cond `json:"all,omitempty"`
	Any   []Cond `json:"any,omitempty"`
	Not   *Cond  `json:"not,omitempty"`
}

// Condition operators.
const (
	OpEq       = "eq"       // equal, ignoring case
	OpNe       = "ne"       // not equal
	OpContains = "contains" // contains, ignoring case
	OpExists   = "exists"   // set and not empty
	OpMissing  = "missing"  // not set, or empty
	OpGt       = "gt"       // greater, as numbers
	OpLt       = "lt"       // less, as numbers
	OpHas      = "has"      // contact.tags has Right
)

// Outcomes a run can end with. Any word is allowed; these are the ones the
// analytics and the ready-made flows use.
const (
	OutcomeCompleted = "completed"
	OutcomeNoAnswer  = "no_answer" // an ask gave up (invalid answers or no answer)
	OutcomeHandedOff = "handed_off"
	OutcomeStopped   = "stopped" // a person, an opt-out or an escalation stopped it
	OutcomeBroken    = "broken"  // a step could not be carried out as written
	OutcomeNoDate    = "no_date" // a wait until a date found none (and has no on_missing)
	OutcomeExited    = "exited"  // an event of the flow's exit_on arrived
)

// Problem is one reason a definition cannot be published, next to the step
// (or trigger) it is about.
type Problem struct {
	Step    string `json:"step,omitempty"`    // the step's id; "" for the flow
	Trigger int    `json:"trigger,omitempty"` // 1-based; 0 when not about a trigger
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (p Problem) Error() string {
	where := "flow"
	switch {
	case p.Step != "":
		where = "step " + p.Step
	case p.Trigger > 0:
		where = "trigger " + strconv.Itoa(p.Trigger)
	}
	if p.Field != "" {
		where += " " + p.Field
	}
	return where + ": " + p.Message
}

// Limits, Meta's where they apply.
const (
	maxSteps       = 200
	maxTextRunes   = 4096 // a text message's body
	maxAskRunes    = 1024 // an interactive message's body
	maxButtons     = 3
	maxListRows    = 10
	maxButtonTitle = 20
	maxRowTitle    = 24
	maxChoiceID    = 200
	// Window is how long after a customer's message a free-form message may
	// be sent (Meta's customer service window).
	Window = 24 * time.Hour
)

var (
	idRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	varRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	// tmplRE finds {{ name }} placeholders.
	tmplRE = regexp.MustCompile(`\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}`)
)

// Validate returns every problem of d, in step order; none means it can be
// published. It checks each step on its own (required fields, Meta's
// limits, known variables), that every branch names a step, that no loop
// runs without waiting for the customer or the clock, and that no free-form
// message can be reached more than 24 hours after the customer last wrote.
func (d *Definition) Validate() []Problem {
	var ps []Problem
	add := func(p Problem) { ps = append(ps, p) }
	switch d.Reentry {
	case "", ReentryOnce, ReentryOneAtATime, ReentryEveryTime:
	default:
		add(Problem{Field: "reentry", Code: "invalid", Message: fmt.Sprintf("%q is not a re-entry rule: use once, one_at_a_time or every_time", d.Reentry)})
	}
	ps = append(ps, d.validateExitOn()...)
	for i, t := range d.Triggers {
		for _, p := range t.validate() {
			p.Trigger = i + 1
			add(p)
		}
	}
	if len(d.Steps) == 0 {
		add(Problem{Code: "no_steps", Message: "a flow needs at least one step"})
		return ps
	}
	if len(d.Steps) > maxSteps {
		add(Problem{Code: "too_many_steps", Message: fmt.Sprintf("%d steps; the limit is %d", len(d.Steps), maxSteps)})
	}
	ids := map[string]bool{}
	for _, s := range d.Steps {
		if !idRE.MatchString(s.ID) {
			add(Problem{Step: s.ID, Field: "id", Code: "invalid_id", Message: "a step id is 1 to 40 lowercase letters, digits, - or _"})
			continue
		}
		if ids[s.ID] {
			add(Problem{Step: s.ID, Field: "id", Code: "duplicate_id", Message: "another step has this id"})
		}
		ids[s.ID] = true
	}
	vars := d.declaredVars()
	for _, s := range d.Steps {
		for _, p := range s.validate(vars) {
			p.Step = s.ID
			add(p)
		}
		for _, b := range s.branches() {
			if b.to != "" && !ids[b.to] {
				add(Problem{Step: s.ID, Field: b.field, Code: "unknown_step", Message: fmt.Sprintf("no step has the id %q", b.to)})
			}
		}
	}
	if len(ps) > 0 {
		return ps // the graph checks need every branch to resolve
	}
	ps = append(ps, d.checkLoops()...)
	ps = append(ps, d.checkTriggerLoops()...)
	ps = append(ps, d.checkWindow()...)
	return ps
}

func (t Trigger) validate() []Problem {
	var ps []Problem
	switch t.Type {
	case TriggerKeyword:
		if len(t.Keywords) == 0 {
			ps = append(ps, Problem{Field: "keywords", Code: "required", Message: "a keyword trigger needs at least one keyword"})
		}
		for _, k := range t.Keywords {
			if strings.TrimSpace(k) == "" {
				ps = append(ps, Problem{Field: "keywords", Code: "empty_keyword", Message: "a keyword is empty"})
			}
		}
		if t.Match != "" && t.Match != "exact" && t.Match != "contains" {
			ps = append(ps, Problem{Field: "match", Code: "invalid", Message: `match is "exact" or "contains"`})
		}
	case TriggerFirstMessage:
	case TriggerButton:
		if t.Payload == "" {
			ps = append(ps, Problem{Field: "payload", Code: "required", Message: "a button trigger needs the button's payload (its id)"})
		}
	case TriggerEvent:
		if !eventNameRE.MatchString(t.Event) {
			ps = append(ps, Problem{Field: "event", Code: "invalid", Message: "an event name is 1 to 64 letters, digits, '.', '_' or '-' (order.created)"})
		}
	case TriggerSchedule, TriggerSilence, TriggerTagAdded, TriggerAttributeChanged, TriggerAd:
		ps = append(ps, t.validateMore()...)
	default:
		ps = append(ps, Problem{Field: "type", Code: "invalid", Message: fmt.Sprintf("%q is not a trigger: use keyword, first_message, button, event, "+
			"schedule, silence, tag_added, attribute_changed or ad", t.Type)})
	}
	return ps
}

var eventNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidEventName reports whether name can name an event.
func ValidEventName(name string) bool { return eventNameRE.MatchString(name) }

func (s *Step) validate(vars map[string]bool) []Problem {
	var ps []Problem
	bad := func(field, code, msg string) { ps = append(ps, Problem{Field: field, Code: code, Message: msg}) }
	text := func(max int) {
		switch n := utf8.RuneCountInString(s.Text); {
		case strings.TrimSpace(s.Text) == "":
			bad("text", "required", "the message is empty")
		case n > max:
			bad("text", "too_long", fmt.Sprintf("%d characters; WhatsApp allows %d here", n, max))
		}
		for _, p := range unknownVars(s.Text, vars) {
			bad("text", "unknown_variable", p)
		}
	}
	choices := func(field string, cs []Choice, max int) {
		if len(cs) > max {
			bad(field, "too_many", fmt.Sprintf("%d choices; WhatsApp shows at most %d", len(cs), max))
		}
		seen := map[string]bool{}
		for _, c := range cs {
			switch {
			case c.ID == "" || len(c.ID) > maxChoiceID:
				bad(field, "invalid_choice_id", "a choice needs an id of 1 to 200 characters")
			case seen[strings.ToLower(c.ID)]:
				bad(field, "duplicate_choice", fmt.Sprintf("two choices have the id %q", c.ID))
			}
			seen[strings.ToLower(c.ID)] = true
			limit := maxRowTitle
			if len(cs) <= maxButtons {
				limit = maxButtonTitle
			}
			if n := utf8.RuneCountInString(c.Title); c.Title == "" || n > limit {
				bad(field, "invalid_choice_title", fmt.Sprintf("%q: a title is 1 to %d characters", c.Title, limit))
			}
		}
	}
	switch s.Type {
	case StepSend:
		ps = append(ps, s.validateMediaCTA(vars)...)
		switch {
		case s.Media != nil:
		case s.Template != nil:
			if s.Template.Name == "" || s.Template.Language == "" {
				bad("template", "required", "a template needs its name and its exact language code (it, en_US)")
			}
			if len(s.Buttons) > 0 {
				bad("buttons", "unexpected", "a template has the buttons Meta approved with it")
			}
			for _, p := range s.Template.Params {
				for _, msg := range unknownVars(p, vars) {
					bad("template", "unknown_variable", msg)
				}
			}
		case len(s.Buttons) > 0, s.CTA != nil:
			text(maxAskRunes)
		default:
			text(maxTextRunes)
		}
		choices("buttons", s.Buttons, maxListRows)
	case StepAsk:
		text(maxAskRunes)
		if !varRE.MatchString(s.Var) {
			bad("var", "invalid_var", "the answer needs a variable name: lowercase letters, digits and _, starting with a letter")
		}
		switch s.Input {
		case InputText, InputNumber, InputEmail, InputDate, InputPhone, InputPhoto, InputLocation, InputVehicle:
			if len(s.Choices) > 0 {
				bad("choices", "unexpected", "only a choice question has choices")
			}
		case InputChoice:
			if len(s.Choices) < 2 {
				bad("choices", "required", "a choice question needs at least 2 choices")
			}
			choices("choices", s.Choices, maxListRows)
		default:
			bad("input", "invalid", fmt.Sprintf("%q is not an answer type: use text, number, email, date, choice, phone, photo, location or vehicle", s.Input))
		}
		if s.Retries < 0 || s.Retries > 5 {
			bad("retries", "invalid", "retries is 0 to 5")
		}
		if s.Timeout != "" {
			if d, err := ParseDuration(s.Timeout); err != nil || d < time.Minute {
				bad("timeout", "invalid", "a timeout is a duration of at least a minute: 30m, 2h, 3d")
			}
		}
	case StepCondition:
		if s.If == nil {
			bad("if", "required", "a condition needs its test")
		} else if msg := s.If.check(vars, 0); msg != "" {
			bad("if", "invalid", msg)
		}
		if s.Then == "" {
			bad("then", "required", "a condition needs the step to go to when it holds")
		}
	case StepSet:
		if s.Attribute == "" && s.AddTag == "" && s.RemoveTag == "" && s.AddLabel == "" && s.RemoveLabel == "" {
			bad("attribute", "required", "set an attribute, add or remove a tag or a label")
		}
		ps = append(ps, s.validateLabels()...)
		if s.Attribute != "" && !attrRE.MatchString(s.Attribute) {
			bad("attribute", "invalid", "an attribute name is 1 to 64 letters, digits, _ or -")
		}
		for _, p := range unknownVars(s.Value, vars) {
			bad("value", "unknown_variable", p)
		}
	case StepWait:
		if s.UntilEvent != "" || s.OnEvent != "" {
			ps = append(ps, s.validateEventWait()...)
			break
		}
		if s.UntilAttribute != "" || s.Offset != "" || s.Yearly || s.OnMissing != "" {
			ps = append(ps, s.validateUntil(vars)...)
		} else if strings.Contains(s.Duration, "{{") {
			for _, p := range unknownVars(s.Duration, vars) {
				bad("duration", "unknown_variable", p)
			}
		} else if d, err := ParseDuration(s.Duration); err != nil || d < 0 || d == 0 && s.At == "" {
			bad("duration", "invalid", "a wait is a positive duration: 90m, 72h, 3d (or 0 with a time of day)")
		} else if d > 366*24*time.Hour {
			bad("duration", "too_long", "a wait is at most a year")
		}
		if s.At != "" {
			if _, err := time.Parse("15:04", s.At); err != nil {
				bad("at", "invalid", "a time of day is HH:MM, 24-hour: 09:30")
			}
		}
		if s.Var != "" && !varRE.MatchString(s.Var) {
			bad("var", "invalid_var", "a variable name is lowercase letters, digits and _, starting with a letter")
		}
		if !s.UntilReply && s.OnReply != "" {
			bad("on_reply", "unexpected", "on_reply needs until_reply")
		}
	case StepHandoff:
		if s.Text != "" {
			if n := utf8.RuneCountInString(s.Text); n > maxTextRunes {
				bad("text", "too_long", fmt.Sprintf("%d characters; WhatsApp allows %d", n, maxTextRunes))
			}
			for _, p := range unknownVars(s.Text, vars) {
				bad("text", "unknown_variable", p)
			}
		}
	case StepSplit:
		if len(s.Split) < 2 || len(s.Split) > 10 {
			bad("split", "invalid", "a split has 2 to 10 branches")
		}
		names := map[string]bool{}
		for _, b := range s.Split {
			if b.Weight <= 0 || b.Weight > 1000 {
				bad("split", "invalid_weight", "a branch's weight is 1 to 1000")
			}
			if b.Name == "" || names[b.Name] {
				bad("split", "invalid_name", "each branch needs a name of its own (A, B…)")
			}
			names[b.Name] = true
			if b.Next == "" {
				bad("split", "required", "each branch needs the step it goes to")
			}
		}
	case StepHTTP:
		ps = append(ps, s.HTTP.validate(vars)...)
	case StepAI:
		ps = append(ps, s.validateAI(vars)...)
	case StepJump:
		if s.Next == "" {
			bad("next", "required", "a jump needs the step it goes to")
		}
	case StepEnd:
	default:
		bad("type", "invalid", fmt.Sprintf("%q is not a step type: use send, ask, condition, set, wait, handoff, split, jump, http, ai or end", s.Type))
	}
	if (s.Type == StepEnd || s.Type == StepHandoff) && s.Outcome != "" && !varRE.MatchString(s.Outcome) {
		bad("outcome", "invalid", "an outcome is a word: lowercase letters, digits and _")
	}
	return ps
}

var attrRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (c *Cond) check(vars map[string]bool, depth int) string {
	if depth > 8 {
		return "conditions nest more than 8 deep"
	}
	n := 0
	if c.Left != "" || c.Op != "" {
		n++
	}
	if len(c.All) > 0 {
		n++
	}
	if len(c.Any) > 0 {
		n++
	}
	if c.Not != nil {
		n++
	}
	if n != 1 {
		return "a condition is one comparison (left, op, right), or all, any or not of others"
	}
	for _, list := range [][]Cond{c.All, c.Any} {
		for i := range list {
			if msg := list[i].check(vars, depth+1); msg != "" {
				return msg
			}
		}
	}
	if c.Not != nil {
		return c.Not.check(vars, depth+1)
	}
	if len(c.All) > 0 || len(c.Any) > 0 {
		return ""
	}
	if c.Left == "" {
		return "a comparison needs what it compares (left)"
	}
	if msg := knownName(c.Left, vars); msg != "" {
		return msg
	}
	switch c.Op {
	case OpExists, OpMissing:
	case OpEq, OpNe, OpContains:
	case OpGt, OpLt:
		if _, err := strconv.ParseFloat(c.Right, 64); err != nil {
			return fmt.Sprintf("%s compares numbers: %q is not one", c.Op, c.Right)
		}
	case OpHas:
		if c.Left != "contact.tags" {
			return "has applies to contact.tags"
		}
	default:
		return fmt.Sprintf("%q is not an operator: use eq, ne, contains, exists, missing, gt, lt or has", c.Op)
	}
	return ""
}

// Names a template or a condition can use, besides vars.* and attributes.*.
var contactNames = []string{"contact.name", "contact.phone", "contact.language", "contact.tags",
	"contact.consent", "contact.country", "time.hour", "time.weekday", "time.open"}

// knownName says what is wrong with a name, "" if nothing.
func knownName(name string, vars map[string]bool) string {
	switch {
	case slices.Contains(contactNames, name):
		return ""
	case strings.HasPrefix(name, "attributes."):
		if attrRE.MatchString(strings.TrimPrefix(name, "attributes.")) {
			return ""
		}
	case strings.HasPrefix(name, "event."):
		if varRE.MatchString(strings.TrimPrefix(name, "event.")) {
			return ""
		}
	case strings.HasPrefix(name, "referral."):
		if slices.Contains(referralFields, strings.TrimPrefix(name, "referral.")) {
			return ""
		}
	case strings.HasPrefix(name, "vars."):
		v := strings.TrimPrefix(name, "vars.")
		if vars[v] {
			return ""
		}
		return fmt.Sprintf("{{%s}}: no ask step fills the variable %q", name, v)
	}
	return fmt.Sprintf("{{%s}} is not a variable: use vars.NAME, attributes.NAME, event.NAME, referral.FIELD or one of %s",
		name, strings.Join(contactNames, ", "))
}

func unknownVars(text string, vars map[string]bool) []string {
	var out []string
	for _, m := range tmplRE.FindAllStringSubmatch(text, -1) {
		if msg := knownName(m[1], vars); msg != "" {
			out = append(out, msg)
		}
	}
	return out
}

func (d *Definition) declaredVars() map[string]bool {
	vars := map[string]bool{}
	for _, s := range d.Steps {
		if (s.Type == StepAsk || s.Type == StepWait) && s.Var != "" {
			vars[s.Var] = true
			if s.Input == InputVehicle {
				vars[s.Var+"_plate"], vars[s.Var+"_vin"] = true, true
			}
		}
		if s.Type == StepAI && s.Var != "" {
			vars[s.Var] = true
		}
		if s.Type == StepHTTP && s.HTTP != nil {
			for v := range s.HTTP.Map {
				vars[v] = true
			}
			if s.HTTP.StatusVar != "" {
				vars[s.HTTP.StatusVar] = true
			}
		}
	}
	return vars
}

// branch is one way out of a step.
type branch struct {
	field, to string
	// after is how long after entering the step the run takes this way,
	// at least: 0 for at once; a wait's duration, an ask's timeout.
	after time.Duration
	// replied: taking it means the customer just wrote (an ask's answer).
	replied bool
}

// branches lists the ways out of s; "" as to means the following step (or
// the end of the flow after the last one) where that is the default.
func (s *Step) branches() []branch {
	switch s.Type {
	case StepCondition:
		return []branch{{field: "then", to: s.Then}, {field: "else", to: s.Else}}
	case StepAsk:
		out := []branch{{field: "next", to: s.Next, replied: true}}
		for _, c := range s.Choices {
			if c.Next != "" {
				out = append(out, branch{field: "choices", to: c.Next, replied: true})
			}
		}
		out = append(out, branch{field: "on_fail", to: s.OnFail, replied: true})
		if s.Timeout != "" {
			d, _ := ParseDuration(s.Timeout)
			out = append(out, branch{field: "on_timeout", to: s.OnTimeout, after: d})
		}
		return out
	case StepWait:
		if s.UntilEvent != "" {
			return s.eventWaitBranches()
		}
		d, err := ParseDuration(s.Duration)
		if err != nil || s.UntilAttribute != "" {
			d = Window // from a variable, or until a date: assume the worst
		}
		if s.At != "" {
			d += 24 * time.Hour // then up to a day more, to the time of day
		}
		out := []branch{{field: "next", to: s.Next, after: d}}
		if s.UntilReply {
			out = append(out, branch{field: "on_reply", to: s.OnReply, replied: true})
		}
		if s.UntilAttribute != "" {
			out = append(out, branch{field: "on_missing", to: s.OnMissing})
		}
		return out
	case StepEnd:
		return nil
	case StepHandoff:
		return nil // a person answers from here: the run ends
	case StepHTTP:
		out := []branch{{field: "next", to: s.Next}}
		if s.HTTP != nil {
			out = append(out, branch{field: "on_error", to: s.HTTP.OnError}, branch{field: "on_timeout", to: s.HTTP.OnTimeout})
		}
		return out
	case StepAI:
		return s.aiBranches()
	case StepSplit:
		var out []branch
		for _, b := range s.Split {
			out = append(out, branch{field: "split", to: b.Next})
		}
		return out
	}
	return []branch{{field: "next", to: s.Next}}
}

// index returns the position of the step with id, -1 if none.
func (d *Definition) index(id string) int {
	return slices.IndexFunc(d.Steps, func(s Step) bool { return s.ID == id })
}

// target resolves a branch from the step at i: its step's index, or -1
// for the end of the flow. A branch left empty goes to the following step,
// except the exits that end the run (an ask's on_fail and on_timeout).
func (d *Definition) target(i int, b branch) int {
	if b.to != "" {
		return d.index(b.to)
	}
	if b.field == "on_fail" || b.field == "on_timeout" || b.field == "on_error" || b.field == "on_missing" {
		return -1
	}
	if i+1 < len(d.Steps) {
		return i + 1
	}
	return -1
}

// checkLoops finds a cycle through which a run would go round at once,
// without an ask or a wait in it: it would send and step for ever.
func (d *Definition) checkLoops() []Problem {
	// Depth-first search over the instant edges only.
	state := make([]int, len(d.Steps)) // 0 new, 1 on the stack, 2 done
	var ps []Problem
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = 1
		s := &d.Steps[i]
		if s.Type != StepAsk && s.Type != StepWait && !s.aiWaitsForMessage() || s.UntilAttribute != "" {
			for _, b := range s.branches() {
				if !s.atOnce(b) {
					continue
				}
				j := d.target(i, b)
				if j < 0 {
					continue
				}
				if state[j] == 1 {
					ps = append(ps, Problem{Step: s.ID, Field: b.field, Code: "loop_without_wait",
						Message: fmt.Sprintf("going back to %q here repeats steps at once, for ever: put an ask or a wait in the loop", d.Steps[j].ID)})
					return true
				}
				if state[j] == 0 && visit(j) {
					return true
				}
			}
		}
		state[i] = 2
		return false
	}
	for i := range d.Steps {
		if state[i] == 0 && visit(i) {
			break
		}
	}
	return ps
}

// checkWindow finds a free-form message (a send, an ask, a hand-off's
// message) that a run can reach 24 hours or more after the customer last
// wrote: Meta refuses it (131047). Runs start on a customer's message or
// on an event; an event-started run may be outside the window from its
// first step, so with an event trigger the start counts as "a day or more".
func (d *Definition) checkWindow() []Problem { return d.checkWindowHeld(nil) }

// checkWindowHeld is checkWindow where the steps in held may keep a run
// that long before it leaves them (a marketing send in quiet hours).
func (d *Definition) checkWindowHeld(held map[string]time.Duration) []Problem {
	start := time.Duration(0)
	for _, t := range d.Triggers {
		if t.Type == TriggerEvent {
			start = Window
		}
		start = max(start, t.startsAfter())
	}
	// worst[i]: the longest time since the customer's last message with
	// which a run can enter step i (capped at Window: enough to know).
	worst := make([]time.Duration, len(d.Steps))
	for i := range worst {
		worst[i] = -1
	}
	var ps []Problem
	reported := map[int]bool{}
	queue := []int{0}
	worst[0] = start
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		s := &d.Steps[i]
		if worst[i] >= Window && !reported[i] && sendsFreeForm(s) {
			reported[i] = true
			ps = append(ps, Problem{Step: s.ID, Field: "text", Code: "outside_window",
				Message: "this message can be reached 24 hours or more after the customer last wrote, when WhatsApp only delivers approved templates; " +
					"send a template here, or ask a question before it, or start the flow from a customer's message"})
		}
		for _, b := range s.branches() {
			j := d.target(i, b)
			if j < 0 {
				continue
			}
			w := min(worst[i]+b.after+held[s.ID], Window)
			if b.replied {
				w = 0
			}
			if w > worst[j] {
				worst[j] = w
				queue = append(queue, j)
			}
		}
	}
	return ps
}

func sendsFreeForm(s *Step) bool {
	switch s.Type {
	case StepSend:
		return s.Template == nil
	case StepAsk:
		return true
	case StepHandoff:
		return s.Text != ""
	case StepAI:
		return !s.aiWaitsForMessage() // else the answer follows the customer's message
	}
	return false
}

// ParseDuration reads a duration as Go does ("90m", "72h", "1h30m") or in
// days ("3d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
