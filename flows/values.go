package flows

import (
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"sendbox/vehicle"
)

// Env is what {{variables}} and conditions read: the contact, the run's
// answers and the event that started it, and the time in the business's
// zone.
type Env struct {
	ContactName, Phone, Language string
	Tags                         []string
	Attributes                   map[string]string
	Vars                         map[string]string
	Event                        map[string]string
	Now                          time.Time // in the business's time zone
	// Consent is the contact's marketing consent (store.ConsentOptedIn…);
	// Country the ISO code of the number's country ("IT"), "" if unknown.
	Consent, Country string
	// OpenAt reports whether the business is open at a time (time.open).
	OpenAt func(time.Time) bool
}

// Lookup returns a name's value and whether it is set.
func (e *Env) Lookup(name string) (string, bool) {
	pick := func(m map[string]string, k string) (string, bool) {
		v, ok := m[k]
		return v, ok && v != ""
	}
	switch name {
	case "contact.name":
		return e.ContactName, e.ContactName != ""
	case "contact.phone":
		return e.Phone, e.Phone != ""
	case "contact.language":
		return e.Language, e.Language != ""
	case "contact.tags":
		return strings.Join(e.Tags, ", "), len(e.Tags) > 0
	case "contact.consent":
		return e.Consent, e.Consent != ""
	case "contact.country":
		return e.Country, e.Country != ""
	case "time.hour":
		return strconv.Itoa(e.Now.Hour()), true
	case "time.open":
		return e.open()
	case "time.weekday":
		wd := int(e.Now.Weekday())
		if wd == 0 {
			wd = 7
		}
		return strconv.Itoa(wd), true
	}
	if k, ok := strings.CutPrefix(name, "vars."); ok {
		return pick(e.Vars, k)
	}
	if k, ok := strings.CutPrefix(name, "attributes."); ok {
		return pick(e.Attributes, k)
	}
	if k, ok := strings.CutPrefix(name, "event."); ok {
		return pick(e.Event, k)
	}
	if strings.HasPrefix(name, "referral.") {
		return pick(e.Event, name) // an ad trigger keeps the referral's fields under these names
	}
	return "", false
}

// Render fills text's {{variables}}; an unset one becomes "".
func (e *Env) Render(text string) string {
	return tmplRE.ReplaceAllStringFunc(text, func(m string) string {
		v, _ := e.Lookup(tmplRE.FindStringSubmatch(m)[1])
		return v
	})
}

// Holds evaluates a condition.
func (e *Env) Holds(c *Cond) bool {
	switch {
	case len(c.All) > 0:
		for i := range c.All {
			if !e.Holds(&c.All[i]) {
				return false
			}
		}
		return true
	case len(c.Any) > 0:
		return slices.ContainsFunc(c.Any, func(x Cond) bool { return e.Holds(&x) })
	case c.Not != nil:
		return !e.Holds(c.Not)
	}
	v, set := e.Lookup(c.Left)
	right := e.Render(c.Right)
	switch c.Op {
	case OpExists:
		return set
	case OpMissing:
		return !set
	case OpEq:
		return strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(right))
	case OpNe:
		return !strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(right))
	case OpContains:
		return strings.Contains(strings.ToLower(v), strings.ToLower(right))
	case OpHas:
		return slices.ContainsFunc(e.Tags, func(t string) bool { return strings.EqualFold(t, right) })
	case OpGt, OpLt:
		a, err1 := parseNumber(v)
		b, err2 := parseNumber(right)
		if err1 != nil || err2 != nil {
			return false
		}
		if c.Op == OpGt {
			return a > b
		}
		return a < b
	}
	return false
}

// Answer is a customer's reply to an ask step: the text, or the id of the
// button or list row tapped.
type Answer struct {
	Text    string
	ReplyID string
	// Type is the message's type (text, image, location…); MessageID and
	// Location ("lat,long") serve photo and location questions.
	Type      string
	MessageID int64
	Location  string
}

// accept checks an answer against an ask step and returns the value to
// keep, in a normal form (a number with a dot, an e-mail in lower case, a
// date as 2006-01-02, a choice's id, a phone's digits with +), and the
// choice it picked, if any.
func (s *Step) accept(a Answer) (string, *Choice, bool) {
	text := strings.TrimSpace(a.Text)
	switch s.Input {
	case InputChoice:
		return s.pick(a)
	case InputPhoto:
		if a.Type != "image" || a.MessageID == 0 {
			return "", nil, false
		}
		return strconv.FormatInt(a.MessageID, 10), nil, true
	case InputVehicle:
		for _, country := range []string{"IT", "FR"} {
			if p, ok := vehicle.NormalizePlate(country, text); ok {
				return p, nil, true
			}
		}
		if v, ok := vehicle.NormalizeVIN(text); ok {
			return v, nil, true
		}
		return "", nil, false
	case InputLocation:
		if a.Location == "" {
			return "", nil, false
		}
		return a.Location, nil, true
	case InputNumber:
		n, err := parseNumber(text)
		if err != nil {
			return "", nil, false
		}
		return strconv.FormatFloat(n, 'f', -1, 64), nil, true
	case InputEmail:
		addr, err := mail.ParseAddress(text)
		if err != nil || !strings.Contains(addr.Address, ".") || addr.Address != text && "<"+addr.Address+">" != text {
			return "", nil, false
		}
		return strings.ToLower(addr.Address), nil, true
	case InputDate:
		d, ok := parseDate(text)
		if !ok {
			return "", nil, false
		}
		return d.Format(time.DateOnly), nil, true
	case InputPhone:
		digits := strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return r
			}
			if strings.ContainsRune("+ -().", r) {
				return -1
			}
			return 'x'
		}, text)
		if strings.ContainsRune(digits, 'x') || len(digits) < 6 || len(digits) > 15 {
			return "", nil, false
		}
		if strings.HasPrefix(text, "+") {
			digits = "+" + digits
		}
		return digits, nil, true
	default: // text
		if text == "" {
			return "", nil, false
		}
		return text, nil, true
	}
}

// pick finds the choice an answer names: the tapped button's id, its
// title, or its number in the list ("2").
func (s *Step) pick(a Answer) (string, *Choice, bool) {
	for i := range s.Choices {
		c := &s.Choices[i]
		if a.ReplyID != "" && a.ReplyID == c.ID {
			return c.ID, c, true
		}
	}
	text := strings.TrimSpace(a.Text)
	for i := range s.Choices {
		c := &s.Choices[i]
		if strings.EqualFold(text, c.Title) || strings.EqualFold(text, c.ID) || text == strconv.Itoa(i+1) {
			return c.ID, c, true
		}
	}
	return "", nil, false
}

// parseNumber reads "1200", "1.200,50", "1,5", "€ 300", "300 euro".
func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(strings.Trim(s, "€$£ "))
	s = strings.TrimSpace(strings.TrimSuffix(strings.ToLower(s), "euro"))
	s = strings.ReplaceAll(s, " ", "")
	if strings.Contains(s, ",") && strings.Contains(s, ".") {
		if strings.LastIndex(s, ",") > strings.LastIndex(s, ".") {
			s = strings.ReplaceAll(s, ".", "")
			s = strings.ReplaceAll(s, ",", ".")
		} else {
			s = strings.ReplaceAll(s, ",", "")
		}
	} else {
		s = strings.ReplaceAll(s, ",", ".")
	}
	return strconv.ParseFloat(s, 64)
}

// parseDate reads 2026-03-29, 29/03/2026, 29.03.2026, 29-03-2026 (day
// first, as the businesses' customers write them).
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.DateOnly, "2/1/2006", "2.1.2006", "2-1-2006", "2/1/06"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
