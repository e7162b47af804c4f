package knowledge

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sendbox/search"
	"sendbox/store"
)

// A knowledge base of a size a busy business reaches: documents in the five
// languages about the four kinds of business sendbox serves, cut into
// about 2,000 passages.
var benchTopics = []struct {
	lang  string
	words []string
}{
	{"it", strings.Fields("pulizia dentale igiene sbiancamento otturazione carie impianto corona apparecchio ortodonzia visita controllo prezzo euro appuntamento orari parcheggio pagamento rate anestesia dolore urgenza radiografia")},
	{"en", strings.Fields("sofa velvet fabric leather delivery assembly warranty showroom visit dimensions price discount order tracking return refund colour oak table chair mattress")},
	{"fr", strings.Fields("crème visage sérum rouge lèvres parfum livraison commande retour échantillon peau sèche grasse sensible remboursement promotion fidélité flacon ingrédients")},
	{"es", strings.Fields("pastillas freno filtro aceite matrícula bastidor compatibilidad presupuesto pedido envío garantía recambio motor batería neumático embrague taller devolución")},
	{"de", strings.Fields("Termin Praxis Öffnungszeiten Zahnreinigung Krankenkasse Rechnung Zahlung Parkplatz Behandlung Kontrolle Notfall Schmerzen Kosten Füllung Krone Bleaching Beratung")},
}

func benchSentence(r *rand.Rand, words []string) string {
	n := 8 + r.IntN(10)
	out := make([]string, n)
	for i := range out {
		out[i] = words[r.IntN(len(words))]
	}
	out[0] = strings.ToUpper(out[0][:1]) + out[0][1:]
	return strings.Join(out, " ") + fmt.Sprintf(" %d.", r.IntN(500))
}

// hashEmbedder is an instant stand-in for an embedding model: a bag of
// hashed words, so similar texts get similar vectors. Retrieval's own cost
// is what the benchmark measures; the model's is excluded as the issue asks.
type hashEmbedder struct{ dim int }

func (h hashEmbedder) Online() bool { return true }
func (h hashEmbedder) Embed(_ context.Context, _ string, in []string) ([][]float32, error) {
	out := make([][]float32, len(in))
	for i, s := range in {
		v := make([]float32, h.dim)
		for _, w := range strings.Fields(strings.ToLower(s)) {
			f := fnv.New32a()
			f.Write([]byte(w))
			v[f.Sum32()%uint32(h.dim)] += 1
		}
		out[i] = Normalize(v)
	}
	return out, nil
}

func benchBase(b *testing.B, passages int, embed bool) (*Base, []string) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	idx, err := search.Open(search.Options{Dir: filepath.Join(dir, "search"), DefaultLang: "en"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { idx.Close() })
	kb := &Base{Store: st, Index: idx}
	if embed {
		kb.Embedder, kb.EmbedModel = hashEmbedder{dim: 768}, func() string { return "hash-768" }
	}
	r := rand.New(rand.NewPCG(1, 2))
	var questions []string
	for n := 0; n < passages; {
		topic := benchTopics[n%len(benchTopics)]
		var doc strings.Builder
		for s := 0; s < 4; s++ {
			fmt.Fprintf(&doc, "# %s %d\n", topic.words[r.IntN(len(topic.words))], s)
			for p := 0; p < 2; p++ {
				for k := 0; k < 5; k++ {
					doc.WriteString(benchSentence(r, topic.words) + " ")
				}
				doc.WriteString("\n\n")
			}
		}
		d, err := kb.SaveDocument(ctx, 0, fmt.Sprintf("Guide %d (%s)", n, topic.lang), doc.String(), "", 0)
		if err != nil {
			b.Fatal(err)
		}
		chunks, _ := st.KBChunksOfDocs(ctx, []int64{d.ID})
		n += len(chunks)
		if len(questions) < 40 {
			q := topic.words[r.IntN(len(topic.words))] + " " + topic.words[r.IntN(len(topic.words))] + "?"
			questions = append(questions, "Vorrei sapere "+q, q)
		}
	}
	var batch search.Batch
	for after := int64(0); ; {
		cs, err := st.IndexKB(ctx, after, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			batch.KB = append(batch.KB, SearchDoc(c))
		}
		after = cs[len(cs)-1].ID
	}
	if err := idx.Apply(ctx, &batch); err != nil {
		b.Fatal(err)
	}
	if embed {
		if err := kb.EmbedPending(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if n, _ := st.CountKB(ctx); n < passages {
		b.Fatalf("%d passages", n)
	}
	return kb, questions
}

// BenchmarkRetrieve measures retrieval over 2,000 passages, by words and by
// words plus meaning (768-dimension vectors, the model's time excluded).
//
//	go test -run '^$' -bench BenchmarkRetrieve -benchtime 2000x ./knowledge
func BenchmarkRetrieve(b *testing.B) {
	for _, embed := range []bool{false, true} {
		name := "words"
		if embed {
			name = "words+meaning"
		}
		b.Run(name, func(b *testing.B) {
			kb, questions := benchBase(b, 2000, embed)
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := kb.Retrieve(ctx, questions[i%len(questions)], 4)
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Hits) == 0 {
					b.Fatalf("nothing for %q", questions[i%len(questions)])
				}
				lat = append(lat, r.Took-r.EmbedTime)
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
