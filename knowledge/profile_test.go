package knowledge

import (
	"strings"
	"testing"

	"sendbox/business"
)

// TestProfileHoursNameClosedDays: the opening-hours passage names the
// closed days and special hours, so the assistant can say whether the
// business is open on Christmas Eve.
func TestProfileHoursNameClosedDays(t *testing.T) {
	p := &business.Profile{Timezone: "Europe/Rome",
		Closures: []business.Closure{{From: "2026-12-25", To: "2026-12-26", Reason: "Natale"}, {From: "2027-01-06"}},
		Special:  []business.SpecialDay{{Date: "2026-12-24", Open: "09:00", Close: "13:00", Note: "Vigilia"}}}
	for _, c := range []struct{ lang, want string }{
		{"it", "2026-12-25–2026-12-26: chiuso (Natale); 2027-01-06: chiuso; 2026-12-24: aperto 09:00–13:00 (Vigilia)."},
		{"en", "2026-12-25–2026-12-26: closed (Natale); 2027-01-06: closed; 2026-12-24: open 09:00–13:00 (Vigilia)."},
	} {
		var hours string
		for _, ps := range ProfilePassages(p, c.lang) {
			if ps.Heading == profileTables[c.lang].hours {
				hours = ps.Text
			}
		}
		if !strings.HasSuffix(hours, c.want) {
			t.Errorf("%s: %q, want it to end %q", c.lang, hours, c.want)
		}
	}
	// Without them, the passage is as before.
	p.Closures, p.Special = nil, nil
	if hours := ProfilePassages(p, "en")[0].Text; !strings.HasSuffix(hours, "(time zone Europe/Rome).") {
		t.Errorf("%q", hours)
	}
}
