package flows

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"sendbox/store"
)

func TestValidateNewTriggers(t *testing.T) {
	end := []Step{{ID: "e", Type: StepEnd}}
	text := []Step{{ID: "s", Type: StepSend, Text: "Hello"}}
	for _, c := range []struct {
		name  string
		t     Trigger
		steps []Step
		want  []string // "field:code"; nil: no problem
	}{
		{"schedule", Trigger{Type: TriggerSchedule, At: "09:00", Days: []string{"mon", "Wed"}, Tag: "vip"}, end, nil},
		{"birthday", Trigger{Type: TriggerSchedule, At: "10:00", DateAttribute: "birthday"}, end, nil},
		{"one-off", Trigger{Type: TriggerSchedule, At: "10:00", Date: "2026-12-24", Tag: "vip"}, end, nil},
		{"schedule without time or audience", Trigger{Type: TriggerSchedule, At: "9am", Days: []string{"monday"}},
			end, []string{"at:invalid", "days:invalid", "tag:required"}},
		{"date and days", Trigger{Type: TriggerSchedule, At: "10:00", Date: "24/12/2026", Days: []string{"mon"}, Tag: "x"},
			end, []string{"date:invalid", "days:unexpected"}},
		{"a schedule's text is outside the window", Trigger{Type: TriggerSchedule, At: "09:00", Tag: "vip"}, text, []string{"text:outside_window"}},
		{"silence", Trigger{Type: TriggerSilence, After: "4h"}, text, nil},
		{"a long silence's text is outside the window", Trigger{Type: TriggerSilence, After: "2d"}, text, []string{"text:outside_window"}},
		{"silence too short", Trigger{Type: TriggerSilence, After: "10s"}, end, []string{"after:invalid"}},
		{"silence too long", Trigger{Type: TriggerSilence, After: "100d"}, end, []string{"after:too_long"}},
		{"tag_added", Trigger{Type: TriggerTagAdded, Tag: "lead"}, end, nil},
		{"tag_added without a tag", Trigger{Type: TriggerTagAdded}, end, []string{"tag:required"}},
		{"attribute_changed", Trigger{Type: TriggerAttributeChanged, Attribute: "status", Value: "paid"}, end, nil},
		{"attribute_changed without a name", Trigger{Type: TriggerAttributeChanged, Attribute: "a b"}, end, []string{"attribute:invalid"}},
		{"ad", Trigger{Type: TriggerAd, AdIDs: []string{"120210000000"}},
			[]Step{{ID: "s", Type: StepSend, Text: "About {{referral.headline}}"}}, nil},
		{"any ad", Trigger{Type: TriggerAd}, end, nil},
		{"unknown referral field", Trigger{Type: TriggerAd}, []Step{{ID: "s", Type: StepSend, Text: "{{referral.price}}"}},
			[]string{"text:unknown_variable"}},
		{"starts itself by tag", Trigger{Type: TriggerTagAdded, Tag: "lead"}, []Step{{ID: "s", Type: StepSet, AddTag: "Lead"}},
			[]string{":starts_itself"}},
		{"starts itself by attribute", Trigger{Type: TriggerAttributeChanged, Attribute: "status"},
			[]Step{{ID: "s", Type: StepSet, Attribute: "status", Value: "seen"}}, []string{":starts_itself"}},
		{"sets the attribute to another value", Trigger{Type: TriggerAttributeChanged, Attribute: "status", Value: "paid"},
			[]Step{{ID: "s", Type: StepSet, Attribute: "status", Value: "shipped"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Definition{Triggers: []Trigger{c.t}, Steps: c.steps}
			var got []string
			for _, p := range d.Validate() {
				got = append(got, p.Field+":"+p.Code)
			}
			if c.want == nil && got != nil {
				t.Fatalf("want no problem, got %v", got)
			}
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Fatalf("want %s in %v", w, got)
				}
			}
		})
	}
}

func TestNextOccurrence(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Skip(err)
	}
	at := func(s string) time.Time {
		x, err := time.ParseInLocation("2006-01-02 15:04", s, rome)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	// 2026-12-07 is a Monday.
	monWed := Trigger{Type: TriggerSchedule, At: "09:00", Days: []string{"mon", "wed"}}
	daily := Trigger{Type: TriggerSchedule, At: "09:00"}
	once := Trigger{Type: TriggerSchedule, At: "18:30", Date: "2026-12-24"}
	for _, c := range []struct {
		name      string
		t         Trigger
		from, not string
		want      string // "" for none
	}{
		{"later today", monWed, "2026-12-07 08:00", "", "2026-12-07 09:00"},
		{"past today's: the next chosen day", monWed, "2026-12-07 09:01", "", "2026-12-09 09:00"},
		{"from a Thursday", monWed, "2026-12-10 07:00", "", "2026-12-14 09:00"},
		{"after firing today, even early", daily, "2026-12-07 08:00", "2026-12-07 08:00", "2026-12-08 09:00"},
		{"the one-off date", once, "2026-12-01 10:00", "", "2026-12-24 18:30"},
		{"the one-off date gone", once, "2026-12-24 19:00", "", ""},
		{"the one-off date fired", once, "2026-12-24 18:30", "2026-12-24 18:30", ""},
		{"across the spring clock change", daily, "2027-03-28 01:00", "", "2027-03-28 09:00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var not time.Time
			if c.not != "" {
				not = at(c.not)
			}
			got := c.t.nextOccurrence(at(c.from), not, rome)
			if c.want == "" {
				if !got.IsZero() {
					t.Fatalf("want none, got %v", got)
				}
				return
			}
			if !got.Equal(at(c.want)) {
				t.Fatalf("got %v, want %s", got.In(rome), c.want)
			}
		})
	}
}

func TestSameDay(t *testing.T) {
	day := time.Date(2027, time.March, 14, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]bool{"1990-03-14": true, "14/03/1990": true, "14/3": true, "03-14": true,
		"1990-03-15": false, "birthday": false, "": false} {
		if got := sameDay(v, day); got != want {
			t.Errorf("sameDay(%q) = %v", v, got)
		}
	}
	feb28 := time.Date(2027, time.February, 28, 0, 0, 0, 0, time.UTC)
	if !sameDay("2000-02-29", feb28) || sameDay("2000-02-29", feb28.AddDate(1, 0, 0)) {
		t.Error("29 February falls on the 28th in other years only")
	}
}

func TestReferralVariables(t *testing.T) {
	m := &store.Message{Raw: json.RawMessage(`{"from":"1","type":"text","text":{"body":"hi"},"referral":{"source_url":"https://fb.me/x",
		"source_id":"120","source_type":"ad","headline":"Sofas -30%","body":"Come","media_type":"image","ctwa_clid":"ARAk"}}`)}
	r := referralOf(m)
	if r == nil {
		t.Fatal("no referral read")
	}
	env := &Env{Event: r.vars()}
	if got := env.Render("{{referral.headline}} / {{referral.source_id}} / {{referral.ctwa_clid}}"); got != "Sofas -30% / 120 / ARAk" {
		t.Fatalf("rendered %q", got)
	}
	if referralOf(&store.Message{Raw: json.RawMessage(`{"type":"text"}`)}) != nil {
		t.Fatal("a referral read from a message without one")
	}
}

func TestChangeMatch(t *testing.T) {
	attrs := map[string]string{"status": "Paid", "city": ""}
	for _, c := range []struct {
		t    Trigger
		want bool
	}{
		{Trigger{Type: TriggerTagAdded, Tag: "vip"}, true},
		{Trigger{Type: TriggerTagAdded, Tag: "lead"}, false},
		{Trigger{Type: TriggerAttributeChanged, Attribute: "status"}, true},
		{Trigger{Type: TriggerAttributeChanged, Attribute: "status", Value: "paid"}, true},
		{Trigger{Type: TriggerAttributeChanged, Attribute: "status", Value: "shipped"}, false},
		{Trigger{Type: TriggerAttributeChanged, Attribute: "city"}, false}, // removed, not set
	} {
		if data, _ := changeMatch(c.t, []string{"VIP"}, attrs); (data != nil) != c.want {
			t.Errorf("%+v: %v", c.t, data)
		}
	}
}
