package knowledge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"sendbox/guard"
	"sendbox/search"
	"sendbox/store"
)

// Embedder turns texts into vectors; llm.Client is one.
type Embedder interface {
	Embed(ctx context.Context, model string, inputs []string) ([][]float32, error)
	Online() bool
}

// Base is the knowledge base: documents, FAQ and the business profile as
// passages, kept in the store, indexed by search and, when an embedding
// model is set, embedded for retrieval by meaning.
type Base struct {
	Store *store.Store
	Index *search.Index
	// Embedder may be nil: retrieval is then by words alone.
	Embedder Embedder
	// EmbedModel is the embedding model chosen in the settings ("" for none).
	EmbedModel func() string
	Log        *slog.Logger

	wake  chan struct{}
	mu    sync.Mutex
	cache vectorCache
}

type vectorCache struct {
	model, version string
	ids            []int64
	vecs           [][]float32
}

// Limits of what the owner enters.
const (
	maxTitle    = 200
	maxQuestion = 500
	maxAnswer   = 4000
)

// ValidationError is a knowledge entry the owner must fix.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

func invalid(format string, a ...any) error { return &ValidationError{Msg: fmt.Sprintf(format, a...)} }

// SaveDocument creates (id 0) or replaces a document from its text; headings
// are "# " lines (FromMarkdown and Extract write them).
func (b *Base) SaveDocument(ctx context.Context, id int64, title, text, source string, author int64) (*store.KBDoc, error) {
	title, text = strings.TrimSpace(title), tidy(text)
	if text == "" {
		return nil, invalid("the document has no text")
	}
	if len(text) > MaxText {
		return nil, invalid("the document is longer than %d KB: split it in parts", MaxText>>10)
	}
	if title == "" {
		title = firstHeading(text)
	}
	if title == "" {
		return nil, invalid("give the document a title")
	}
	if utf8.RuneCountInString(title) > maxTitle {
		return nil, invalid("the title is longer than %d characters", maxTitle)
	}
	d := &store.KBDoc{ID: id, Kind: store.KBDocument, Title: title, Body: text, Source: source, AuthorID: author}
	if err := b.Store.SaveKB(ctx, d, toChunks(Chunk(text))); err != nil {
		return nil, err
	}
	b.Wake()
	return d, nil
}

// SaveFAQ creates (id 0) or replaces a question/answer pair. It is one
// passage: the question is its title, so a customer's question finds it.
func (b *Base) SaveFAQ(ctx context.Context, id int64, question, answer string, author int64) (*store.KBDoc, error) {
	question, answer = strings.TrimSpace(question), strings.TrimSpace(answer)
	if question == "" || answer == "" {
		return nil, invalid("write both the question and the answer")
	}
	if utf8.RuneCountInString(question) > maxQuestion {
		return nil, invalid("the question is longer than %d characters", maxQuestion)
	}
	if utf8.RuneCountInString(answer) > maxAnswer {
		return nil, invalid("the answer is longer than %d characters", maxAnswer)
	}
	d := &store.KBDoc{ID: id, Kind: store.KBFAQ, Title: question, Question: question, Body: answer, AuthorID: author}
	if err := b.Store.SaveKB(ctx, d, []store.ChunkText{{Heading: question, Text: answer}}); err != nil {
		return nil, err
	}
	b.Wake()
	return d, nil
}

// Delete removes a document or FAQ. The profile cannot be deleted: it
// follows the business profile.
func (b *Base) Delete(ctx context.Context, id int64) error {
	d, err := b.Store.KBDocByID(ctx, id)
	if err != nil {
		return err
	}
	if d.Kind == store.KBProfile {
		return invalid("the business profile is part of the knowledge: edit it in Settings → Business")
	}
	return b.Store.DeleteKB(ctx, id)
}

func toChunks(ps []Passage) []store.ChunkText {
	out := make([]store.ChunkText, len(ps))
	for i, p := range ps {
		out[i] = store.ChunkText{Heading: p.Heading, Text: p.Text}
	}
	return out
}

// ChunkID is a passage's id in the search index: zero-padded so that the
// ids sort as the numbers do, which a rebuild relies on.
func ChunkID(id int64) string { return fmt.Sprintf("%012d", id) }

// ParseChunkID reads ChunkID back.
func ParseChunkID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("not a passage id")
	}
	return id, nil
}

// SearchDoc is a passage as the search index takes it: under its document's
// title and its heading, so "prices" finds the passage under "Prices".
func SearchDoc(c store.KBChunk) search.KBChunk {
	title := c.Title
	if c.Heading != "" && c.Heading != c.Title {
		title += " — " + c.Heading
	}
	return search.KBChunk{ID: ChunkID(c.ID), DocID: c.DocID, Title: title, Text: c.Text}
}

// Wake asks the embedder to look for passages without vectors now.
func (b *Base) Wake() {
	b.mu.Lock()
	wake := b.wake
	b.mu.Unlock()
	if wake == nil {
		return
	}
	select {
	case wake <- struct{}{}:
	default:
	}
}

// embedBatch is how many passages one embedding request carries.
const embedBatch = 16

// RunEmbedder embeds passages that lack a vector of the chosen model, when
// the model server is up: on start, when woken, and every minute. It
// returns when ctx ends. The store is the queue: a passage without a
// vector is work left, so nothing is lost across restarts.
func (b *Base) RunEmbedder(ctx context.Context) {
	b.mu.Lock()
	if b.wake == nil {
		b.wake = make(chan struct{}, 1)
	}
	wake := b.wake
	b.mu.Unlock()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		var err error
		if perr := guard.Do(b.log(), "embed knowledge passages", func() { err = b.EmbedPending(ctx) }); perr == nil &&
			err != nil && ctx.Err() == nil {
			b.log().Warn("embed knowledge passages; will retry", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
	}
}

// EmbedPending embeds every passage without a vector of the chosen model.
func (b *Base) EmbedPending(ctx context.Context) error {
	model := b.embedModel()
	if model == "" || b.Embedder == nil || !b.Embedder.Online() {
		return nil
	}
	for ctx.Err() == nil {
		chunks, err := b.Store.ChunksToEmbed(ctx, model, embedBatch)
		if err != nil || len(chunks) == 0 {
			return err
		}
		texts := make([]string, len(chunks))
		for i, c := range chunks {
			texts[i] = EmbedText(c)
		}
		ectx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		vecs, err := b.Embedder.Embed(ectx, model, texts)
		cancel()
		if err != nil {
			return fmt.Errorf("embed with %s: %w", model, err)
		}
		es := make([]store.Embedding, len(chunks))
		for i, c := range chunks {
			es[i] = store.Embedding{ChunkID: c.ID, Text: c.Text, Vector: EncodeVector(Normalize(vecs[i]))}
		}
		if err := b.Store.SetEmbeddings(ctx, model, es); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// EmbedText is what is embedded for a passage: its title and heading give
// the meaning its text may only imply.
func EmbedText(c store.KBChunk) string {
	var sb strings.Builder
	sb.WriteString(c.Title)
	if c.Heading != "" && c.Heading != c.Title {
		sb.WriteString(" — " + c.Heading)
	}
	sb.WriteString("\n")
	sb.WriteString(c.Text)
	return sb.String()
}

func (b *Base) embedModel() string {
	if b.EmbedModel == nil {
		return ""
	}
	return b.EmbedModel()
}

func (b *Base) log() *slog.Logger {
	if b.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Log
}

// vectors returns the stored vectors of model, cached until the knowledge changes.
func (b *Base) vectors(ctx context.Context, model string) ([]int64, [][]float32, error) {
	version, err := b.Store.KBVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	b.mu.Lock()
	c := b.cache
	b.mu.Unlock()
	if c.model == model && c.version == version {
		return c.ids, c.vecs, nil
	}
	ids, raw, err := b.Store.Embeddings(ctx, model)
	if err != nil {
		return nil, nil, err
	}
	vecs := make([][]float32, 0, len(raw))
	keep := ids[:0]
	for i, r := range raw {
		v, err := DecodeVector(r)
		if err != nil {
			continue
		}
		keep, vecs = append(keep, ids[i]), append(vecs, v)
	}
	b.mu.Lock()
	b.cache = vectorCache{model: model, version: version, ids: keep, vecs: vecs}
	b.mu.Unlock()
	return keep, vecs, nil
}
