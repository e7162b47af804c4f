package outbound

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestQuietHoursNextAllowed: the edges of the rule, in the customer's
// zone: the night across midnight, its first and last minute, Sundays, the
// days clocks change, and customers ahead of and behind the business.
func TestQuietHoursNextAllowed(t *testing.T) {
	rome, ny, tokyo := mustLoc(t, "Europe/Rome"), mustLoc(t, "America/New_York"), mustLoc(t, "Asia/Tokyo")
	const italian, newYorker, japanese = "393471110001", "12125550100", "819012345678"
	night := QuietHours{On: true, From: "20:00", To: "09:00", Business: rome}
	sundays := night
	sundays.Sundays = true
	day := QuietHours{On: true, From: "13:00", To: "15:00", Business: rome}
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	cases := []struct {
		name string
		q    QuietHours
		now  time.Time
		waID string
		want time.Time // zero: now
	}{
		{"off", QuietHours{From: "20:00", To: "09:00", Business: rome}, at(rome, 2026, 3, 4, 23, 0), italian, time.Time{}},
		{"the afternoon", night, at(rome, 2026, 3, 4, 15, 0), italian, time.Time{}},
		{"the last minute before the night", night, at(rome, 2026, 3, 4, 19, 59), italian, time.Time{}},
		{"its first minute", night, at(rome, 2026, 3, 4, 20, 0), italian, at(rome, 2026, 3, 5, 9, 0)},
		{"22:00 waits for tomorrow 09:00", night, at(rome, 2026, 3, 4, 22, 0), italian, at(rome, 2026, 3, 5, 9, 0)},
		{"after midnight, the same morning", night, at(rome, 2026, 3, 5, 2, 30), italian, at(rome, 2026, 3, 5, 9, 0)},
		{"08:59", night, at(rome, 2026, 3, 5, 8, 59), italian, at(rome, 2026, 3, 5, 9, 0)},
		{"09:00 goes", night, at(rome, 2026, 3, 5, 9, 0), italian, time.Time{}},
		{"the last day of a month", night, at(rome, 2026, 3, 31, 21, 0), italian, at(rome, 2026, 4, 1, 9, 0)},
		{"quiet hours within a day", day, at(rome, 2026, 3, 4, 14, 0), italian, at(rome, 2026, 3, 4, 15, 0)},
		{"within a day, before them", day, at(rome, 2026, 3, 4, 12, 0), italian, time.Time{}},
		{"within a day, after them", day, at(rome, 2026, 3, 4, 23, 0), italian, time.Time{}},
		// 2026-03-08 is a Sunday.
		{"a Sunday, not chosen", night, at(rome, 2026, 3, 8, 11, 0), italian, time.Time{}},
		{"a Sunday, chosen", sundays, at(rome, 2026, 3, 8, 11, 0), italian, at(rome, 2026, 3, 9, 9, 0)},
		{"Saturday night to Monday morning", sundays, at(rome, 2026, 3, 7, 22, 0), italian, at(rome, 2026, 3, 9, 9, 0)},
		{"Saturday afternoon goes", sundays, at(rome, 2026, 3, 7, 16, 0), italian, time.Time{}},
		// Clocks go forward in Italy on 29 March 2026 at 02:00, back on 25 October at 03:00.
		{"the night clocks go forward", night, at(rome, 2026, 3, 28, 23, 0), italian, at(rome, 2026, 3, 29, 9, 0)},
		{"the night clocks go back", night, at(rome, 2026, 10, 24, 23, 0), italian, at(rome, 2026, 10, 25, 9, 0)},
		{"an end skipped by the clocks", QuietHours{On: true, From: "22:00", To: "02:30", Business: rome},
			at(rome, 2026, 3, 28, 23, 0), italian, at(rome, 2026, 3, 29, 3, 30)},
		// In the US clocks go forward on 8 March 2026, three weeks before Italy.
		{"a New Yorker the night US clocks change", night, at(ny, 2026, 3, 7, 23, 0), newYorker, at(ny, 2026, 3, 8, 9, 0)},
		// 15:00 in Rome is 09:00 in New York: the customer behind the business.
		{"a customer behind: their 08:00 is Rome's 14:00", night, at(rome, 2026, 4, 14, 14, 0), newYorker, at(ny, 2026, 4, 14, 9, 0)},
		{"a customer behind: their 09:00", night, at(ny, 2026, 4, 14, 9, 0), newYorker, time.Time{}},
		{"a customer behind: Rome's 22:00 is their afternoon", night, at(rome, 2026, 4, 14, 22, 0), newYorker, time.Time{}},
		// 12:00 in Rome is 19:00 in Tokyo, 14:00 is 21:00.
		{"a customer ahead: Rome's noon is their evening", night, at(rome, 2026, 4, 14, 12, 0), japanese, time.Time{}},
		{"a customer ahead: Rome's 14:00 is their night", night, at(rome, 2026, 4, 14, 14, 0), japanese, at(tokyo, 2026, 4, 15, 9, 0)},
		{"a customer ahead on their Sunday, Rome's Saturday", sundays, at(rome, 2026, 3, 7, 18, 0), japanese, at(tokyo, 2026, 3, 9, 9, 0)},
		{"unknown number: the business's zone", night, at(rome, 2026, 4, 14, 21, 0), "", at(rome, 2026, 4, 15, 9, 0)},
	}
	for _, c := range cases {
		got, ok := c.q.NextAllowed(c.now, c.waID)
		want := c.want
		if want.IsZero() {
			want = c.now
		}
		if !got.Equal(want) || ok != c.want.IsZero() {
			t.Errorf("%s: NextAllowed(%s) = %s, %v; want %s, %v", c.name, c.now, got.In(c.now.Location()), ok,
				want.In(c.now.Location()), c.want.IsZero())
		}
		if !ok {
			if again, ok := c.q.NextAllowed(got, c.waID); !ok || !again.Equal(got) {
				t.Errorf("%s: at %s it is still quiet (next %s)", c.name, got, again)
			}
		}
	}
}

func TestQuietHoursValidate(t *testing.T) {
	for _, q := range []QuietHours{{From: "20:00", To: "20:00"}, {From: "8pm", To: "09:00"}, {From: "20:00", To: "25:00"}} {
		if q.Validate() == nil {
			t.Errorf("%+v: accepted", q)
		}
	}
	if err := DefaultQuietHours.Validate(); err != nil {
		t.Error(err)
	}
}

// TestCustomerZone: the number's region, else the business's zone when it
// is in the customer's country, else the country's main zone; unknown,
// the business's.
func TestCustomerZone(t *testing.T) {
	rome, chicago, perth := mustLoc(t, "Europe/Rome"), mustLoc(t, "America/Chicago"), mustLoc(t, "Australia/Perth")
	cases := []struct {
		waID     string
		business *time.Location
		want     string
	}{
		{"393471110001", chicago, "Europe/Rome"},
		{"+33 6 12 34 56 78", chicago, "Europe/Paris"},
		{"12125550100", rome, "America/New_York"},
		{"14155550100", rome, "America/Los_Angeles"},
		{"13125550100", rome, "America/Chicago"},
		{"16025550100", rome, "America/Phoenix"},
		{"14165550100", rome, "America/Toronto"},
		{"17875550100", rome, "America/Puerto_Rico"},
		{"18095550100", rome, "America/Santo_Domingo"},
		{"15555550100", rome, "America/New_York"},   // an area code not in the table
		{"15555550100", chicago, "America/Chicago"}, // … the business's, when North American
		{"5511987654321", rome, "America/Sao_Paulo"},
		{"5592987654321", rome, "America/Manaus"},
		{"61412345678", rome, "Australia/Sydney"}, // a mobile
		{"61412345678", perth, "Australia/Perth"},
		{"61731234567", perth, "Australia/Brisbane"}, // a landline tells
		{"5215512345678", rome, "America/Mexico_City"},
		{"5216641234567", rome, "America/Tijuana"},
		{"79161234567", rome, "Europe/Moscow"},
		{"77011234567", rome, "Asia/Almaty"},
		{"34928123456", rome, "Atlantic/Canary"},
		{"34612345678", rome, "Europe/Madrid"},
		{"447700900123", rome, "Europe/London"},
		{"353871234567", rome, "Europe/London"}, // the data's choice for Ireland; the same clock as Dublin
		{"+1 (907) 555-0100", rome, "America/Anchorage"},
		{"12505550100", rome, "America/Vancouver"},
		{"", chicago, "America/Chicago"},
		{"999123", chicago, "America/Chicago"},
		{"8081234", nil, "UTC"},
	}
	for _, c := range cases {
		if got := CustomerZone(c.waID, c.business).String(); got != c.want {
			t.Errorf("CustomerZone(%q, %v) = %s, want %s", c.waID, c.business, got, c.want)
		}
	}
}

// TestZoneTables: every main zone loads and is one of its country's zones
// in the library's data.
func TestZoneTables(t *testing.T) {
	for region, z := range mainZones {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("%s: %v", region, err)
		}
		cc := phonenumbers.GetCountryCodeForRegion(region)
		country := known(phonenumbers.GetTimezonesForPrefix(strconv.Itoa(cc)))
		if !slices.Contains(country, z) {
			t.Errorf("%s: %s is not among +%d's zones %v", region, z, cc, country)
		}
	}
}
