package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The query language is what people type in a search box:
//
//	velluto verde        words, all must match (each in any inflection, with typos)
//	"velluto verde"      a phrase, words in this order
//	divan*               a prefix (two runes at least)
//	-resolved            a word that must not match
//
// The last word is also matched as a prefix (three runes at least), so
// results follow the user's typing. Anything else is ignored, never an error.

// clause is one parsed element of a query.
type clause struct {
	text   string // the word or phrase as typed (valid UTF-8)
	phrase bool   // a quoted phrase
	prefix bool   // also match as a prefix: explicit "*" or the last word
	star   bool   // the prefix was explicit
	not    bool   // must not match
}

const (
	maxQueryBytes   = 512 // longer input is cut, on a rune boundary
	maxClauses      = 16  // more words add cost and no precision
	minTypedPrefix  = 3   // runes, for the implicit as-you-type prefix
	minStarPrefix   = 2   // runes, for an explicit "abc*"
	minFuzzyRunes   = 5   // words shorter than this are never fuzzy
	minFuzzy2Runes  = 9   // words this long tolerate two edits
	maxPhraseTokens = 12
)

// parseQuery splits user input into clauses. It never fails: garbage yields
// no clauses.
func parseQuery(s string) []clause {
	s = strings.ToValidUTF8(s, " ")
	if len(s) > maxQueryBytes {
		cut := maxQueryBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case '“', '”', '„', '«', '»', '＂':
			return '"'
		case 0:
			return ' '
		}
		return r
	}, s)

	var out []clause
	add := func(c clause) {
		if len(out) < maxClauses {
			out = append(out, c)
		}
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += n
		case r == '"' || (r == '-' && strings.HasPrefix(s[i+1:], `"`)):
			not := r == '-'
			if not {
				i++
			}
			i++ // the opening quote
			end := strings.IndexByte(s[i:], '"')
			var body string
			if end < 0 { // unterminated: the phrase runs to the end
				body, i = s[i:], len(s)
			} else {
				body, i = s[i:i+end], i+end+1
			}
			if body = strings.TrimSpace(body); hasWordRune(body) {
				add(clause{text: body, phrase: true, not: not})
			}
		default:
			j := i
			for j < len(s) {
				r, n := utf8.DecodeRuneInString(s[j:])
				if unicode.IsSpace(r) || r == '"' {
					break
				}
				j += n
			}
			if c, ok := parseWord(s[i:j]); ok {
				add(c)
			}
			i = j
		}
	}
	// As you type: the last positive word also matches as a prefix.
	for k := len(out) - 1; k >= 0; k-- {
		if c := &out[k]; !c.not {
			if !c.phrase && utf8.RuneCountInString(c.text) >= minTypedPrefix {
				c.prefix = true
			}
			break
		}
	}
	return out
}

func parseWord(w string) (clause, bool) {
	var c clause
	if len(w) > 1 && w[0] == '-' {
		c.not = true
		w = w[1:]
	}
	if strings.HasSuffix(w, "*") {
		w = strings.TrimRight(w, "*")
		c.star = true
	}
	// Trim punctuation at the edges ("grazie!", "(AB123CD)"); keep it inside
	// ("l'école", "3C1-807-217", "mario@example.com").
	w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if !hasWordRune(w) {
		return c, false
	}
	c.text = w
	if c.star {
		c.prefix = utf8.RuneCountInString(w) >= minStarPrefix && !c.not
	}
	return c, true
}

func hasWordRune(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

func hasDigit(s string) bool {
	for _, r := range s {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// fuzziness is how many edits the analyzed term of word tolerates: none for
// short terms and for codes (a plate or part number one character off is
// another part). The length is the term's, after stemming: "Conti" → "cont"
// is too short to wander to "cost".
func fuzziness(word, term string) int {
	if hasDigit(word) {
		return 0
	}
	switch n := utf8.RuneCountInString(term); {
	case n >= minFuzzy2Runes:
		return 2
	case n >= minFuzzyRunes:
		return 1
	}
	return 0
}

// prefixText is the normalised prefix of a word: lowercase, folded, without
// an elided article ("l'éco" → "eco").
func prefixText(word string) string {
	if i := strings.LastIndexAny(word, "'’"); i >= 0 {
		_, n := utf8.DecodeRuneInString(word[i:])
		word = word[i+n:]
	}
	return foldLower(word)
}
