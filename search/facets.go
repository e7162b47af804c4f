package search

import (
	"strconv"
	"strings"
)

// The filter and facet values of a message share one field, each value a
// short term: a letter for the facet and a code for the value ("Sr" is
// status resolved, "L3" label 3, "Yfts" day 20512). A facet reads docvalues for
// every hit, and bleve reads a docvalue column a chunk of 1024 documents at
// a time (snappy, varints): for a common word that is the whole column.
// Five columns of readable terms ("status:resolved"…) cost 90 ms a facet
// request over 20,000 hits at 1M messages; one column of short codes
// decompresses ~17 bytes a message instead of ~45 in five places.
const (
	pStatus = 'S'
	pDir    = 'D'
	pType   = 'T'
	pLabel  = 'L'
	pDay    = 'Y'
)

// Codes of the values sendbox uses; anything else is written out after "~".
var facetCodes = map[byte]map[string]string{
	pStatus: {"open": "o", "pending": "p", "snoozed": "s", "resolved": "r"},
	pDir:    {"inbound": "i", "outbound": "o"},
	pType: {"text": "t", "image": "i", "template": "m", "interactive": "b", "location": "l", "audio": "a", "video": "v",
		"document": "d", "sticker": "s", "reaction": "r", "contacts": "c", "button": "n", "order": "o", "unsupported": "u"},
}

var facetValues = func() map[byte]map[string]string {
	out := map[byte]map[string]string{}
	for p, m := range facetCodes {
		out[p] = map[string]string{}
		for v, c := range m {
			out[p][c] = v
		}
	}
	return out
}()

// facetTerm is the term of value v of facet p.
func facetTerm(p byte, v string) string {
	if c, ok := facetCodes[p][v]; ok {
		return string(p) + c
	}
	if p == pLabel || p == pDay { // already short: base 36 numbers
		return string(p) + v
	}
	return string(p) + "~" + v
}

func itoa36(n int64) string { return strconv.FormatInt(n, 36) }

// facetValue decodes a term of the facet field.
func facetValue(term string) (p byte, v string, ok bool) {
	if len(term) < 2 {
		return 0, "", false
	}
	p, code := term[0], term[1:]
	switch {
	case p == pLabel || p == pDay:
		n, err := strconv.ParseInt(code, 36, 64)
		if err != nil {
			return 0, "", false
		}
		return p, strconv.FormatInt(n, 10), true
	case strings.HasPrefix(code, "~"):
		return p, code[1:], true
	}
	v, ok = facetValues[p][code]
	return p, v, ok
}
