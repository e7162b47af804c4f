package search

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
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
// nothing. With terms set, the knowledge base's expansions are taken from
// and kept in it, as of the epoch read before rd was opened.
type expander struct {
	rd    index.IndexReader
	terms *termCache
	epoch uint64
}

// termCache keeps the expansions of the knowledge base's fields, which
// change only when an article does. The assistant looks up every customer
// question there, in each language's field: building the Levenshtein
// automaton of each word for each field was a tenth of the CPU of a burst
// of new customers, for words customers repeat all day ("price", "open",
// "appointment"). Message and contact fields change with every message and
// are not kept.
type termCache struct {
	mu    sync.Mutex
	epoch uint64 // bumped by every batch that changes the knowledge base
	m     map[termKey]termEntry
}

type termKey struct {
	op          byte // 'h' has, 'f' fuzzy, 'p' prefix
	field, term string
	fz          int
}

type termEntry struct {
	terms []dictTerm
	has   bool
}

const maxCachedTerms = 20000 // entries before the cache starts again, a few MB at most

// current is the epoch to read under: read it before opening the reader.
func (c *termCache) current() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// changed forgets everything: the knowledge base changed. Call it after the
// batch is visible to new readers.
func (c *termCache) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.m = nil
}

func (c *termCache) get(epoch uint64, k termKey) (termEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return termEntry{}, false
	}
	e, ok := c.m[k]
	return e, ok
}

// put keeps e unless the knowledge base changed since epoch: what a reader
// opened before the change saw is not kept.
func (c *termCache) put(epoch uint64, k termKey, e termEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedTerms {
		c.m = make(map[termKey]termEntry)
	}
	c.m[k] = e
}

// cached answers k from the cache for knowledge-base fields, computing and
// keeping it on a miss; other fields are computed every time.
func (e *expander) cached(k termKey, compute func() termEntry) termEntry {
	if e.terms == nil || !strings.HasPrefix(k.field, fKBText) {
		return compute()
	}
	if v, ok := e.terms.get(e.epoch, k); ok {
		return v
	}
	v := compute()
	e.terms.put(e.epoch, k, v)
	return v
}

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
	return e.cached(termKey{op: 'h', field: field, term: term}, func() termEntry {
		tfr, err := e.rd.TermFieldReader(context.Background(), []byte(term), field, false, false, false)
		if err != nil {
			return termEntry{}
		}
		defer tfr.Close()
		return termEntry{has: tfr.Count() > 0}
	}).has
}

// fuzzy returns the terms of field within fz edits of term, term excluded.
func (e *expander) fuzzy(field, term string, fz int) []dictTerm {
	if e == nil || fz <= 0 {
		return nil
	}
	return e.cached(termKey{op: 'f', field: field, term: term, fz: fz}, func() termEntry {
		return termEntry{terms: e.readFuzzy(field, term, fz)}
	}).terms
}

func (e *expander) readFuzzy(field, term string, fz int) []dictTerm {
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
	return e.cached(termKey{op: 'p', field: field, term: p}, func() termEntry {
		return termEntry{terms: e.readPrefix(field, p)}
	}).terms
}

func (e *expander) readPrefix(field, p string) []dictTerm {
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
