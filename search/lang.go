package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Language detection is a cheap vote, good enough for chat messages, where a
// statistical detector would need more text than "ok grazie" to say anything.
// Each word that is a frequent function word (or a chat word like "merci") of
// a language votes for it, split between the languages that share it ("la",
// "de"); letters only one of the five languages uses (ñ, ß, ç) and typical
// endings add smaller votes. Below minVotes the text is too short to tell and
// the caller's default language is used.
//
// Detection runs at indexing and again in Highlight on the same text, so both
// always pick the same analyzer.

const minVotes = 1.0

// cue words, lowercase. Chat words ("grazie", "merci", "danke") matter more
// than grammar in a WhatsApp inbox.
var cueWords = map[string]string{
	"it": "il lo la i gli le di del della dei delle che è e in per non un una sono ho ha hai mi ti ci si con come grazie buongiorno " +
		"buonasera ciao sì anche ma questo questa quando dove vorrei posso può domani oggi ancora già perché però molto " +
		"bene va allora prego salve arrivederci appuntamento sera mattina nel nella alla al dal sul tutto tutti io voi " +
		"abbiamo avete siamo fatto essere ok perfetto certo volevo sapere quanto costa lunedì martedì mercoledì giovedì " +
		"venerdì sabato domenica dello degli sulla nei negli su tutta fino",
	"fr": "le la les de des du et est je vous nous une un pour pas que qui avec merci bonjour bonsoir oui non c'est j'ai " +
		"sur dans ce cette mon ma mes votre vos au aux il elle ils sont être avoir très bien peut puis voudrais savoir " +
		"combien demain aujourd'hui d'accord salut s'il plaît vous merci beaucoup rendez-vous ça est-ce qu'il en " +
		"aussi sera voici photo lundi mardi mercredi jeudi vendredi samedi dimanche chez votre notre leur",
	"en": "the and is are you i to of for it my your with have has can thanks thank hello hi please what when yes this that " +
		"be was will would could do does don't i'm it's we they there how much tomorrow today just but not at on in an " +
		"from our me need want like ok okay sure great",
	"es": "el la los las de del y es que en un una por para con no gracias hola sí muy está están tengo quiero mi su " +
		"lo le se al pero como cuando dónde donde qué cuánto mañana hoy también buenos buenas días tardes vale bien " +
		"usted ustedes hay puede podría necesito favor lunes miércoles jueves viernes sábado domingo nos les " +
		"pedido tienen con un",
	"de": "der die das und ist in ich sie wir nicht mit für ein eine einen auf danke hallo ja nein bitte wann haben hat kann " +
		"können möchte den dem des zu im am es sind war wie was wo morgen heute noch schon auch aber oder gut vielen dank " +
		"guten tag termin gerne bei vom zum zur beim gibt mir uns ihr ihnen ihre montag dienstag mittwoch donnerstag " +
		"freitag samstag sonntag",
}

// cueIndex maps a word to the languages it votes for and the weight of each vote.
var cueIndex = func() map[string][]vote {
	langsOf := map[string][]string{}
	for _, l := range Langs {
		seen := map[string]bool{}
		for _, w := range strings.Fields(cueWords[l]) {
			if !seen[w] {
				seen[w] = true
				langsOf[w] = append(langsOf[w], l)
			}
		}
	}
	idx := make(map[string][]vote, len(langsOf))
	for w, ls := range langsOf {
		for _, l := range ls {
			idx[w] = append(idx[w], vote{l, 1 / float64(len(ls))})
		}
	}
	return idx
}()

type vote struct {
	lang string
	w    float64
}

// suffixCues are endings typical of one language (weight 0.5 each).
var suffixCues = []struct{ suffix, lang string }{
	{"zione", "it"}, {"zioni", "it"}, {"mente", "it"}, {"etto", "it"}, {"ello", "it"}, {"ggio", "it"}, {"cchi", "it"},
	{"ción", "es"}, {"ciones", "es"}, {"dad", "es"}, {"ado", "es"}, {"ada", "es"},
	{"tion", "fr"}, {"eau", "fr"}, {"eux", "fr"}, {"ez", "fr"}, {"ée", "fr"}, {"ais", "fr"}, {"oir", "fr"},
	{"ing", "en"}, {"ed", "en"}, {"ly", "en"},
	{"ung", "de"}, {"keit", "de"}, {"heit", "de"}, {"lich", "de"}, {"chen", "de"}, {"sch", "de"},
}

// detectLang returns the language of text, or def when the votes are too few.
func detectLang(text, def string) string {
	score := langVotes(text)
	best, bi := 0.0, -1
	for i, s := range score {
		if s > best {
			best, bi = s, i
		}
	}
	if bi < 0 || best < minVotes {
		return def
	}
	// A tie between the default and another language goes to the default.
	if d := langIndex(def); d >= 0 && score[d] == best {
		return def
	}
	return Langs[bi]
}

// Guess is what one message says about its writer's language: Lang is ""
// when the votes are too few or tied ("ok", "STOP", an emoji), and Sure is
// set only when the vote is clear enough to change what a conversation
// already speaks. A word or two ("grazie", "merci beaucoup") names a
// language without being Sure of it: customers thank in other languages.
type Guess struct {
	Lang string
	Sure bool
}

// Thresholds of a Sure guess: this many votes, and this many times the
// runner-up's. TestGuessCorpus measures them on the corpus: a wrong Sure
// guess would switch a customer's confirmations to another language.
const (
	sureVotes = 2.5
	sureRatio = 2.0
)

// GuessLang guesses the language of a customer's message with the same
// votes indexing uses (see detectLang), without a default.
func GuessLang(text string) Guess {
	score := langVotes(text)
	best, second, bi := 0.0, 0.0, -1
	for i, s := range score {
		switch {
		case s > best:
			best, second, bi = s, best, i
		case s > second:
			second = s
		}
	}
	if bi < 0 || best < minVotes || best == second {
		return Guess{}
	}
	return Guess{Lang: Langs[bi], Sure: best >= sureVotes && best >= sureRatio*second}
}

func langIndex(l string) int {
	for i, x := range Langs {
		if x == l {
			return i
		}
	}
	return -1
}

// langVotes are the votes of text for each of Langs.
func langVotes(text string) [5]float64 {
	var score [5]float64
	li := langIndex
	forEachWord(text, func(w string) {
		if vs, ok := cueIndex[w]; ok {
			for _, v := range vs {
				score[li(v.lang)] += v.w
			}
		}
		// elided forms: "l'école", "dell'ordine", "c'è"
		if i := strings.IndexAny(w, "'’"); i > 0 && i < len(w)-1 {
			head := w[:i]
			switch head {
			case "l", "d", "j", "c", "qu", "n", "s", "m", "t":
				score[li("fr")] += 0.5
				score[li("it")] += 0.3
			case "dell", "nell", "all", "dall", "sull", "un", "po":
				score[li("it")] += 1
			}
		}
		if utf8.RuneCountInString(w) >= 4 {
			for _, s := range suffixCues {
				if strings.HasSuffix(w, s.suffix) {
					score[li(s.lang)] += 0.5
					break
				}
			}
			// Italian and Spanish words end in vowels far more often than
			// the others': a weak vote that settles "divano velluto verde".
			switch w[len(w)-1] {
			case 'o':
				score[li("it")] += 0.3
				score[li("es")] += 0.2
			case 'i':
				score[li("it")] += 0.3
			case 'a':
				score[li("it")] += 0.2
				score[li("es")] += 0.2
			case 'e':
				score[li("it")] += 0.2
				score[li("fr")] += 0.1
				score[li("de")] += 0.1
			}
		}
	})
	for _, r := range text {
		switch r {
		case 'ñ', '¿', '¡':
			score[li("es")] += 1.5
		case 'á', 'í', 'ó', 'ú':
			score[li("es")] += 1
		case 'ß', 'ä', 'ö', 'ü':
			score[li("de")] += 1.5
		case 'ç', 'œ', 'ê', 'â', 'î', 'û', 'ë', 'ï':
			score[li("fr")] += 1
		case 'ì', 'ò', 'ù':
			score[li("it")] += 1
		}
	}
	return score
}

// forEachWord calls fn with each lowercase word of s (letters, digits and
// inner apostrophes), without allocating for ASCII-only words.
func forEachWord(s string, fn func(string)) {
	start := -1
	flush := func(end int) {
		if start >= 0 {
			w := strings.Trim(s[start:end], "'’")
			if w != "" {
				fn(strings.ToLower(w))
			}
			start = -1
		}
	}
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’' || r == '-' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
}
