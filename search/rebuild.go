package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

// Source is what a rebuild reads, in pages: each call returns the rows after
// the given id, in ascending id order, at most limit of them; an empty page
// ends the kind.
type Source interface {
	Messages(ctx context.Context, afterID int64, limit int) ([]Message, error)
	Contacts(ctx context.Context, afterID int64, limit int) ([]Contact, error)
	KB(ctx context.Context, afterID string, limit int) ([]KBChunk, error)
	Count(ctx context.Context) (messages, contacts, kb int, err error)
}

// RebuildPage is how many rows a rebuild asks the Source for at a time, and
// the size of its index batches.
const RebuildPage = 1000

// rebuildLog records what Apply wrote while a rebuild reads the Source, to be
// replayed into the new generation before it serves. Guarded by applyMu.
type rebuildLog struct {
	batches []*Batch
	ops     int
}

func (l *rebuildLog) add(b *Batch) {
	c := &Batch{
		Messages:       slices.Clone(b.Messages),
		Contacts:       slices.Clone(b.Contacts),
		KB:             slices.Clone(b.KB),
		DeleteMessages: slices.Clone(b.DeleteMessages),
		DeleteContacts: slices.Clone(b.DeleteContacts),
		DeleteKB:       slices.Clone(b.DeleteKB),
	}
	for i := range c.Messages {
		c.Messages[i].Labels = slices.Clone(c.Messages[i].Labels)
	}
	l.batches = append(l.batches, c)
	l.ops += c.Len()
}

func (l *rebuildLog) take() []*Batch {
	b := l.batches
	l.batches, l.ops = nil, 0
	return b
}

// Rebuild builds a new generation from src while Search keeps serving the
// current one and Apply keeps writing to it. Everything Apply writes during
// the rebuild is recorded and replayed into the new generation, in order,
// before it replaces the current one; the final replay and the swap happen
// with Apply held off, so nothing is lost. In-flight searches finish on the
// old generation, which is then closed and removed. Only one rebuild runs at
// a time (ErrRebuilding); Close cancels it.
//
// progress, if not nil, is called after each batch with the documents done
// and the total the Source counted.
func (x *Index) Rebuild(ctx context.Context, src Source, progress func(done, total int)) (err error) {
	if !x.rebuildMu.TryLock() {
		return ErrRebuilding
	}
	defer x.rebuildMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	x.applyMu.Lock()
	x.mu.RLock()
	closed := x.closed
	x.mu.RUnlock()
	if closed {
		x.applyMu.Unlock()
		return ErrClosed
	}
	x.rlog = &rebuildLog{}
	x.rebuildOn.Store(true)
	x.rebuildCancel = cancel
	x.applyMu.Unlock()
	defer func() {
		x.applyMu.Lock()
		x.rlog, x.rebuildCancel = nil, nil
		x.rebuildOn.Store(false)
		x.applyMu.Unlock()
	}()

	start := time.Now()
	g, err := x.createGeneration(nextGeneration(x.o.Dir))
	if err != nil {
		return err
	}
	swapped := false
	defer func() {
		if !swapped {
			g.idx.Close()
			os.RemoveAll(g.dir)
		}
	}()
	n, err := x.fill(ctx, g.idx, src, progress)
	if err != nil {
		return fmt.Errorf("search: rebuild: %w", err)
	}
	// One segment: every query visits each segment's dictionaries, so a
	// merged index answers about twice as fast as the ~25 segments left by
	// bulk indexing (measured at 1M messages). Apply keeps being logged
	// meanwhile.
	mstart := time.Now()
	if err := forceMerge(ctx, g.idx); err != nil {
		return fmt.Errorf("search: rebuild: merge: %w", err)
	}
	x.log.Info("search rebuild merged", slog.Duration("took", time.Since(mstart)), slog.Int("segments", segments(g.idx)))

	// Catch up with what Apply wrote meanwhile, outside the lock while the
	// backlog is large, then the last few batches and the swap under it.
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		x.applyMu.Lock()
		if x.rlog.ops > RebuildPage {
			pending := x.rlog.take()
			x.applyMu.Unlock()
			if err := x.replay(g.idx, pending); err != nil {
				return err
			}
			continue
		}
		err := x.replay(g.idx, x.rlog.take())
		if err == nil {
			err = x.swap(g)
		}
		x.applyMu.Unlock()
		if err != nil {
			return err
		}
		swapped = true
		break
	}
	x.log.Info("search index rebuilt", slog.String("generation", g.name), slog.Int("docs", n),
		slog.Duration("took", time.Since(start)))
	return nil
}

// forceMerge merges idx into a single segment. One scorch force merge runs
// one plan, whose tasks merge up to SegmentsPerMergeTask segments each, so
// it is asked to take them all at once, and repeated while it helps.
func forceMerge(ctx context.Context, idx bleve.Index) error {
	ai, err := idx.Advanced()
	if err != nil {
		return err
	}
	sc, ok := ai.(*scorch.Scorch)
	if !ok {
		return nil
	}
	opts := mergeplan.SingleSegmentMergePlanOptions
	opts.SegmentsPerMergeTask = 1 << 16
	for range 4 {
		before := segments(idx)
		if before <= 1 {
			return nil
		}
		if err := sc.ForceMerge(ctx, &opts); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if segments(idx) >= before {
			return nil
		}
	}
	return nil
}

func (x *Index) replay(idx bleve.Index, bs []*Batch) error {
	for _, b := range bs {
		if err := x.applyTo(idx, b); err != nil {
			return fmt.Errorf("search: rebuild replay: %w", err)
		}
	}
	return nil
}

// swap makes g the serving generation. Called with applyMu held.
func (x *Index) swap(g *generation) error {
	if err := writeCurrent(x.o.Dir, g.name); err != nil {
		return err
	}
	x.mu.Lock() // waits for in-flight searches on the old generation
	if x.closed {
		x.mu.Unlock()
		return ErrClosed
	}
	old := x.cur
	x.cur = g
	x.needsRebuild = false
	x.broken.Store(false)
	x.mu.Unlock()
	if old.idx != nil { // nil: unavailable since a failed write
		closeBroken(old.idx, x.log)
	}
	if err := os.RemoveAll(old.dir); err != nil {
		x.log.Warn("remove old search generation", slog.String("generation", old.name), slog.Any("err", err))
	}
	return nil
}

// fill indexes everything src has into idx. A reader goroutine fetches the
// next page while the current one is indexed.
func (x *Index) fill(ctx context.Context, idx bleve.Index, src Source, progress func(done, total int)) (int, error) {
	nm, nc, nk, err := src.Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	total := nm + nc + nk
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	pages := make(chan *Batch, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(pages)
		readErr <- readSource(rctx, src, pages)
	}()
	done := 0
	var idxErr error
	for b := range pages {
		if idxErr != nil {
			continue // drain until the reader sees the cancel
		}
		if idxErr = x.applyTo(idx, b); idxErr != nil {
			stop()
			continue
		}
		done += b.Len()
		if progress != nil {
			progress(done, max(total, done))
		}
	}
	if idxErr != nil {
		return done, idxErr
	}
	return done, <-readErr
}

// readSource sends src's rows, a page at a time, until each kind is
// exhausted or ctx ends.
func readSource(ctx context.Context, src Source, out chan<- *Batch) error {
	send := func(b *Batch) error {
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var after int64
	for {
		ms, err := src.Messages(ctx, after, RebuildPage)
		if err != nil {
			return fmt.Errorf("read messages after %d: %w", after, err)
		}
		if len(ms) == 0 {
			break
		}
		next := ms[len(ms)-1].ID
		if next <= after {
			return errors.New("source returned messages out of order")
		}
		after = next
		if err := send(&Batch{Messages: ms}); err != nil {
			return err
		}
	}
	after = 0
	for {
		cs, err := src.Contacts(ctx, after, RebuildPage)
		if err != nil {
			return fmt.Errorf("read contacts after %d: %w", after, err)
		}
		if len(cs) == 0 {
			break
		}
		next := cs[len(cs)-1].ID
		if next <= after {
			return errors.New("source returned contacts out of order")
		}
		after = next
		if err := send(&Batch{Contacts: cs}); err != nil {
			return err
		}
	}
	var afterKB string
	for {
		ks, err := src.KB(ctx, afterKB, RebuildPage)
		if err != nil {
			return fmt.Errorf("read kb after %q: %w", afterKB, err)
		}
		if len(ks) == 0 {
			break
		}
		next := ks[len(ks)-1].ID
		if next <= afterKB {
			return errors.New("source returned kb chunks out of order")
		}
		afterKB = next
		if err := send(&Batch{KB: ks}); err != nil {
			return err
		}
	}
	return nil
}
