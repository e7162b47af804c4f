package business

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func weekdays() *Profile {
	p := &Profile{Timezone: "Europe/Rome"}
	for i := range p.Hours {
		p.Hours[i] = DayHours{Open: "09:00", Close: "18:00", Closed: i >= 5}
	}
	return p
}

// TestClosuresAndSpecialHoursLines: the panel's lines read and written
// back, and what is wrong in them said with the line to fix.
func TestClosuresAndSpecialHoursLines(t *testing.T) {
	closures, err := ParseClosures("2026-12-24 - 2026-12-26 | Christmas\n\n 2027-01-06 \n2026-08-10 – 2026-08-23|Summer break")
	if err != nil {
		t.Fatal(err)
	}
	want := []Closure{{"2026-12-24", "2026-12-26", "Christmas"}, {"2027-01-06", "", ""}, {"2026-08-10", "2026-08-23", "Summer break"}}
	if len(closures) != len(want) {
		t.Fatalf("%+v", closures)
	}
	for i := range want {
		if closures[i] != want[i] {
			t.Fatalf("closure %d: %+v, want %+v", i, closures[i], want[i])
		}
	}
	if got := ClosuresText(closures); got != "2026-12-24 - 2026-12-26 | Christmas\n2027-01-06\n2026-08-10 - 2026-08-23 | Summer break" {
		t.Fatalf("written back: %q", got)
	}
	special, err := ParseSpecial("2026-12-24 | 09:00-13:00 | Christmas Eve\n2026-12-27|10:00 - 12:00")
	if err != nil || len(special) != 2 || special[1] != (SpecialDay{Date: "2026-12-27", Open: "10:00", Close: "12:00"}) {
		t.Fatalf("%+v %v", special, err)
	}
	if got := SpecialText(special); got != "2026-12-24 | 09:00-13:00 | Christmas Eve\n2026-12-27 | 10:00-12:00" {
		t.Fatalf("written back: %q", got)
	}
	for _, c := range []struct {
		closures, special, want string
	}{
		{"25/12/2026 | Christmas", "", `closure line 1: "25/12/2026" is not a date written as 2026-12-25`},
		{"2026-12-24 2026-12-25 2026-12-26", "", "closure line 1: write a date as 2026-12-25 | reason"},
		{"", "2026-12-24 | Christmas Eve", "special hours line 1: write the hours as 09:00-13:00"},
		{"", "2026-12-24", "special hours line 1: write date | opening-closing | note"},
	} {
		_, err1 := ParseClosures(c.closures)
		_, err2 := ParseSpecial(c.special)
		if err := cmpErr(err1, err2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %q: %v, want %q", c.closures, c.special, err, c.want)
		}
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// TestValidateDatedHours: the profile refuses closures and special hours
// that cannot mean anything, naming which.
func TestValidateDatedHours(t *testing.T) {
	for _, c := range []struct {
		closures []Closure
		special  []SpecialDay
		want     string
	}{
		{[]Closure{{From: "2026-12-26", To: "2026-12-24"}}, nil, "closure 1: it ends (2026-12-24) before it starts (2026-12-26)"},
		{[]Closure{{From: "2026-01-01", To: "2028-01-01"}}, nil, "closure 1: longer than a year"},
		{[]Closure{{From: "soon"}}, nil, "closure 1: write a date as 2026-12-25, or a range as 2026-08-10 - 2026-08-23"},
		{nil, []SpecialDay{{Date: "2026-12-24", Open: "13:00", Close: "09:00"}}, "special hours 1 (2026-12-24): closing time must come after opening time"},
		{nil, []SpecialDay{{Date: "2026-12-24", Open: "9", Close: "13:00"}}, "special hours 1 (2026-12-24): write the hours as 09:00-13:00"},
		{nil, []SpecialDay{{Date: "2026-12-24", Open: "09:00", Close: "13:00"}, {Date: "2026-12-24", Open: "15:00", Close: "18:00"}},
			"special hours 2: 2026-12-24 has special hours twice"},
	} {
		p := weekdays()
		p.Closures, p.Special = c.closures, c.special
		if err := p.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("%+v %+v: %v, want %q", c.closures, c.special, err, c.want)
		}
	}
}

// TestHoursOn: special hours win over a closure, which wins over the week;
// a profile stored before closures existed reads as before.
func TestHoursOn(t *testing.T) {
	var p Profile
	old := weekdays()
	b, _ := json.Marshal(old)
	if strings.Contains(string(b), "closures") || json.Unmarshal(b, &p) != nil || p.Closures != nil {
		t.Fatalf("a profile without closures: %s", b)
	}
	p.Closures = []Closure{{From: "2026-12-24", To: "2026-12-28"}}
	p.Special = []SpecialDay{{Date: "2026-12-27", Open: "10:00", Close: "12:00"}}
	for _, c := range []struct {
		d    int
		want DayHours
	}{
		{23, DayHours{Open: "09:00", Close: "18:00"}}, // a Wednesday
		{24, DayHours{Closed: true}},
		{27, DayHours{Open: "10:00", Close: "12:00"}}, // a Sunday, inside the closure
		{28, DayHours{Closed: true}},
		{29, DayHours{Open: "09:00", Close: "18:00"}},
	} {
		if got := p.HoursOn(2026, time.December, c.d); got != c.want {
			t.Errorf("December %d: %+v, want %+v", c.d, got, c.want)
		}
	}
	if c, ok := p.ClosedOn(2026, time.December, 27); !ok || c.From != "2026-12-24" {
		t.Fatalf("ClosedOn: %+v %v", c, ok)
	}
}
