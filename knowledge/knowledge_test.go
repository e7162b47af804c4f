package knowledge

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"sendbox/sendboxtest/testpdf"
)

func TestChunkKeepsSectionsAndSize(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("# Opening hours\nWe are open Monday to Friday from 9 to 18. On Saturday we open from 9 to 13.\n\n")
	doc.WriteString("# Prices\n")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&doc, "Treatment number %d costs %d euros and takes about %d minutes. ", i, 50+i*10, 20+i)
		if i%5 == 4 {
			doc.WriteString("\n\n")
		}
	}
	doc.WriteString("\n# Contact\nCall us.")
	ps := Chunk(doc.String())
	if len(ps) < 4 {
		t.Fatalf("want several passages, got %d: %+v", len(ps), ps)
	}
	if ps[0].Heading != "Opening hours" || !strings.Contains(ps[0].Text, "Saturday") {
		t.Errorf("first passage: %+v", ps[0])
	}
	if last := ps[len(ps)-1]; last.Heading != "Contact" || last.Text != "Call us." {
		t.Errorf("a short section stays its own passage: %+v", last)
	}
	prices := 0
	for i, p := range ps {
		if n := utf8.RuneCountInString(p.Text); n > ChunkMax {
			t.Errorf("passage %d has %d runes, over %d", i, n, ChunkMax)
		}
		if strings.Contains(p.Text, "Call us") && p.Heading != "Contact" {
			t.Errorf("a passage spans two sections: %+v", p)
		}
		if p.Heading == "Prices" {
			prices++
			if prices > 1 && !strings.HasPrefix(p.Text, "Treatment number") {
				t.Errorf("passage %d does not start on a sentence: %q", i, p.Text[:40])
			}
		}
	}
	// Consecutive Prices passages overlap by a sentence.
	for i := 1; i < len(ps); i++ {
		if ps[i].Heading != "Prices" || ps[i-1].Heading != "Prices" {
			continue
		}
		first := sentences(strings.SplitN(ps[i].Text, "\n\n", 2)[0])[0]
		if !strings.Contains(ps[i-1].Text, first) {
			t.Errorf("passage %d does not repeat the previous passage's last sentence %q", i, first)
		}
	}
}

func TestChunkLongSentenceIsCutAtWords(t *testing.T) {
	long := strings.Repeat("parola ", 400) // one 2,800-character "sentence"
	for _, p := range Chunk(long) {
		if utf8.RuneCountInString(p.Text) > ChunkMax {
			t.Fatalf("passage over the limit: %d", utf8.RuneCountInString(p.Text))
		}
		if strings.HasPrefix(p.Text, "arola") || strings.HasSuffix(p.Text, "paro") {
			t.Fatalf("cut inside a word: %q…", p.Text[:20])
		}
	}
}

func TestSentencesKeepAbbreviationsAndNumbers(t *testing.T) {
	got := sentences("Il prezzo è 3.5 euro, e.g. per una pulizia. Poi c'è altro! Va bene?")
	want := []string{"Il prezzo è 3.5 euro, e.g. per una pulizia.", "Poi c'è altro!", "Va bene?"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sentences = %q, want %q", got, want)
	}
}

func TestExtractFormats(t *testing.T) {
	md := "# Listino\n\nLa **pulizia** costa [80 euro](https://x.it/prezzi).\n\n- Sbiancamento 200 €\n\n```\ncode stays\n```"
	title, text, err := Extract("listino.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Listino" || !strings.Contains(text, "La pulizia costa 80 euro (https://x.it/prezzi).") ||
		!strings.Contains(text, "• Sbiancamento 200 €") || !strings.Contains(text, "code stays") {
		t.Errorf("markdown: %q %q", title, text)
	}

	page := `<html><head><title>Orari</title><style>p{}</style><script>alert(1)</script></head>
		<body><nav>Home | About</nav><h1>Quando siamo aperti</h1><p>Dal lunedì al venerdì, 9–18.</p><ul><li>Sabato 9–13</li></ul></body></html>`
	title, text, err = Extract("orari.html", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Orari" || !strings.Contains(text, "# Quando siamo aperti") || !strings.Contains(text, "Dal lunedì al venerdì, 9–18.") ||
		!strings.Contains(text, "• Sabato 9–13") || strings.Contains(text, "alert") || strings.Contains(text, "Home | About") {
		t.Errorf("html: %q %q", title, text)
	}

	title, text, err = Extract("faq.pdf", testpdf.Minimal("Opening hours: Monday to Friday 9 to 18"))
	if err != nil {
		t.Fatal(err)
	}
	if title != "faq" || !strings.Contains(text, "Opening hours: Monday to Friday 9 to 18") {
		t.Errorf("pdf: %q %q", title, text)
	}

	for name, data := range map[string][]byte{
		"x.docx":    []byte("PK..."),
		"bad.pdf":   []byte("%PDF-1.4 not really"),
		"empty.txt": []byte("  \n "),
		"latin.txt": {0xff, 0xfe, 0x41},
	} {
		if _, _, err := Extract(name, data); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, _, err := Extract("big.txt", bytes.Repeat([]byte("a"), MaxUpload+1)); err == nil {
		t.Error("an upload over the limit is refused")
	}
}

func TestVectors(t *testing.T) {
	v := Normalize([]float32{3, 4})
	if math.Abs(float64(v[0])-0.6) > 1e-6 || math.Abs(float64(v[1])-0.8) > 1e-6 {
		t.Errorf("normalize: %v", v)
	}
	back, err := DecodeVector(EncodeVector(v))
	if err != nil || back[0] != v[0] || back[1] != v[1] {
		t.Errorf("round trip: %v %v", back, err)
	}
	if _, err := DecodeVector([]byte{1, 2, 3}); err == nil {
		t.Error("a truncated vector is an error")
	}
	if d := Dot([]float32{1, 0}, []float32{0, 1}); d != 0 {
		t.Errorf("orthogonal dot = %v", d)
	}
	top := TopK(Normalize([]float32{1, 1}), []int64{7, 8, 9},
		[][]float32{Normalize([]float32{1, 0}), Normalize([]float32{1, 1}), Normalize([]float32{-1, 0})}, 2)
	if len(top) != 2 || top[0].ID != 8 || top[1].ID != 7 {
		t.Errorf("topk: %+v", top)
	}
}

func TestFuseFavoursAgreement(t *testing.T) {
	words := []Ranked{{ID: 1}, {ID: 2}, {ID: 3}}
	meaning := []Ranked{{ID: 3}, {ID: 4}, {ID: 1}}
	got := Fuse(words, meaning)
	if len(got) != 4 || got[0].ID != 1 || got[1].ID != 3 {
		t.Errorf("fused: %+v", got)
	}
	if alone := Fuse(words); alone[0].ID != 1 || alone[2].ID != 3 {
		t.Errorf("one ranking keeps its order: %+v", alone)
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("a.pdf", testpdf.Minimal("hello"))
	f.Add("a.html", []byte("<p>hi<script>x</script>"))
	f.Add("a.md", []byte("# t\n**b** [l](u)"))
	pdfTimeout = 2 * time.Second
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		for _, ext := range []string{".pdf", ".html", ".md", ".txt"} {
			_, text, err := Extract("f"+ext, data)
			if err == nil && !utf8.ValidString(text) {
				t.Fatalf("%s: invalid UTF-8 text", ext)
			}
			if err == nil {
				Chunk(text)
			}
		}
	})
}

func TestMain(m *testing.M) {
	RunChild()
	os.Exit(m.Run())
}

func TestPDFThatLoopsIsRefusedInTime(t *testing.T) {
	// A page tree whose Pages node lists itself as its kid: the PDF library
	// loops forever on it. The child process is killed; the caller gets an error.
	bad := bytes.Replace(testpdf.Minimal("hello"), []byte("/Kids [3 0 R]"), []byte("/Kids [2 0 R]"), 1)
	defer func(d time.Duration) { pdfTimeout = d }(pdfTimeout)
	pdfTimeout = 2 * time.Second
	start := time.Now()
	_, _, err := Extract("loop.pdf", bad)
	if err == nil || !strings.Contains(err.Error(), "could not be read") {
		t.Fatalf("want a refusal, got %v", err)
	}
	if d := time.Since(start); d > pdfTimeout+5*time.Second {
		t.Errorf("took %s", d)
	}
}
