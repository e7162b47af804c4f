// Package policy decides, for each customer message, whether a person must
// take over (medical urgency, complaint, refund, legal threat, an explicit
// request for a human) and whether the customer is opting out of marketing.
//
// Rules are phrases in Italian, French, English, Spanish and German that the
// owner can edit; a match preceded by a negation in the same clause ("non ho
// dolore", "je n'ai pas mal", "keine Schmerzen") does not count. When a
// language model is available its judgement is added, but only if the
// evidence it quotes is really in the message, so a model cannot escalate on
// something the customer did not write. The bot and POST /api/v1/policy/check
// use the very same Evaluate.
package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Categories of escalation.
const (
	Medical   = "medical_urgency"
	Complaint = "complaint"
	Refund    = "refund"
	Legal     = "legal_threat"
	Human     = "human_request"
)

// Categories lists them in the order the panel shows them.
var Categories = []string{Medical, Complaint, Refund, Legal, Human}

// Langs are the languages rules are written in.
var Langs = []string{"it", "fr", "en", "es", "de"}

// Kinds of match besides the escalation categories.
const (
	KindOptOut = "opt_out" // a request to stop marketing
	KindOptIn  = "opt_in"  // a request to receive marketing again
)

// Rules is the owner-editable policy. Besides these phrases, built-in
// rules in the five languages understand the usual ways of asking
// (frames.go); the phrases add to them.
type Rules struct {
	// Phrases maps a category to its phrases by language. A phrase is one
	// or more words, each matching its other forms ("rimborso" finds
	// "rimborsatemi"); a word ending in * matches any word it starts
	// ("sanguin*"); parts joined by " + " may come in any order, near each
	// other in a sentence ("togli* + lista").
	Phrases map[string]map[string][]string `json:"phrases"`
	// OptOut holds, by language, the phrases that ask to stop marketing
	// anywhere in a message ("non voglio più ricevere messaggi").
	OptOut map[string][]string `json:"opt_out"`
	// StopWords are, by language, the words that opt out when they are the
	// whole message, give or take politeness ("STOP", "Stop grazie").
	StopWords map[string][]string `json:"stop_words"`
	// OptIn holds, by language, the phrases that ask to receive marketing
	// again ("iscrivimi di nuovo"). Rules stored before it existed are given
	// the defaults (Upgrade).
	OptIn map[string][]string `json:"opt_in"`
	// StartWords are, by language, the words that opt back in when they are
	// the whole message ("START", "riattiva").
	StartWords map[string][]string `json:"start_words"`
	// Negations are, by language, the words that cancel a phrase following
	// them within four words in the same clause ("I don't have a fever").
	// They add to the negations the built-in rules know.
	Negations map[string][]string `json:"negations"`
}

// Upgrade gives rules stored by an earlier version the lists added since,
// with their defaults. A list the owner emptied stays empty: it is stored
// as {} rather than missing.
func (r *Rules) Upgrade() {
	d := Default()
	if r.OptIn == nil {
		r.OptIn = d.OptIn
	}
	if r.StartWords == nil {
		r.StartWords = d.StartWords
	}
}

// Match is one rule that fired.
type Match struct {
	Category string `json:"category"` // a category, "opt_out" or "opt_in"
	Phrase   string `json:"phrase"`   // the owner's phrase, or "built-in: …" for a built-in rule
	Lang     string `json:"lang"`
	Text     string `json:"text"` // the words of the message that matched
	Negated  bool   `json:"negated,omitempty"`
	// Reason says why a negated match does not count: "negated" (a
	// negation), or what else the words mean ("already_received",
	// "old_number", "waiting_list"…; Reasons lists them).
	Reason string `json:"reason,omitempty"`
	Source string `json:"source"` // rules or model
}

// Result is the decision about one message.
type Result struct {
	Escalate bool    `json:"escalate"`
	Category *string `json:"category"`
	OptOut   bool    `json:"opt_out"`
	// OptIn is a request to receive marketing again ("START", "riattiva").
	// A message with both an opt-out and an opt-in counts as the later one
	// ("ho scritto stop per sbaglio, riattivate le offerte" opts in).
	OptIn   bool    `json:"opt_in"`
	Matched []Match `json:"matched"`
}

// Validate checks the rules an owner edited.
func (r *Rules) Validate() error {
	known := map[string]bool{}
	for _, c := range Categories {
		known[c] = true
	}
	langs := map[string]bool{}
	for _, l := range Langs {
		langs[l] = true
	}
	check := func(where string, byLang map[string][]string) error {
		for l, phrases := range byLang {
			if !langs[l] {
				return fmt.Errorf("%s: unknown language %q (use %s)", where, l, strings.Join(Langs, ", "))
			}
			for _, p := range phrases {
				if len(tokenize(p)) == 0 || utf8.RuneCountInString(p) > 100 {
					return fmt.Errorf("%s (%s): %q is not a phrase of 1 to 100 characters", where, l, p)
				}
				for _, part := range strings.Split(p, " + ") {
					if len(tokenize(part)) == 0 {
						return fmt.Errorf("%s (%s): %q has an empty part around \" + \"", where, l, p)
					}
				}
			}
		}
		return nil
	}
	for c, byLang := range r.Phrases {
		if !known[c] {
			return fmt.Errorf("unknown category %q", c)
		}
		if err := check(c, byLang); err != nil {
			return err
		}
	}
	for _, list := range []struct {
		name string
		m    map[string][]string
	}{{"opt_out", r.OptOut}, {"stop_words", r.StopWords}, {"opt_in", r.OptIn}, {"start_words", r.StartWords}, {"negations", r.Negations}} {
		if err := check(list.name, list.m); err != nil {
			return err
		}
	}
	return nil
}

// Matcher is compiled Rules, safe for concurrent use.
type Matcher struct {
	phrases   map[string]*phraseIndex // by language: categories, opt-out and opt-in phrases
	stopWords map[string]bool         // whole messages, as their words joined by spaces
	startWord map[string]bool
	negations map[string]bool // the negations of every language
}

// filler is what may surround a STOP, a START or "operatore" without
// making it a sentence: politeness, "ok", "now", "again".
var filler = map[string]bool{"please": true, "pls": true, "thanks": true, "thank": true, "you": true, "grazie": true,
	"per": true, "favore": true, "prego": true, "merci": true, "svp": true, "stp": true, "gracias": true, "por": true,
	"favor": true, "danke": true, "bitte": true, "all": true, "tutto": true, "tout": true, "todo": true, "alles": true,
	"ok": true, "okay": true, "now": true, "ora": true, "adesso": true, "subito": true, "maintenant": true, "ya": true,
	"jetzt": true, "sofort": true, "x": true, "mille": true, "beaucoup": true, "much": true, "a": true, "thx": true,
	"grz": true, "vielen": true, "dank": true, "lg": true, "si": true, "yes": true, "oui": true, "ja": true,
}

// again may follow a START: "start again", "riattiva di nuovo".
var again = map[string]bool{"again": true, "di": true, "nuovo": true, "de": true, "nuevo": true, "nouveau": true,
	"wieder": true, "nochmal": true}

// core is a message without its politeness, each word once in a row:
// "STOP STOP grazie" is "stop".
func core(toks []token, extra map[string]bool) string {
	var words []string
	for _, t := range toks {
		if filler[t.word] || extra[t.word] || len(words) > 0 && words[len(words)-1] == t.word {
			continue
		}
		words = append(words, t.word)
	}
	return strings.Join(words, " ")
}

// wordsOf is how a stop or start word is compared with a message.
func wordsOf(s string) string { return core(tokenize(s), nil) }

// Compile validates and prepares the rules.
func (r *Rules) Compile() (*Matcher, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	m := &Matcher{phrases: map[string]*phraseIndex{}, stopWords: map[string]bool{}, startWord: map[string]bool{},
		negations: map[string]bool{}}
	for _, l := range Langs {
		x := &phraseIndex{}
		m.phrases[l] = x
		add := func(category, text string) {
			if p := compilePhrase(category, l, text); len(p.parts) > 0 {
				x.add(&p)
			}
		}
		for _, c := range Categories {
			for _, p := range r.Phrases[c][l] {
				add(c, p)
			}
		}
		for _, p := range r.OptOut[l] {
			add(KindOptOut, p)
		}
		for _, p := range r.OptIn[l] {
			add(KindOptIn, p)
		}
		for _, w := range r.StopWords[l] {
			m.stopWords[wordsOf(w)] = true
		}
		for _, w := range r.StartWords[l] {
			m.startWord[wordsOf(w)] = true
		}
		for _, w := range r.Negations[l] {
			m.negations[fold(strings.TrimSpace(w))] = true
		}
		for _, w := range strings.Split(lexicons[l][cNeg], "|") {
			m.negations[w] = true
		}
	}
	return m, nil
}

// wholeMessage is the most words a message of one stop or start word can
// have with its politeness ("stop per favore grazie mille").
const wholeMessage = 8

// found is a match, by words.
type found struct {
	category, lang, phrase, reason string
	lo, hi                         int
}

// Check applies the rules alone to a message.
func (m *Matcher) Check(text string) Result {
	toks := tokenize(text)
	active, score := languages(text, toks)
	// The languages the message is most likely in come first: when two
	// read the same words differently, the likelier one is believed.
	best := slices.Max(score[:])
	var views []view
	var plausible []bool
	for len(views) < len(Langs) {
		b := -1
		for i := range Langs {
			if active[i] && (b < 0 || score[i] > score[b]) {
				b = i
			}
		}
		if b < 0 {
			break
		}
		active[b] = false
		views = append(views, analyse(toks, Langs[b], builtin[Langs[b]], m.negations))
		plausible = append(plausible, best == 0 || score[b] > 0 && 2*score[b] >= best)
	}
	// What cancels a rule is looked for in its own language and in those
	// the message is plausibly written in ("mia mamma ha la febbre"), not
	// in every language a short message is read in ("hier" is not
	// yesterday in "gibt es hier einen Menschen?").
	if len(views) > 1 {
		shared := make([]cset, len(toks))
		for vi, v := range views {
			if plausible[vi] {
				for i, c := range v.cs {
					shared[i].union(c)
				}
			}
		}
		for vi := range views {
			ctx := slices.Clone(shared)
			for i, c := range views[vi].cs {
				ctx[i].union(c)
			}
			views[vi].ctx = ctx
		}
	}
	var fs []found
	// The whole message: STOP, START, "operatore".
	if len(toks) > 0 && len(toks) <= wholeMessage {
		last := len(toks) - 1
		switch c := core(toks, nil); {
		case m.stopWords[c]:
			fs = append(fs, found{category: KindOptOut, phrase: c, lo: 0, hi: last})
		case m.startWord[c] || m.startWord[core(toks, again)]:
			fs = append(fs, found{category: KindOptIn, phrase: c, lo: 0, hi: last})
		case wantsPerson(views, toks):
			fs = append(fs, found{category: Human, phrase: "built-in: a person, on its own", lo: 0, hi: last})
		}
	}
	for li := range views {
		v := &views[li]
		x := m.phrases[v.lang]
		for i := range toks {
			x.each(v, i, func(p *phrase, lo, hi int) {
				f := found{category: p.category, lang: v.lang, phrase: p.text, lo: lo, hi: hi}
				if negated(v, p.category, v.negation(lo, lo)) {
					f.reason = reasonNegated
				} else {
					f.reason = guard(p.category, v, lo, hi)
				}
				fs = append(fs, f)
			})
		}
		for fi := range frames {
			if f, ok := v.find(&frames[fi]); ok {
				fs = append(fs, f)
			}
		}
	}
	return m.result(text, toks, views, fs)
}

// result turns what was found into the decision. The same words found for
// the same category are one match: in one language, counted if a rule
// counts it; across languages, as the likelier language reads them.
func (m *Matcher) result(text string, toks []token, views []view, fs []found) Result {
	type span struct {
		category   string
		start, end int
	}
	at := map[span]int{}
	res := Result{Matched: []Match{}}
	langOf := make([]string, 0, len(fs))
	for _, f := range fs {
		end := toks[f.hi].end
		for _, v := range views {
			if v.lang == f.lang {
				end = toks[v.tail[f.hi]].end
			}
		}
		k := span{f.category, toks[f.lo].start, end}
		mt := Match{Category: f.category, Phrase: f.phrase, Lang: f.lang, Text: text[k.start:k.end],
			Negated: f.reason != "", Reason: f.reason, Source: "rules"}
		if i, ok := at[k]; ok {
			if langOf[i] == f.lang && res.Matched[i].Negated && !mt.Negated {
				res.Matched[i] = mt
			}
			continue
		}
		at[k] = len(res.Matched)
		res.Matched = append(res.Matched, mt)
		langOf = append(langOf, f.lang)
	}
	// The later request wins ("ho scritto STOP per sbaglio, riattivate le
	// offerte"); requests that overlap are an opt-out: when unsure, no
	// marketing.
	type req struct{ start, end int }
	lastOut, lastIn := req{-1, -1}, req{-1, -1}
	for k, i := range at {
		if mt := res.Matched[i]; !mt.Negated && mt.Category == KindOptOut && k.start > lastOut.start {
			lastOut = req{k.start, k.end}
		} else if !mt.Negated && mt.Category == KindOptIn && k.start > lastIn.start {
			lastIn = req{k.start, k.end}
		}
	}
	res.OptIn = lastIn.start >= 0 && (lastOut.start < 0 || lastIn.start >= lastOut.end)
	res.OptOut = lastOut.start >= 0 && !res.OptIn
	start := make([]int, len(res.Matched))
	for k, i := range at {
		start[i] = k.start
	}
	order := make([]int, len(res.Matched))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return start[order[a]] < start[order[b]] })
	sorted := make([]Match, len(order))
	for i, o := range order {
		sorted[i] = res.Matched[o]
	}
	res.Matched = sorted
	res.decide()
	return res
}

// find looks for a frame in a view: the first place where it counts, or
// else the first where it was cancelled, to show why.
func (v *view) find(fr *frame) (found, bool) {
	if fr.langs != "" && !strings.Contains(fr.langs, v.lang) {
		return found{}, false
	}
	for _, s := range fr.slots {
		if !v.all.any(s) {
			return found{}, false
		}
	}
	var cancelled *found
	at := make([]int, len(fr.slots))
	for a := range v.toks {
		if !v.cs[a].any(fr.slots[0]) {
			continue
		}
		at[0] = a
		lo, hi, ok := a, a, true
		for k := 1; k < len(fr.slots) && ok; k++ {
			best := -1
			for j := range v.toks {
				t := v.toks[j]
				if t.sentence != v.toks[a].sentence || fr.clause && t.clause != v.toks[a].clause || !v.cs[j].any(fr.slots[k]) {
					continue
				}
				// One word fills one slot, but for a "me" attached to
				// its verb ("cancellatemi").
				if slices.Contains(at[:k], j) && !(fr.slots[k].has(cMe) && v.cs[j].has(cMe)) {
					continue
				}
				if best < 0 || abs(j-a) < abs(best-a) {
					best = j
				}
			}
			if best < 0 {
				ok = false
				break
			}
			at[k] = best
			lo, hi = min(lo, best), max(hi, best)
		}
		if !ok || hi-lo > fr.window {
			continue
		}
		for _, i := range at {
			hi = max(hi, v.tail[i])
		}
		f := found{category: fr.label, lang: v.lang, phrase: "built-in: " + fr.name, lo: lo, hi: hi}
		// The words of the concepts found are not their own negation
		// ("i can't believe it", "non è la prima volta").
		skip := slices.Clone(at)
		for k, i := range at {
			for _, h := range v.seq[i] {
				if h.concepts.any(fr.slots[k]) {
					for j := i + 1; j <= h.end; j++ {
						skip = append(skip, j)
					}
				}
			}
		}
		switch {
		case !fr.negOK && negated(v, fr.label, v.negation(lo, hi, skip...)):
			f.reason = reasonNegated
		case fr.check != nil:
			f.reason = fr.check(v, at)
		}
		if f.reason == "" {
			f.reason = guard(fr.label, v, lo, hi)
		}
		if f.reason == "" {
			return f, true
		}
		if cancelled == nil {
			cancelled = &f
		}
	}
	if cancelled != nil {
		return *cancelled, true
	}
	return found{}, false
}

// negated: a negation at word n cancels a match of label, but for a
// threat after a condition ("if you don't fix it, I'll sue").
func negated(v *view, label string, n int) bool {
	return n >= 0 && !(label == Legal && conditional(v, n))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// wantsPerson: the whole message names a person and nothing else
// ("operatore", "un humain svp", "einen Menschen bitte").
func wantsPerson(views []view, toks []token) bool {
	n, person := 0, false
	for i, t := range toks {
		if filler[t.word] || articles[t.word] {
			continue
		}
		n++
		known := false
		for _, v := range views {
			known = known || v.cs[i].any(set(cPerson, cReal))
			person = person || v.cs[i].has(cPerson)
		}
		if !known {
			return false
		}
	}
	return person && n <= 3
}

// articles and prepositions around a person asked for.
var articles = map[string]bool{"un": true, "una": true, "uno": true, "an": true, "une": true, "el": true, "la": true,
	"il": true, "le": true, "the": true, "ein": true, "einen": true, "einem": true, "einer": true, "con": true,
	"with": true, "mit": true, "avec": true, "to": true, "au": true, "someone": false}

// decide sets Escalate and Category from the matches: the first category in
// the order of Categories that has a match not negated.
func (r *Result) decide() {
	r.Escalate, r.Category = false, nil
	for _, c := range Categories {
		for _, mt := range r.Matched {
			if mt.Category == c && !mt.Negated {
				cat := c
				r.Escalate, r.Category = true, &cat
				return
			}
		}
	}
}

// Judgement is a language model's reading of a message.
type Judgement struct {
	Escalate bool   `json:"escalate"`
	Category string `json:"category"`
	// Evidence is the customer's own words the model bases it on: the
	// judgement counts only if they are really in the message.
	Evidence string `json:"evidence"`
}

// Schema is the JSON schema a model fills for a Judgement.
var Schema = json.RawMessage(`{"type":"object","properties":{
 "escalate":{"type":"boolean"},
 "category":{"type":"string","enum":["none","medical_urgency","complaint","refund","legal_threat","human_request"]},
 "evidence":{"type":"string"}},"required":["escalate","category","evidence"]}`)

// Classifier asks a language model for a Judgement. A nil Classifier, or
// one that fails, leaves the rules alone to decide.
type Classifier interface {
	Classify(ctx context.Context, text string) (*Judgement, error)
}

// ErrNoModel is what a Classifier returns when no model is available.
var ErrNoModel = errors.New("no language model available")

// Evaluate decides about a message: the rules, then the model's judgement
// when it is grounded in the message and the rules did not already decide
// (a negated rule match means the customer said the opposite: it stands).
func (m *Matcher) Evaluate(ctx context.Context, text string, cl Classifier) Result {
	res := m.Check(text)
	if cl == nil || res.Escalate {
		return res
	}
	j, err := cl.Classify(ctx, text)
	if err != nil || j == nil || !j.Escalate {
		return res
	}
	for _, mt := range res.Matched {
		if mt.Negated && mt.Category == j.Category {
			return res // the rules found the customer saying otherwise ("non ho dolore")
		}
	}
	known := false
	for _, c := range Categories {
		known = known || c == j.Category
	}
	ev := strings.TrimSpace(j.Evidence)
	if !known || utf8.RuneCountInString(ev) < 3 || !strings.Contains(fold(text), fold(ev)) {
		return res // ungrounded: the model quoted something the customer did not write
	}
	res.Matched = append(res.Matched, Match{Category: j.Category, Phrase: "model", Text: ev, Source: "model"})
	res.decide()
	return res
}

// Describe lists, for a panel or a note, what fired.
func (r Result) Describe() string {
	var parts []string
	for _, m := range r.Matched {
		s := fmt.Sprintf("%s: %q", m.Category, m.Text)
		if m.Negated {
			s += " (" + m.Reason + ")"
		}
		parts = append(parts, s)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
