// Package business is what sendbox knows about the business it serves: its
// profile (name, opening hours, time zone, address, services and prices),
// which the panel edits and the assistant answers from.
package business

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/store"
)

// Profile is the business's public facts.
type Profile struct {
	Name     string      `json:"name"`
	About    string      `json:"about"`
	Timezone string      `json:"timezone"`
	Address  string      `json:"address"`
	Phone    string      `json:"phone"`
	Email    string      `json:"email"`
	Website  string      `json:"website"`
	Hours    [7]DayHours `json:"hours"` // Monday first
	// Closures are whole days closed (holidays, a summer break); Special
	// are dates with other hours than their weekday's. A date's special
	// hours win over a closure that covers it, which wins over the week.
	Closures []Closure    `json:"closures,omitempty"`
	Special  []SpecialDay `json:"special_hours,omitempty"`
	Services []Service    `json:"services"`
}

// Closure is one or more whole days closed, From to To inclusive
// ("2006-01-02"; To empty or equal to From for one day).
type Closure struct {
	From   string `json:"from"`
	To     string `json:"to,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// SpecialDay is one date's opening hours, in place of its weekday's.
type SpecialDay struct {
	Date  string `json:"date"`
	Open  string `json:"open"`
	Close string `json:"close"`
	Note  string `json:"note,omitempty"`
}

// DateLayout is how closures and special days write dates.
const DateLayout = "2006-01-02"

// maxDated bounds closures and special days, each: a few years of holidays.
const maxDated = 400

// DayHours are one weekday's opening hours ("09:00"–"18:00"), or closed.
type DayHours struct {
	Closed bool   `json:"closed"`
	Open   string `json:"open"`
	Close  string `json:"close"`
}

// Service is something the business offers, with its price and duration as
// the owner writes them.
type Service struct {
	Name     string `json:"name"`
	Price    string `json:"price,omitempty"`
	Duration string `json:"duration,omitempty"`
}

// Weekdays names the days of Profile.Hours.
var Weekdays = [7]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

const settingKey = "business_profile"

// Load returns the stored profile, or a new one with sensible defaults.
func Load(ctx context.Context, st *store.Store) (*Profile, error) {
	v, err := st.Setting(ctx, settingKey)
	if errors.Is(err, store.ErrNotFound) {
		p := &Profile{Timezone: "UTC"}
		for i := range p.Hours {
			p.Hours[i] = DayHours{Open: "09:00", Close: "18:00", Closed: i >= 5}
		}
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	var p Profile
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, fmt.Errorf("stored business profile: %w", err)
	}
	return &p, nil
}

// Save checks and stores the profile.
func Save(ctx context.Context, st *store.Store, p *Profile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	return st.SetSetting(ctx, settingKey, string(b))
}

// Validate checks the profile, naming the first problem in plain words.
func (p *Profile) Validate() error {
	for _, f := range []struct {
		name, v string
		max     int
	}{{"name", p.Name, 100}, {"about", p.About, 1000}, {"address", p.Address, 300}, {"phone", p.Phone, 40},
		{"e-mail", p.Email, 254}, {"website", p.Website, 300}} {
		if utf8.RuneCountInString(f.v) > f.max {
			return fmt.Errorf("the %s is longer than %d characters", f.name, f.max)
		}
	}
	if _, err := time.LoadLocation(p.Timezone); err != nil || p.Timezone == "" {
		return fmt.Errorf("unknown time zone %q: use a name such as Europe/Rome", p.Timezone)
	}
	for i, h := range p.Hours {
		if h.Closed {
			continue
		}
		o, err1 := time.Parse("15:04", h.Open)
		c, err2 := time.Parse("15:04", h.Close)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("%s: write the hours as 09:00 and 18:00", Weekdays[i])
		}
		if !c.After(o) {
			return fmt.Errorf("%s: closing time must come after opening time", Weekdays[i])
		}
	}
	if err := p.validateDated(); err != nil {
		return err
	}
	if len(p.Services) > 100 {
		return errors.New("at most 100 services")
	}
	for _, s := range p.Services {
		if strings.TrimSpace(s.Name) == "" || utf8.RuneCountInString(s.Name) > 120 {
			return fmt.Errorf("each service needs a name of at most 120 characters")
		}
	}
	return nil
}

// Location is the profile's time zone.
func (p *Profile) Location() *time.Location {
	if loc, err := time.LoadLocation(p.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// HoursOn returns the opening hours of a date (year, month, day in the
// business's own calendar), with its special hours or closure applied.
func (p *Profile) HoursOn(y int, m time.Month, d int) DayHours {
	date := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	key := date.Format(DateLayout)
	for _, sp := range p.Special {
		if sp.Date == key {
			return DayHours{Open: sp.Open, Close: sp.Close}
		}
	}
	for _, c := range p.Closures {
		if key >= c.From && key <= cmp.Or(c.To, c.From) {
			return DayHours{Closed: true}
		}
	}
	return p.Hours[(int(date.Weekday())+6)%7]
}

// ClosedOn returns the closure covering a date, if any (special hours on
// that date open it anyway).
func (p *Profile) ClosedOn(y int, m time.Month, d int) (Closure, bool) {
	key := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Format(DateLayout)
	for _, c := range p.Closures {
		if key >= c.From && key <= cmp.Or(c.To, c.From) {
			return c, true
		}
	}
	return Closure{}, false
}

// OpenAt reports whether the business is open at t, in its own time zone,
// its closures and special hours included.
func (p *Profile) OpenAt(t time.Time) bool {
	t = t.In(p.Location())
	h := p.HoursOn(t.Date())
	if h.Closed {
		return false
	}
	now := t.Format("15:04")
	return now >= h.Open && now < h.Close
}

// validateDated checks closures and special days, naming the line a
// person would have to fix.
func (p *Profile) validateDated() error {
	if len(p.Closures) > maxDated || len(p.Special) > maxDated {
		return fmt.Errorf("at most %d closures and %d days with special hours", maxDated, maxDated)
	}
	for i, c := range p.Closures {
		from, err1 := time.Parse(DateLayout, c.From)
		to, err2 := time.Parse(DateLayout, cmp.Or(c.To, c.From))
		if err1 != nil || err2 != nil {
			return fmt.Errorf("closure %d: write a date as 2026-12-25, or a range as 2026-08-10 - 2026-08-23", i+1)
		}
		if to.Before(from) {
			return fmt.Errorf("closure %d: it ends (%s) before it starts (%s)", i+1, c.To, c.From)
		}
		if to.Sub(from) > 366*24*time.Hour {
			return fmt.Errorf("closure %d: longer than a year", i+1)
		}
		if utf8.RuneCountInString(c.Reason) > 200 {
			return fmt.Errorf("closure %d: the reason is longer than 200 characters", i+1)
		}
	}
	seen := map[string]bool{}
	for i, sp := range p.Special {
		if _, err := time.Parse(DateLayout, sp.Date); err != nil {
			return fmt.Errorf("special hours %d: write the date as 2026-12-24", i+1)
		}
		if seen[sp.Date] {
			return fmt.Errorf("special hours %d: %s has special hours twice", i+1, sp.Date)
		}
		seen[sp.Date] = true
		o, err1 := time.Parse("15:04", sp.Open)
		c, err2 := time.Parse("15:04", sp.Close)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("special hours %d (%s): write the hours as 09:00-13:00", i+1, sp.Date)
		}
		if !c.After(o) {
			return fmt.Errorf("special hours %d (%s): closing time must come after opening time", i+1, sp.Date)
		}
		if utf8.RuneCountInString(sp.Note) > 200 {
			return fmt.Errorf("special hours %d (%s): the note is longer than 200 characters", i+1, sp.Date)
		}
	}
	return nil
}

// ParseClosures reads closure lines: "2026-12-25 | Christmas" or
// "2026-08-10 - 2026-08-23 | Summer break" (the reason is optional).
func ParseClosures(s string) ([]Closure, error) {
	var out []Closure
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		dates, reason, _ := strings.Cut(line, "|")
		dates = strings.ReplaceAll(strings.TrimSpace(dates), "–", "-")
		var c Closure
		switch f := strings.Fields(strings.ReplaceAll(dates, " - ", " ")); len(f) {
		case 1:
			c.From = f[0]
		case 2:
			c.From, c.To = f[0], f[1]
		default:
			return nil, fmt.Errorf("closure line %d: write a date as 2026-12-25 | reason, or a range as 2026-08-10 - 2026-08-23 | reason", i+1)
		}
		for _, d := range []string{c.From, c.To} {
			if _, err := time.Parse(DateLayout, d); d != "" && err != nil {
				return nil, fmt.Errorf("closure line %d: %q is not a date written as 2026-12-25", i+1, d)
			}
		}
		if c.To == c.From {
			c.To = ""
		}
		c.Reason = strings.TrimSpace(reason)
		out = append(out, c)
	}
	return out, nil
}

// ClosuresText writes closures back as lines for editing.
func ClosuresText(list []Closure) string {
	var lines []string
	for _, c := range list {
		l := c.From
		if c.To != "" && c.To != c.From {
			l += " - " + c.To
		}
		if c.Reason != "" {
			l += " | " + c.Reason
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// ParseSpecial reads special-hours lines: "2026-12-24 | 09:00-13:00 | Christmas Eve"
// (the note is optional).
func ParseSpecial(s string) ([]SpecialDay, error) {
	var out []SpecialDay
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("special hours line %d: write date | opening-closing | note, e.g. 2026-12-24 | 09:00-13:00 | Christmas Eve", i+1)
		}
		sp := SpecialDay{Date: strings.TrimSpace(parts[0])}
		if _, err := time.Parse(DateLayout, sp.Date); err != nil {
			return nil, fmt.Errorf("special hours line %d: %q is not a date written as 2026-12-24", i+1, sp.Date)
		}
		o, c, ok := strings.Cut(strings.ReplaceAll(parts[1], "–", "-"), "-")
		if !ok {
			return nil, fmt.Errorf("special hours line %d: write the hours as 09:00-13:00", i+1)
		}
		sp.Open, sp.Close = strings.TrimSpace(o), strings.TrimSpace(c)
		if len(parts) == 3 {
			sp.Note = strings.TrimSpace(parts[2])
		}
		out = append(out, sp)
	}
	return out, nil
}

// SpecialText writes special days back as lines for editing.
func SpecialText(list []SpecialDay) string {
	var lines []string
	for _, sp := range list {
		l := sp.Date + " | " + sp.Open + "-" + sp.Close
		if sp.Note != "" {
			l += " | " + sp.Note
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// ParseServices reads "name | price | duration" lines.
func ParseServices(s string) ([]Service, error) {
	var out []Service
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) > 3 {
			return nil, fmt.Errorf("service line %d: write name | price | duration", i+1)
		}
		sv := Service{Name: strings.TrimSpace(parts[0])}
		if len(parts) > 1 {
			sv.Price = strings.TrimSpace(parts[1])
		}
		if len(parts) > 2 {
			sv.Duration = strings.TrimSpace(parts[2])
		}
		out = append(out, sv)
	}
	return out, nil
}

// ServicesText writes services back as lines for editing.
func ServicesText(list []Service) string {
	var lines []string
	for _, s := range list {
		parts := []string{s.Name}
		if s.Price != "" || s.Duration != "" {
			parts = append(parts, s.Price)
		}
		if s.Duration != "" {
			parts = append(parts, s.Duration)
		}
		lines = append(lines, strings.Join(parts, " | "))
	}
	return strings.Join(lines, "\n")
}
