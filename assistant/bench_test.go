package assistant_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sendbox/llm"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// instantModel answers at once: what a bot turn costs around the model is
// what the benchmark measures.
type instantModel struct{}

func (instantModel) Online() bool { return true }
func (instantModel) Chat(_ context.Context, req llm.ChatRequest, _ func(string)) (llm.ChatResult, error) {
	if strings.Contains(string(req.Format), `"escalate"`) {
		return llm.ChatResult{Content: `{"escalate":false,"category":"none","evidence":""}`, Model: req.Model}, nil
	}
	return llm.ChatResult{Content: `{"answer":"A cleaning costs 80 euros.","supported":true,"sources":[1]}`, Model: req.Model}, nil
}

var benchWords = strings.Fields(`cleaning whitening filling implant crown braces visit check price euros appointment hours
parking payment instalments anaesthesia x-ray sofa velvet delivery assembly warranty showroom order tracking
cream serum perfume sample skin brake filter oil plate compatibility quote shipping battery tyre clutch`)

// BenchmarkBotTurn measures a whole assistant turn (load the message and
// conversation, retrieve over 2,000 passages, classify, prompt, answer,
// queue the reply, record it) with an instant model, so the figure is the
// turn's own cost, the model's excluded.
//
//	go test -run '^$' -bench BenchmarkBotTurn -benchtime 300x ./assistant
func BenchmarkBotTurn(b *testing.B) {
	a := sendboxtest.New(b) // the assistant's consumers stopped: the benchmark calls Turn
	a.Assistant.Model = instantModel{}
	s := a.Assistant.Settings()
	s.ChatModel = "instant"
	if err := a.Assistant.SaveSettings(bg, s); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	sentence := func() string {
		w := make([]string, 12)
		for i := range w {
			w[i] = benchWords[r.IntN(len(benchWords))]
		}
		return strings.Join(w, " ") + "."
	}
	passages := 0
	for d := 0; passages < 2000; d++ {
		var doc strings.Builder
		for sec := 0; sec < 4; sec++ {
			fmt.Fprintf(&doc, "# Section %d\n", sec)
			for p := 0; p < 10; p++ {
				doc.WriteString(sentence() + " ")
			}
			doc.WriteString("\n\n")
		}
		dd, err := a.KB.SaveDocument(bg, 0, fmt.Sprintf("Guide %d", d), doc.String(), "", 0)
		if err != nil {
			b.Fatal(err)
		}
		cs, _ := a.Store.KBChunksOfDocs(bg, []int64{dd.ID})
		passages += len(cs)
	}
	sendboxtest.Eventually(b, 60*time.Second, "the knowledge to be indexed", func() bool {
		return a.Search.Stats().KB >= uint64(passages)
	})
	msgs := make([]*store.Message, b.N)
	for i := range msgs {
		from := fmt.Sprintf("39333%07d", i)
		code, resp := a.Do("POST", "/api/v1/sandbox/inbound", map[string]any{"from": from, "type": "text",
			"text": map[string]string{"body": "How much does " + benchWords[i%len(benchWords)] + " cost, and the price of a visit?"}})
		if code != http.StatusCreated {
			b.Fatalf("%d %s", code, resp)
		}
		wamid := sendboxtest.JSON[struct{ Data struct{ WAMID string } }](b, resp).Data.WAMID
		sendboxtest.Eventually(b, 20*time.Second, "the message to be stored", func() bool {
			m, err := a.Store.MessageByWAMID(bg, wamid)
			msgs[i] = m
			return err == nil
		})
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := a.Assistant.Turn(bg, msgs[i].ID); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		b.StopTimer()
		rep, err := a.Store.AIReplyFor(bg, msgs[i].ID)
		if err != nil || rep.Outcome != store.AIAnswered {
			b.Fatalf("turn %d: %+v %v", i, rep, err)
		}
		lat = append(lat, d-rep.ModelTime)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(passages), "passages")
}
