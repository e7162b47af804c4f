package assistant

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Small talk: a message that is only a greeting or only thanks gets a
// greeting or "you're welcome" back in the language of the words, instead
// of a search of the knowledge base that can only come back empty.

// greetings and thanks map folded words to their language.
var greetings = map[string]string{
	"hi": "en", "hello": "en", "hey": "en", "hiya": "en", "morning": "en", "afternoon": "en", "evening": "en",
	"ciao": "it", "salve": "it", "buongiorno": "it", "buonasera": "it", "buondi": "it", "pomeriggio": "it",
	"bonjour": "fr", "bonsoir": "fr", "salut": "fr", "coucou": "fr",
	"hola": "es", "buenos": "es", "buenas": "es", "dias": "es", "tardes": "es", "noches": "es",
	"hallo": "de", "moin": "de", "servus": "de", "morgen": "de", "tag": "de", "abend": "de", "gruss": "de", "gott": "de",
}

var thanks = map[string]string{
	"thanks": "en", "thank": "en", "thx": "en", "ty": "en", "cheers": "en",
	"grazie": "it", "merci": "fr", "gracias": "es", "danke": "de", "dank": "de", "dankeschon": "de",
}

// filler are words that may come with a greeting or thanks without asking
// anything ("thank you so much!", "ok perfetto grazie").
var filler = map[string]bool{
	"good": true, "you": true, "so": true, "much": true, "very": true, "a": true, "lot": true, "ok": true, "okay": true,
	"great": true, "perfect": true, "there": true, "all": true, "guys": true,
	"buon": true, "mille": true, "tante": true, "perfetto": true, "va": true, "bene": true, "tutti": true,
	"beaucoup": true, "parfait": true, "bien": true, "tres": true,
	"muchas": true, "muchisimas": true, "perfecto": true, "vale": true,
	"guten": true, "vielen": true, "schon": true, "perfekt": true, "super": true, "gut": true,
}

var fold = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

// smallTalk reports whether text is only a greeting ("greeting") or only
// thanks ("thanks"), and in which language.
func smallTalk(text string) (kind, lang string) {
	folded, _, _ := transform.String(fold, strings.ToLower(text))
	words := strings.FieldsFunc(folded, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(words) == 0 || len(words) > 8 {
		return "", ""
	}
	var greet, thank string
	for _, w := range words {
		switch {
		case thanks[w] != "":
			if thank == "" {
				thank = thanks[w]
			}
		case greetings[w] != "":
			if greet == "" {
				greet = greetings[w]
			}
		case filler[w]:
		default:
			return "", "" // a word that asks something
		}
	}
	switch {
	case thank != "":
		return "thanks", thank
	case greet != "":
		return "greeting", greet
	}
	return "", ""
}
