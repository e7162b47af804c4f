package search

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/it"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"

	"sendbox/language"
)

// Langs are the languages with their own analyzer and text field, in the
// order detection breaks ties.
var Langs = []string{"it", "en", "fr", "es", "de"}

// Names of the token filters and analyzers this package registers. The
// analyzers are named in the index mapping, so changing a chain means bumping
// mappingVersion (the index then asks for a rebuild).
const (
	foldName       = "sendbox_fold"
	itMinStemName  = "sendbox_it_short_plural"
	esMinStemName  = "sendbox_es_short_plural"
	plainAnalyzer  = "sendbox_plain"
	langAnalyzerFx = "sendbox_text_" // + lang
)

// Accent folding is a TOKEN filter, not the asciifolding char filter: a char
// filter rewrites the input before the tokenizer, so token offsets point into
// the rewritten text and highlights drift on accented text ("<mark>L'écol</mark>e").
// A token filter only rewrites Term; Start/End keep pointing into the original.
type foldFilter struct{}

// fold strips combining marks and maps the letters decomposition leaves
// alone; it lowercases nothing (language.FoldMarks).
func fold(term []byte) []byte { return language.FoldMarks(term) }

func (foldFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		t.Term = fold(t.Term)
	}
	return in
}

// shortVowel complements bleve's Italian and Spanish light stemmers, which
// leave short words alone: "dente"/"denti", "casa"/"case", Spanish
// "cita"/"citas" (→ "cit") would not meet. It drops the final vowel of words
// between min and max runes, the rule the stemmers apply to longer ones.
type shortVowel struct {
	min, max int
	vowels   string
}

func (f shortVowel) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		n := utf8.RuneCount(t.Term)
		if n < f.min || n > f.max {
			continue
		}
		if last := t.Term[len(t.Term)-1]; strings.IndexByte(f.vowels, last) >= 0 && isLetters(t.Term) {
			t.Term = t.Term[:len(t.Term)-1]
		}
	}
	return in
}

func isLetters(b []byte) bool {
	for _, r := range string(b) {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

var registerOnce sync.Once

// registerFilters adds this package's token filters to bleve's global
// registry; bleve resolves analyzer chains by name through it. Done once,
// lazily, rather than in init().
func registerFilters() {
	registerOnce.Do(func() {
		must := func(err error) {
			if err != nil {
				panic(fmt.Sprintf("search: register token filter: %v", err))
			}
		}
		must(registry.RegisterTokenFilter(foldName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
			return foldFilter{}, nil
		}))
		must(registry.RegisterTokenFilter(itMinStemName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
			return shortVowel{min: 4, max: 5, vowels: "aeio"}, nil
		}))
		must(registry.RegisterTokenFilter(esMinStemName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
			return shortVowel{min: 4, max: 4, vowels: "aeo"}, nil
		}))
	})
}

// langChains are the token filters of each language's text analyzer, after the
// unicode tokenizer. Order matters:
//   - lowercase, then elision (its article lists are lowercase),
//   - stop words before folding (the lists hold "è", "più", "für"),
//   - folding before stemming, so "école" and "ecole" (typed without
//     accents) reach the stemmer as the same string.
var langChains = map[string][]string{
	"it": {lowercase.Name, it.ElisionName, it.StopName, foldName, it.LightStemmerName, itMinStemName},
	"fr": {lowercase.Name, fr.ElisionName, fr.StopName, foldName, fr.LightStemmerName},
	"en": {en.PossessiveName, lowercase.Name, en.StopName, foldName, en.SnowballStemmerName},
	"es": {lowercase.Name, es.StopName, foldName, es.LightStemmerName, esMinStemName},
	// de.NormalizeName maps ß→ss and ae/oe/ue→a/o/u, so "Mueller" meets "Müller".
	"de": {lowercase.Name, de.StopName, de.NormalizeName, foldName, de.LightStemmerName},
}

func langAnalyzerName(lang string) string { return langAnalyzerFx + lang }

// addAnalyzers declares the analyzers in the index mapping.
func addAnalyzers(im *mapping.IndexMappingImpl) error {
	registerFilters()
	for _, l := range Langs {
		err := im.AddCustomAnalyzer(langAnalyzerName(l), map[string]any{
			"type": custom.Name, "tokenizer": unicodetok.Name, "token_filters": toAny(langChains[l]),
		})
		if err != nil {
			return err
		}
	}
	// plain: names, codes, notes of any language. No stop words (a name may be
	// "De La Cruz"), no stemming (names do not inflect), folded.
	return im.AddCustomAnalyzer(plainAnalyzer, map[string]any{
		"type": custom.Name, "tokenizer": unicodetok.Name,
		"token_filters": []any{lowercase.Name, foldName},
	})
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// analyzers holds the instantiated analyzers, resolved once from the mapping.
type analyzers struct {
	lang  map[string]analysis.Analyzer
	plain analysis.Analyzer
}

func newAnalyzers(im *mapping.IndexMappingImpl) (*analyzers, error) {
	a := &analyzers{lang: map[string]analysis.Analyzer{}}
	for _, l := range Langs {
		an := im.AnalyzerNamed(langAnalyzerName(l))
		if an == nil {
			return nil, fmt.Errorf("analyzer %s missing", langAnalyzerName(l))
		}
		a.lang[l] = an
	}
	a.plain = im.AnalyzerNamed(plainAnalyzer)
	if a.plain == nil {
		return nil, fmt.Errorf("analyzer %s missing", plainAnalyzer)
	}
	return a, nil
}

// terms analyzes s and returns the terms (copied, the analyzers reuse buffers).
func terms(an analysis.Analyzer, s string) []string {
	ts := an.Analyze([]byte(s))
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t.Term))
	}
	return out
}

// foldLower is the plain normalisation (lowercase + fold) of one word, for
// prefixes and keyword comparisons.
func foldLower(s string) string {
	return string(fold(bytes.ToLower([]byte(s))))
}
