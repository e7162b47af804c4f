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
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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

// Rules is the owner-editable policy.
type Rules struct {
	// Phrases maps a category to its phrases by language. A phrase is one
	// or more words; a word ending in * matches any word it starts ("sanguin*").
	Phrases map[string]map[string][]string `json:"phrases"`
	// OptOut holds, by language, the phrases that ask to stop marketing
	// anywhere in a message ("non voglio più ricevere messaggi").
	OptOut map[string][]string `json:"opt_out"`
	// StopWords are, by language, the words that opt out when they are the
	// whole message, give or take politeness ("STOP", "Stop grazie").
	StopWords map[string][]string `json:"stop_words"`
	// Negations are, by language, the words that cancel a phrase following
	// them within four words in the same clause ("I don't have a fever").
	Negations map[string][]string `json:"negations"`
}

// Match is one rule that fired.
type Match struct {
	Category string `json:"category"` // a category, or "opt_out"
	Phrase   string `json:"phrase"`
	Lang     string `json:"lang"`
	Text     string `json:"text"` // the words of the message that matched
	Negated  bool   `json:"negated,omitempty"`
	Source   string `json:"source"` // rules or model
}

// Result is the decision about one message.
type Result struct {
	Escalate bool    `json:"escalate"`
	Category *string `json:"category"`
	OptOut   bool    `json:"opt_out"`
	// OptIn is a request to receive marketing again ("START", "riattiva").
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
	for name, m := range map[string]map[string][]string{"opt_out": r.OptOut, "stop_words": r.StopWords, "negations": r.Negations} {
		if err := check(name, m); err != nil {
			return err
		}
	}
	return nil
}

// token is a normalised word and where it sits in the original text.
type token struct {
	word       string // lower-case, accents removed
	start, end int    // byte offsets in the original text
	boundary   bool   // a clause ends before this word (.,;!? or a "but")
}

// clauseBreakers start a new clause: a negation before them does not reach past.
var clauseBreakers = map[string]bool{"ma": true, "pero": true, "but": true, "mais": true, "aber": true, "however": true,
	"pero'": true, "sondern": true, "pourtant": true, "tuttavia": true}

// fold lower-cases and removes accents ("Perché" → "perche").
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		switch r {
		case 'ß':
			b.WriteString("ss")
		case 'æ':
			b.WriteString("ae")
		case 'œ':
			b.WriteString("oe")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tokenize splits into words at anything but letters and digits (so
// "l'école" is "l" "ecole" and "don't" is "don" "t").
func tokenize(s string) []token {
	var out []token
	boundary := false
	start := -1
	flush := func(end int) {
		if start >= 0 {
			w := fold(s[start:end])
			out = append(out, token{word: w, start: start, end: end, boundary: boundary || clauseBreakers[w]})
			boundary = false
			start = -1
		}
	}
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		if strings.ContainsRune(".;!?\n,:", r) {
			boundary = true
		}
	}
	flush(len(s))
	return out
}

// phrase is a compiled rule.
type phrase struct {
	category, lang, text string
	words                []string // a trailing * makes a prefix
}

func (p phrase) matchAt(toks []token, i int) bool {
	if i+len(p.words) > len(toks) {
		return false
	}
	for j, w := range p.words {
		t := toks[i+j].word
		if pre, ok := strings.CutSuffix(w, "*"); ok {
			if !strings.HasPrefix(t, pre) {
				return false
			}
		} else if t != w {
			return false
		}
	}
	return true
}

// Matcher is compiled Rules, safe for concurrent use.
type Matcher struct {
	phrases   index
	optOut    index
	stopWords map[string]bool
	negations map[string]bool
}

// index finds the phrases that may start at a word: by exact first word,
// plus those whose first word is a prefix.
type index struct {
	byFirst  map[string][]phrase
	prefixed []phrase
}

func (x *index) add(p phrase) {
	if len(p.words) == 0 {
		return
	}
	if strings.HasSuffix(p.words[0], "*") {
		x.prefixed = append(x.prefixed, p)
		return
	}
	if x.byFirst == nil {
		x.byFirst = map[string][]phrase{}
	}
	x.byFirst[p.words[0]] = append(x.byFirst[p.words[0]], p)
}

// each calls fn for every phrase matching at token i.
func (x *index) each(toks []token, i int, fn func(p phrase)) {
	for _, p := range x.byFirst[toks[i].word] {
		if p.matchAt(toks, i) {
			fn(p)
		}
	}
	for _, p := range x.prefixed {
		if p.matchAt(toks, i) {
			fn(p)
		}
	}
}

// politeness may surround a STOP without making it a sentence.
var politeness = map[string]bool{"please": true, "pls": true, "thanks": true, "thank": true, "you": true, "grazie": true,
	"per": true, "favore": true, "prego": true, "merci": true, "svp": true, "stp": true, "gracias": true, "por": true,
	"favor": true, "danke": true, "bitte": true, "all": true, "tutto": true, "tout": true, "todo": true, "alles": true}

func compile(category, lang, text string) phrase {
	var words []string
	for _, raw := range strings.Fields(text) {
		prefix := strings.HasSuffix(raw, "*")
		toks := tokenize(strings.TrimSuffix(raw, "*"))
		for i, t := range toks {
			w := t.word
			if prefix && i == len(toks)-1 {
				w += "*"
			}
			words = append(words, w)
		}
	}
	return phrase{category: category, lang: lang, text: text, words: words}
}

// Compile validates and prepares the rules.
func (r *Rules) Compile() (*Matcher, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	m := &Matcher{stopWords: map[string]bool{}, negations: map[string]bool{}}
	for _, c := range Categories {
		for _, l := range Langs {
			for _, p := range r.Phrases[c][l] {
				m.phrases.add(compile(c, l, p))
			}
		}
	}
	for _, l := range Langs {
		for _, p := range r.OptOut[l] {
			m.optOut.add(compile("opt_out", l, p))
		}
		for _, w := range r.StopWords[l] {
			m.stopWords[fold(strings.TrimSpace(w))] = true
		}
		for _, w := range r.Negations[l] {
			m.negations[fold(strings.TrimSpace(w))] = true
		}
	}
	return m, nil
}

// negated reports whether a negation sits within four words before token
// i, in the same clause.
func (m *Matcher) negated(toks []token, i int) bool {
	if toks[i].boundary {
		return false // the match opens its clause: "no, it hurts"
	}
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if m.negations[toks[j].word] {
			return true
		}
		if toks[j].boundary {
			break // the clause began here
		}
	}
	return false
}

// Check applies the rules alone to a message.
func (m *Matcher) Check(text string) Result {
	toks := tokenize(text)
	res := Result{Matched: []Match{}}
	// The same words matched for the same category by phrases of several
	// languages ("dolor*" is Italian and Spanish) are one match.
	type span struct {
		category   string
		start, end int
	}
	seen := map[span]bool{}
	for i := range toks {
		m.phrases.each(toks, i, func(p phrase) {
			end := toks[i+len(p.words)-1].end
			k := span{p.category, toks[i].start, end}
			if seen[k] {
				return
			}
			seen[k] = true
			res.Matched = append(res.Matched, Match{Category: p.category, Phrase: p.text, Lang: p.lang,
				Text: text[toks[i].start:end], Negated: m.negated(toks, i), Source: "rules"})
		})
		// Opt-out: an explicit phrase anywhere (not negated), or below a
		// stop word as the whole message.
		m.optOut.each(toks, i, func(p phrase) {
			if m.negated(toks, i) {
				return
			}
			end := toks[i+len(p.words)-1].end
			res.Matched = append(res.Matched, Match{Category: "opt_out", Phrase: p.text, Lang: p.lang,
				Text: text[toks[i].start:end], Source: "rules"})
			res.OptOut = true
		})
	}
	var core []token
	for _, t := range toks {
		if !politeness[t.word] {
			core = append(core, t)
		}
	}
	if len(core) == 1 && m.stopWords[core[0].word] {
		res.OptOut = true
		res.Matched = append(res.Matched, Match{Category: "opt_out", Phrase: core[0].word, Text: text[core[0].start:core[0].end],
			Source: "rules"})
	}
	res.decide()
	return res
}

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
	for _, mt := range res.Matched {
		if mt.Negated {
			return res
		}
	}
	j, err := cl.Classify(ctx, text)
	if err != nil || j == nil || !j.Escalate {
		return res
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
			s += " (negated)"
		}
		parts = append(parts, s)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
