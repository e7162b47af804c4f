package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"sendbox/events"
)

// Knowledge-base document kinds.
const (
	KBDocument = "document"
	KBFAQ      = "faq"
	KBProfile  = "profile"
)

// KBDoc is one knowledge-base document: an uploaded or pasted text, a
// question/answer pair, or the business profile written out.
type KBDoc struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	Question  string    `json:"question,omitempty"`
	Body      string    `json:"body"`
	Source    string    `json:"source,omitempty"`
	AuthorID  int64     `json:"author_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Counts, filled by ListKB.
	Chunks   int `json:"chunks"`
	Embedded int `json:"embedded"` // chunks with a vector of the embedding model asked about
}

// KBChunk is one passage of a document, with what retrieval shows of its document.
type KBChunk struct {
	ID       int64  `json:"id"`
	DocID    int64  `json:"doc_id"`
	Seq      int    `json:"seq"`
	Heading  string `json:"heading,omitempty"`
	Text     string `json:"text"`
	Lang     string `json:"lang,omitempty"` // written for customers of this language only ("": any)
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	Question string `json:"question,omitempty"`
}

// ChunkText is a passage to store; Lang, if set, is the only language of
// customers it is for.
type ChunkText struct{ Heading, Text, Lang string }

// SaveKB creates a document (d.ID == 0) or replaces one, with its passages,
// in one transaction. A passage whose text did not change keeps its id and
// its vector; the others lose their vector until the embedder runs again,
// and removed passages are queued for the search index to drop. The
// profile document is one of a kind: saving it again replaces it.
func (s *Store) SaveKB(ctx context.Context, d *KBDoc, chunks []ChunkText) error {
	if d.Kind != KBDocument && d.Kind != KBFAQ && d.Kind != KBProfile {
		return fmt.Errorf("unknown knowledge kind %q", d.Kind)
	}
	return s.update(ctx, func(t *wtx) error {
		nowMS := t.now.UnixMilli()
		var author any
		if d.AuthorID != 0 {
			author = d.AuthorID
		}
		if d.ID == 0 && d.Kind == KBProfile {
			err := t.tx.QueryRowContext(ctx, "SELECT id FROM kb_documents WHERE kind = 'profile'").Scan(&d.ID)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if d.ID == 0 {
			if err := t.tx.QueryRowContext(ctx, `INSERT INTO kb_documents (kind, title, question, body, source, author_id,
				created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				d.Kind, d.Title, d.Question, d.Body, d.Source, author, nowMS, nowMS).Scan(&d.ID); err != nil {
				return fmt.Errorf("insert document: %w", err)
			}
			d.CreatedAt = t.now
		} else {
			r, err := t.tx.ExecContext(ctx, `UPDATE kb_documents SET title = ?, question = ?, body = ?, source = ?,
				updated_at = ? WHERE id = ? AND kind = ?`, d.Title, d.Question, d.Body, d.Source, nowMS, d.ID, d.Kind)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		d.UpdatedAt = t.now
		old := map[int]ChunkText{}
		rows, err := t.tx.QueryContext(ctx, "SELECT seq, heading, text, lang FROM kb_chunks WHERE doc_id = ?", d.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var seq int
			var c ChunkText
			if err := rows.Scan(&seq, &c.Heading, &c.Text, &c.Lang); err != nil {
				rows.Close()
				return err
			}
			old[seq] = c
		}
		rows.Close()
		for i, c := range chunks {
			prev, ok := old[i]
			switch {
			case !ok:
				_, err = t.tx.ExecContext(ctx, "INSERT INTO kb_chunks (doc_id, seq, heading, text, lang) VALUES (?, ?, ?, ?, ?)",
					d.ID, i, c.Heading, c.Text, c.Lang)
			case prev != c:
				_, err = t.tx.ExecContext(ctx, `UPDATE kb_chunks SET heading = ?, text = ?, lang = ?, embed_model = NULL, embedding = NULL
					WHERE doc_id = ? AND seq = ?`, c.Heading, c.Text, c.Lang, d.ID, i)
			}
			if err != nil {
				return fmt.Errorf("chunk %d: %w", i, err)
			}
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT OR IGNORE INTO kb_removed (chunk_id)
			SELECT id FROM kb_chunks WHERE doc_id = ? AND seq >= ?`, d.ID, len(chunks)); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM kb_chunks WHERE doc_id = ? AND seq >= ?", d.ID, len(chunks)); err != nil {
			return err
		}
		return t.emit(events.Event{Type: events.KBChanged, DocID: d.ID})
	})
}

// DeleteKB removes a document and its passages.
func (s *Store) DeleteKB(ctx context.Context, id int64) error {
	return s.update(ctx, func(t *wtx) error {
		if _, err := t.tx.ExecContext(ctx, "INSERT OR IGNORE INTO kb_removed (chunk_id) SELECT id FROM kb_chunks WHERE doc_id = ?", id); err != nil {
			return err
		}
		r, err := t.tx.ExecContext(ctx, "DELETE FROM kb_documents WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return t.emit(events.Event{Type: events.KBChanged, DocID: id})
	})
}

const kbDocCols = "d.id, d.kind, d.title, d.question, d.body, d.source, COALESCE(d.author_id, 0), d.created_at, d.updated_at"

func scanKBDoc(sc scanner, extra ...any) (*KBDoc, error) {
	var d KBDoc
	var created, updated int64
	if err := sc.Scan(append([]any{&d.ID, &d.Kind, &d.Title, &d.Question, &d.Body, &d.Source, &d.AuthorID, &created, &updated}, extra...)...); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &d, nil
}

// KBDocByID returns one document.
func (s *Store) KBDocByID(ctx context.Context, id int64) (*KBDoc, error) {
	d, err := scanKBDoc(s.r.QueryRowContext(ctx, "SELECT "+kbDocCols+" FROM kb_documents d WHERE d.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return d, err
}

// ListKB returns the documents of a kind ("" for all), newest first, with
// their passage counts and how many have a vector of embedModel.
func (s *Store) ListKB(ctx context.Context, kind, embedModel string) ([]KBDoc, error) {
	q := "SELECT " + kbDocCols + `, (SELECT COUNT(*) FROM kb_chunks c WHERE c.doc_id = d.id),
		(SELECT COUNT(*) FROM kb_chunks c WHERE c.doc_id = d.id AND c.embed_model = ?) FROM kb_documents d`
	args := []any{embedModel}
	if kind != "" {
		q += " WHERE d.kind = ?"
		args = append(args, kind)
	}
	rows, err := s.r.QueryContext(ctx, q+" ORDER BY d.kind = 'profile' DESC, d.updated_at DESC, d.id DESC", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []KBDoc
	for rows.Next() {
		var n, e int
		d, err := scanKBDoc(rows, &n, &e)
		if err != nil {
			return nil, err
		}
		d.Chunks, d.Embedded = n, e
		out = append(out, *d)
	}
	return out, rows.Err()
}

const kbChunkCols = "c.id, c.doc_id, c.seq, c.heading, c.text, c.lang, d.kind, d.title, d.question"
const kbChunkFrom = " FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id"

func scanKBChunks(rows *sql.Rows) ([]KBChunk, error) {
	defer rows.Close()
	var out []KBChunk
	for rows.Next() {
		var c KBChunk
		if err := rows.Scan(&c.ID, &c.DocID, &c.Seq, &c.Heading, &c.Text, &c.Lang, &c.Kind, &c.Title, &c.Question); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// KBChunks returns the passages with these ids, in no particular order.
func (s *Store) KBChunks(ctx context.Context, ids []int64) ([]KBChunk, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+kbChunkCols+kbChunkFrom+" WHERE c.id IN ("+idList(ids)+")")
	if err != nil {
		return nil, err
	}
	return scanKBChunks(rows)
}

// KBChunksOfDocs returns the passages of these documents, in order.
func (s *Store) KBChunksOfDocs(ctx context.Context, docIDs []int64) ([]KBChunk, error) {
	if len(docIDs) == 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+kbChunkCols+kbChunkFrom+" WHERE c.doc_id IN ("+idList(docIDs)+
		") ORDER BY c.doc_id, c.seq")
	if err != nil {
		return nil, err
	}
	return scanKBChunks(rows)
}

// IndexKB pages through every passage in id order, for a search rebuild.
func (s *Store) IndexKB(ctx context.Context, afterID int64, limit int) ([]KBChunk, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+kbChunkCols+kbChunkFrom+" WHERE c.id > ? ORDER BY c.id LIMIT ?", afterID, limit)
	if err != nil {
		return nil, err
	}
	return scanKBChunks(rows)
}

// CountKB is how many passages there are.
func (s *Store) CountKB(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM kb_chunks").Scan(&n)
	return n, err
}

// KBRemoved lists passages removed from the store and not yet from the search index.
func (s *Store) KBRemoved(ctx context.Context) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT chunk_id FROM kb_removed ORDER BY chunk_id LIMIT 10000")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ClearKBRemoved forgets removals the search index has applied.
func (s *Store) ClearKBRemoved(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.w.ExecContext(ctx, "DELETE FROM kb_removed WHERE chunk_id IN ("+idList(ids)+")")
	return err
}

// ChunksToEmbed returns up to limit passages without a vector of model.
func (s *Store) ChunksToEmbed(ctx context.Context, model string, limit int) ([]KBChunk, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+kbChunkCols+kbChunkFrom+
		" WHERE c.embed_model IS NULL OR c.embed_model != ? ORDER BY c.id LIMIT ?", model, limit)
	if err != nil {
		return nil, err
	}
	return scanKBChunks(rows)
}

// Embedding is one passage's vector, encoded.
type Embedding struct {
	ChunkID int64
	Text    string // the text that was embedded: a changed passage keeps no stale vector
	Vector  []byte
}

// SetEmbeddings stores vectors of model for passages whose text is still
// the one embedded.
func (s *Store) SetEmbeddings(ctx context.Context, model string, es []Embedding) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, e := range es {
			if _, err := tx.ExecContext(ctx, "UPDATE kb_chunks SET embed_model = ?, embedding = ? WHERE id = ? AND text = ?",
				model, e.Vector, e.ChunkID, e.Text); err != nil {
				return err
			}
		}
		return nil
	})
}

// Embeddings returns every vector of model, with its passage id.
func (s *Store) Embeddings(ctx context.Context, model string) (ids []int64, vecs [][]byte, err error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, embedding FROM kb_chunks WHERE embed_model = ? AND embedding IS NOT NULL ORDER BY id", model)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v []byte
		if err := rows.Scan(&id, &v); err != nil {
			return nil, nil, err
		}
		ids, vecs = append(ids, id), append(vecs, v)
	}
	return ids, vecs, rows.Err()
}

// KBVersion changes whenever a passage or a vector changes: caches of
// vectors compare it to know they are stale.
func (s *Store) KBVersion(ctx context.Context) (string, error) {
	var n, maxID, embedded int64
	var updated sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0), COUNT(embedding),
		(SELECT MAX(updated_at) FROM kb_documents) FROM kb_chunks`).Scan(&n, &maxID, &embedded, &updated)
	return fmt.Sprintf("%d.%d.%d.%d", n, maxID, embedded, updated.Int64), err
}
