package schedule_test

import (
	"testing"
	"time"

	"sendbox/business"
	"sendbox/schedule"
)

func rome(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestAtAcrossDST: 09:00 on the days clocks change is 09:00 local; 02:30
// skipped in March is read with the offset before the jump (03:30 CEST);
// 02:30 twice in October is its first occurrence (CEST).
func TestAtAcrossDST(t *testing.T) {
	loc := rome(t)
	for _, c := range []struct {
		name             string
		y                int
		m                time.Month
		d, hour, min     int
		utc, localString string
	}{
		{"nine, last Sunday of March 2026", 2026, 3, 29, 9, 0, "2026-03-29T07:00:00Z", "09:00 CEST"},
		{"nine, last Sunday of October 2026", 2026, 10, 25, 9, 0, "2026-10-25T08:00:00Z", "09:00 CET"},
		{"nine, last Sunday of March 2027", 2027, 3, 28, 9, 0, "2027-03-28T07:00:00Z", "09:00 CEST"},
		{"nine, last Sunday of October 2027", 2027, 10, 31, 9, 0, "2027-10-31T08:00:00Z", "09:00 CET"},
		{"02:30 does not exist in March", 2027, 3, 28, 2, 30, "2027-03-28T01:30:00Z", "03:30 CEST"},
		{"02:00 does not exist in March either", 2027, 3, 28, 2, 0, "2027-03-28T01:00:00Z", "03:00 CEST"},
		{"01:59 before the jump", 2027, 3, 28, 1, 59, "2027-03-28T00:59:00Z", "01:59 CET"},
		{"03:00 after the jump", 2027, 3, 28, 3, 0, "2027-03-28T01:00:00Z", "03:00 CEST"},
		{"02:30 happens twice in October: the first", 2027, 10, 31, 2, 30, "2027-10-31T00:30:00Z", "02:30 CEST"},
		{"03:00 in October, once", 2027, 10, 31, 3, 0, "2027-10-31T02:00:00Z", "03:00 CET"},
	} {
		got := schedule.At(c.y, c.m, c.d, c.hour, c.min, loc)
		if u := got.UTC().Format(time.RFC3339); u != c.utc || got.Format("15:04 MST") != c.localString {
			t.Errorf("%s: %s (%s), want %s (%s)", c.name, u, got.Format("15:04 MST"), c.utc, c.localString)
		}
	}
}

// TestNextLocalEveryDayAtNine: a daily 09:00 in Rome stays at 09:00 local
// through both changes: 23 hours apart into summer time, 25 out of it.
func TestNextLocalEveryDayAtNine(t *testing.T) {
	loc := rome(t)
	for _, c := range []struct {
		from time.Time
		gap  time.Duration
	}{
		{time.Date(2027, 3, 27, 9, 0, 0, 0, loc), 23 * time.Hour},
		{time.Date(2027, 10, 30, 9, 0, 0, 0, loc), 25 * time.Hour},
		{time.Date(2027, 6, 1, 9, 0, 0, 0, loc), 24 * time.Hour},
	} {
		next := schedule.NextLocal(c.from, 9, 0, loc)
		if next.Sub(c.from) != c.gap || next.In(loc).Hour() != 9 {
			t.Errorf("after %s: %s, %v later; want %v", c.from, next.In(loc), next.Sub(c.from), c.gap)
		}
		// From just before 09:00, the same day.
		if same := schedule.NextLocal(c.from.Add(-time.Minute), 9, 0, loc); !same.Equal(c.from) {
			t.Errorf("from 08:59: %s", same)
		}
	}
}

// TestNextOpening: weekly hours, a closure over Christmas, special hours
// on a Sunday inside it, and the days clocks change.
func TestNextOpening(t *testing.T) {
	loc := rome(t)
	p := &business.Profile{Timezone: "Europe/Rome",
		Closures: []business.Closure{{From: "2026-12-24", To: "2026-12-28", Reason: "Christmas"}, {From: "2027-01-06"}},
		Special:  []business.SpecialDay{{Date: "2026-12-27", Open: "10:00", Close: "12:00", Note: "Open Sunday"}}}
	for i := range p.Hours {
		p.Hours[i] = business.DayHours{Open: "09:00", Close: "18:00", Closed: i >= 5}
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	for _, c := range []struct {
		name    string
		from    time.Time
		want    time.Time
		openNow bool
	}{
		{"open now: itself", at(2026, 12, 22, 10, 15), at(2026, 12, 22, 10, 15), true},
		{"before opening: at nine", at(2026, 12, 22, 7, 0), at(2026, 12, 22, 9, 0), false},
		{"after closing: tomorrow", at(2026, 12, 22, 18, 0), at(2026, 12, 23, 9, 0), false},
		{"the closure starts: its special Sunday", at(2026, 12, 23, 19, 0), at(2026, 12, 27, 10, 0), false},
		{"inside the special hours", at(2026, 12, 27, 11, 0), at(2026, 12, 27, 11, 0), true},
		{"after them: past the closure", at(2026, 12, 27, 12, 0), at(2026, 12, 29, 9, 0), false},
		{"a one-day closure", at(2027, 1, 5, 18, 30), at(2027, 1, 7, 9, 0), false},
		{"Friday evening: Monday", at(2027, 1, 8, 20, 0), at(2027, 1, 11, 9, 0), false},
		{"weekend before summer time: Monday 09:00 CEST", at(2027, 3, 27, 12, 0), at(2027, 3, 29, 9, 0), false},
		{"weekend before winter time: Monday 09:00 CET", at(2027, 10, 30, 12, 0), at(2027, 11, 1, 9, 0), false},
	} {
		got, ok := schedule.NextOpening(p, c.from)
		if !ok || !got.Equal(c.want) {
			t.Errorf("%s: %s %v, want %s", c.name, got.In(loc), ok, c.want)
		}
		if p.OpenAt(c.from) != c.openNow {
			t.Errorf("%s: OpenAt %v", c.name, !c.openNow)
		}
	}
	// When we open next: from inside opening hours, the next day's.
	for from, want := range map[time.Time]time.Time{
		at(2026, 12, 22, 10, 15): at(2026, 12, 23, 9, 0),
		at(2026, 12, 22, 7, 0):   at(2026, 12, 22, 9, 0),
		at(2026, 12, 23, 9, 0):   at(2026, 12, 27, 10, 0),
	} {
		if got, ok := schedule.NextOpen(p, from); !ok || !got.Equal(want) {
			t.Errorf("NextOpen from %s: %s, want %s", from, got.In(loc), want)
		}
	}
	// Closed for good: no next opening.
	shut := &business.Profile{Timezone: "UTC"}
	for i := range shut.Hours {
		shut.Hours[i].Closed = true
	}
	if got, ok := schedule.NextOpening(shut, time.Now()); ok {
		t.Fatalf("a business never open opens at %s", got)
	}
}
