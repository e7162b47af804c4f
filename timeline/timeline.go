// Package timeline words a conversation's timeline rows when they are read.
// A row is stored as what happened (kind, actor, data), never as a
// sentence, so that each reader gets it in their language: the panel
// through its locale, the API in English.
//
// It is a leaf (events and the standard library): the store, the panel and
// the API all use it without importing one another.
package timeline

import (
	"fmt"
	"strings"
	"time"

	"sendbox/events"
)

// Row is what a timeline line is made of.
type Row struct {
	Kind  string         // one of the events.Change* kinds, or events.ChangeLegacy
	Actor events.Actor   // who made the change; Kind "" when unknown (legacy rows)
	Data  map[string]any // what changed (events.Data* keys), as stored or as emitted
	Body  string         // a note's text, or a legacy row's sentence
}

// Words looks up the sentence under key in one reader's language: a
// fmt format whose verbs are indexed (%[1]s is the actor, %[2]s… what
// changed, as each key's English says). ok is false when that language
// lacks it; the line is then written in English.
type Words func(key string) (format string, ok bool)

// English is the sentence under key in English.
func English(key string) (string, bool) {
	s, ok := english[key]
	return s, ok
}

// Keys are the keys of every sentence and word the renderer may look up,
// so that a locale can be checked complete.
func Keys() []string {
	out := make([]string, 0, len(english))
	for k := range english {
		out = append(out, k)
	}
	return out
}

// english is the reference language. The panel's locale (ui/locales)
// carries the same keys; a test there keeps the two equal.
var english = map[string]string{
	"timeline.actor.assistant": "The assistant",
	"timeline.actor.system":    "Sendbox",
	"timeline.actor.api_key":   "The API key %[1]s",
	"timeline.actor.flow":      "The flow %[1]s",
	"timeline.actor.someone":   "Someone",

	"timeline.legacy":                   "%[1]s: %[2]s",
	"timeline.note":                     "%[1]s added a private note",
	"timeline.assigned":                 "%[1]s assigned the conversation to %[2]s",
	"timeline.unassigned":               "%[1]s unassigned the conversation",
	"timeline.team":                     "%[1]s gave the conversation to the team %[2]s",
	"timeline.no_team":                  "%[1]s removed the conversation from its team",
	"timeline.status.open":              "%[1]s reopened the conversation",
	"timeline.status.resolved":          "%[1]s resolved the conversation",
	"timeline.status.pending":           "%[1]s marked the conversation pending",
	"timeline.status.snoozed":           "%[1]s snoozed the conversation until %[2]s",
	"timeline.woke":                     "Snooze ended: %[1]s reopened the conversation",
	"timeline.labels":                   "%[1]s set the labels: %[2]s",
	"timeline.labels_cleared":           "%[1]s removed the labels",
	"timeline.language":                 "%[1]s set the language to %[2]s",
	"timeline.language_auto":            "%[1]s gave the language back to detection from the customer's messages",
	"timeline.bot.on":                   "%[1]s switched the assistant on",
	"timeline.bot.off":                  "%[1]s switched the assistant off",
	"timeline.bot.paused":               "%[1]s paused the assistant",
	"timeline.bot.agent_replied":        "%[1]s replied to the customer: the assistant paused",
	"timeline.bot.paused_before":        "%[1]s stays paused: a person took over this customer before",
	"timeline.bot.business_app_replied": "A reply from the WhatsApp Business app paused the assistant",
	"timeline.urgent_cleared":           "%[1]s cleared the urgent flag",
	"timeline.escalated":                "%[1]s escalated the conversation: %[2]s",
	"timeline.escalated_words":          "%[1]s escalated the conversation: %[2]s (%[3]q)",
	"timeline.handoff":                  "%[1]s handed the conversation to a person",
	"timeline.handoff_why":              "%[1]s handed the conversation to a person: %[2]s",
	"timeline.routed":                   "Answered by %[2]s · reason: %[3]s",
	"timeline.snooze_time":              "Mon 2 Jan 15:04", // a Go time layout

	"routing.to.flow":                "a flow",
	"routing.to.assistant":           "the assistant",
	"routing.to.person":              "a person",
	"routing.to.system":              "sendbox",
	"routing.reason.assistant_on":    "the assistant is on",
	"routing.reason.assistant_off":   "the assistant is switched off in its settings",
	"routing.reason.bot_off":         "the assistant is switched off in this conversation",
	"routing.reason.bot_paused":      "a person took over from the assistant",
	"routing.reason.no_answerer":     "nothing answers automatically",
	"routing.reason.escalated":       "escalated",
	"routing.reason.handoff":         "the assistant handed over",
	"routing.reason.opted_out":       "the customer stopped marketing messages, and was told so",
	"routing.reason.opted_in":        "the customer asked for marketing messages again, and was told so",
	"routing.reason.no_flow_matched": "no flow matched",
	"routing.reason.flow_waiting":    "a flow was waiting for this answer",
	"routing.reason.flow_triggered":  "a flow's trigger matched",
	"category.medical_urgency":       "Medical urgency",
	"category.complaint":             "Complaint",
	"category.refund":                "Refund request",
	"category.legal_threat":          "Legal threat",
	"category.human_request":         "Asked for a person",
	"lang.it":                        "Italian",
	"lang.fr":                        "French",
	"lang.en":                        "English",
	"lang.es":                        "Spanish",
	"lang.de":                        "German",
}

// Text is the line r in the language of w (English if w is nil, and for
// any sentence w lacks).
func Text(r Row, w Words) string {
	p := printer{w: w}
	who := p.actor(r.Actor)
	d := r.Data
	switch r.Kind {
	case events.ChangeLegacy:
		if who == "" {
			return r.Body
		}
		return p.say("timeline.legacy", who, r.Body)
	case events.ChangeNote:
		return p.say("timeline.note", who)
	case events.ChangeAssigned:
		if num(d[events.DataAssignee]) == 0 {
			return p.say("timeline.unassigned", who)
		}
		return p.say("timeline.assigned", who, str(d[events.DataAssigneeName]))
	case events.ChangeTeam:
		if num(d[events.DataTeam]) == 0 {
			return p.say("timeline.no_team", who)
		}
		return p.say("timeline.team", who, str(d[events.DataTeamName]))
	case events.ChangeStatus:
		st := str(d[events.DataStatus])
		if st == "snoozed" {
			return p.say("timeline.status.snoozed", who, p.when(d[events.DataSnoozedUntil]))
		}
		return p.say("timeline.status."+st, who)
	case events.ChangeWoke:
		return p.say("timeline.woke", who)
	case events.ChangeLabels:
		names := strs(d[events.DataLabelNames])
		if len(names) == 0 {
			return p.say("timeline.labels_cleared", who)
		}
		return p.say("timeline.labels", who, strings.Join(names, ", "))
	case events.ChangeLanguage:
		lang := str(d[events.DataLanguage])
		if lang == "" {
			return p.say("timeline.language_auto", who)
		}
		return p.say("timeline.language", who, p.word("lang."+lang, lang))
	case events.ChangeBot:
		if why := str(d[events.DataReason]); why != "" {
			return p.say("timeline.bot."+why, who)
		}
		return p.say("timeline.bot."+str(d[events.DataBot]), who)
	case events.ChangeUnurgent:
		return p.say("timeline.urgent_cleared", who)
	case events.ChangeEscalated:
		cat := str(d[events.DataCategory])
		category := p.word("category."+cat, cat)
		if words := str(d[events.DataDetail]); words != "" {
			return p.say("timeline.escalated_words", who, category, words)
		}
		return p.say("timeline.escalated", who, category)
	case events.ChangeHandoff:
		if why := str(d[events.DataDetail]); why != "" {
			return p.say("timeline.handoff_why", who, why)
		}
		return p.say("timeline.handoff", who)
	case events.ChangeRouted:
		to, reason, detail := str(d[events.DataRoutedTo]), str(d[events.DataReason]), str(d[events.DataDetail])
		why := p.word("routing.reason."+reason, reason)
		if detail != "" {
			if reason == "escalated" { // the detail is the policy's category
				detail = p.word("category."+detail, detail)
			}
			why += " (" + detail + ")"
		}
		return p.say("timeline.routed", who, p.word("routing.to."+to, to), why)
	}
	// A kind this version does not know (written by a newer one): its body
	// if it has one, else its kind, rather than nothing.
	if r.Body != "" {
		return r.Body
	}
	return r.Kind
}

// ActorName is how a line names its actor: a person by their name, the
// others by what they are. "" for an actor not recorded (legacy rows).
func ActorName(a events.Actor, w Words) string {
	return printer{w: w}.actor(a)
}

type printer struct{ w Words }

// format finds key in the reader's language, then in English.
func (p printer) format(key string) (string, bool) {
	if p.w != nil {
		if f, ok := p.w(key); ok {
			return f, true
		}
	}
	return English(key)
}

// say fills the sentence under key; a key known in no language (a status
// or a state this version does not know) says its key, so that the line
// still shows what it is.
func (p printer) say(key string, args ...any) string {
	f, ok := p.format(key)
	if !ok {
		return strings.TrimPrefix(key, "timeline.")
	}
	if !strings.Contains(f, "%") {
		return f // a sentence that names none of what it is given
	}
	return fmt.Sprintf(f, args...)
}

// word is the name under key, or fallback (the code itself).
func (p printer) word(key, fallback string) string {
	if f, ok := p.format(key); ok {
		return f
	}
	return fallback
}

func (p printer) actor(a events.Actor) string {
	switch a.Kind {
	case "":
		return ""
	case events.ActorUser:
		if a.Name != "" {
			return a.Name
		}
		return p.say("timeline.actor.someone")
	case events.ActorAPIKey, events.ActorFlow:
		return p.say("timeline.actor."+a.Kind, a.Name)
	case events.ActorAssistant:
		return p.say("timeline.actor.assistant")
	}
	return p.say("timeline.actor.system")
}

// when words a time held in data: a time.Time as emitted, or its JSON
// text as stored.
func (p printer) when(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		t, _ = time.Parse(time.RFC3339Nano, x)
	}
	if t.IsZero() {
		return "?"
	}
	return t.Local().Format(p.word("timeline.snooze_time", "Mon 2 Jan 15:04"))
}

// num reads a number of data: an int64 as emitted, a float64 as decoded.
func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
