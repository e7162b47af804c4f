package language

import (
	"slices"
	"strings"
)

// Countries are the ISO 3166-1 codes Country can name, sorted.
func Countries() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range callingCountry {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// CountryPrefixes are the calling-code prefixes of a country, each with the
// longer prefixes under it that name another country (Country takes the
// longest match): a number is of country when it starts with one of the
// prefixes and with none of that prefix's exceptions. For "US": "1", except
// Canada's, Puerto Rico's, ... area codes. Nil for an unknown country.
func CountryPrefixes(country string) map[string][]string {
	var out map[string][]string
	for p, c := range callingCountry {
		if c != country {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		var except []string
		for q, qc := range callingCountry {
			if qc != country && len(q) > len(p) && strings.HasPrefix(q, p) {
				except = append(except, q)
			}
		}
		slices.Sort(except)
		out[p] = except
	}
	return out
}
