package search

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []clause
	}{
		{"divano verde", []clause{{text: "divano"}, {text: "verde", prefix: true}}},
		{`"velluto verde" divano`, []clause{{text: "velluto verde", phrase: true}, {text: "divano", prefix: true}}},
		{`divano "velluto verde"`, []clause{{text: "divano"}, {text: "velluto verde", phrase: true}}},
		{"vell* ok", []clause{{text: "vell", prefix: true, star: true}, {text: "ok"}}},
		{"v* ok", []clause{{text: "v", star: true}, {text: "ok"}}},
		{"divano -verde", []clause{{text: "divano", prefix: true}, {text: "verde", not: true}}},
		{`-"velluto verde" divano`, []clause{{text: "velluto verde", phrase: true, not: true}, {text: "divano", prefix: true}}},
		{"grazie!!! (AB123CD)", []clause{{text: "grazie"}, {text: "AB123CD", prefix: true}}},
		{"l'école 3C1-807-217", []clause{{text: "l'école"}, {text: "3C1-807-217", prefix: true}}},
		{`“canapé vert”`, []clause{{text: "canapé vert", phrase: true}}},
		{`"unterminated phrase`, []clause{{text: "unterminated phrase", phrase: true}}},
		{`"" *** -- " `, nil},
		{"ok", []clause{{text: "ok"}}},
		{"  \t\n ", nil},
	}
	for _, c := range cases {
		if got := parseQuery(c.in); !slices.Equal(got, c.want) {
			t.Errorf("parseQuery(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
	long := strings.Repeat("parola ", 200)
	if got := parseQuery(long); len(got) != maxClauses {
		t.Errorf("long query: %d clauses", len(got))
	}
}

// FuzzParseQuery feeds garbage to the parser, the query builder and the
// highlighter: no panics, and the clauses keep their invariants.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"divano verde", `"velluto verde"`, "vell*", "-verde", `-"a b"`, "l'école", "3C1-807-217", "+39 333 123",
		`""`, `"`, "***", "--", "\x00\xff\xfe", "é\u0301", "ß", "🛋️ divano", strings.Repeat("a", 600), "a\u200bb",
	} {
		f.Add(s, "Avete il divano in velluto verde? L'école, Öl, AB123CD 3C1 807 217")
	}
	x, err := Open(Options{Dir: f.TempDir(), DefaultLang: "it"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { x.Close() })
	err = x.Apply(context.Background(), &Batch{Messages: fixtureMessages(), Contacts: fixtureContacts(), KB: fixtureKB()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q, text string) {
		cl := parseQuery(q)
		if len(cl) > maxClauses {
			t.Fatalf("%d clauses", len(cl))
		}
		for _, c := range cl {
			if c.text == "" || !utf8.ValidString(c.text) || !hasWordRune(c.text) {
				t.Fatalf("bad clause %+v from %q", c, q)
			}
			if c.not && c.prefix {
				t.Fatalf("excluded prefix %+v", c)
			}
		}
		for _, kinds := range [][]string{nil, {KindMessage, KindContact, KindKB}} {
			_ = x.buildQuery(&Query{Q: q, Kinds: kinds}, cl, nil)
			if _, err := x.Search(context.Background(), Query{Q: q, Kinds: kinds, Facets: true}); err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
		}
		spans := x.Highlight(q, text)
		last := 0
		for _, s := range spans {
			if s.Start < last || s.End <= s.Start || s.End > len(text) {
				t.Fatalf("bad spans %v for %q", spans, text)
			}
			last = s.End
		}
		for _, p := range Fragment(text, spans, 40) {
			if p.Text == "" {
				t.Fatalf("empty piece")
			}
		}
	})
}
