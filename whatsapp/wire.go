package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
)

// Lenient JSON scalars. Meta's payloads are mostly consistent, but a string
// where a number was expected (or the reverse) must cost one field, never the
// whole webhook: Meta retries a failed delivery for 7 days and would keep
// failing the same way. These types accept both spellings and fall back to
// the zero value on anything else; their UnmarshalJSON never fails.

// maxUnixSeconds is 9999-12-31T23:59:59Z. Later "timestamps" are garbage,
// and would also break RFC 3339 formatting further down the line.
const maxUnixSeconds = 253402300799

// unixTime is a unix-seconds timestamp sent as a string ("1749416383", the
// usual shape) or as a JSON number (entry[].time, user_preferences).
type unixTime int64

func (t *unixTime) UnmarshalJSON(b []byte) error {
	*t = 0
	if n, ok := parseNumber(unquoted(b)); ok && n > 0 && n <= maxUnixSeconds {
		*t = unixTime(n)
	}
	return nil
}

// Time is the timestamp in UTC, or the zero time when it was missing or
// garbage (0 and negative values included: no real event happened then).
func (t unixTime) Time() time.Time {
	if t <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(t), 0).UTC()
}

// flexString is an identifier Meta sends as a string but that some payloads
// (and some SDK fixtures) carry as a number.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	*s = ""
	if len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		if str, ok := jsonString(b); ok {
			*s = flexString(str)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		*s = flexString(b)
	}
	return nil
}

// flexInt is an integer sent as a number or a numeric string.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	*n = 0
	if v, ok := parseNumber(unquoted(b)); ok {
		*n = flexInt(v)
	}
	return nil
}

// flexFloat is a float (coordinates, prices) sent as a number or a numeric
// string. Non-finite values are dropped: they cannot be stored or compared.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	*f = 0
	s := unquoted(b)
	if len(s) == 0 || len(s) > 64 {
		return nil
	}
	v, err := strconv.ParseFloat(string(s), 64)
	if err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
		*f = flexFloat(v)
	}
	return nil
}

// unquoted strips the quotes of a JSON string without unescaping: numbers
// and timestamps never need escapes, and an escaped one is garbage anyway.
func unquoted(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// parseNumber reads an integer, or a float truncated towards zero, without
// allocating on the common path (plain digits).
func parseNumber(s []byte) (int64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	neg := s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) > 0 && len(digits) <= 18 {
		var n int64
		ok := true
		for _, c := range digits {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			if neg {
				n = -n
			}
			return n, true
		}
	}
	if len(s) > 64 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// jsonString decodes a JSON string literal, copying it out of b.
func jsonString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return "", false
	}
	return s, true
}

// decodeLenient unmarshals b into v, accepting type mismatches (the field
// concerned is left zero and the rest is decoded, as encoding/json
// documents) and failing only on invalid JSON.
func decodeLenient(b []byte, v any) error {
	err := json.Unmarshal(b, v)
	var typeErr *json.UnmarshalTypeError
	if err != nil && errors.As(err, &typeErr) {
		return nil
	}
	return err
}
