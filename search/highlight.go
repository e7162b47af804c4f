package search

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
)

// Span is a byte range [Start, End) of the original text.
type Span struct{ Start, End int }

// Highlight returns what of text matches q, as byte ranges of text, sorted
// and not overlapping. It analyzes text the way indexing did (same language
// detection, elision, folding, stemming) and applies the query the way
// Search does (typos, prefixes, phrases), so what is marked is what matched.
// Offsets come from the tokenizer, which reads the original bytes: folding
// and stemming rewrite terms, never positions, so accented and multi-byte
// text highlights correctly.
//
// Use it for message text and KB chunks; for contact fields use
// HighlightName. If the message was indexed with Message.Lang, use
// HighlightLang with the same language.
func (x *Index) Highlight(q string, text string) []Span {
	return x.HighlightLang(q, text, "")
}

// Lang is the language indexing picks for text (one of Langs): the
// detected one, or Options.DefaultLang when text is too short to tell. For
// a KB chunk's title, HighlightLang(q, title, x.Lang(chunk.Text)) marks what
// matched in the title.
func (x *Index) Lang(text string) string {
	return detectLang(text, x.o.DefaultLang)
}

// HighlightLang is Highlight with the language given (one of Langs); any
// other value detects it as indexing does.
func (x *Index) HighlightLang(q, text, lang string) []Span {
	if !isLang(lang) {
		lang = detectLang(text, x.o.DefaultLang)
	}
	return highlight(parseQuery(q), text, x.an.lang[lang])
}

// HighlightName highlights a contact field (name, notes, email, tags…),
// analyzed as contacts are: folded, no stemming, no stop words.
func (x *Index) HighlightName(q, text string) []Span {
	return highlight(parseQuery(q), text, x.an.plain)
}

func highlight(cl []clause, text string, an analysis.Analyzer) []Span {
	if len(cl) == 0 || text == "" || !utf8.ValidString(text) {
		return nil
	}
	toks := an.Analyze([]byte(text))
	if len(toks) == 0 {
		return nil
	}
	var spans []Span
	for _, c := range cl {
		if c.not {
			continue
		}
		qt := an.Analyze([]byte(c.text))
		switch {
		case len(qt) == 0:
			if c.prefix {
				spans = appendPrefixMatches(spans, toks, prefixText(c.text))
			}
		case c.phrase || len(qt) > 1:
			spans = appendPhraseMatches(spans, toks, qt)
		default:
			t := string(qt[0].Term)
			fz := fuzziness(c.text, t)
			p := ""
			if c.prefix {
				p = prefixText(c.text)
				if n := utf8.RuneCountInString(p); n < minTypedPrefix && !(c.star && n >= minStarPrefix) {
					p = ""
				}
			}
			for _, tok := range toks {
				term := string(tok.Term)
				if term == t || (p != "" && strings.HasPrefix(term, p)) || (fz > 0 && withinEdits(term, t, fz)) {
					spans = append(spans, Span{tok.Start, tok.End})
				}
			}
		}
	}
	return mergeSpans(spans)
}

func appendPrefixMatches(spans []Span, toks analysis.TokenStream, p string) []Span {
	if utf8.RuneCountInString(p) < minTypedPrefix {
		return spans
	}
	for _, tok := range toks {
		if strings.HasPrefix(string(tok.Term), p) {
			spans = append(spans, Span{tok.Start, tok.End})
		}
	}
	return spans
}

// appendPhraseMatches marks each run of tokens that has the phrase's terms
// at the phrase's relative positions (gaps left by stop words included), from
// the first token's start to the last one's end.
func appendPhraseMatches(spans []Span, toks, phrase analysis.TokenStream) []Span {
	if len(phrase) > maxPhraseTokens {
		return spans
	}
	byPos := make(map[int]*analysis.Token, len(toks))
	for _, t := range toks {
		byPos[t.Position] = t
	}
	p0 := phrase[0].Position
	for _, first := range toks {
		if string(first.Term) != string(phrase[0].Term) {
			continue
		}
		last := first
		ok := true
		for _, pt := range phrase[1:] {
			t := byPos[first.Position+pt.Position-p0]
			if t == nil || string(t.Term) != string(pt.Term) {
				ok = false
				break
			}
			last = t
		}
		if ok {
			spans = append(spans, Span{first.Start, last.End})
		}
	}
	return spans
}

// withinEdits reports whether a and b are at most k Levenshtein edits apart
// (insert, delete, substitute a rune), the distance bleve's fuzzy query uses.
func withinEdits(a, b string, k int) bool {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > k || -d > k {
		return false
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > k {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)] <= k
}

// mergeSpans sorts spans and merges overlapping or touching ones.
func mergeSpans(s []Span) []Span {
	if len(s) == 0 {
		return nil
	}
	slices.SortFunc(s, func(a, b Span) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	out := s[:1]
	for _, v := range s[1:] {
		last := &out[len(out)-1]
		if v.Start <= last.End {
			last.End = max(last.End, v.End)
			continue
		}
		out = append(out, v)
	}
	return out
}

// Piece is part of a snippet: plain text, or text to mark. Render it with
// html/template, which escapes Text:
//
//	{{range .}}{{if .Mark}}<mark>{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}
type Piece struct {
	Text string
	Mark bool
}

// Ellipsis starts or ends a snippet cut out of a longer text.
const Ellipsis = "…"

// Fragment cuts a snippet of about maxRunes runes (160 if max ≤ 0) out of text,
// around the first span, cutting at spaces where it can, and splits it into
// plain and marked pieces. Spans may come from Highlight or anywhere: invalid
// or overlapping ones are clipped, merged or dropped, and a span is widened
// to whole runes, so a piece never holds half a character.
func Fragment(text string, spans []Span, maxRunes int) []Piece {
	if maxRunes <= 0 {
		maxRunes = 160
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	spans = cleanSpans(text, spans)

	// The window, in bytes: [ws, we).
	ws, we := 0, len(text)
	if utf8.RuneCountInString(text) > maxRunes {
		anchor, floor := 0, 0
		if len(spans) > 0 {
			anchor, floor = spans[0].Start, spans[0].End
		}
		// Context before the first match: a quarter of the snippet.
		ws = backRunes(text, anchor, maxRunes/4)
		we = fwdRunes(text, ws, maxRunes)
		if we == len(text) { // near the end: use the room before
			ws = backRunes(text, we, maxRunes)
		}
		ws = snapStart(text, ws, anchor)
		we = snapEnd(text, we, max(floor, ws))
	}

	var out []Piece
	add := func(s string, mark bool) {
		if s == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Mark == mark {
			out[n-1].Text += s
			return
		}
		out = append(out, Piece{Text: s, Mark: mark})
	}
	if ws > 0 {
		add(Ellipsis, false)
	}
	pos := ws
	for _, s := range spans {
		if s.End <= ws || s.Start >= we {
			continue
		}
		st, en := max(s.Start, ws), min(s.End, we)
		add(text[pos:st], false)
		add(text[st:en], true)
		pos = en
	}
	add(text[pos:we], false)
	if we < len(text) {
		add(Ellipsis, false)
	}
	return out
}

// cleanSpans clips spans to text, widens them to rune boundaries, drops
// empty ones, sorts and merges.
func cleanSpans(text string, spans []Span) []Span {
	var out []Span
	for _, s := range spans {
		st, en := max(s.Start, 0), min(s.End, len(text))
		if st >= en {
			continue
		}
		for st > 0 && !utf8.RuneStart(text[st]) {
			st--
		}
		for en < len(text) && !utf8.RuneStart(text[en]) {
			en++
		}
		out = append(out, Span{st, en})
	}
	return mergeSpans(out)
}

// backRunes moves n runes back from byte offset i.
func backRunes(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, sz := utf8.DecodeLastRuneInString(s[:i])
		i -= sz
	}
	return i
}

// fwdRunes moves n runes forward from byte offset i.
func fwdRunes(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return i
}

// snapStart moves a window start forward to the beginning of a word, if one
// begins within a few runes and before the anchor.
func snapStart(s string, ws, anchor int) int {
	i := ws
	for k := 0; k < 12 && i < anchor && i < len(s); k++ {
		if i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:i]); unicode.IsSpace(r) {
				return i
			}
		}
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return ws
}

// snapEnd moves a window end back to the end of a word, if one ends within a
// few runes and after floor.
func snapEnd(s string, we, floor int) int {
	if we >= len(s) {
		return len(s)
	}
	i := we
	for k := 0; k < 12 && i > floor; k++ {
		if r, _ := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
			return i
		}
		_, sz := utf8.DecodeLastRuneInString(s[:i])
		i -= sz
	}
	return we
}
