package outbound

import (
	"slices"
	"strconv"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// CustomerZone is the time zone a customer most likely lives in, from
// their number (digits, with or without "+"), so that marketing follows
// their night, not the business's. The zones come from libphonenumber's
// prefix-to-time-zone data (github.com/nyaruka/phonenumbers). In order:
//
//   - the number's region when it tells: a North American (+1) area code
//     (212 New York, 415 San Francisco, 416 Toronto, 787 Puerto Rico…), a
//     Brazilian DDD (92 Manaus), an Australian, Mexican, Spanish or
//     Portuguese landline prefix with a zone of its own;
//   - in a country with several zones whose number does not tell (a US
//     number with an unassigned area code, an Australian or Russian mobile,
//     which the data files under the country's main zone), the business's
//     own zone when it is one of the number's possible zones, or else the
//     country's most populous zone (New York for +1, Moscow, Sydney, São
//     Paulo, Mexico City, Jakarta, Madrid…);
//   - the country's zone, for a country with one;
//   - the business's zone for an unknown or missing number (a customer
//     known only by username).
func CustomerZone(waID string, business *time.Location) *time.Location {
	if business == nil {
		business = time.UTC
	}
	digits := make([]byte, 0, len(waID)+1)
	digits = append(digits, '+')
	for i := 0; i < len(waID); i++ {
		if c := waID[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if len(digits) < 4 {
		return business
	}
	if len(digits) == 14 && string(digits[1:4]) == "521" {
		digits = append(digits[:3], digits[4:]...) // Mexican mobiles written the old way, 52 1 …
	}
	num, err := phonenumbers.Parse(string(digits), "")
	if err != nil {
		return business
	}
	zones := known(phonenumbers.GetTimezonesForNumber(num))
	if len(zones) == 0 {
		return business
	}
	cc := int(num.GetCountryCode())
	country := known(phonenumbers.GetTimezonesForPrefix(strconv.Itoa(cc)))
	region := phonenumbers.GetRegionCodeForNumber(num)
	if region == "" {
		region = phonenumbers.GetRegionCodeForCountryCode(cc)
	}
	main := mainZone(region, country)
	if len(zones) == 1 {
		// The data files a country's mobiles it cannot place (Australia's
		// 04…, Russia's 9…) under the main zone: that says nothing.
		if zones[0] != main || len(country) < 2 || phonenumbers.GetNumberType(num) != phonenumbers.MOBILE {
			return load(zones[0], business)
		}
		zones = country
	}
	if slices.Contains(zones, business.String()) {
		return business
	}
	if !slices.Contains(zones, main) {
		// The number narrows the country down to a few zones that leave
		// the main one out (Alaska's 907: Adak or Anchorage).
		main = zones[0]
		for _, z := range zones {
			if slices.Contains(preferZones, z) {
				main = z
				break
			}
		}
	}
	return load(main, business)
}

// preferZones are the most populous zones of the groups the data gives
// together, where alphabetical order would pick a village.
var preferZones = []string{"America/Anchorage"}

// known drops the library's "unknown" zone and its errors.
func known(zones []string, err error) []string {
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(zones), func(z string) bool { return z == phonenumbers.UNKNOWN_TIMEZONE })
}

// mainZone is a country's most populous zone: the library lists a
// country's zones in alphabetical order, which says nothing of where most
// people live.
func mainZone(region string, country []string) string {
	if z, ok := mainZones[region]; ok {
		return z
	}
	if len(country) > 0 {
		return country[0]
	}
	return ""
}

func load(name string, fallback *time.Location) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return fallback
}

// mainZones names the most populous zone of the countries whose numbers
// the library maps to several zones (a test checks it against the data).
var mainZones = map[string]string{
	"US": "America/New_York", "CA": "America/Toronto", "RU": "Europe/Moscow", "KZ": "Asia/Almaty",
	"BR": "America/Sao_Paulo", "AU": "Australia/Sydney", "MX": "America/Mexico_City", "ID": "Asia/Jakarta",
	"ES": "Europe/Madrid", "PT": "Europe/Lisbon", "IT": "Europe/Rome", "GB": "Europe/London",
	"NO": "Europe/Oslo", "CL": "America/Santiago", "NZ": "Pacific/Auckland", "CD": "Africa/Kinshasa",
	"RE": "Indian/Reunion", "GL": "America/Godthab",
	"IE": "Europe/London", // the data files Ireland under the British zones: the same clock "FI": "Europe/Helsinki",
	"EC": "America/Guayaquil", "CW": "America/Curacao", "KI": "Pacific/Tarawa", "PF": "Pacific/Tahiti",
	"FM": "Pacific/Ponape", "MN": "Asia/Ulaanbaatar",
}
