package policy

// view is a message read in one language: each word with the concepts
// that language's lexicon finds in it.
type view struct {
	lang string
	toks []token
	cs   []cset // concepts by word, in this language
	// ctx holds the concepts of every language the message is read in:
	// what cancels a rule is looked for in all of them ("mia mamma ha la
	// febbre" cancels the Spanish "fiebre" rule as well).
	ctx  []cset
	tail []int      // the last word of the longest term starting at each word, up to a particle after it
	seq  [][]seqHit // the sequences of words starting at each word, with their concepts
	all  cset       // every concept present, to skip frames that cannot match
}

// analyse reads toks with the lexicon of lang; negations are the words of
// every language that negate (a Spanish rule must see the Italian "non" of
// "non ho dolore").
func analyse(toks []token, lang string, x *lexicon, negations map[string]bool) view {
	v := view{lang: lang, toks: toks, cs: make([]cset, len(toks)), tail: make([]int, len(toks)), seq: make([][]seqHit, len(toks))}
	v.ctx = v.cs
	for i, t := range toks {
		v.tail[i] = i
		if negations[t.word] {
			v.cs[i].add(cNeg)
		}
		if _, ok := encliticMe(t.word, lang); ok {
			v.cs[i].add(cMe)
		}
		if lang == "es" && t.acute && len(t.word) > 3 && !notPreterite[t.word] {
			v.cs[i].add(cSelf) // "activé", "borré": I did it
		}
		try := func(terms []*term) {
			for _, tm := range terms {
				if end, ok := tm.matchAt(toks, i); ok {
					// The words of a term, up to a particle after it ("j'ai pas
					// mal"), are its span: a negation among them counts.
					v.cs[i].union(tm.concepts)
					v.tail[i] = max(v.tail[i], end)
					if len(tm.words) > 1 {
						v.seq[i] = append(v.seq[i], seqHit{tm.concepts, i + len(tm.words) - 1})
					}
				}
			}
		}
		try(x.exact[t.word])
		if len(t.word) >= 2 {
			try(x.prefix[t.word[:2]])
		}
		try(x.affix)
		v.all.union(v.cs[i])
	}
	return v
}

// notPreterite are Spanish words ending in an accented é or í that are not
// a first person of the past.
var notPreterite = map[string]bool{"aqui": true, "alli": true, "ahi": true, "asi": true, "cafe": true, "bebe": true,
	"porque": true, "tambien": false}

// seqHit is a sequence of words that stands for concepts ("non ci posso
// credere"): its own words do not negate it.
type seqHit struct {
	concepts cset
	end      int
}

// matchAt reports whether the term starts at word i, and its last word.
func (tm *term) matchAt(toks []token, i int) (int, bool) {
	if i+len(tm.words) > len(toks) {
		return 0, false
	}
	for j, p := range tm.words {
		t := toks[i+j]
		if !p.match(t.word) || t.sentence != toks[i].sentence {
			return 0, false
		}
	}
	end := i + len(tm.words) - 1
	if tm.particle == nil {
		return end, true
	}
	// A separable particle may come after its verb ("hört ... auf") or,
	// with an infinitive, before it ("von der Liste nehmen").
	for j := end + 1; j < min(len(toks), end+1+particleReach); j++ {
		if toks[j].sentence == toks[i].sentence && tm.particle.match(toks[j].word) {
			return j, true
		}
	}
	for j := i - 1; j >= max(0, i-particleReach); j-- {
		if toks[j].sentence == toks[i].sentence && tm.particle.match(toks[j].word) {
			return end, true
		}
	}
	return 0, false
}

// has reports whether word i carries one of the concepts of s.
func (v *view) has(i int, s cset) bool { return i >= 0 && i < len(v.cs) && v.cs[i].any(s) }

// in reports whether a word of the sentence of word i, in lo..hi, carries
// one of the concepts of s.
func (v *view) in(s cset, lo, hi, i int) bool {
	for j := max(lo, 0); j <= hi && j < len(v.toks); j++ {
		if v.toks[j].sentence == v.toks[i].sentence && v.ctx[j].any(s) {
			return true
		}
	}
	return false
}

// inSentence reports whether the sentence of word i has one of s.
func (v *view) inSentence(s cset, i int) bool { return v.in(s, 0, len(v.toks)-1, i) }

// inClause reports whether the clause of word i has one of s.
func (v *view) inClause(s cset, i int) bool {
	for j := range v.toks {
		if v.toks[j].clause == v.toks[i].clause && v.ctx[j].any(s) {
			return true
		}
	}
	return false
}

// before reports whether one of s is within n words before word i, in
// its clause.
func (v *view) before(s cset, i, n int) bool {
	for j := i - 1; j >= 0 && j >= i-n; j-- {
		if v.toks[j].clause != v.toks[i].clause {
			return false
		}
		if v.ctx[j].any(s) {
			return true
		}
	}
	return false
}

// after reports whether one of s is within n words after word i, in its
// sentence.
func (v *view) after(s cset, i, n int) bool {
	for j := i + 1; j < len(v.toks) && j <= i+n; j++ {
		if v.toks[j].sentence != v.toks[i].sentence {
			return false
		}
		if v.ctx[j].any(s) {
			return true
		}
	}
	return false
}

// near reports whether one of s is within n words of lo..hi, in the
// sentence.
func (v *view) near(s cset, lo, hi, n int) bool {
	for j := max(0, lo-n); j <= hi+n && j < len(v.toks); j++ {
		if (j < lo || j > hi) && v.toks[j].sentence == v.toks[lo].sentence && v.ctx[j].any(s) {
			return true
		}
	}
	return false
}

// negation returns the word that negates words lo..hi: a negation within
// four words before them, or among them, in the clause of a word it
// precedes ("non smettete di scrivermi", "hört bloß nicht auf"). skip
// holds the words that are part of the match itself.
func (v *view) negation(lo, hi int, skip ...int) int {
	for j := max(0, lo-4); j <= hi; j++ {
		if !v.cs[j].has(cNeg) || v.toks[j].sentence != v.toks[lo].sentence {
			continue
		}
		part := false
		for _, s := range skip {
			part = part || s == j
		}
		if part {
			continue
		}
		for k := max(j+1, lo); k <= hi; k++ {
			if v.toks[k].clause == v.toks[j].clause {
				return j
			}
		}
	}
	return -1
}

// firstPerson reports whether the sentence of word i speaks of the
// customer: "mi", "my", "ho", "ich".
func (v *view) firstPerson(i int) bool { return v.inSentence(set(cMe, cMy, cI, cAux1), i) }

// question reports whether the sentence of word i is a question.
func (v *view) question(i int) bool { return v.toks[i].question }

// short reports whether the clause of word i has at most n words besides
// politeness: "pas de pub merci" is a request, "non ho visto offerte" is not.
func (v *view) short(i, n int) bool {
	c := 0
	for _, t := range v.toks {
		if t.clause == v.toks[i].clause && !filler[t.word] {
			c++
		}
	}
	return c <= n
}
