package policy

import (
	"strings"
	"sync"
	"sync/atomic"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/spanish"
)

// The Snowball stemmers bleve ships, so that an owner's phrase matches
// the other forms of its words: "rimborso" also finds "rimborsare",
// "rimborsatemi"; "remboursé" finds "remboursez".
var stemmers = map[string]func(*snowball.Env) bool{
	"it": italian.Stem, "fr": french.Stem, "en": english.Stem, "es": spanish.Stem, "de": german.Stem,
}

// stemCache keeps the stems computed: a stemmer allocates and takes a few
// microseconds a word, while customers use the same few thousand words.
// It is emptied when it reaches stemCacheMax so that odd words cannot grow
// it without end.
var (
	stemCache    sync.Map
	stemCacheLen atomic.Int64
)

const stemCacheMax = 1 << 16

// stem returns the stem of a folded word in lang, after taking off an
// enclitic "me" ("toglietemi" is stemmed as "togliete", "mandarmi" as
// "mandare").
func stem(lang, w string) string {
	key := lang + w
	if s, ok := stemCache.Load(key); ok {
		return s.(string)
	}
	base := w
	if b, ok := encliticMe(w, lang); ok {
		base = b
		if lang == "it" && (strings.HasSuffix(b, "ar") || strings.HasSuffix(b, "er") || strings.HasSuffix(b, "ir")) {
			base += "e"
		}
	}
	s := base
	if f := stemmers[lang]; f != nil {
		env := snowball.NewEnv(base)
		f(env)
		s = env.Current()
	}
	if stemCacheLen.Add(1) > stemCacheMax {
		stemCache.Clear()
		stemCacheLen.Store(0)
	}
	stemCache.Store(key, s)
	return s
}
