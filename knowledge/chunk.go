package knowledge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Chunk sizes, in characters. A passage of about a paragraph is what a
// customer's question matches best and what a small model reads well.
const (
	ChunkTarget = 700
	ChunkMax    = 1000
	// chunkMin keeps a short tail from being a passage of its own.
	chunkMin = 200
)

// Passage is one chunk of a document: the heading it sits under and its text.
type Passage struct {
	Heading string
	Text    string
}

// Chunk splits a document's text into passages of about ChunkTarget
// characters. It cuts between paragraphs where it can, then between
// sentences, and never inside a word; a passage never spans two sections,
// and a section cut into several passages repeats its last sentence at the
// start of the next, so an answer that straddles the cut is still found.
func Chunk(text string) []Passage {
	var out []Passage
	for _, sec := range sections(text) {
		out = append(out, chunkSection(sec.heading, sec.paras)...)
	}
	return out
}

type section struct {
	heading string
	paras   []string
}

// sections groups paragraphs under the "# " heading lines Extract writes.
func sections(text string) []section {
	var out []section
	cur := section{}
	var para []string
	flush := func() {
		if p := strings.TrimSpace(strings.Join(para, "\n")); p != "" {
			cur.paras = append(cur.paras, p)
		}
		para = nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if h, ok := strings.CutPrefix(line, "# "); ok {
			flush()
			if len(cur.paras) > 0 {
				out = append(out, cur)
			}
			cur = section{heading: strings.TrimSpace(h)}
			continue
		}
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		para = append(para, strings.TrimSpace(line))
	}
	flush()
	if len(cur.paras) > 0 {
		out = append(out, cur)
	}
	return out
}

func chunkSection(heading string, paras []string) []Passage {
	// Units are paragraphs, or the sentences of a paragraph too long to keep whole.
	var units []string
	for _, p := range paras {
		if utf8.RuneCountInString(p) <= ChunkMax {
			units = append(units, p)
			continue
		}
		units = append(units, splitLong(p)...)
	}
	var out []Passage
	var cur []string
	size := 0
	emit := func() {
		if len(cur) > 0 {
			out = append(out, Passage{Heading: heading, Text: strings.Join(cur, "\n\n")})
		}
	}
	for _, u := range units {
		n := utf8.RuneCountInString(u)
		if size > 0 && size+n > ChunkTarget && size >= chunkMin || size+n > ChunkMax {
			emit()
			// Overlap: the next passage starts with the last sentence of this one.
			last := lastSentence(cur[len(cur)-1])
			cur, size = nil, 0
			if ln := utf8.RuneCountInString(last); last != "" && ln+n <= ChunkMax && ln < ChunkTarget/3 {
				cur, size = []string{last}, ln
			}
		}
		cur = append(cur, u)
		size += n
	}
	emit()
	return out
}

// splitLong cuts a long paragraph into pieces of at most ChunkMax
// characters at sentence ends, or at spaces for a sentence that long.
func splitLong(p string) []string {
	var out []string
	var cur strings.Builder
	for _, s := range sentences(p) {
		for utf8.RuneCountInString(s) > ChunkMax {
			head, tail := cutWords(s, ChunkTarget)
			if cur.Len() > 0 {
				out = append(out, strings.TrimSpace(cur.String()))
				cur.Reset()
			}
			out = append(out, head)
			s = tail
		}
		if utf8.RuneCountInString(cur.String())+utf8.RuneCountInString(s) > ChunkTarget && cur.Len() > 0 {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(s)
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// cutWords cuts s at the last space before max characters.
func cutWords(s string, max int) (head, tail string) {
	cut, n := len(s), 0
	for i := range s {
		if n == max {
			cut = i
			break
		}
		n++
	}
	if sp := strings.LastIndexFunc(s[:cut], unicode.IsSpace); sp > 0 {
		cut = sp
	}
	return strings.TrimSpace(s[:cut]), strings.TrimSpace(s[cut:])
}

// sentences splits text after '.', '!', '?' or '…' followed by a space and
// an upper-case letter, a digit or an opening mark, so "e.g. this" and
// "3.5 kg" stay whole.
func sentences(p string) []string {
	var out []string
	start := 0
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		if !strings.ContainsRune(".!?…", rs[i]) || i+2 >= len(rs) || rs[i+1] != ' ' {
			continue
		}
		next := rs[i+2]
		if unicode.IsUpper(next) || unicode.IsDigit(next) || strings.ContainsRune("\"'«¿¡(", next) {
			out = append(out, strings.TrimSpace(string(rs[start:i+1])))
			start = i + 2
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

func lastSentence(p string) string {
	s := sentences(p)
	if len(s) < 2 {
		return ""
	}
	return s[len(s)-1]
}
