package policy

import (
	"strings"
)

// phraseWord is one word of an owner's phrase.
type phraseWord struct {
	word   string // folded
	prefix bool   // written "sanguin*": any word it starts
	stem   string // the word's stem in the phrase's language
	me     bool   // an enclitic "me" is part of it ("toglietemi")
}

// phrase is an owner's phrase, compiled. Its parts are separated by " + "
// in the text: each part is a sequence of words, and the parts must all
// be in one sentence, near each other, in any order ("togli* + lista").
type phrase struct {
	category, lang, text string
	parts                [][]phraseWord
}

// partWindow is how near each other the parts of a phrase must be.
const partWindow = 8

func compilePhrase(category, lang, text string) phrase {
	p := phrase{category: category, lang: lang, text: text}
	for _, raw := range strings.Split(text, " + ") {
		var part []phraseWord
		for _, field := range strings.Fields(raw) {
			prefix := strings.HasSuffix(field, "*")
			toks := tokenize(strings.TrimSuffix(field, "*"))
			for i, t := range toks {
				w := phraseWord{word: t.word}
				if prefix && i == len(toks)-1 {
					w.prefix = true
				} else {
					w.stem = stem(lang, t.word)
					_, w.me = encliticMe(t.word, lang)
				}
				part = append(part, w)
			}
		}
		if len(part) > 0 {
			p.parts = append(p.parts, part)
		}
	}
	return p
}

// matchWord reports whether word i of v is w.
func (w phraseWord) matchWord(v *view, i int) bool {
	t := v.toks[i].word
	if w.prefix {
		return strings.HasPrefix(t, w.word)
	}
	// Short words and short stems collide across languages ("suing" and
	// "su", "pus" and "puse"): they must be written as they are.
	if t != w.word && (len(w.word) <= 3 || len(w.stem) < 3 || stem(v.lang, t) != w.stem) {
		return false
	}
	if w.me {
		_, ok := encliticMe(t, v.lang)
		return ok
	}
	return true
}

// partAt returns the last word of part starting at word i, if it does.
func partAt(v *view, part []phraseWord, i int) (int, bool) {
	if i+len(part) > len(v.toks) {
		return 0, false
	}
	for j, w := range part {
		if v.toks[i+j].sentence != v.toks[i].sentence || !w.matchWord(v, i+j) {
			return 0, false
		}
	}
	return i + len(part) - 1, true
}

// at reports whether the phrase starts at word i, and the words it spans.
func (p *phrase) at(v *view, i int) (lo, hi int, ok bool) {
	end, ok := partAt(v, p.parts[0], i)
	if !ok {
		return 0, 0, false
	}
	lo, hi = i, end
	for _, part := range p.parts[1:] {
		found := false
		for j := max(0, i-partWindow); j <= i+partWindow && j < len(v.toks); j++ {
			if v.toks[j].sentence != v.toks[i].sentence {
				continue
			}
			if e, ok := partAt(v, part, j); ok {
				lo, hi, found = min(lo, j), max(hi, e), true
				break
			}
		}
		if !found {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

// phraseIndex finds the phrases of one language that may start at a word:
// by the stem of their first word, or by its prefix.
type phraseIndex struct {
	byStem   map[string][]*phrase
	byWord   map[string][]*phrase
	prefixed []*phrase
	// gate holds the first three letters of the first words, so that
	// words no phrase starts with are not stemmed at all.
	gate map[string]bool
}

func (x *phraseIndex) add(p *phrase) {
	if x.byStem == nil {
		x.byStem, x.byWord, x.gate = map[string][]*phrase{}, map[string][]*phrase{}, map[string]bool{}
	}
	first := p.parts[0][0]
	if first.prefix {
		x.prefixed = append(x.prefixed, p)
		return
	}
	x.byStem[first.stem] = append(x.byStem[first.stem], p)
	x.byWord[first.word] = append(x.byWord[first.word], p)
	x.gate[gateKey(first.stem)] = true
}

func gateKey(w string) string {
	if len(w) > 3 {
		return w[:3]
	}
	return w
}

// each calls fn for every phrase starting at word i of v.
func (x *phraseIndex) each(v *view, i int, fn func(p *phrase, lo, hi int)) {
	w := v.toks[i].word
	try := func(p *phrase) {
		if lo, hi, ok := p.at(v, i); ok {
			fn(p, lo, hi)
		}
	}
	for _, p := range x.byWord[w] {
		try(p)
	}
	if x.gate[gateKey(w)] {
		for _, p := range x.byStem[stem(v.lang, w)] {
			if p.parts[0][0].word != w { // tried above
				try(p)
			}
		}
	}
	for _, p := range x.prefixed {
		try(p)
	}
}
