package policy

import (
	"unicode"
	"unicode/utf8"

	"sendbox/language"
)

// token is a normalised word and where it sits in the original text.
type token struct {
	word       string // lower-case, accents removed, chat spelling expanded
	start, end int    // byte offsets in the original text
	sentence   int    // index of its sentence (split at . ! ? and new lines)
	clause     int    // index of its clause (also split at , ; : and "but")
	question   bool   // its sentence ends with a question mark
	// acute: the word ends in é or í as written, as the Spanish first
	// person of the past does ("activé", "volví"): folding loses it.
	acute bool
}

// clauseBreakers start a new clause: a negation before them does not reach past.
var clauseBreakers = map[string]bool{"ma": true, "pero": true, "but": true, "mais": true, "aber": true, "however": true,
	"sondern": true, "pourtant": true, "tuttavia": true, "anzi": true, "invece": true, "sin": false}

// chat expands the spellings of chat messages into the words the rules
// know: "nn" is "non", "dont" is "don t" as "don't" would be.
var chat = map[string][]string{
	"nn": {"non"}, "xke": {"perche"}, "xche": {"perche"}, "perke": {"perche"}, "xk": {"perche"}, "cmq": {"comunque"},
	"pls": {"please"}, "plz": {"please"}, "pliz": {"please"}, "plis": {"please"}, "thx": {"thanks"}, "u": {"you"},
	"ur": {"your"}, "dont": {"don", "t"}, "cant": {"can", "t"}, "wont": {"won", "t"}, "didnt": {"didn", "t"},
	"doesnt": {"doesn", "t"}, "isnt": {"isn", "t"}, "im": {"i", "m"}, "ive": {"i", "ve"}, "jveux": {"je", "veux"},
	"jvoudrais": {"je", "voudrais"}, "jsuis": {"je", "suis"}, "chui": {"je", "suis"}, "chuis": {"je", "suis"},
	"jai": {"j", "ai"}, "jme": {"je", "me"}, "jne": {"je", "ne"}, "jpeux": {"je", "peux"}, "nich": {"nicht"},
	"net": {"nicht"}, "ned": {"nicht"}, "nix": {"nichts"}, "xfa": {"por", "favor"}, "porfa": {"por", "favor"},
	"xfavor": {"por", "favor"}, "tb": {"tambien"}, "tmb": {"tambien"}, "d": {"de"},
}

// fold lower-cases and removes accents ("Perché" → "perche").
func fold(s string) string { return language.Fold(s) }

// squeeze shortens a letter typed three times or more to one: customers
// stretch words ("stoooop", "pleeease"), and no word of the rules has a
// letter three times in a row.
func squeeze(w string) string {
	run := false
	for i := 2; i < len(w); i++ {
		if w[i] == w[i-1] && w[i] == w[i-2] {
			run = true
			break
		}
	}
	if !run {
		return w
	}
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); {
		j := i
		for j < len(w) && w[j] == w[i] {
			j++
		}
		if j-i >= 3 {
			b = append(b, w[i])
		} else {
			b = append(b, w[i:j]...)
		}
		i = j
	}
	return string(b)
}

// tokenize splits into words at anything but letters and digits (so
// "l'école" is "l" "ecole" and "don't" is "don" "t"), and marks sentences
// and clauses. A "+" standing alone is a word: chat Italian and French
// write "nn voglio + messaggi" for "più".
func tokenize(s string) []token {
	out := make([]token, 0, len(s)/5+1)
	sentence, clause := 0, 0
	newSentence, newClause := false, false
	emit := func(w string, start, end int, acute bool) {
		if len(out) > 0 && newSentence {
			sentence++
			clause++
		} else if len(out) > 0 && newClause {
			clause++
		}
		newSentence, newClause = false, false
		if clauseBreakers[w] {
			clause++
		}
		words, ok := chat[w]
		if !ok {
			out = append(out, token{word: w, start: start, end: end, sentence: sentence, clause: clause, acute: acute})
			return
		}
		for _, x := range words {
			out = append(out, token{word: x, start: start, end: end, sentence: sentence, clause: clause, acute: acute})
		}
	}
	start := -1
	flush := func(end int) {
		if start >= 0 {
			last, _ := utf8.DecodeLastRuneInString(s[start:end])
			emit(squeeze(fold(s[start:end])), start, end, last == 'é' || last == 'í')
			start = -1
		}
	}
	inWord := func(i int) bool { // a letter on both sides: "retirez-moi", "e/o"
		prev, _ := utf8.DecodeLastRuneInString(s[:i])
		next, _ := utf8.DecodeRuneInString(s[i+1:])
		return unicode.IsLetter(prev) && unicode.IsLetter(next)
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
			continue
		case r == '.' && start >= 0 && i+1 < len(s) && isDigit(s[i+1]) && isDigit(s[start]):
			continue // 38.5
		}
		flush(i)
		switch r {
		case '.', '!', '?', '\n', '¿', '¡', '…':
			newSentence = true
			if r == '?' {
				for j := len(out) - 1; j >= 0 && out[j].sentence == sentence; j-- {
					out[j].question = true
				}
			}
		case ',', ';', ':', '(', ')', '"', '–', '—':
			newClause = true
		case '-', '/':
			newClause = newClause || !inWord(i)
		case '+':
			emit("+", i, i+1, false)
		}
	}
	flush(len(s))
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
