package inbox

import (
	"errors"
	"testing"
	"time"

	"sendbox/business"
)

// TestSnoozeUntil: the panel's snooze choices in the business's time zone,
// on the Saturdays before clocks change and inside a closure.
func TestSnoozeUntil(t *testing.T) {
	p := &business.Profile{Timezone: "Europe/Rome", Closures: []business.Closure{{From: "2027-03-29", To: "2027-03-30"}}}
	for i := range p.Hours {
		p.Hours[i] = business.DayHours{Open: "09:00", Close: "18:00", Closed: i >= 5}
	}
	rome := p.Location()
	sat := time.Date(2027, 3, 27, 15, 0, 0, 0, rome)
	octSat := time.Date(2027, 10, 30, 15, 0, 0, 0, rome)
	for _, c := range []struct {
		now            time.Time
		choice, custom string
		want           string // UTC
		err            error
	}{
		{sat, "1h", "", "2027-03-27T15:00:00Z", nil},
		{sat, "tomorrow", "", "2027-03-28T07:00:00Z", nil},    // 09:00 CEST
		{octSat, "tomorrow", "", "2027-10-31T08:00:00Z", nil}, // 09:00 CET
		{sat, "week", "", "2027-04-03T07:00:00Z", nil},
		{sat, "open", "", "2027-03-31T07:00:00Z", nil},                      // Monday and Tuesday closed
		{sat, "custom", "2027-03-28T02:30", "2027-03-28T01:30:00Z", nil},    // skipped: 03:30 CEST
		{octSat, "custom", "2027-10-31T02:30", "2027-10-31T00:30:00Z", nil}, // twice: the first
		{sat, "custom", "2027-03-27T14:00", "", ErrSnoozePast},
		{sat, "custom", "soon", "", ErrSnoozePast},
		{sat, "fortnight", "", "", ErrSnoozeChoice},
	} {
		got, err := SnoozeUntil(p, c.choice, c.custom, c.now)
		if !errors.Is(err, c.err) || (c.err == nil && got.UTC().Format(time.RFC3339) != c.want) {
			t.Errorf("%s %q from %s: %s %v, want %s %v", c.choice, c.custom, c.now, got.UTC().Format(time.RFC3339), err, c.want, c.err)
		}
	}
	shut := &business.Profile{Timezone: "UTC"}
	for i := range shut.Hours {
		shut.Hours[i].Closed = true
	}
	if _, err := SnoozeUntil(shut, "open", "", sat); !errors.Is(err, ErrSnoozeNeverOpen) {
		t.Fatal(err)
	}
}
