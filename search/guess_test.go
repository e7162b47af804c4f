package search

import (
	"testing"

	"sendbox/search/corpus"
)

// A conversation's language follows what the customer writes, but a word
// or two must not move it: "ok", "STOP", an emoji or a "grazie" in an
// otherwise French conversation.
func TestGuessLang(t *testing.T) {
	t.Parallel()
	cases := []struct {
		text, lang string
		sure       bool
	}{
		{"ok", "", false},
		{"OK 👍", "", false},
		{"STOP", "", false},
		{"🙏🙏", "", false},
		{"", "", false},
		{"AB123CD", "", false},
		{"grazie", "it", false},
		{"merci beaucoup", "fr", false},
		{"Grazie mille, a presto", "it", false},
		{"Siete aperti sabato?", "it", false},
		{"Quali sono gli orari di apertura?", "it", true},
		{"Vorrei prenotare un appuntamento per la pulizia", "it", true},
		{"Bonjour, je voudrais savoir si vous êtes ouverts samedi", "fr", true},
		{"Do you still have the green sofa in stock?", "en", true},
		{"¿Cuánto cuesta la limpieza dental?", "es", true},
		{"Ich möchte einen Termin für die Reinigung", "de", true},
	}
	for _, c := range cases {
		if g := GuessLang(c.text); g.Lang != c.lang || g.Sure != c.sure {
			t.Errorf("GuessLang(%q) = %+v, want %s sure=%v (votes %v)", c.text, g, c.lang, c.sure, langVotes(c.text))
		}
	}
}

// A Sure guess moves a conversation to another language, so it must be
// right: on the corpus, whose messages carry their true language, a Sure
// guess is wrong at most once in 500, and most messages of a sentence or
// more are Sure.
func TestGuessCorpus(t *testing.T) {
	t.Parallel()
	c := corpus.New(11, 2000)
	var n, sure, wrong, long, longSure int
	c.Messages(20000, func(m *corpus.Message) bool {
		n++
		g := GuessLang(m.Text)
		if len(m.Text) >= 40 {
			long++
			if g.Sure {
				longSure++
			}
		}
		if !g.Sure {
			return true
		}
		sure++
		if g.Lang != m.Lang {
			wrong++
			if wrong <= 10 {
				t.Logf("%s taken for %s: %q", m.Lang, g.Lang, m.Text)
			}
		}
		return true
	})
	t.Logf("%d messages: %d sure (%.1f%%), %d of them wrong; %.1f%% of those of 40+ bytes sure",
		n, sure, 100*float64(sure)/float64(n), wrong, 100*float64(longSure)/float64(long))
	if float64(wrong) > float64(sure)/500 {
		t.Errorf("%d wrong of %d sure guesses", wrong, sure)
	}
	if float64(longSure) < 0.8*float64(long) {
		t.Errorf("only %d of %d messages of 40+ bytes are sure", longSure, long)
	}
}

// GuessLang runs at ingest for every customer message with text.
func BenchmarkGuessLang(b *testing.B) {
	var texts []string
	corpus.New(11, 200).Messages(1000, func(m *corpus.Message) bool {
		texts = append(texts, m.Text)
		return true
	})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		GuessLang(texts[i%len(texts)])
	}
}
