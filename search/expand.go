package search

import (
	"cmp"
	"context"
	"slices"
	"unicode/utf8"

	index "github.com/blevesearch/bleve_index_api"
)

// Typo neighbours and prefix completions are expanded here, from the index's
// dictionaries, rather than with bleve's fuzzy and prefix queries. A bleve
// fuzzy query for "preventiv" also matches "preventiv" itself, so next to the
// exact term query (kept separately, to outrank typos) the most common
// posting list was read twice: fuzzy terms made most of the query time. Here
// the exact term is left out of the expansions, and completions are the most
// frequent ones, which is also what someone typing wants.
const (
	maxFuzzyTerms  = 64    // typo neighbours per term and field, fewest edits first
	maxPrefixTerms = 32    // completions per prefix and field, most frequent first
	maxPrefixScan  = 20000 // dictionary entries read to find them
)

// expander reads one index snapshot's dictionaries. A nil expander expands
// nothing.
type expander struct{ rd index.IndexReader }

type dictTerm struct {
	term  string
	edits int
	count uint64
}

// has reports whether field has term. Without a reader, everything exists.
func (e *expander) has(field, term string) bool {
	if e == nil {
		return true
	}
	tfr, err := e.rd.TermFieldReader(context.Background(), []byte(term), field, false, false, false)
	if err != nil {
		return false
	}
	defer tfr.Close()
	return tfr.Count() > 0
}

// fuzzy returns the terms of field within fz edits of term, term excluded.
func (e *expander) fuzzy(field, term string, fz int) []dictTerm {
	if e == nil || fz <= 0 {
		return nil
	}
	fr, ok := e.rd.(index.IndexReaderFuzzy)
	if !ok {
		return nil
	}
	fd, err := fr.FieldDictFuzzy(field, term, fz, "")
	if err != nil {
		return nil
	}
	defer fd.Close()
	var out []dictTerm
	for n := 0; n < maxPrefixScan; n++ {
		de, err := fd.Next()
		if err != nil || de == nil {
			break
		}
		if de.Term != term {
			out = append(out, dictTerm{term: de.Term, edits: int(de.EditDistance)})
		}
	}
	if len(out) > maxFuzzyTerms {
		slices.SortStableFunc(out, func(a, b dictTerm) int { return cmp.Compare(a.edits, b.edits) })
		out = out[:maxFuzzyTerms]
	}
	return out
}

// prefix returns the most frequent terms of field starting with p.
func (e *expander) prefix(field, p string) []dictTerm {
	if e == nil || p == "" {
		return nil
	}
	fd, err := e.rd.FieldDictPrefix(field, []byte(p))
	if err != nil {
		return nil
	}
	defer fd.Close()
	var out []dictTerm
	for n := 0; n < maxPrefixScan; n++ {
		de, err := fd.Next()
		if err != nil || de == nil {
			break
		}
		out = append(out, dictTerm{term: de.Term, count: de.Count})
	}
	if len(out) > maxPrefixTerms {
		slices.SortStableFunc(out, func(a, b dictTerm) int { return cmp.Compare(b.count, a.count) })
		out = out[:maxPrefixTerms]
	}
	return out
}

// prefixOK: the implicit as-you-type prefix needs minTypedPrefix runes, an
// explicit "ab*" minStarPrefix.
func prefixOK(p string, star bool) bool {
	n := utf8.RuneCountInString(p)
	return n >= minTypedPrefix || (star && n >= minStarPrefix)
}
