package policy

import (
	"strings"
	"unicode"
)

// functionWords are the little words that tell the languages apart.
var functionWords = map[string]string{
	"it": "il lo la i gli le un una uno di da del della dei delle dal dalla al alla ai alle nel nella con per su tra " +
		"che non mi ti ci vi si ho ha hanno sono e sei siamo siete era come ma anche piu grazie buongiorno buonasera " +
		"ciao salve o no si questo questa quello vostro vostra vostri mio mia io voi perche quando dove cosa voglio vorrei " +
		"posso potete avete ancora gia molto tutto sempre oggi domani ieri ecco allora pero sto sta",
	"fr": "le la les un une des du de au aux je j tu il elle nous vous on me m te se s ce c cet cette ces mon ma " +
		"mes votre vos ne n pas plus que qu qui et est sont suis ai avez avec pour dans sur mais ou oui non merci " +
		"bonjour bonsoir salut svp stp tres bien aussi deja toujours rien tout tous peux pouvez veux voudrais ca " +
		"ici demain",
	"en": "the a an and or to of in on at for with from by i you he she we they it me my your is are am was were " +
		"be been have has had do does did don t not no yes can could would will should please thanks thank hi " +
		"hello this that these those what when where why how there here just so but if anymore again",
	"es": "el la los las un una unos unas de del al y o que no si me mi mis te tu su sus se lo le les nos por para " +
		"con sin en es son soy estoy esta estan hay muy mas ya pero tambien gracias hola buenos buenas quiero " +
		"puedo pueden usted ustedes porque cuando donde como este eso hoy manana ayer",
	"de": "der die das den dem des ein eine einen einem einer und oder zu mit von bei auf aus fur im in ist sind " +
		"bin bist hat habe hab ich du er sie es wir ihr mich mir dich dir uns euch nicht kein keine bitte danke " +
		"hallo guten noch schon auch aber wenn wann wie was wo warum mehr sehr gern gerne kann konnen will mochte " +
		"heute morgen gestern hier",
}

// accents are letters only some of the languages write.
var accents = map[string]string{"it": "òùì", "fr": "éêèçâîôûëœ", "es": "ñáíóú¿¡", "de": "äöüß"}

var functionIndex = func() map[string][]int {
	m := map[string][]int{}
	for i, l := range Langs {
		for _, w := range strings.Fields(functionWords[l]) {
			m[w] = append(m[w], i)
		}
	}
	return m
}()

// languages guesses which of Langs a message is written in, as a score
// each, from its little words and accents. A language is read when it
// scores at least half the best: a Spanish rule must not read French
// ("je demande" is not "demanda") nor Italian read English ("cancelled"
// is not "cancellatemi"). A message too short to tell is read in all.
func languages(text string, toks []token) (active [5]bool, score [5]int) {
	for _, t := range toks {
		for _, i := range functionIndex[t.word] {
			score[i]++
		}
	}
	var seen [5]bool
	for _, r := range text {
		if r < 0xc0 {
			continue
		}
		r = unicode.ToLower(r)
		for i, l := range Langs {
			if !seen[i] && strings.ContainsRune(accents[l], r) {
				seen[i] = true
				score[i]++
			}
		}
	}
	best := 0
	for _, s := range score {
		best = max(best, s)
	}
	for i, s := range score {
		active[i] = best < 3 || 2*s >= best
	}
	return active, score
}
