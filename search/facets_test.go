package search

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestFacetTerms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    byte
		v    string
		term string
	}{
		{pStatus, "resolved", "Sr"}, {pStatus, "waiting", "S~waiting"}, {pDir, "inbound", "Di"},
		{pType, "interactive", "Tb"}, {pType, "poll", "T~poll"}, {pType, "", "T~"},
		{pLabel, "35", "Lz"}, {pDay, "20512", "Yfts"},
	}
	for _, c := range cases {
		v := c.v
		if c.p == pLabel || c.p == pDay {
			v = base36(c.v)
		}
		term := facetTerm(c.p, v)
		if term != c.term {
			t.Errorf("facetTerm(%c, %q) = %q, want %q", c.p, c.v, term, c.term)
		}
		if p, got, ok := facetValue(term); !ok || p != c.p || got != c.v {
			t.Errorf("facetValue(%q) = %c %q %v", term, p, got, ok)
		}
	}
	for _, bad := range []string{"", "S", "Sx", "Lzz!", "Y~"} {
		if p, v, ok := facetValue(bad); ok && (p == pDay || p == pLabel || v == "") {
			t.Errorf("facetValue(%q) = %c %q", bad, p, v)
		}
	}
}

func base36(s string) string {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return itoa36(n)
}

func TestUnknownFacetValues(t *testing.T) {
	t.Parallel()
	x := openTest(t)
	m := msg(1, 1, 1, "sondaggio del sabato", typ("poll"), status("waiting"), labels(1000))
	if err := x.Apply(context.Background(), &Batch{Messages: []Message{m}}); err != nil {
		t.Fatal(err)
	}
	r := mustSearch(t, x, Query{Q: "sondaggio", MessageType: "poll", Status: "waiting", LabelID: 1000, Facets: true})
	if got := keys(r); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("filters on unknown values: %v", got)
	}
	for facet, want := range map[string]string{FacetType: "poll", FacetStatus: "waiting", FacetLabel: "1000", FacetDirection: "inbound"} {
		if f := r.Facets[facet]; len(f) != 1 || f[0].Term != want || f[0].Count != 1 {
			t.Errorf("facet %s: %v", facet, f)
		}
	}
}

func TestTSTermOrder(t *testing.T) {
	t.Parallel()
	prev := ""
	for _, s := range []int64{0, 1, 63, 64, 1_000_000_000, 1_700_000_000, 1_700_000_001, 1 << 35} {
		ts := tsTerm(time.Unix(s, 0))
		if len(ts) != 6 || ts <= prev {
			t.Errorf("tsTerm(%d) = %q after %q", s, ts, prev)
		}
		prev = ts
	}
}
