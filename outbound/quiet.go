package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sendbox/schedule"
	"sendbox/store"
)

// QuietHours is the business's rule against marketing at night: no
// marketing template between From and To by the customer's clock (their
// zone from their number: CustomerZone), nor on a Sunday when Sundays is
// set. Flows hold a marketing send until the quiet hours end; campaigns
// follow the same rule. Utility and authentication templates, and replies,
// are never held.
type QuietHours struct {
	On      bool   `json:"on"`
	From    string `json:"from"` // "20:00"
	To      string `json:"to"`   // "09:00"; before From, the quiet hours span midnight
	Sundays bool   `json:"sundays"`
	// Business is the business's zone: the customer's when their number
	// does not tell (nil: UTC).
	Business *time.Location `json:"-"`
}

// SettingQuietHours is the settings key of the quiet hours.
const SettingQuietHours = "marketing.quiet_hours"

// DefaultQuietHours is the rule until the owner sets one: off, and when
// switched on 20:00 to 09:00.
var DefaultQuietHours = QuietHours{From: "20:00", To: "09:00"}

// LoadQuietHours returns the stored quiet hours (DefaultQuietHours if
// none), with business as the fallback zone.
func LoadQuietHours(ctx context.Context, st *store.Store, business *time.Location) (QuietHours, error) {
	q := DefaultQuietHours
	v, err := st.Setting(ctx, SettingQuietHours)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return q, err
	default:
		if err := json.Unmarshal([]byte(v), &q); err != nil {
			return DefaultQuietHours, fmt.Errorf("stored quiet hours: %w", err)
		}
	}
	q.Business = business
	return q, nil
}

// SaveQuietHours checks and stores the quiet hours.
func SaveQuietHours(ctx context.Context, st *store.Store, q QuietHours) error {
	if err := q.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(q)
	return st.SetSetting(ctx, SettingQuietHours, string(b))
}

// Validate names what is wrong with the quiet hours in plain words.
// MaxHold is the longest a marketing send can be held: from the start of
// the quiet hours to their end, and a whole Sunday more when Sundays are
// quiet too; 0 when they are off.
func (q QuietHours) MaxHold() time.Duration {
	if !q.On {
		return 0
	}
	from, err1 := time.Parse("15:04", q.From)
	to, err2 := time.Parse("15:04", q.To)
	if err1 != nil || err2 != nil {
		return 0
	}
	d := to.Sub(from)
	if d <= 0 {
		d += 24 * time.Hour
	}
	if q.Sundays {
		d += 24 * time.Hour
	}
	return d
}

func (q QuietHours) Validate() error {
	f, err1 := time.Parse("15:04", q.From)
	t, err2 := time.Parse("15:04", q.To)
	if err1 != nil || err2 != nil {
		return errors.New("quiet hours: write the times as 20:00 and 09:00")
	}
	if f.Equal(t) {
		return errors.New("quiet hours: the start and the end are the same time; to stop marketing all day, switch the flows' marketing steps off instead")
	}
	return nil
}

// NextAllowed says when a marketing message may go to the customer waID:
// now and true when it may go at once, or the end of the quiet hours and
// false. On the days clocks change, the end is read as schedule.At does
// (09:00 is 09:00 local; a time skipped is read an hour later).
func (q QuietHours) NextAllowed(now time.Time, waID string) (time.Time, bool) {
	if !q.On || q.Validate() != nil {
		return now, true
	}
	loc := CustomerZone(waID, q.Business)
	f, _ := time.Parse("15:04", q.From)
	to, _ := time.Parse("15:04", q.To)
	from, until := f.Hour()*60+f.Minute(), to.Hour()*60+to.Minute()
	t := now
	// Each turn leaves one reason to be quiet (the night or a Sunday); a
	// Sunday night between two quiet evenings takes three.
	for range 6 {
		l := t.In(loc)
		m := l.Hour()*60 + l.Minute()
		inNight := from < until && m >= from && m < until || from > until && (m >= from || m < until)
		sunday := q.Sundays && l.Weekday() == time.Sunday
		switch {
		case inNight:
			day := l
			if from > until && m >= from { // the evening part: it ends tomorrow morning
				day = dayAfter(l)
			}
			t = schedule.At(day.Year(), day.Month(), day.Day(), to.Hour(), to.Minute(), loc)
		case sunday:
			next := dayAfter(l)
			t = schedule.At(next.Year(), next.Month(), next.Day(), 0, 0, loc)
		default:
			return t, t.Equal(now)
		}
	}
	return t, false
}

// dayAfter is noon the next day in l's zone (noon: never in a clock change).
func dayAfter(l time.Time) time.Time {
	return time.Date(l.Year(), l.Month(), l.Day()+1, 12, 0, 0, 0, l.Location())
}
