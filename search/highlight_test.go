package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func marked(text string, spans []Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, text[s.Start:s.End])
	}
	return out
}

func TestHighlight(t *testing.T) {
	t.Parallel()
	x := openTest(t)
	cases := []struct {
		name, q, text string
		want          []string
	}{
		{"french elision and accents", "ecole", "L'école de ma fille est fermée", []string{"L'école"}},
		{"french accent in the query", "fermee", "L'école de ma fille est fermée", []string{"fermée"}},
		{"german umlaut", "muller", "Termin bei Frau Müller am Montag", []string{"Müller"}},
		{"german Öl after an emoji", "ol", "🚗 Ich brauche Öl für den Wagen", []string{"Öl"}},
		{"italian plural", "divani", "Avete ancora il divano in velluto verde?", []string{"divano"}},
		{"italian typo", "appuntmento", "Le confermo l'appuntamento di lunedì", []string{"l'appuntamento"}},
		{"italian words", "velluto verde", "Il divano in velluto verde è bello", []string{"velluto", "verde"}},
		{"italian phrase", `"velluto verde"`, "Il divano in velluto verde è bello", []string{"velluto verde"}},
		{"phrase reversed is no match", `"verde velluto"`, "Il divano in velluto verde è bello", nil},
		{"phrase over a stop word", `"mal di denti"`, "Ho un forte mal di denti, potete vedermi?", []string{"mal di denti"}},
		{"stop word not marked", "mal di denti", "Ho un forte mal di denti, potete vedermi?", []string{"mal", "denti"}},
		{"as-you-type prefix", "canap", "Vous avez encore le canapé en velours ?", []string{"canapé"}},
		{"explicit prefix", "vell*", "divano in velluto e velours", []string{"velluto"}},
		{"plate", "ab123cd", "Targa AB123CD, grazie", []string{"AB123CD"}},
		{"part number", "3C1-807-217", "Die Teilenummer ist 3C1 807 217.", []string{"3C1 807 217"}},
		{"spanish accents", "limpieza cancion", "¿Una limpieza y una canción?", []string{"limpieza", "canción"}},
		{"english stemming", "appointment", "I booked two appointments", []string{"appointments"}},
		{"repeated", "grazie", "grazie grazie GRAZIE!", []string{"grazie", "grazie", "GRAZIE"}},
		{"excluded words are not marked", "divano -verde", "divano verde", []string{"divano"}},
		{"nothing", "sofa", "Il divano in velluto verde", nil},
		{"empty query", "", "Il divano", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spans := x.Highlight(c.q, c.text)
			if got := marked(c.text, spans); !slices.Equal(got, c.want) {
				t.Errorf("Highlight(%q, %q) marks %q, want %q", c.q, c.text, got, c.want)
			}
			for _, s := range spans {
				if !utf8.RuneStart(c.text[s.Start]) || (s.End < len(c.text) && !utf8.RuneStart(c.text[s.End])) {
					t.Errorf("span %v splits a rune", s)
				}
			}
		})
	}
	// Contact fields: no stemming, no stop words.
	if got := marked("Jürgen Müller", x.HighlightName("jurgen", "Jürgen Müller")); !slices.Equal(got, []string{"Jürgen"}) {
		t.Errorf("HighlightName: %q", got)
	}
	// A known language skips detection.
	if got := marked("canapé", x.HighlightLang("canape", "canapé", "fr")); !slices.Equal(got, []string{"canapé"}) {
		t.Errorf("HighlightLang: %q", got)
	}
}

func render(ps []Piece) string {
	var sb strings.Builder
	for _, p := range ps {
		if p.Mark {
			sb.WriteString("[" + p.Text + "]")
		} else {
			sb.WriteString(p.Text)
		}
	}
	return sb.String()
}

func TestFragment(t *testing.T) {
	t.Parallel()
	x := openTest(t)
	short := "Avete ancora il divano in velluto verde?"
	if got := render(Fragment(short, x.Highlight("velluto", short), 100)); got != "Avete ancora il divano in [velluto] verde?" {
		t.Errorf("short: %s", got)
	}
	long := strings.Repeat("Buongiorno a tutti, scrivo per una domanda. ", 8) +
		"Avete ancora il divano in velluto verde che ho visto in vetrina? " +
		strings.Repeat("Grazie mille e buona giornata a voi. ", 8)
	got := render(Fragment(long, x.Highlight(`"velluto verde"`, long), 60))
	if !strings.Contains(got, "[velluto verde]") || !strings.HasPrefix(got, Ellipsis) || !strings.HasSuffix(got, Ellipsis) {
		t.Errorf("long: %s", got)
	}
	if n := utf8.RuneCountInString(got); n > 60+2 {
		t.Errorf("long: %d runes: %s", n, got)
	}
	// A match near the end keeps the room before it.
	end := strings.Repeat("parole senza senso ", 20) + "il canapé"
	got = render(Fragment(end, x.Highlight("canape", end), 40))
	if !strings.HasSuffix(got, "[canapé]") || !strings.HasPrefix(got, Ellipsis) {
		t.Errorf("end: %s", got)
	}
	// No spans: the start of the text.
	if got := render(Fragment(long, nil, 30)); !strings.HasPrefix(got, "Buongiorno") || !strings.HasSuffix(got, Ellipsis) {
		t.Errorf("no spans: %s", got)
	}
	// Garbage spans never panic nor split runes.
	text := "Öl für Müller ☕ ok"
	for _, spans := range [][]Span{
		{{-5, 2}}, {{1, 2}}, {{3, 1}}, {{0, 1000}}, {{5, 6}, {2, 9}, {100, 200}}, {{len(text) - 1, len(text)}},
	} {
		for _, ps := range [][]Piece{Fragment(text, spans, 5), Fragment(text, spans, 0), Fragment(text, spans, 1000)} {
			for _, p := range ps {
				if !utf8.ValidString(p.Text) {
					t.Errorf("spans %v: piece %q not valid UTF-8", spans, p.Text)
				}
			}
		}
		if got := render(Fragment(text, spans, 1000)); strings.NewReplacer("[", "", "]", "").Replace(got) != text {
			t.Errorf("spans %v: %q", spans, got)
		}
	}
}
