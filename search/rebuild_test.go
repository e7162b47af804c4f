package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sendbox/search/corpus"
)

// memSource is a Source over in-memory rows, like the store would serve
// them from SQLite. It can be changed while a rebuild reads it.
type memSource struct {
	mu       sync.Mutex
	msgs     map[int64]Message
	contacts map[int64]Contact
	kb       map[string]KBChunk
	delay    time.Duration // per page, to widen the rebuild's window
	fail     error
}

func newMemSource() *memSource {
	return &memSource{msgs: map[int64]Message{}, contacts: map[int64]Contact{}, kb: map[string]KBChunk{}}
}

// apply mirrors what a caller does: change the rows, then Apply the batch.
func (s *memSource) apply(b *Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range b.DeleteMessages {
		delete(s.msgs, id)
	}
	for _, id := range b.DeleteContacts {
		delete(s.contacts, id)
		for mid, m := range s.msgs {
			if m.ContactID == id {
				delete(s.msgs, mid)
			}
		}
	}
	for _, id := range b.DeleteKB {
		delete(s.kb, id)
	}
	for _, m := range b.Messages {
		s.msgs[m.ID] = m
	}
	for _, c := range b.Contacts {
		s.contacts[c.ID] = c
	}
	for _, k := range b.KB {
		s.kb[k.ID] = k
	}
}

func page[K int64 | string, V any](m map[K]V, after K, limit int) []V {
	var ks []K
	for k := range m {
		if k > after {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	if len(ks) > limit {
		ks = ks[:limit]
	}
	out := make([]V, len(ks))
	for i, k := range ks {
		out[i] = m[k]
	}
	return out
}

func (s *memSource) wait(ctx context.Context) error {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.fail
}

func (s *memSource) Messages(ctx context.Context, afterID int64, limit int) ([]Message, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.msgs, afterID, limit), nil
}

func (s *memSource) Contacts(ctx context.Context, afterID int64, limit int) ([]Contact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.contacts, afterID, limit), nil
}

func (s *memSource) KB(ctx context.Context, afterID string, limit int) ([]KBChunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s.kb, afterID, limit), nil
}

func (s *memSource) Count(ctx context.Context) (int, int, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs), len(s.contacts), len(s.kb), nil
}

// sampleQueries exercise every kind of match and filter.
var sampleQueries = []Query{
	{Q: "divano"}, {Q: "vacanza"}, {Q: `"velluto verde"`}, {Q: "appuntmento"}, {Q: "ecole"}, {Q: "Öl"},
	{Q: "AB123CD"}, {Q: "3C1 807 217"}, {Q: "canap"}, {Q: "bianchi"}, {Q: "4567"}, {Q: "jurgen"},
	{Q: "orari", Kinds: []string{KindKB}}, {Status: "snoozed"}, {LabelID: 2}, {Q: "divano", Direction: "outbound"},
	{Kinds: []string{KindMessage, KindContact, KindKB}},
}

// hitSet runs q and returns its hits' keys, all of them.
func hitSet(t *testing.T, x *Index, q Query) []string {
	t.Helper()
	q.Limit = 100
	var all []string
	for off := 0; ; off += 100 {
		q.Offset = off
		r := mustSearch(t, x, q)
		all = append(all, keys(r)...)
		if len(r.Hits) < 100 {
			break
		}
	}
	sort.Strings(all)
	return all
}

func TestRebuildAnswersLikeIncremental(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newMemSource()
	inc := openTest(t)
	// The incremental index sees the history: adds, updates, deletes.
	steps := []*Batch{
		{Messages: fixtureMessages()[:10], Contacts: fixtureContacts()},
		{Messages: fixtureMessages()[10:], KB: fixtureKB()},
		{Messages: []Message{msg(50, 50, 150, "messaggio da cancellare")}, Contacts: []Contact{{ID: 150, Name: "Da Cancellare"}}},
		{Messages: []Message{msg(4, 11, 101, "Ho un forte mal di denti, potete vedermi domani?", status("resolved"))}},
		{DeleteMessages: []int64{6}, DeleteContacts: []int64{150}},
	}
	for _, b := range steps {
		src.apply(b)
		if err := inc.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	reb := openTest(t)
	var calls []int
	if err := reb.Rebuild(ctx, src, func(done, total int) { calls = append(calls, done) }); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != 17+3+2 { // message 6 and contact 150 (with message 50) are gone
		t.Errorf("progress calls %v", calls)
	}
	if st := reb.Stats(); st.NeedsRebuild || st.Generation != "g000002" {
		t.Errorf("stats after rebuild %+v", st)
	}
	for _, q := range sampleQueries {
		a, b := hitSet(t, inc, q), hitSet(t, reb, q)
		if !slices.Equal(a, b) {
			t.Errorf("%+v: incremental %v, rebuilt %v", q, a, b)
		}
	}
	// Only the new generation is left on disk.
	ents, _ := os.ReadDir(reb.o.Dir)
	var gens []string
	for _, e := range ents {
		if validGeneration(e.Name()) {
			gens = append(gens, e.Name())
		}
	}
	if !slices.Equal(gens, []string{"g000002"}) {
		t.Errorf("generations on disk %v", gens)
	}
}

func TestRebuildWhileApplying(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := corpus.New(3, 200)
	src := newMemSource()
	var initial Batch
	c.Messages(3000, func(m *corpus.Message) bool {
		initial.Messages = append(initial.Messages, toMessage(m))
		return true
	})
	src.apply(&initial)
	x := openTest(t)
	if err := x.Apply(ctx, &initial); err != nil {
		t.Fatal(err)
	}
	src.delay = 5 * time.Millisecond // 3 pages: the writers get time to interleave

	// Writers: new messages with a unique word, updates, deletes.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var next atomic.Int64
	next.Store(100_000)
	var deleted []int64
	var dmu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := next.Add(1)
			b := &Batch{Messages: []Message{msg(id, id, 7, fmt.Sprintf("nuovo messaggio zq%d", id))}}
			if i%3 == 0 { // delete an initial message
				d := i * 7 % 3000
				b.DeleteMessages = []int64{d + 1}
				dmu.Lock()
				deleted = append(deleted, d+1)
				dmu.Unlock()
			}
			src.apply(b)
			if err := x.Apply(ctx, b); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	// Readers keep searching across the swap.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := x.Search(ctx, Query{Q: "grazie", Facets: true}); err != nil {
				t.Errorf("search during rebuild: %v", err)
				return
			}
		}
	}()
	time.Sleep(10 * time.Millisecond)
	if err := x.Rebuild(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // writes after the swap too
	close(stop)
	wg.Wait()

	if x.Stats().Generation != "g000002" {
		t.Fatalf("no swap: %+v", x.Stats())
	}
	want, _, _, _ := src.Count(ctx)
	if st := x.Stats(); int(st.Messages) != want {
		t.Errorf("index has %d messages, source %d", st.Messages, want)
	}
	for id := int64(100_001); id <= next.Load(); id++ {
		r := mustSearch(t, x, Query{Q: fmt.Sprintf("zq%d", id), Kinds: []string{KindMessage}})
		if len(r.Hits) != 1 || r.Hits[0].ID != id {
			t.Errorf("message %d written during the rebuild: %v", id, keys(r))
		}
	}
	dmu.Lock()
	defer dmu.Unlock()
	for _, id := range deleted {
		r := mustSearch(t, x, Query{ConversationID: initial.Messages[id-1].ConversationID, Kinds: []string{KindMessage}, Limit: 100})
		for _, h := range r.Hits {
			if h.ID == id {
				t.Errorf("message %d deleted during the rebuild is back", id)
			}
		}
	}
}

func TestRebuildOneAtATimeAndErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := fixtureIndex(t)
	src := newMemSource()
	src.apply(&Batch{Messages: fixtureMessages()})
	src.delay = 50 * time.Millisecond
	done := make(chan error)
	go func() { done <- x.Rebuild(ctx, src, nil) }()
	time.Sleep(10 * time.Millisecond)
	if err := x.Rebuild(ctx, src, nil); !errors.Is(err, ErrRebuilding) {
		t.Errorf("second rebuild: %v", err)
	}
	if !x.Stats().Rebuilding {
		t.Error("Stats.Rebuilding false during a rebuild")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A failing source leaves the serving generation alone.
	gen := x.Stats().Generation
	src.fail = errors.New("disk on fire")
	if err := x.Rebuild(ctx, src, nil); err == nil {
		t.Error("rebuild from a failing source succeeded")
	}
	if st := x.Stats(); st.Generation != gen || st.Messages != 18 {
		t.Errorf("after a failed rebuild: %+v", st)
	}
	ents, _ := os.ReadDir(x.o.Dir)
	if len(ents) != 2 { // CURRENT and the generation
		t.Errorf("left on disk: %v", ents)
	}
	// Cancelled.
	src.fail = nil
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := x.Rebuild(cctx, src, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled rebuild: %v", err)
	}
}

func TestCloseCancelsRebuild(t *testing.T) {
	t.Parallel()
	x, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	src := newMemSource()
	for i := range 5000 {
		src.msgs[int64(i+1)] = msg(int64(i+1), 1, 1, "ciao")
	}
	src.delay = time.Second
	done := make(chan error)
	go func() { done <- x.Rebuild(context.Background(), src, nil) }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Close waited %v", el)
	}
	if err := <-done; err == nil {
		t.Error("rebuild survived Close")
	}
}

func TestStaleGenerationsRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	x, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	// A crashed rebuild leaves a half-built generation.
	if err := os.MkdirAll(filepath.Join(dir, "g000007", "store"), 0o700); err != nil {
		t.Fatal(err)
	}
	x, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, err := os.Stat(filepath.Join(dir, "g000007")); !os.IsNotExist(err) {
		t.Errorf("stale generation kept: %v", err)
	}
	// A CURRENT that names nothing: start empty and ask for a rebuild.
	x.Close()
	os.WriteFile(filepath.Join(dir, currentFile), []byte("g000099\n"), 0o600)
	x, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if !x.Stats().NeedsRebuild {
		t.Error("broken CURRENT: no rebuild asked")
	}
}
