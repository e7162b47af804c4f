package language

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// specialFold covers letters that canonical decomposition leaves alone.
var specialFold = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o",
	'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ð': "d", 'þ': "th", 'ı': "i",
}

// Fold lowercases s and takes its accents off ("Perché" → "perche",
// "Straße" → "strasse"): the one way sendbox compares what a customer
// wrote with words it knows (the policy's lexicon, small talk, flow
// keywords, search terms).
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return string(FoldMarks([]byte(strings.ToLower(s))))
		}
	}
	return s
}

// FoldMarks is Fold without the lowercasing, on bytes, for search's
// analyzer (its terms are lowercase already): combining marks stripped
// (NFD, drop Mn, NFC) and the letters in specialFold mapped. ASCII comes
// back as it is, the same slice.
func FoldMarks(term []byte) []byte {
	ascii := true
	for _, c := range term {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return term
	}
	d := norm.NFD.Bytes(term)
	out := make([]byte, 0, len(d))
	for i := 0; i < len(d); {
		r, n := utf8.DecodeRune(d[i:])
		i += n
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if s, ok := specialFold[r]; ok {
			out = append(out, s...)
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return norm.NFC.Bytes(out)
}
