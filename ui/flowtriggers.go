package ui

import (
	"net/http"
	"slices"
	"strings"

	"sendbox/flows"
)

// The editor's fields of the schedule, silence, contact-change and ad
// triggers: t0.at, t0.days (one box a day), t0.date, t0.tag,
// t0.date_attribute, t0.after, t0.attribute, t0.value, t0.ad_ids.

// parseTriggerFields reads the fields of these triggers from the form.
func parseTriggerFields(r *http.Request, pre string, t *flows.Trigger) {
	trim := func(k string) string { return strings.TrimSpace(r.PostFormValue(pre + k)) }
	switch t.Type {
	case flows.TriggerSchedule:
		t.At, t.Date, t.Tag, t.DateAttribute = trim("at"), trim("date"), trim("tag"), trim("date_attribute")
		t.Days = nil
		for _, d := range r.PostForm[pre+"days"] {
			if d = strings.TrimSpace(d); d != "" && !slices.Contains(t.Days, d) {
				t.Days = append(t.Days, d)
			}
		}
	case flows.TriggerSilence:
		t.After = trim("after")
	case flows.TriggerTagAdded:
		t.Tag = trim("tag")
	case flows.TriggerAttributeChanged:
		t.Attribute, t.Value = trim("attribute"), trim("value")
	case flows.TriggerAd:
		t.AdIDs = nil
		for _, id := range strings.FieldsFunc(r.PostFormValue(pre+"ad_ids"), func(r rune) bool { return r == ',' || r == '\n' || r == ' ' }) {
			t.AdIDs = append(t.AdIDs, id)
		}
	}
}

// Weekdays are the schedule's day boxes, Monday first.
func (v *flowView) Weekdays() []string {
	return []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
}

// OnDay says whether a schedule runs on a day (its box is ticked).
func (v *flowView) OnDay(t flows.Trigger, day string) bool {
	return slices.ContainsFunc(t.Days, func(d string) bool { return strings.EqualFold(d, day) })
}

// triggerVars are the variables the triggers of d fill, for the editor's
// list of variables.
func triggerVars(d *flows.Definition) []string {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	for _, t := range d.Triggers {
		switch t.Type {
		case flows.TriggerSchedule:
			add("event.date")
		case flows.TriggerTagAdded:
			add("event.tag")
		case flows.TriggerAttributeChanged:
			add("event.attribute", "event.value")
		case flows.TriggerAd:
			add("referral.headline", "referral.body", "referral.source_id", "referral.source_url", "referral.ctwa_clid")
		}
	}
	return out
}
