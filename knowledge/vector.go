package knowledge

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
)

// Normalize scales v to unit length in place, so a dot product is the
// cosine similarity. A zero vector stays zero.
func Normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// Dot is the dot product of two vectors of the same length.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		return 0
	}
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// EncodeVector stores a vector as little-endian float32s.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeVector reads a vector EncodeVector wrote.
func DecodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, errors.New("a stored vector is not a whole number of float32s")
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// Ranked is one item of a ranking, best first.
type Ranked struct {
	ID    int64
	Score float64
}

// rrfK damps the weight of top ranks in reciprocal rank fusion; 60 is the
// value of the original paper and of most hybrid search engines.
const rrfK = 60

// Fuse merges rankings by reciprocal rank fusion: each item scores the sum
// of 1/(k+rank) over the rankings it appears in, so an item both the words
// and the meaning agree on comes first, and no ranking's raw scores need to
// be comparable with another's.
func Fuse(rankings ...[]Ranked) []Ranked {
	score := map[int64]float64{}
	first := map[int64]int{}
	order := 0
	for _, r := range rankings {
		for i, it := range r {
			score[it.ID] += 1 / float64(rrfK+i+1)
			if _, ok := first[it.ID]; !ok {
				first[it.ID] = order
				order++
			}
		}
	}
	out := make([]Ranked, 0, len(score))
	for id, s := range score {
		out = append(out, Ranked{ID: id, Score: s})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return first[out[i].ID] < first[out[j].ID]
	})
	return out
}

// TopK returns the k vectors most similar to q, best first, with their
// cosine similarity (vectors and q normalised).
func TopK(q []float32, ids []int64, vecs [][]float32, k int) []Ranked {
	out := make([]Ranked, 0, len(ids))
	for i, v := range vecs {
		out = append(out, Ranked{ID: ids[i], Score: float64(Dot(q, v))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if len(out) > k {
		out = out[:k]
	}
	return out
}
