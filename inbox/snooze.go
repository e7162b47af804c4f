package inbox

import (
	"context"
	"errors"
	"time"

	"sendbox/business"
	"sendbox/schedule"
	"sendbox/store"
)

// WakeSnooze is the scheduler's handler of store.TimerSnoozeWake: it
// reopens the conversation the timer belongs to if it is still snoozed
// until the timer's time. A conversation reopened, resolved, answered by
// the customer or snoozed again meanwhile leaves the timer obsolete.
func WakeSnooze(_ context.Context, tx *store.TimerTx, tm *store.Timer) (bool, error) {
	return tx.WakeSnoozed(tm.Owner, tm.Token)
}

// Errors of SnoozeUntil.
var (
	ErrSnoozePast      = errors.New("a snooze must end in the future")
	ErrSnoozeNeverOpen = errors.New("the business does not open in the coming year")
	ErrSnoozeChoice    = errors.New("unknown snooze choice")
)

// SnoozeUntil is when a snooze chosen at now ends: "1h" an hour later,
// "tomorrow" and "week" at 09:00 the next day or in seven days, "open" when
// the business next opens, "custom" at custom ("2006-01-02T15:04", as a
// browser's datetime-local sends it). Times of day are the business's, in
// its time zone, whatever the server's; 09:00 stays 09:00 on the days
// clocks change.
func SnoozeUntil(p *business.Profile, choice, custom string, now time.Time) (time.Time, error) {
	loc := p.Location()
	nine := func(days int) time.Time {
		d := now.In(loc).AddDate(0, 0, days)
		return schedule.At(d.Year(), d.Month(), d.Day(), 9, 0, loc)
	}
	switch choice {
	case "1h":
		return now.Add(time.Hour).In(loc), nil
	case "tomorrow":
		return nine(1), nil
	case "week":
		return nine(7), nil
	case "open":
		t, ok := schedule.NextOpen(p, now)
		if !ok {
			return time.Time{}, ErrSnoozeNeverOpen
		}
		return t.In(loc), nil
	case "custom", "":
		w, err := time.Parse("2006-01-02T15:04", custom)
		if err != nil {
			return time.Time{}, ErrSnoozePast
		}
		// A wall time clocks skip or repeat is resolved as schedule.At says.
		t := schedule.At(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), loc)
		if !t.After(now) {
			return time.Time{}, ErrSnoozePast
		}
		return t, nil
	}
	return time.Time{}, ErrSnoozeChoice
}
