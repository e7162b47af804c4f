package campaigns

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"sendbox/outbound"
)

// quietAt is the oracle: whether t falls in q's quiet hours by the clock of
// loc, read from the local wall clock alone.
func quietAt(q outbound.QuietHours, t time.Time, loc *time.Location) bool {
	var fh, fm, th, tm int
	fmt.Sscanf(q.From, "%d:%d", &fh, &fm)
	fmt.Sscanf(q.To, "%d:%d", &th, &tm)
	from, to := fh*60+fm, th*60+tm
	l := t.In(loc)
	m := l.Hour()*60 + l.Minute()
	night := from < to && m >= from && m < to || from > to && (m >= from || m < to)
	return night || q.Sundays && l.Weekday() == time.Sunday
}

// TestQuietHoursNeverBroken is a property test over random times, the
// days clocks change in Europe, the United States and Australia among
// them, random quiet hours (within a day or over midnight, Sundays or
// not) and customers in several zones: a marketing message the campaign
// lets go now is never in the customer's quiet hours; one it holds is held
// until a time that is not, after now, within the longest hold from the
// campaign's start; and one it drops could not have gone within it.
func TestQuietHoursNeverBroken(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	numbers := []string{"393331234567", "12125550123", "14155550123", "447700900123", "61412345678", "5511987654321", "81312345678", ""}
	dstDays := []time.Time{
		time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), // Europe
		time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), // United States
		time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC), // Australia
	}
	r := rand.New(rand.NewPCG(7, 11))
	clock := func() string { return fmt.Sprintf("%02d:%02d", r.IntN(24), 15*r.IntN(4)) }
	held, sent, dropped := 0, 0, 0
	for i := range 20000 {
		q := outbound.QuietHours{On: true, From: clock(), To: clock(), Sundays: r.IntN(3) == 0, Business: rome}
		if q.From == q.To {
			continue
		}
		var now time.Time
		if i%2 == 0 {
			now = dstDays[r.IntN(len(dstDays))].Add(time.Duration(r.IntN(48*60)-12*60) * time.Minute)
		} else {
			now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(365*24*60)) * time.Minute)
		}
		now = now.Add(time.Duration(r.IntN(60)) * time.Second)
		wa := numbers[r.IntN(len(numbers))]
		loc := outbound.CustomerZone(wa, rome)
		started := now.Add(-time.Duration(r.IntN(30)) * time.Hour)
		maxHold := time.Duration(1+r.IntN(48)) * time.Hour
		hold, expired := quietDecision(q, now, wa, started, maxHold)
		switch {
		case expired:
			dropped++
			if at, _ := q.NextAllowed(now, wa); !at.After(started.Add(maxHold)) {
				t.Fatalf("%s to %s (%s, %+v): dropped, yet it could go at %s", now, wa, loc, q, at)
			}
		case hold.IsZero():
			sent++
			if quietAt(q, now, loc) {
				t.Fatalf("%s to %s: sent at %s local, in the quiet hours %+v", now, wa, now.In(loc), q)
			}
		default:
			held++
			if !hold.After(now) || quietAt(q, hold, loc) || hold.After(started.Add(maxHold)) {
				t.Fatalf("%s to %s (%+v): held until %s (%s local)", now, wa, q, hold, hold.In(loc))
			}
			if !quietAt(q, now, loc) {
				t.Fatalf("%s to %s: held though %s local is not quiet (%+v)", now, wa, now.In(loc), q)
			}
			// The hold is not longer than it needs to be: a minute before
			// its end was still quiet. Not checked when the clocks jumped
			// forward over the end (02:45 on a night that skips 02:00 to
			// 03:00): NextAllowed reads a skipped time an hour later, as
			// schedule.At does, which holds up to an hour more, never less.
			_, offHold := hold.In(loc).Zone()
			_, offBefore := hold.Add(-2 * time.Hour).In(loc).Zone()
			if before := hold.Add(-time.Minute); offHold == offBefore && before.After(now) && !quietAt(q, before, loc) {
				t.Fatalf("%s to %s (%+v): held until %s, but %s local was already allowed", now, wa, q, hold, before.In(loc))
			}
		}
	}
	t.Logf("sent at once %d, held %d, dropped %d", sent, held, dropped)
	if sent == 0 || held == 0 || dropped == 0 {
		t.Error("the property test did not see every case")
	}
}
