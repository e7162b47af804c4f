// Package business is what sendbox knows about the business it serves: its
// profile (name, opening hours, time zone, address, services and prices),
// which the panel edits and the assistant answers from.
package business

import (
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
	Services []Service   `json:"services"`
}

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

// OpenAt reports whether the business is open at t, in its own time zone.
func (p *Profile) OpenAt(t time.Time) bool {
	t = t.In(p.Location())
	h := p.Hours[(int(t.Weekday())+6)%7]
	if h.Closed {
		return false
	}
	now := t.Format("15:04")
	return now >= h.Open && now < h.Close
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
