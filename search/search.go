package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Query is a search request.
type Query struct {
	Q     string   // user text: words, "quoted phrases", prefix*, -excluded; the last word is also a prefix; typos tolerated
	Kinds []string // KindMessage, KindContact, KindKB; empty = message+contact

	// Filters. Message-only filters (all but ContactID) leave contacts and KB
	// chunks out of the results; ContactID keeps the contact itself.
	From, To                                    time.Time // message date range [From, To); zero = open
	ContactID, ConversationID, AgentID, LabelID int64
	Status, Direction, MessageType              string

	Sort          string // "relevance" (default) or "date" (newest first); with no words, always date
	Offset, Limit int    // Limit: default 20, at most 100; past Offset 10,000 no hits, only Total and Facets
	Facets        bool   // compute facets: type, direction, status, label, date
	// Any matches documents with any of the words, ranked by how many and
	// how rare: a question ("what time do you open on Saturday?") rather
	// than a search box, where every word must match.
	Any bool

	// Now anchors the date facet buckets; zero means time.Now().
	Now time.Time
}

// Result is one page of hits.
type Result struct {
	Total  uint64
	Hits   []Hit
	Facets map[string][]FacetCount // keys: "type", "direction", "status", "label", "date"
	Took   time.Duration
}

// Hit is one matching document. Messages set ID, ConversationID, ContactID
// and At; contacts set ID and ContactID; KB chunks set KBID and ID (the
// document id).
type Hit struct {
	Kind                      string
	ID                        int64
	KBID                      string
	ConversationID, ContactID int64
	At                        time.Time
	Score                     float64
}

// FacetCount is one facet value and how many hits have it. Date buckets are
// "7d" (the last 7 days), "30d" (the last 30, including the last 7) and
// "older", counted in whole UTC days: today and the 6 days before are "7d".
type FacetCount struct {
	Term  string
	Count int
}

// Sort orders.
const (
	SortRelevance = "relevance"
	SortDate      = "date"
)

const (
	defaultLimit = 20
	maxLimit     = 100
	maxOffset    = 10_000
)

// Search runs q against the serving generation.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	start := time.Now()
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	offset := max(q.Offset, 0)
	if offset > maxOffset {
		// Deep pages cost a heap of offset+limit hits: give the total
		// and the facets, no hits.
		offset, limit = 0, 0
	}

	browse := strings.TrimSpace(q.Q) == ""
	cl := parseQuery(q.Q)
	if !browse && len(cl) == 0 {
		// Punctuation only: nothing to look for.
		return &Result{Took: time.Since(start)}, nil
	}
	var res *bleve.SearchResult
	err := x.use(func(g *generation) error {
		ai, err := g.idx.Advanced()
		if err != nil {
			return err
		}
		epoch := g.terms.current() // before the reader: see termCache.put
		rd, err := ai.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		bq := x.buildQuery(&q, cl, &expander{rd: rd, terms: &g.terms, epoch: epoch})
		if bq == nil {
			return nil
		}
		req := bleve.NewSearchRequestOptions(bq, limit, offset, false)
		req.Fields = []string{fHit}
		if q.Sort == SortDate || browse {
			// Newest first; documents without a date (contacts, KB) last. No
			// scoring: the order does not need it and it costs.
			req.SortByCustom(bsearch.SortOrder{
				&bsearch.SortField{Field: fTS, Desc: true, Type: bsearch.SortFieldAsString, Missing: bsearch.SortFieldMissingLast},
			})
			req.Score = "none"
		}
		if q.Facets {
			addFacets(req)
		}
		res, err = g.idx.SearchInContext(ctx, req)
		return err
	})
	if errors.Is(err, ErrClosed) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", q.Q, err)
	}
	if res == nil {
		return &Result{Took: time.Since(start)}, nil
	}
	out := &Result{Total: res.Total, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, toHit(h))
	}
	if q.Facets {
		out.Facets = facetCounts(res.Facets, q.Now)
	}
	out.Took = time.Since(start)
	return out, nil
}

func toHit(h *bsearch.DocumentMatch) Hit {
	hit := Hit{Score: h.Score}
	info, _ := h.Fields[fHit].(string)
	if h.ID == "" {
		return hit
	}
	rest := h.ID[1:]
	switch h.ID[0] {
	case 'm':
		hit.Kind = KindMessage
		hit.ID = atoi(rest)
		hit.ConversationID, hit.ContactID, hit.At = parseHitInfo(info)
	case 'c':
		hit.Kind = KindContact
		hit.ID = atoi(rest)
		hit.ContactID = hit.ID
	case 'k':
		hit.Kind = KindKB
		hit.KBID = rest
		hit.ID = atoi(info)
	}
	return hit
}

func atoi(s string) int64 {
	var n int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// Facet names.
const (
	FacetType      = "type"
	FacetDirection = "direction"
	FacetStatus    = "status"
	FacetLabel     = "label"
	FacetDate      = "date"
)

func addFacets(req *bleve.SearchRequest) {
	// All the values of the one facet field (see facetTerm), split below:
	// a few types, statuses and labels, and a day for each day of history.
	req.AddFacet(fFacet, bleve.NewFacetRequest(fFacet, 1<<20))
}

// facetLimits are how many values each facet returns, most frequent first.
var facetLimits = map[string]int{FacetType: 20, FacetDirection: 2, FacetStatus: 10, FacetLabel: 50}

func facetCounts(fr bsearch.FacetResults, now time.Time) map[string][]FacetCount {
	out := map[string][]FacetCount{FacetType: nil, FacetDirection: nil, FacetStatus: nil, FacetLabel: nil}
	days := map[int64]int{}
	if f := fr[fFacet]; f != nil && f.Terms != nil {
		for _, t := range f.Terms.Terms() { // by count, descending
			p, v, ok := facetValue(t.Term)
			if !ok {
				continue
			}
			var name string
			switch p {
			case pType:
				name = FacetType
			case pDir:
				name = FacetDirection
			case pStatus:
				name = FacetStatus
			case pLabel:
				name = FacetLabel
			case pDay:
				if d, err := strconv.ParseInt(v, 10, 64); err == nil {
					days[d] += t.Count
				}
				continue
			default:
				continue
			}
			if len(out[name]) < facetLimits[name] {
				out[name] = append(out[name], FacetCount{Term: v, Count: t.Count})
			}
		}
	}
	out[FacetDate] = dateBuckets(days, now)
	return out
}

// dateBuckets sums day counts into "7d", "30d" (both counting back from
// now's UTC day, today included) and "older".
func dateBuckets(days map[int64]int, now time.Time) []FacetCount {
	if now.IsZero() {
		now = time.Now()
	}
	today := max(now.Unix(), 0) / 86400
	var week, month, older int
	for day, n := range days {
		switch age := today - day; {
		case age < 7:
			week += n
			month += n
		case age < 30:
			month += n
		default:
			older += n
		}
	}
	var out []FacetCount
	for _, b := range []FacetCount{{"7d", week}, {"30d", month}, {"older", older}} {
		if b.Count > 0 {
			out = append(out, b)
		}
	}
	return out
}

// Boosts. An exact term always outranks its typo neighbours and prefixes:
// bleve also divides a fuzzy candidate's score by 1+edits.
const (
	boostExact  = 1.0
	boostFuzzy  = 0.2
	boostPrefix = 0.3
	boostName   = 2.0 // a contact's name outranks its notes
	boostFilter = 0.01
)

// buildQuery turns q into a bleve query; nil means nothing can match.
func (x *Index) buildQuery(q *Query, cl []clause, ex *expander) query.Query {
	kinds := q.Kinds
	if len(kinds) == 0 {
		kinds = []string{KindMessage, KindContact}
	}
	msgFilters := x.messageFilters(q)
	// A filter only messages have excludes the other kinds.
	onlyMessages := len(msgFilters) > 0
	empty := !hasPositive(cl)

	var parts []query.Query
	if slices.Contains(kinds, KindMessage) {
		var must []query.Query
		if empty && len(msgFilters) == 0 {
			// Browsing all messages (maybe of a contact: that field is on
			// contacts too).
			must = append(must, termQ(fKind, KindMessage, boostFilter))
		} else if empty {
			must = []query.Query{} // message-only filters select messages by themselves
		} else if tq := x.textQuery(cl, textField, ex, q.Any); tq != nil {
			must = append(must, tq)
		} else {
			must = nil
		}
		if must != nil {
			must = append(must, msgFilters...)
			if q.ContactID != 0 {
				must = append(must, termQ(fContact, itoa(q.ContactID), boostFilter))
			}
			parts = append(parts, and(must))
		}
	}
	if slices.Contains(kinds, KindContact) && !onlyMessages {
		var must []query.Query
		if empty {
			must = append(must, termQ(fKind, KindContact, boostFilter))
		} else if cq := x.contactQuery(cl, ex); cq != nil {
			must = append(must, cq)
		}
		if must != nil {
			if q.ContactID != 0 {
				must = append(must, termQ(fContact, itoa(q.ContactID), boostFilter))
			}
			parts = append(parts, and(must))
		}
	}
	if slices.Contains(kinds, KindKB) && !onlyMessages && q.ContactID == 0 {
		if empty {
			parts = append(parts, termQ(fKind, KindKB, boostFilter))
		} else if kq := x.textQuery(cl, kbField, ex, q.Any); kq != nil {
			parts = append(parts, kq)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	var out query.Query = or(parts)
	if nots := x.negatives(cl, kinds); len(nots) > 0 {
		bq := query.NewBooleanQuery([]query.Query{out}, nil, nots)
		out = bq
	}
	return out
}

func hasPositive(cl []clause) bool {
	for _, c := range cl {
		if !c.not {
			return true
		}
	}
	return false
}

// messageFilters are the filters only messages have. Every hit passes them,
// so they add the same small amount to every score and change no ranking;
// the boost is not zero because an all-zero query weight makes bleve's
// query norm divide by zero.
func (x *Index) messageFilters(q *Query) []query.Query {
	var f []query.Query
	if !q.From.IsZero() || !q.To.IsZero() {
		incl, excl := true, false
		dr := query.NewDateRangeInclusiveQuery(q.From, q.To, &incl, &excl)
		dr.SetField(fAt)
		dr.SetBoost(boostFilter)
		f = append(f, dr)
	}
	if q.ConversationID != 0 {
		f = append(f, termQ(fConv, itoa(q.ConversationID), boostFilter))
	}
	if q.AgentID != 0 {
		f = append(f, termQ(fAgent, itoa(q.AgentID), boostFilter))
	}
	if q.LabelID != 0 {
		f = append(f, termQ(fFacet, facetTerm(pLabel, itoa36(q.LabelID)), boostFilter))
	}
	if q.Status != "" {
		f = append(f, termQ(fFacet, facetTerm(pStatus, q.Status), boostFilter))
	}
	if q.Direction != "" {
		f = append(f, termQ(fFacet, facetTerm(pDir, q.Direction), boostFilter))
	}
	if q.MessageType != "" {
		f = append(f, termQ(fFacet, facetTerm(pType, q.MessageType), boostFilter))
	}
	return f
}

func termQ(field, term string, boost float64) *query.TermQuery {
	t := query.NewTermQuery(term)
	t.SetField(field)
	t.SetBoost(boost)
	return t
}

func and(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewConjunctionQuery(qs)
}

func or(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

// textQuery matches the clauses against the per-language text fields. A
// document has text in exactly one language field, so the query is an OR
// over languages of an AND over clauses, each clause analyzed with that
// language's analyzer. A word that is a stop word in a language (it analyzes
// to nothing) is left out for that language only: "mal di denti" needs "mal"
// and "dent" in Italian text, all three words in English text.
//
// With any, a language's part is an OR over clauses instead.
func (x *Index) textQuery(cl []clause, field func(string) string, ex *expander, any bool) query.Query {
	fields := make([]fieldAn, len(Langs))
	for i, l := range Langs {
		fields[i] = fieldAn{field(l), langAnalyzerName(l), x.an.lang[l], 1}
	}
	must := make([][]query.Query, len(Langs))
	for _, c := range cl {
		if c.not {
			continue
		}
		for i, q := range ex.clauseQueries(c, fields) {
			if q != nil {
				must[i] = append(must[i], q)
			}
		}
	}
	var perLang []query.Query
	for _, m := range must {
		switch {
		case len(m) > 0 && any:
			perLang = append(perLang, or(m))
		case len(m) > 0:
			perLang = append(perLang, and(m))
		}
	}
	if len(perLang) == 0 {
		return nil
	}
	return or(perLang)
}

// fieldAn is a field with its analyzer.
type fieldAn struct {
	field, anName string
	an            analysis.Analyzer
	boost         float64
}

// clauseQueries is one clause against each of fields (nil where the clause
// analyzes to nothing, a stop word).
//
// Typo tolerance is where it helps: in the fields where the word exists
// (typos in documents: "preventvo" found by "preventivo"), or everywhere if
// it exists nowhere (a typo in the query: "appuntmento"). Not in the other
// languages' fields of a word that exists: there it only finds other words
// ("grazie" would find Spanish "gracias") and costs.
func (ex *expander) clauseQueries(c clause, fields []fieldAn) []query.Query {
	out := make([]query.Query, len(fields))
	type analyzed struct {
		term   string
		exists bool
	}
	an := make([]analyzed, len(fields))
	known := false
	for i, f := range fields {
		toks := f.an.Analyze([]byte(c.text))
		switch {
		case len(toks) == 0:
			// A stop word; but as you type "perc" may become "percorso".
			if c.prefix {
				out[i] = ex.expanded(f.field, "", c, 0, f.boost)
			}
		case c.phrase || len(toks) > 1:
			// Several tokens from one word ("3C1-807-217",
			// "mario.rossi@x.it") are a phrase too.
			if len(toks) <= maxPhraseTokens {
				p := query.NewMatchPhraseQuery(c.text)
				p.SetField(f.field)
				p.Analyzer = f.anName
				p.SetBoost(f.boost)
				out[i] = p
			}
		default:
			t := string(toks[0].Term)
			an[i] = analyzed{term: t, exists: ex.has(f.field, t)}
			known = known || an[i].exists
		}
	}
	for i, f := range fields {
		if an[i].term == "" {
			continue
		}
		fz := 0
		if an[i].exists || !known {
			fz = fuzziness(c.text, an[i].term)
		}
		out[i] = ex.expanded(f.field, an[i].term, c, fz, f.boost)
	}
	return out
}

// expanded matches term t (if not empty) exactly, its typo neighbours within
// fz edits, and, if the clause is a prefix, the completions of what was typed.
//
// The neighbours and the completions are each one nested disjunction: the
// outer one then has two or three children and bleve walks it cheaply, while
// the heap of many small posting lists only moves on their own documents. A
// flat disjunction put every document of the exact term through a heap of
// 50 (7 ms of 9 for "preventivo" at 1M messages).
func (ex *expander) expanded(field, t string, c clause, fz int, boost float64) query.Query {
	var alts []query.Query
	seen := map[string]bool{}
	if t != "" {
		alts = append(alts, termQ(field, t, boostExact*boost))
		seen[t] = true
	}
	var fuzzy []query.Query
	for _, d := range ex.fuzzy(field, t, fz) {
		seen[d.term] = true
		fuzzy = append(fuzzy, termQ(field, d.term, boostFuzzy*boost/float64(1+d.edits)))
	}
	if len(fuzzy) > 0 {
		alts = append(alts, or(fuzzy))
	}
	var prefix []query.Query
	if p := prefixText(c.text); c.prefix && prefixOK(p, c.star) {
		for _, d := range ex.prefix(field, p) {
			if !seen[d.term] {
				seen[d.term] = true
				prefix = append(prefix, termQ(field, d.term, boostPrefix*boost))
			}
		}
	}
	if len(prefix) > 0 {
		alts = append(alts, or(prefix))
	}
	if len(alts) == 0 {
		return nil
	}
	return or(alts)
}

// contactQuery matches the clauses against contacts: each clause in the
// name, in the other text (username, email, tags, attributes, notes) or, for
// digits, in the phone number by prefix or suffix.
func (x *Index) contactQuery(cl []clause, ex *expander) query.Query {
	contactFields := []fieldAn{
		{fName, plainAnalyzer, x.an.plain, boostName},
		{fCText, plainAnalyzer, x.an.plain, 1},
	}
	var must []query.Query
	allDigits := true
	var digits strings.Builder
	for _, c := range cl {
		if c.not {
			continue
		}
		d := onlyDigits(c.text)
		if c.phrase || !isPhoneish(c.text) {
			allDigits = false
		}
		digits.WriteString(d)
		var alts []query.Query
		for _, q := range ex.clauseQueries(c, contactFields) {
			if q != nil {
				alts = append(alts, q)
			}
		}
		if len(d) >= 3 && isPhoneish(c.text) {
			alts = append(alts, phoneQ(d)...)
		}
		if len(alts) == 0 {
			return nil
		}
		must = append(must, or(alts))
	}
	if len(must) == 0 {
		return nil
	}
	q := and(must)
	// "+39 333 123 4567" is several words but one phone number.
	if d := digits.String(); allDigits && len(must) > 1 && len(d) >= 5 {
		return or(append([]query.Query{q}, phoneQ(d)...))
	}
	return q
}

// isPhoneish: digits with the punctuation people put in phone numbers.
func isPhoneish(s string) bool {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case strings.ContainsRune("+-(). /", r):
		default:
			return false
		}
	}
	return n > 0
}

// phoneQ matches digits at the start (with country code) or the end (local
// number) of a phone: both are prefix queries, the end one on the reversed
// digits.
func phoneQ(d string) []query.Query {
	p := query.NewPrefixQuery(d)
	p.SetField(fPhone)
	p.SetBoost(boostName)
	s := query.NewPrefixQuery(reverse(d))
	s.SetField(fPhoneR)
	s.SetBoost(boostName)
	return []query.Query{p, s}
}

// negatives are the excluded clauses, in every field they could match.
func (x *Index) negatives(cl []clause, kinds []string) []query.Query {
	var out []query.Query
	for _, c := range cl {
		if !c.not {
			continue
		}
		c.prefix = false
		for _, l := range Langs {
			for _, f := range []string{textField(l), kbField(l)} {
				if q := exactQuery(c, f, langAnalyzerName(l), x.an.lang[l]); q != nil {
					out = append(out, q)
				}
			}
		}
		if slices.Contains(kinds, KindContact) {
			for _, f := range []string{fName, fCText} {
				if q := exactQuery(c, f, plainAnalyzer, x.an.plain); q != nil {
					out = append(out, q)
				}
			}
		}
	}
	return out
}

// exactQuery is a clause without typos or prefixes.
func exactQuery(c clause, field, anName string, an analysis.Analyzer) query.Query {
	toks := an.Analyze([]byte(c.text))
	switch {
	case len(toks) == 0 || len(toks) > maxPhraseTokens:
		return nil
	case len(toks) == 1 && !c.phrase:
		return termQ(field, string(toks[0].Term), 1)
	}
	p := query.NewMatchPhraseQuery(c.text)
	p.SetField(field)
	p.Analyzer = anName
	return p
}
