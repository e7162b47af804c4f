package search

import (
	"testing"

	"sendbox/search/corpus"
)

// TestDetectLangCorpus measures detection on the generated corpus, whose
// messages carry their true language. Short replies ("ok") are expected to
// fall back to the default; what matters is that longer messages land in
// their language.
func TestDetectLangCorpus(t *testing.T) {
	t.Parallel()
	c := corpus.New(11, 2000)
	type stat struct{ n, ok, def, wrong int }
	st := map[string]*stat{}
	wrong := map[string]int{}
	c.Messages(20000, func(m *corpus.Message) bool {
		if len(m.Text) < 12 {
			return true
		}
		s := st[m.Lang]
		if s == nil {
			s = &stat{}
			st[m.Lang] = s
		}
		s.n++
		switch got := detectLang(m.Text, "xx"); got {
		case m.Lang:
			s.ok++
		case "xx":
			s.def++
		default:
			s.wrong++
			wrong[m.Lang+"→"+got+": "+m.Text]++
		}
		return true
	})
	for _, l := range corpus.Langs {
		s := st[l]
		acc := float64(s.ok) / float64(s.n)
		t.Logf("%s: %d messages of 12+ bytes: %.1f%% right, %.1f%% default, %.1f%% wrong", l, s.n, 100*acc, 100*float64(s.def)/float64(s.n), 100*float64(s.wrong)/float64(s.n))
		if acc < 0.85 {
			t.Errorf("%s: detection %.1f%% right", l, 100*acc)
		}
	}
	if testing.Verbose() {
		n := 0
		for w := range wrong {
			if n++; n > 40 {
				break
			}
			t.Log(w)
		}
	}
}
