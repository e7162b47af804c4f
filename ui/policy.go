package ui

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/policy"
	"sendbox/store"
)

// policyView is Settings → Policy: the phrases that hand a conversation to
// a person, and the opt-out words, all editable, with a box to try them.
type policyView struct {
	Section    string
	Me         *store.User
	Categories []policySection
	OptOut     policySection
	StopWords  policySection
	OptIn      policySection
	StartWords policySection
	Negations  policySection
	Classify   bool // the model's judgement is added to the rules
	Open       bool // show every section open (after a refused save)
	Error      string
	Try        *tryView // a try-it result, for browsers without JavaScript
}

// policySection is one list of phrases, by language.
type policySection struct {
	Key    string // a category, or opt_out, stop_words, opt_in, start_words, negations
	Fields []policyField
	Count  int
}

type policyField struct {
	Lang, Name, Value string
	Count             int
}

func section(key, prefix string, byLang map[string][]string) policySection {
	s := policySection{Key: key}
	for _, l := range policy.Langs {
		f := policyField{Lang: l, Name: prefix + l, Value: strings.Join(byLang[l], "\n"), Count: len(byLang[l])}
		s.Fields = append(s.Fields, f)
		s.Count += f.Count
	}
	return s
}

func (p *Panel) policyData(me *store.User, r *policy.Rules) *policyView {
	v := &policyView{Section: "policy", Me: me}
	for _, c := range policy.Categories {
		v.Categories = append(v.Categories, section(c, "phrases."+c+".", r.Phrases[c]))
	}
	v.OptOut = section("opt_out", "opt_out.", r.OptOut)
	v.StopWords = section("stop_words", "stop_words.", r.StopWords)
	v.OptIn = section("opt_in", "opt_in.", r.OptIn)
	v.StartWords = section("start_words", "start_words.", r.StartWords)
	v.Negations = section("negations", "negations.", r.Negations)
	on, _ := p.Assistant.Generation()
	v.Classify = on && p.Assistant.Settings().Classify
	return v
}

func (p *Panel) policyPage(w http.ResponseWriter, r *http.Request, status int, rules *policy.Rules, errMsg string) {
	if rules == nil {
		rules = p.Assistant.Rules()
	}
	v := p.policyData(sessionFrom(r).User, rules)
	v.Error, v.Open = errMsg, errMsg != ""
	p.page(w, r, status, "policy", &view{Title: p.T("settings.policy"), Nav: "settings", Data: v})
}

func (p *Panel) handlePolicy(w http.ResponseWriter, r *http.Request) {
	p.policyPage(w, r, http.StatusOK, nil, "")
}

// lines splits a textarea into its phrases: one a line, trimmed, without
// blanks or repeats.
func lines(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" || seen[strings.ToLower(l)] {
			continue
		}
		seen[strings.ToLower(l)] = true
		out = append(out, l)
	}
	return out
}

// handlePolicySave replaces the rules with the form's; refused rules are
// shown again as written, with the reason.
func (p *Panel) handlePolicySave(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	byLang := func(prefix string) map[string][]string {
		m := map[string][]string{}
		for _, l := range policy.Langs {
			if v := lines(r.PostFormValue(prefix + l)); len(v) > 0 {
				m[l] = v
			}
		}
		return m
	}
	rules := &policy.Rules{Phrases: map[string]map[string][]string{}}
	for _, c := range policy.Categories {
		rules.Phrases[c] = byLang("phrases." + c + ".")
	}
	rules.OptOut, rules.StopWords, rules.Negations = byLang("opt_out."), byLang("stop_words."), byLang("negations.")
	rules.OptIn, rules.StartWords = byLang("opt_in."), byLang("start_words.")
	if err := p.Assistant.SaveRules(r.Context(), rules); err != nil {
		p.policyPage(w, r, http.StatusUnprocessableEntity, rules, sentence(err.Error()))
		return
	}
	http.Redirect(w, r, "/settings/policy?ok=saved", http.StatusSeeOther)
}

// handlePolicyReset puts back the rules sendbox ships with.
func (p *Panel) handlePolicyReset(w http.ResponseWriter, r *http.Request) {
	if err := p.Assistant.SaveRules(r.Context(), policy.Default()); err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/policy?ok=policy_reset", http.StatusSeeOther)
}

// tryView is what the policy decides about a text.
type tryView struct {
	Text     string
	Result   policy.Result
	Matches  []matchView
	Category string
	Classify bool
	Error    string
	Took     time.Duration
}

// handlePolicyTry runs a text through the bot's own decision: the phrase
// rules and, when a chat model is on, its grounded judgement.
func (p *Panel) handlePolicyTry(w http.ResponseWriter, r *http.Request) {
	text := strings.TrimSpace(r.PostFormValue("text"))
	v := &tryView{Text: text}
	v.Classify = p.policyData(sessionFrom(r).User, p.Assistant.Rules()).Classify
	switch {
	case text == "":
		v.Error = p.T("policy.try_empty")
	case utf8.RuneCountInString(text) > 4096:
		v.Error = p.T("policy.try_long")
	default:
		ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
		start := time.Now()
		v.Result = p.Assistant.Check(ctx, text)
		v.Took = time.Since(start)
		cancel()
		if v.Result.Category != nil {
			v.Category = *v.Result.Category
		}
		v.Matches = matches(v.Result.Matched)
	}
	if r.Header.Get("HX-Request") != "true" {
		pv := p.policyData(sessionFrom(r).User, p.Assistant.Rules())
		pv.Try = v
		p.page(w, r, http.StatusOK, "policy", &view{Title: p.T("settings.policy"), Nav: "settings", Data: pv})
		return
	}
	p.fragment(w, r, "policy", "policy_try", v)
}

// matchView is a match of the try-it box: the same words found by the same
// rule in several languages ("dolor*" is Italian and Spanish) are one row.
type matchView struct {
	Text, Category, Phrase, Source string
	Negated                        bool
	Reason                         string // why a negated match does not count (policy.Match.Reason)
	Langs                          []string
}

func matches(ms []policy.Match) []matchView {
	var out []matchView
	at := map[string]int{}
	for _, m := range ms {
		key := strings.Join([]string{m.Text, m.Category, m.Phrase, m.Source, strconv.FormatBool(m.Negated), m.Reason}, "\x00")
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, matchView{Text: m.Text, Category: m.Category, Phrase: m.Phrase, Source: m.Source,
				Negated: m.Negated, Reason: m.Reason})
		}
		if m.Lang != "" {
			out[i].Langs = append(out[i].Langs, m.Lang)
		}
	}
	return out
}
