package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// maxCachedStmts bounds the read statements kept prepared. Only the hot
// queries with a fixed text go through the cache; the bound is a safety net.
const maxCachedStmts = 256

// stmtCache keeps read queries prepared on the read pool. The driver
// parses a statement's text on every unprepared call, and for the wide
// SELECTs of messages and conversations parsing costs more than running
// the query: the assistant's two lookups per customer message spent most
// of their time in SQLite's parser.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (s *Store) readStmt(ctx context.Context, query string) *sql.Stmt {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m) >= maxCachedStmts || strings.Count(query, "?") > 32 {
		return nil // a long IN list: rarely the same twice
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st
}

// cachedRow runs a read query returning one row, prepared once.
func (s *Store) cachedRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}

// cachedQuery runs a read query, prepared once.
func (s *Store) cachedQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, query, args...)
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}
