package flows

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A wait until a date: the day before a customer's birthday, two hours
// before the visit an answer booked, the morning after the delivery day an
// event gave. See Step.UntilAttribute.

// maxOffset bounds a wait's offset, as a wait's duration is bounded.
const maxOffset = 366 * 24 * time.Hour

// untilName is the full name (for Env.Lookup) of a wait's date: a bare
// name is a contact attribute.
func untilName(n string) string {
	if strings.Contains(n, ".") {
		return n
	}
	return "attributes." + n
}

func (s *Step) validateUntil(vars map[string]bool) []Problem {
	var ps []Problem
	bad := func(field, code, msg string) { ps = append(ps, Problem{Field: field, Code: code, Message: msg}) }
	if s.UntilAttribute == "" {
		bad("until_attribute", "required", "offset, yearly and on_missing go with until_attribute: the date to wait for")
		return ps
	}
	name := untilName(s.UntilAttribute)
	switch {
	case strings.HasPrefix(name, "attributes."), strings.HasPrefix(name, "vars."), strings.HasPrefix(name, "event."):
		if msg := knownName(name, vars); msg != "" {
			bad("until_attribute", "unknown_variable", msg)
		}
	default:
		bad("until_attribute", "invalid", "the date is a contact attribute (birthday, attributes.birthday), an answer (vars.NAME) or the event's data (event.NAME)")
	}
	if s.Duration != "" {
		bad("duration", "unexpected", "a wait lasts a duration or goes until a date, not both")
	}
	if s.Offset != "" {
		if _, _, err := parseOffset(s.Offset); err != nil {
			bad("offset", "invalid", "an offset is a signed number of days or a duration of at most a year: -1d, +2h, -30m")
		}
	}
	return ps
}

// parseOffset reads "-1d", "+3d", "2d" (whole days, kept apart so that a
// day is a calendar day across a change of clocks) or a Go duration
// ("+2h", "-90m", "1h30m").
func parseOffset(s string) (days int, rest time.Duration, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, nil
	}
	sign := 1
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err = strconv.Atoi(n)
		if err != nil || days < 0 || days > 366 || n != strings.TrimSpace(n) {
			return 0, 0, fmt.Errorf("%q is not a number of days", s)
		}
		return sign * days, 0, nil
	}
	rest, err = time.ParseDuration(s)
	if err != nil || rest < 0 || rest > maxOffset {
		return 0, 0, fmt.Errorf("%q is not an offset", s)
	}
	return 0, time.Duration(sign) * rest, nil
}

// parseMoment reads a date as flows keep them: an RFC 3339 moment
// ("2026-03-29T10:00:00+02:00"), a local one ("2026-03-29T10:00", as a
// form's datetime-local sends it), or a day (2026-03-29, 29/03/2026: its
// midnight in loc).
func parseMoment(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	if d, ok := parseDate(s); ok {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), true
	}
	return time.Time{}, false
}

// untilDate is when a wait until a date ends: the date its step names,
// moved by the offset, at its time of day (in env.Now's zone, the
// business's); with Yearly, the first such moment of the date's
// anniversaries that is not past. ok is false when the date is missing or
// does not read. The moment may be past: the caller goes on at once.
func (s *Step) untilDate(env *Env) (time.Time, bool) {
	raw, set := env.Lookup(untilName(s.UntilAttribute))
	if !set {
		return time.Time{}, false
	}
	loc := env.Now.Location()
	date, ok := parseMoment(raw, loc)
	if !ok {
		return time.Time{}, false
	}
	days, rest, err := parseOffset(s.Offset)
	if err != nil {
		return time.Time{}, false // published flows have a valid offset
	}
	var at time.Time
	if s.At != "" {
		if at, err = time.Parse("15:04", s.At); err != nil {
			return time.Time{}, false
		}
	}
	moment := func(base time.Time) time.Time {
		m := base.In(loc).AddDate(0, 0, days).Add(rest)
		if s.At != "" {
			m = m.In(loc)
			m = time.Date(m.Year(), m.Month(), m.Day(), at.Hour(), at.Minute(), 0, 0, loc)
		}
		return m
	}
	if !s.Yearly {
		return moment(date), true
	}
	// From last year's anniversary on (an offset may carry it over the
	// new year), the first whose moment is still ahead; an offset of at
	// most a year finds one within four.
	date = date.In(loc)
	var m time.Time
	for y := env.Now.Year() - 1; y <= env.Now.Year()+3; y++ {
		day := date.Day()
		if date.Month() == time.February && day == 29 && !isLeap(y) {
			day = 28
		}
		m = moment(time.Date(y, date.Month(), day, date.Hour(), date.Minute(), date.Second(), 0, loc))
		if m.After(env.Now) {
			break
		}
	}
	return m, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// atOnce reports whether a run can take branch b as soon as it enters s,
// for the loop check: every way out but a wait's, and of a wait until a
// date, on_missing and, but for an anniversary (always ahead), next (a
// date already past goes on at once).
func (s *Step) atOnce(b branch) bool {
	if s.Type != StepWait || s.UntilAttribute == "" {
		return true
	}
	switch b.field {
	case "on_missing":
		return true
	case "next":
		return !s.Yearly
	}
	return false
}
