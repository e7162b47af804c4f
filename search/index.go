package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	bolt "go.etcd.io/bbolt"
)

// ErrLocked is returned by Open when another process holds the index.
var ErrLocked = errors.New("search: index locked by another process")

// ErrClosed is returned by calls on a closed Index.
var ErrClosed = errors.New("search: index closed")

// ErrRebuilding is returned by Rebuild when another rebuild is running.
var ErrRebuilding = errors.New("search: a rebuild is already running")

// ErrUnavailable is returned while the index cannot be read or written: a
// write to it failed (the disk full, most often) and opening it again from
// disk has not succeeded yet. The next Apply tries again.
var ErrUnavailable = errors.New("search: index unavailable after a failed write")

// Options configure Open.
type Options struct {
	Dir         string       // e.g. <data>/search; generations live in Dir/<generation>/, CURRENT names the serving one
	DefaultLang string       // "en","it","fr","es","de": used when a text is too short to tell its language
	Logger      *slog.Logger // nil: discard
	// LockTimeout bounds how long Open waits for another process's lock
	// before returning ErrLocked. Zero means one second.
	LockTimeout time.Duration
}

// Message is one message document.
type Message struct {
	ID, ConversationID, ContactID, AgentID int64
	Direction                              string  // inbound | outbound
	Type                                   string  // text | image | template | interactive | location | …
	Status                                 string  // the conversation's status: open | pending | snoozed | resolved
	Labels                                 []int64 // the conversation's label ids
	Text                                   string  // the searchable text: body, caption, template text, button title, location name…
	At                                     time.Time
	// Lang, if one of Langs, skips detection (e.g. a template's known
	// language). Highlight must then be given the same language: HighlightLang.
	Lang string
}

// Contact is one contact document.
type Contact struct {
	ID                                  int64
	Name, Phone, Username, Email, Notes string
	Tags                                []string
	Attributes                          map[string]string
}

// KBChunk is one knowledge-base chunk.
type KBChunk struct {
	ID          string
	DocID       int64
	Title, Text string
}

// Batch is a set of upserts and deletes applied together.
type Batch struct {
	Messages       []Message
	Contacts       []Contact
	KB             []KBChunk
	DeleteMessages []int64
	DeleteContacts []int64
	DeleteKB       []string
}

// Len is the number of operations in b.
func (b *Batch) Len() int {
	if b == nil {
		return 0
	}
	return len(b.Messages) + len(b.Contacts) + len(b.KB) + len(b.DeleteMessages) + len(b.DeleteContacts) + len(b.DeleteKB)
}

// Stats describe the serving index.
type Stats struct {
	Generation   string
	Docs         uint64 // all documents
	Messages     uint64
	Contacts     uint64
	KB           uint64
	DiskBytes    int64 // the serving generation's folder
	Segments     int   // bleve segments: each query visits each one
	Rebuilding   bool
	NeedsRebuild bool // the index was created empty, or by a binary with another mapping: call Rebuild
}

// Index is an open search index.
type Index struct {
	o   Options
	log *slog.Logger
	im  *mapping.IndexMappingImpl
	an  *analyzers
	db  docBuilder

	mu     sync.RWMutex // guards cur and closed; held (R) while cur is used, so a swap waits for in-flight calls
	cur    *generation  // cur.idx is nil while a reopen after a failed write has not succeeded
	closed bool
	broken atomic.Bool // cur must be reopened before its next use: a write to it failed

	applyMu sync.Mutex  // serialises Apply; the rebuild log replays in the order the live index saw
	rlog    *rebuildLog // non-nil while a rebuild runs; guarded by applyMu

	rebuildMu     sync.Mutex         // held by the running Rebuild
	rebuildCancel context.CancelFunc // guarded by applyMu
	rebuildOn     atomic.Bool
	needsRebuild  bool // guarded by mu
}

type generation struct {
	name  string
	dir   string
	idx   bleve.Index
	terms termCache // its knowledge base's expansions
}

const (
	currentFile  = "CURRENT"
	versionKey   = "sendbox_mapping_version"
	indexTimeout = time.Second
)

// Open opens the index in o.Dir, creating an empty one if there is none. A
// new or outdated index opens fine but reports Stats().NeedsRebuild.
func Open(o Options) (*Index, error) {
	if o.Dir == "" {
		return nil, errors.New("search: Options.Dir is empty")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DefaultLang == "" {
		o.DefaultLang = "en"
	}
	if !isLang(o.DefaultLang) {
		return nil, fmt.Errorf("search: DefaultLang %q is not one of %v", o.DefaultLang, Langs)
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = indexTimeout
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("search: create %s: %w", o.Dir, err)
	}
	im, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("search: mapping: %w", err)
	}
	an, err := newAnalyzers(im)
	if err != nil {
		return nil, fmt.Errorf("search: analyzers: %w", err)
	}
	x := &Index{o: o, log: o.Logger, im: im, an: an, db: docBuilder{an: an, defLang: o.DefaultLang}}

	name, err := readCurrent(o.Dir)
	switch {
	case err == nil:
		g, err := x.openGeneration(name)
		if errors.Is(err, ErrLocked) {
			return nil, err
		}
		if err == nil {
			x.cur = g
			if v, _ := g.idx.GetInternal([]byte(versionKey)); string(v) != mappingVersion {
				x.log.Warn("search index built with another mapping: rebuild needed",
					slog.String("generation", name), slog.String("version", string(v)))
				x.needsRebuild = true
			}
			break
		}
		x.log.Error("search index unreadable: starting an empty one", slog.String("generation", name), slog.Any("err", err))
		fallthrough
	default:
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			x.log.Warn("search CURRENT unreadable", slog.Any("err", err))
		}
		g, err := x.createGeneration(nextGeneration(o.Dir))
		if err != nil {
			return nil, err
		}
		if err := writeCurrent(o.Dir, g.name); err != nil {
			g.idx.Close()
			return nil, err
		}
		x.cur = g
		x.needsRebuild = true
	}
	x.removeStaleGenerations()
	return x, nil
}

func isLang(l string) bool {
	for _, x := range Langs {
		if x == l {
			return true
		}
	}
	return false
}

// Close closes the index; a running Rebuild is cancelled and waited for.
func (x *Index) Close() error {
	x.applyMu.Lock()
	cancel := x.rebuildCancel
	x.applyMu.Unlock()
	if cancel != nil {
		cancel()
	}
	x.rebuildMu.Lock() // wait for the rebuild to give up
	defer x.rebuildMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	if x.cur.idx == nil {
		return nil
	}
	if err := x.cur.idx.Close(); err != nil {
		return fmt.Errorf("search: close: %w", err)
	}
	return nil
}

// scorchConfig is the runtime configuration of every generation.
func (x *Index) scorchConfig() map[string]any {
	return map[string]any{
		// bolt's file lock: a second process fails after the timeout
		// instead of blocking forever.
		"bolt_timeout":           x.o.LockTimeout.String(),
		"scorchMergePlanOptions": mergePlan,
	}
}

// mergePlan is scorch's merge policy for the live index (fields of
// mergeplan.MergePlanOptions; the others keep their defaults). Measured on
// 1M messages applied in batches of 1000: at 10 segments per tier the index
// settles at 16 segments, at 4 at 9 and at 2 at 6, but the tighter plans fall
// behind while indexing (250–340 segments at peak, 12% slower) and query
// times at rest differed by less than the noise; a rebuild merges to one
// segment anyway. So bleve's defaults stay.
var mergePlan = map[string]any{
	"MaxSegmentsPerTier":   mergeplan.DefaultMergePlanOptions.MaxSegmentsPerTier,
	"SegmentsPerMergeTask": mergeplan.DefaultMergePlanOptions.SegmentsPerMergeTask,
}

func (x *Index) createGeneration(name string) (*generation, error) {
	dir := filepath.Join(x.o.Dir, name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	idx, err := bleve.NewUsing(dir, x.im, scorch.Name, scorch.Name, x.scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("search: create index %s: %w", dir, lockErr(err))
	}
	if err := idx.SetInternal([]byte(versionKey), []byte(mappingVersion)); err != nil {
		idx.Close()
		return nil, fmt.Errorf("search: create index %s: %w", dir, err)
	}
	return &generation{name: name, dir: dir, idx: idx}, nil
}

func (x *Index) openGeneration(name string) (*generation, error) {
	dir := filepath.Join(x.o.Dir, name)
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err != nil {
		return nil, fmt.Errorf("search: open %s: %w", dir, err)
	}
	idx, err := bleve.OpenUsing(dir, x.scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("search: open %s: %w", dir, lockErr(err))
	}
	return &generation{name: name, dir: dir, idx: idx}, nil
}

// lockErr turns bolt's lock timeout into ErrLocked.
func lockErr(err error) error {
	if errors.Is(err, bolt.ErrTimeout) || strings.Contains(err.Error(), bolt.ErrTimeout.Error()) {
		return ErrLocked
	}
	return err
}

// readCurrent returns the generation named by Dir/CURRENT.
func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(string(b))
	if !validGeneration(name) {
		return "", fmt.Errorf("search: CURRENT names %q", name)
	}
	return name, nil
}

// writeCurrent points CURRENT at name: write a temporary file, fsync, rename
// over CURRENT, fsync the folder. A crash leaves the old or the new name.
func writeCurrent(dir, name string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("search: write CURRENT: %w", err)
	}
	_, err = f.WriteString(name + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, currentFile))
	}
	if err != nil {
		return fmt.Errorf("search: write CURRENT: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every platform syncs folders
		d.Close()
	}
	return nil
}

// Generations are named "g" and a zero-padded counter, so names sort by age.
func validGeneration(name string) bool {
	if len(name) != 7 || name[0] != 'g' {
		return false
	}
	_, err := strconv.ParseUint(name[1:], 10, 32)
	return err == nil
}

func nextGeneration(dir string) string {
	n := uint64(0)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if validGeneration(e.Name()) {
			if v, _ := strconv.ParseUint(e.Name()[1:], 10, 32); v > n {
				n = v
			}
		}
	}
	return fmt.Sprintf("g%06d", n+1)
}

// removeStaleGenerations deletes generations left by a crashed rebuild. It
// runs only after Open holds the current generation's lock, so no other
// process is using this folder.
func (x *Index) removeStaleGenerations() {
	ents, _ := os.ReadDir(x.o.Dir)
	for _, e := range ents {
		if validGeneration(e.Name()) && e.Name() != x.cur.name {
			if err := os.RemoveAll(filepath.Join(x.o.Dir, e.Name())); err != nil {
				x.log.Warn("remove stale search generation", slog.String("generation", e.Name()), slog.Any("err", err))
			}
		}
	}
}

// use runs fn with the serving generation, holding mu.RLock so a swap waits.
// A panic in bleve, which a generation left broken by a failed write may
// raise, is returned as ErrUnavailable and has the generation reopened.
func (x *Index) use(fn func(g *generation) error) (err error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return ErrClosed
	}
	if x.cur.idx == nil {
		return ErrUnavailable
	}
	defer func() {
		if r := recover(); r != nil {
			x.broken.Store(true)
			err = fmt.Errorf("%w: %v", ErrUnavailable, r)
		}
	}()
	return fn(x.cur)
}

// Apply indexes b's upserts and deletes in one bleve batch. Upserts replace
// the whole document by id, deletes of missing ids are no-ops: Apply is
// idempotent. Deleting a contact (erasure) also deletes every message of that
// contact. While a Rebuild runs, b is also recorded for the new generation.
//
// A batch that fails is not half applied: the generation is reopened from
// disk, which holds exactly the batches that succeeded, and the caller
// applies the failed one again later.
func (x *Index) Apply(ctx context.Context, b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	x.applyMu.Lock()
	defer x.applyMu.Unlock()
	if x.broken.Load() {
		if err := x.reopen(); err != nil {
			return err
		}
	}
	err := x.use(func(g *generation) error {
		err := x.applyTo(g.idx, b)
		if len(b.KB) > 0 || len(b.DeleteKB) > 0 {
			g.terms.changed() // failed or not: part of it may show
		}
		return err
	})
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			// After a write fails (ENOSPC, above all), scorch keeps in its
			// in-memory root the segments it could not persist, one of them
			// closed by then: the next batch or search through it panics in
			// zapx ("assignment to entry in nil map"). So the batch is not
			// retried on it; the generation is opened again from disk,
			// where every batch that returned nil is (Batch returns once
			// its segment is persisted).
			x.broken.Store(true)
			if rerr := x.reopen(); rerr != nil {
				x.log.Warn("reopen the search index after a failed write; will retry", slog.Any("err", rerr))
			}
		}
		return err
	}
	if x.rlog != nil {
		x.rlog.add(b)
	}
	return nil
}

// reopen closes the serving generation and opens it again from disk. If
// that fails, the index is unavailable until a later reopen succeeds.
// Called with applyMu held.
func (x *Index) reopen() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return ErrClosed
	}
	g := x.cur
	if g.idx != nil {
		closeBroken(g.idx, x.log)
	}
	x.cur = &generation{name: g.name, dir: g.dir}
	fresh, err := x.openGeneration(g.name)
	if err != nil {
		return fmt.Errorf("%w: reopen: %w", ErrUnavailable, err)
	}
	x.cur = fresh
	x.broken.Store(false)
	x.log.Info("search index reopened after a failed write", slog.String("generation", g.name))
	return nil
}

// closeBroken closes a generation that a failed write may have left
// inconsistent; bleve may panic doing so, and the files are released anyway.
func closeBroken(idx bleve.Index, log *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			log.Warn("close the broken search generation", slog.Any("panic", r))
		}
	}()
	if err := idx.Close(); err != nil {
		log.Warn("close the broken search generation", slog.Any("err", err))
	}
}

// applyTo writes b to one bleve index.
func (x *Index) applyTo(idx bleve.Index, b *Batch) error {
	bb := idx.NewBatch()
	// Erasing a contact erases their messages too.
	for _, id := range b.DeleteContacts {
		ids, err := docIDs(idx, termQ(fContact, itoa(id), 1), KindMessage)
		if err != nil {
			return fmt.Errorf("search: messages of contact %d: %w", id, err)
		}
		for _, d := range ids {
			bb.Delete(d)
		}
	}
	if err := x.fillBatch(bb, b); err != nil {
		return err
	}
	if err := idx.Batch(bb); err != nil {
		return fmt.Errorf("search: apply: %w", err)
	}
	return nil
}

func (x *Index) fillBatch(bb *bleve.Batch, b *Batch) error {
	// Deletes first: a batch that deletes and re-adds an id keeps the add.
	for _, id := range b.DeleteMessages {
		bb.Delete(messageDocID(id))
	}
	for _, id := range b.DeleteContacts {
		bb.Delete(contactDocID(id))
	}
	for _, id := range b.DeleteKB {
		bb.Delete(kbDocID(id))
	}
	for i := range b.Messages {
		if err := bb.IndexAdvanced(x.db.message(&b.Messages[i])); err != nil {
			return fmt.Errorf("search: message %d: %w", b.Messages[i].ID, err)
		}
	}
	for i := range b.Contacts {
		if err := bb.IndexAdvanced(x.db.contact(&b.Contacts[i])); err != nil {
			return fmt.Errorf("search: contact %d: %w", b.Contacts[i].ID, err)
		}
	}
	for i := range b.KB {
		if b.KB[i].ID == "" {
			continue
		}
		if err := bb.IndexAdvanced(x.db.kb(&b.KB[i])); err != nil {
			return fmt.Errorf("search: kb %s: %w", b.KB[i].ID, err)
		}
	}
	return nil
}

// Stats reports document counts and size of the serving generation.
func (x *Index) Stats() Stats {
	s := Stats{Rebuilding: x.rebuildOn.Load()}
	_ = x.use(func(g *generation) error {
		s.Generation = g.name
		s.NeedsRebuild = x.needsRebuild
		s.Docs, _ = g.idx.DocCount()
		s.Messages = x.countKind(g.idx, KindMessage)
		s.Contacts = x.countKind(g.idx, KindContact)
		s.KB = x.countKind(g.idx, KindKB)
		s.DiskBytes = dirSize(g.dir)
		s.Segments = segments(g.idx)
		return nil
	})
	return s
}

// docIDs returns the ids of the documents of kind matching q.
func docIDs(idx bleve.Index, q query.Query, kind string) ([]string, error) {
	q = query.NewConjunctionQuery([]query.Query{q, termQ(fKind, kind, 1)})
	var out []string
	const page = 10_000
	req := bleve.NewSearchRequestOptions(q, page, 0, false)
	req.SortBy([]string{"_id"})
	req.Score = "none"
	for {
		res, err := idx.Search(req)
		if err != nil {
			return nil, err
		}
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		if len(res.Hits) < page {
			return out, nil
		}
		req.SearchAfter = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

// countKind counts the documents of a kind from the dictionary (the posting
// list's size, deletions excluded), without running a search over them.
func (x *Index) countKind(idx bleve.Index, kind string) uint64 {
	ai, err := idx.Advanced()
	if err != nil {
		return 0
	}
	rd, err := ai.Reader()
	if err != nil {
		return 0
	}
	defer rd.Close()
	tfr, err := rd.TermFieldReader(context.Background(), []byte(kind), fKind, false, false, false)
	if err != nil {
		return 0
	}
	defer tfr.Close()
	return tfr.Count()
}

func segments(idx bleve.Index) int {
	m, _ := idx.StatsMap()["index"].(map[string]any)
	n := 0
	for _, k := range []string{"num_root_memorysegments", "num_root_filesegments"} {
		if v, ok := m[k].(uint64); ok {
			n += int(v)
		}
	}
	return n
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
