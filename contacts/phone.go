// Package contacts brings contacts in from CSV files and takes them out
// again: the mapping preview, the validation pass, the background import
// that resumes after a restart, the rows it turned down, and the export.
package contacts

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Normalize reads a phone number as a person writes it ("+39 347 111 0001",
// "0039 347…", "347 111 0001" with a default country) and returns its E.164
// digits without "+", as contacts keep them (wa_id). region is an ISO 3166
// country code ("IT") for numbers written without a calling code, or "":
// then a number must be international, and bare digits are read as
// starting with the calling code (as WhatsApp writes wa_ids).
func Normalize(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("no phone number")
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	region = strings.ToUpper(region)
	if !strings.HasPrefix(s, "+") && region == "" {
		s = "+" + s
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("%q is not a phone number", raw)
	}
	if !phonenumbers.IsValidNumber(num) {
		if region != "" && !strings.HasPrefix(s, "+") {
			return "", fmt.Errorf("%q is not a valid number in %s (write it with its country code, +…)", raw, region)
		}
		return "", fmt.Errorf("%q is not a valid phone number", raw)
	}
	return strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+"), nil
}

// RegionOf returns the ISO country code of an international number ("IT"
// for "+39 06…"), or "" when it cannot tell.
func RegionOf(number string) string {
	s := strings.TrimSpace(number)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") {
		return ""
	}
	num, err := phonenumbers.Parse(s, "")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForNumber(num)
	if r == "" || r == "ZZ" || r == "001" {
		return ""
	}
	return r
}

// ValidRegion reports whether region is an ISO country code the phone
// data knows.
func ValidRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) != 0
}
