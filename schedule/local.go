package schedule

import (
	"time"

	"sendbox/business"
)

// At is the instant the wall clock in loc reads the given date and time.
//
// Twice a year a wall-clock time does not name exactly one instant, and At
// decides as RFC 5545 (iCalendar) and JavaScript's Temporal ("compatible")
// do:
//   - a time skipped when clocks go forward (02:30 on the last Sunday of
//     March in Europe/Rome) is read with the offset before the jump: 02:30
//     CET, which is 03:30 CEST, as long after midnight as intended;
//   - a time that happens twice when clocks go back (02:30 on the last
//     Sunday of October) is its first occurrence, 02:30 CEST: a reminder
//     is better an hour early than an hour late, and it fires once.
func At(year int, month time.Month, day, hour, min int, loc *time.Location) time.Time {
	wall := time.Date(year, month, day, hour, min, 0, 0, time.UTC)
	// The offsets in force a day either side cover any one transition.
	_, before := wall.Add(-24 * time.Hour).In(loc).Zone()
	_, after := wall.Add(24 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		u := wall.Add(-time.Duration(off) * time.Second)
		l := u.In(loc)
		if l.Year() == year && l.Month() == month && l.Day() == day && l.Hour() == hour && l.Minute() == min {
			if best.IsZero() || u.Before(best) {
				best = u
			}
		}
	}
	if best.IsZero() { // in the gap
		best = wall.Add(-time.Duration(before) * time.Second)
	}
	return best.In(loc)
}

// NextLocal is the first instant after t when the wall clock in loc reads
// hour:min (09:00 every day at 09:00 local time, whatever the offset),
// resolved by At on the days clocks change.
func NextLocal(t time.Time, hour, min int, loc *time.Location) time.Time {
	l := t.In(loc)
	for i := 0; i < 3; i++ {
		d := l.AddDate(0, 0, i)
		if at := At(d.Year(), d.Month(), d.Day(), hour, min, loc); at.After(t) {
			return at
		}
	}
	return time.Time{} // unreachable: some day among three has hour:min after t
}

// horizon bounds NextOpening's search: a business closed for longer than
// this has no next opening worth a timer.
const horizon = 400

// NextOpening is t if the business is open at t, or else the next time it
// opens, from its weekly hours, closures and special hours in its own time
// zone; false if it does not open within 400 days.
func NextOpening(p *business.Profile, t time.Time) (time.Time, bool) {
	from, to, ok := nextPeriod(p, t, false)
	if ok && !t.Before(from) && t.Before(to) {
		return t, true
	}
	return from, ok
}

// NextOpen is the next time after t that the business opens (the start of
// its next opening hours, not t when it is open at t): "when we open".
func NextOpen(p *business.Profile, t time.Time) (time.Time, bool) {
	from, _, ok := nextPeriod(p, t, true)
	return from, ok
}

// nextPeriod returns the first opening period that ends after t (or, with
// startAfter, that starts after t), within 400 days.
func nextPeriod(p *business.Profile, t time.Time, startAfter bool) (from, to time.Time, ok bool) {
	loc := p.Location()
	l := t.In(loc)
	for i := 0; i < horizon; i++ {
		d := time.Date(l.Year(), l.Month(), l.Day()+i, 12, 0, 0, 0, loc)
		h := p.HoursOn(d.Date())
		if h.Closed {
			continue
		}
		o, err1 := time.Parse("15:04", h.Open)
		c, err2 := time.Parse("15:04", h.Close)
		if err1 != nil || err2 != nil {
			continue
		}
		from = At(d.Year(), d.Month(), d.Day(), o.Hour(), o.Minute(), loc)
		to = At(d.Year(), d.Month(), d.Day(), c.Hour(), c.Minute(), loc)
		if (startAfter && from.After(t)) || (!startAfter && to.After(t)) {
			return from, to, true
		}
	}
	return time.Time{}, time.Time{}, false
}
