package search

import (
	"context"
	"testing"
)

func TestCoverage(t *testing.T) {
	x := openTest(t)
	for _, c := range []struct {
		question, text string
		matched, total int
	}{
		// Stop words are left out; plurals and a typo still match.
		{"Quanto costa la pulizia dei denti?", "Le pulizie dei denti costano 80 euro.", 2, 3}, // costa/costano: the light stemmer keeps verbs apart
		{"Quanto costa la pulizia dei denti?", "La pulizia del dente costa 80 euro.", 3, 3},
		{"How much does a profesional cleaning cost?", "At the clinic a professional cleaning of the teeth costs 80 euros and it takes about 45 minutes.", 3, 4},
		{"Avez-vous un parking ?", "Le parking est gratuit pour les patients.", 1, 1},
		{"Do you sell concert tickets?", "At the clinic a professional cleaning of the teeth costs 80 euros and it takes about 45 minutes.", 0, 3},
		{"???", "anything", 0, 0},
	} {
		m, n := x.Coverage(c.question, c.text)
		if m != c.matched || n != c.total {
			t.Errorf("Coverage(%q, %q) = %d/%d, want %d/%d", c.question, c.text, m, n, c.matched, c.total)
		}
	}
}

func TestAnyMatchesSomeWords(t *testing.T) {
	x := fixtureIndex(t)
	ctx := context.Background()
	q := "How much is a cleaning with the hygienist?"
	all, err := x.Search(ctx, Query{Q: q, Kinds: []string{KindKB}})
	if err != nil {
		t.Fatal(err)
	}
	any, err := x.Search(ctx, Query{Q: q, Kinds: []string{KindKB}, Any: true})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 0 || any.Total != 1 || any.Hits[0].KBID != "6-0" {
		t.Errorf("every word: %d hits; any word: %d hits %+v", all.Total, any.Total, any.Hits)
	}
}
