package knowledge

import (
	"context"
	"fmt"
	"math"
	"time"

	"sendbox/search"
	"sendbox/store"
)

// Hit is one retrieved passage.
type Hit struct {
	Chunk store.KBChunk
	Score float64 // the fused rank score: higher is better
	// Matched of Words content words of the question are in the passage.
	Matched, Words int
	// Similarity is the cosine between the question and the passage, when
	// retrieved by meaning.
	Similarity float64
	Via        string // words, meaning or both
}

// Coverage is the share of the question's content words the passage has.
func (h Hit) Coverage() float64 {
	if h.Words == 0 {
		return 0
	}
	return float64(h.Matched) / float64(h.Words)
}

// Relevant reports whether the passage may go to the model at all: close
// in meaning, or sharing a third of the question's content words. A
// question that only shares "you" or "price" with a passage is not answered
// from it.
func (h Hit) Relevant() bool {
	return h.Via != "words" || h.Coverage() >= 1.0/3
}

// Strong reports whether the passage answers to the question well enough to
// be quoted as it is, with no model to read it: most of the question's
// content words, and at least two of them unless the question has one.
func (h Hit) Strong() bool {
	if h.Words == 0 {
		return false
	}
	need := 2
	if h.Words == 1 {
		need = 1
	}
	return h.Matched >= need && h.Coverage() >= 0.6
}

// Retrieval is what Retrieve found.
type Retrieval struct {
	Hits      []Hit
	ByWords   int           // passages the word search returned
	ByMeaning int           // passages close enough in meaning
	Model     string        // the embedding model used, "" if none
	EmbedTime time.Duration // the model's time to embed the question
	Took      time.Duration // all of it
}

// Best is the first hit, or a zero Hit.
// Relevant returns the hits relevant enough to answer from, best first.
func (r *Retrieval) Relevant() []Hit {
	var out []Hit
	for _, h := range r.Hits {
		if h.Relevant() {
			out = append(out, h)
		}
	}
	return out
}

func (r *Retrieval) Best() Hit {
	if len(r.Hits) == 0 {
		return Hit{}
	}
	return r.Hits[0]
}

// candidates is how many passages each ranking contributes before fusion.
const candidates = 20

// meaningZ is how far above the typical similarity, in standard deviations,
// a passage must be to count as close in meaning without sharing a word.
// Embedding models differ in their scale (unrelated texts score 0.3 with
// one and 0.8 with another), so an absolute threshold would suit none; a
// passage that stands out from the whole knowledge base suits all.
const meaningZ = 2.5

// nearSame is the similarity at which a passage counts whatever the rest.
const nearSame = 0.97

// Retrieve finds the k passages that best answer a question, for a
// customer who speaks the question's language: RetrieveIn with the
// language search detects in it.
func (b *Base) Retrieve(ctx context.Context, question string, k int) (*Retrieval, error) {
	return b.RetrieveIn(ctx, question, b.Index.Lang(question), k)
}

// RetrieveIn finds the k passages that best answer a question: by words
// (bleve, in the question's language, any of the words) and, when an
// embedding model is set and reachable, by meaning; the two rankings are
// fused by reciprocal rank. Passages found only by meaning must stand out
// (see meaningZ), so a question the knowledge does not cover retrieves
// nothing rather than the least unrelated passages. Passages written for
// customers of another language than lang (the business profile is
// written in each of the five) are left out.
func (b *Base) RetrieveIn(ctx context.Context, question, lang string, k int) (*Retrieval, error) {
	start := time.Now()
	out := &Retrieval{}
	res, err := b.Index.Search(ctx, search.Query{Q: question, Kinds: []string{search.KindKB}, Any: true, Limit: candidates})
	if err != nil {
		return nil, fmt.Errorf("search the knowledge: %w", err)
	}
	var words []Ranked
	for _, h := range res.Hits {
		if id, err := ParseChunkID(h.KBID); err == nil {
			words = append(words, Ranked{ID: id, Score: h.Score})
		}
	}
	out.ByWords = len(words)
	meaning, sims, err := b.byMeaning(ctx, question, out)
	if err != nil {
		b.log().Warn("retrieval by meaning failed; using words alone", "err", err)
	}
	out.ByMeaning = len(meaning)
	fused := Fuse(words, meaning)
	ids := make([]int64, len(fused))
	for i, f := range fused {
		ids[i] = f.ID
	}
	chunks, err := b.Store.KBChunks(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]store.KBChunk, len(chunks))
	for _, c := range chunks {
		byID[c.ID] = c
	}
	inWords := map[int64]bool{}
	for _, w := range words {
		inWords[w.ID] = true
	}
	for _, f := range fused {
		if len(out.Hits) == k {
			break
		}
		c, ok := byID[f.ID]
		if !ok {
			continue // removed since it was indexed
		}
		if c.Lang != "" && c.Lang != lang {
			continue // the same facts are there in lang
		}
		h := Hit{Chunk: c, Score: f.Score}
		h.Matched, h.Words = b.Index.Coverage(question, c.Title+"\n"+c.Heading+"\n"+c.Text)
		sim, bySense := sims[f.ID]
		h.Similarity = sim
		switch {
		case inWords[f.ID] && bySense:
			h.Via = "both"
		case bySense:
			h.Via = "meaning"
		default:
			h.Via = "words"
		}
		out.Hits = append(out.Hits, h)
	}
	out.Took = time.Since(start)
	return out, nil
}

// byMeaning ranks passages by similarity to the question, keeping those
// that stand out, with their similarity.
func (b *Base) byMeaning(ctx context.Context, question string, out *Retrieval) ([]Ranked, map[int64]float64, error) {
	model := b.embedModel()
	if model == "" || b.Embedder == nil || !b.Embedder.Online() {
		return nil, nil, nil
	}
	ids, vecs, err := b.vectors(ctx, model)
	if err != nil || len(ids) == 0 {
		return nil, nil, err
	}
	t := time.Now()
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	qv, err := b.Embedder.Embed(ectx, model, []string{question})
	cancel()
	out.EmbedTime = time.Since(t)
	if err != nil {
		return nil, nil, err
	}
	if len(qv) != 1 || len(qv[0]) != len(vecs[0]) {
		return nil, nil, fmt.Errorf("the model %s gave a vector of another size than the stored ones: re-embed", model)
	}
	out.Model = model
	q := Normalize(qv[0])
	all := TopK(q, ids, vecs, len(ids))
	// The typical similarity and its spread over the whole knowledge base.
	var sum, sq float64
	for _, r := range all {
		sum += r.Score
		sq += r.Score * r.Score
	}
	n := float64(len(all))
	mean := sum / n
	sd := math.Sqrt(math.Max(sq/n-mean*mean, 0))
	var kept []Ranked
	sims := map[int64]float64{}
	for _, r := range all {
		if len(kept) == candidates {
			break
		}
		standsOut := len(all) >= 10 && sd > 0 && (r.Score-mean)/sd >= meaningZ
		if standsOut || r.Score >= nearSame {
			kept = append(kept, r)
			sims[r.ID] = r.Score
		}
	}
	return kept, sims, nil
}
