package assistant

import (
	"strings"
	"unicode"

	"sendbox/language"
)

// Small talk: a message that is only a greeting, only thanks or only a
// goodbye ("Grazie mille, a presto") gets a short reply in kind, in the
// language of the words, instead of a search of the knowledge base that can
// only come back empty and hand the customer to a person. It closes
// nothing: no handoff, no escalation, no resolve.

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

// goodbyes are the phrases that take leave, folded, by language. A phrase
// of several words counts only whole: "a presto", not "presto" ("presto!"
// may answer "when can you come?").
var goodbyes = map[string][]string{
	"it": {"a presto", "a dopo", "a domani", "arrivederci", "arrivederla", "buona giornata", "buona serata", "buona notte",
		"buonanotte", "buon weekend", "buon fine settimana", "buona domenica", "ci vediamo", "ci sentiamo", "alla prossima",
		"ciao ciao"},
	"fr": {"a bientot", "a plus", "a plus tard", "a demain", "au revoir", "bonne journee", "bonne soiree", "bonne nuit",
		"bon week end", "bon weekend", "bonne fin de journee", "a la prochaine", "a tout a l heure"},
	"en": {"bye", "bye bye", "goodbye", "good bye", "see you", "see ya", "see you soon", "see you later", "see you tomorrow",
		"talk soon", "take care", "have a nice day", "have a good day", "have a great day", "have a nice evening",
		"have a good weekend", "have a nice weekend", "good night"},
	"es": {"adios", "hasta luego", "hasta pronto", "hasta manana", "hasta la proxima", "nos vemos", "chao",
		"que tenga un buen dia", "feliz dia", "buen fin de semana"},
	"de": {"tschuss", "tschuß", "tschau", "bis bald", "bis dann", "bis spater", "bis morgen", "auf wiedersehen",
		"wiedersehen", "schonen tag", "schonen abend", "schones wochenende", "gute nacht", "mach's gut", "machs gut"},
}

// goodbyeIndex maps the first word of each goodbye to its phrases, longest first.
var goodbyeIndex = func() map[string][]phrase {
	idx := map[string][]phrase{}
	for lang, list := range goodbyes {
		for _, p := range list {
			words := strings.FieldsFunc(p, notLetter)
			idx[words[0]] = append(idx[words[0]], phrase{words: words, lang: lang})
		}
	}
	for _, ps := range idx {
		for i := 1; i < len(ps); i++ {
			for j := i; j > 0 && len(ps[j].words) > len(ps[j-1].words); j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
	}
	return idx
}()

type phrase struct {
	words []string
	lang  string
}

// filler are words that may come with a greeting, thanks or goodbye
// without asking anything ("thank you so much!", "ok perfetto grazie",
// "grazie di cuore, a presto").
var filler = map[string]bool{
	"good": true, "you": true, "so": true, "much": true, "very": true, "a": true, "lot": true, "ok": true, "okay": true,
	"great": true, "perfect": true, "there": true, "all": true, "guys": true, "and": true, "for": true, "your": true,
	"help": true, "everything": true, "again": true, "really": true, "too": true, "same": true, "to": true,
	"buon": true, "mille": true, "tante": true, "perfetto": true, "va": true, "bene": true, "tutti": true, "e": true,
	"di": true, "cuore": true, "ancora": true, "davvero": true, "per": true, "tutto": true, "l": true, "aiuto": true,
	"lei": true, "voi": true, "anche": true, "altrettanto": true, "infinite": true,
	"beaucoup": true, "parfait": true, "bien": true, "tres": true, "et": true, "encore": true, "vous": true,
	"pour": true, "tout": true, "votre": true, "aide": true, "pareillement": true,
	"muchas": true, "muchisimas": true, "perfecto": true, "vale": true, "y": true, "mil": true, "por": true, "todo": true,
	"su": true, "ayuda": true, "usted": true, "igualmente": true,
	"guten": true, "vielen": true, "schon": true, "perfekt": true, "super": true, "gut": true, "und": true, "nochmal": true,
	"nochmals": true, "vielmals": true, "herzlichen": true, "fur": true, "alles": true, "ihre": true, "hilfe": true,
	"ihnen": true, "gleichfalls": true, "ebenfalls": true,
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// Kinds of small talk.
const (
	talkGreeting = "greeting"
	talkThanks   = "thanks"
	talkGoodbye  = "goodbye"
)

// smallTalk reports whether text is only a greeting, only thanks or a
// goodbye (with or without thanks or a greeting), and the languages of its
// words in the order they come; "" when it says anything more.
func smallTalk(text string) (kind string, langs []string) {
	folded := language.Fold(text)
	words := strings.FieldsFunc(folded, notLetter)
	if len(words) == 0 || len(words) > 10 {
		return "", nil
	}
	var greet, thank, bye bool
	add := func(l string) {
		for _, x := range langs {
			if x == l {
				return
			}
		}
		langs = append(langs, l)
	}
	for i := 0; i < len(words); {
		w := words[i]
		if p, ok := goodbyeAt(words, i); ok {
			bye = true
			add(p.lang)
			i += len(p.words)
			continue
		}
		switch {
		case thanks[w] != "":
			thank = true
			add(thanks[w])
		case greetings[w] != "":
			greet = true
			add(greetings[w])
		case filler[w]:
		default:
			return "", nil // a word that asks something
		}
		i++
	}
	switch {
	case bye:
		return talkGoodbye, langs
	case thank:
		return talkThanks, langs
	case greet:
		return talkGreeting, langs
	}
	return "", nil
}

// salutes are the greetings and thanks that never carry a question's
// meaning ("morning", "tag" or "tardes" may: "open in the morning?").
var salutes = map[string]bool{
	"hi": true, "hello": true, "hey": true, "hiya": true, "thanks": true, "thank": true, "thx": true,
	"ciao": true, "salve": true, "buongiorno": true, "buonasera": true, "buondi": true, "grazie": true,
	"bonjour": true, "bonsoir": true, "salut": true, "coucou": true, "merci": true,
	"hola": true, "gracias": true, "hallo": true, "moin": true, "servus": true, "danke": true,
}

// withoutSalutes is a question without its greetings and thanks, for
// retrieval: "Buongiorno, quali sono gli orari di apertura?" is as strong a
// match for the opening hours as the question alone.
func withoutSalutes(text string) string {
	var b strings.Builder
	dropped := false
	for _, w := range strings.Fields(text) {
		folded := language.Fold(strings.TrimFunc(w, notLetter))
		if salutes[folded] {
			dropped = true
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	if !dropped || b.Len() == 0 {
		return text
	}
	return b.String()
}

// goodbyeAt is the longest goodbye phrase starting at words[i].
func goodbyeAt(words []string, i int) (phrase, bool) {
	for _, p := range goodbyeIndex[words[i]] {
		if i+len(p.words) > len(words) {
			continue
		}
		match := true
		for j, w := range p.words {
			if words[i+j] != w {
				match = false
				break
			}
		}
		if match {
			return p, true
		}
	}
	return phrase{}, false
}
