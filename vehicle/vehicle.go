// Package vehicle knows number plates and vehicle identification numbers
// (VINs): the checks an auto-parts flow makes on what a customer types,
// and the sandbox's demo catalogue (catalogue.go) that answers which part
// fits which car.
package vehicle

import "strings"

// plateLetters are the letters each country's plates use: Italy leaves
// out I, O, Q and U, France (SIV plates, since 2009) I, O and U.
var plateLetters = map[string]string{
	"IT": "ABCDEFGHJKLMNPRSTVWXYZ",
	"FR": "ABCDEFGHJKLMNPQRSTVWXYZ",
}

// NormalizePlate returns a plate written the way the country writes it
// (Italy AB123CD, France AB-123-CD) and whether it is one. country is an
// ISO code, "IT" or "FR", in any case. Spaces and dashes are ignored, and
// letters may be lower case: customers type "ab 123 cd" and "AB123CD".
func NormalizePlate(country, s string) (string, bool) {
	country = strings.ToUpper(strings.TrimSpace(country))
	letters, ok := plateLetters[country]
	if !ok {
		return "", false
	}
	p := compact(s)
	if len(p) != 7 {
		return "", false
	}
	for i := range 7 {
		c := p[i]
		if i >= 2 && i <= 4 {
			if c < '0' || c > '9' {
				return "", false
			}
		} else if strings.IndexByte(letters, c) < 0 {
			return "", false
		}
	}
	if country == "IT" {
		return p, true
	}
	// France issues no 000 and no SS block.
	if p[2:5] == "000" || p[:2] == "SS" || p[5:] == "SS" {
		return "", false
	}
	return p[:2] + "-" + p[2:5] + "-" + p[5:], true
}

// ValidPlate reports whether s is a plate of country ("IT": AA000AA;
// "FR": AA-000-AA, with or without the dashes). See NormalizePlate.
func ValidPlate(country, s string) bool {
	_, ok := NormalizePlate(country, s)
	return ok
}

// compact upper-cases s and drops spaces and dashes.
func compact(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r == ' ' || r == '-' || r == '\t' {
			continue
		}
		if r > 0x7f {
			return "" // no plate or VIN has it
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NormalizeVIN returns s upper-cased and trimmed, and whether it is a VIN
// (see ValidVIN).
func NormalizeVIN(s string) (string, bool) {
	v := strings.ToUpper(strings.TrimSpace(s))
	return v, ValidVIN(v)
}

// ValidVIN reports whether s is a vehicle identification number: 17
// letters and digits without I, O or Q (ISO 3779), upper case. The check
// digit (9th character) is not required: only North American VINs carry
// one, European ones need not (see VINCheckDigitOK).
func ValidVIN(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := range 17 {
		if _, ok := vinValue(s[i]); !ok {
			return false
		}
	}
	return true
}

// vinValue is a VIN character's value in the check digit's sum.
func vinValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c == 'I' || c == 'O' || c == 'Q':
		return 0, false
	case c >= 'A' && c <= 'H':
		return int(c-'A') + 1, true
	case c >= 'J' && c <= 'R':
		return int(c-'J') + 1, true
	case c >= 'S' && c <= 'Z':
		return int(c-'S') + 2, true
	}
	return 0, false
}

// VINCheckDigitOK reports whether a valid VIN's 9th character is its check
// digit, as North American VINs must have it.
func VINCheckDigitOK(s string) bool {
	if !ValidVIN(s) {
		return false
	}
	weights := [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := range 17 {
		v, _ := vinValue(s[i])
		sum += v * weights[i]
	}
	want := byte('0' + sum%11)
	if sum%11 == 10 {
		want = 'X'
	}
	return s[8] == want
}
