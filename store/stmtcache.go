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
//
// The write side has its own map (writeCached below). The writer pool has a
// single connection that the open transaction holds, so a statement cannot
// be prepared on it mid-transaction: a query first runs unprepared and is
// prepared after the commit, for the next transaction.
type stmtCache struct {
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	w      map[string]*sql.Stmt
	want   map[string]bool // write queries to prepare after the current commit
	closed bool
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
	for _, st := range c.w {
		st.Close()
	}
	c.m, c.w, c.want = nil, nil, nil
	c.closed = true
}

// writeCached returns the writer's prepared statement for query, or nil if
// it is not prepared yet (it is then noted, and prepared by prepareWanted).
func (s *Store) writeCached(query string) *sql.Stmt {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.w[query]; ok {
		return st
	}
	if len(c.w)+len(c.want) < maxCachedStmts && strings.Count(query, "?") <= 32 {
		if c.want == nil {
			c.want = map[string]bool{}
		}
		c.want[query] = true
	}
	return nil
}

// prepareWanted prepares on the writer the queries writeCached noted. It
// runs between transactions, when the writer's connection is free.
// The lock is not held while preparing: preparing waits for the writer's
// connection, which another transaction may hold and need the lock.
func (s *Store) prepareWanted(ctx context.Context) {
	c := &s.stmts
	c.mu.Lock()
	var queries []string
	for query := range c.want {
		queries = append(queries, query)
	}
	clear(c.want)
	c.mu.Unlock()
	for _, query := range queries {
		st, err := s.w.PrepareContext(ctx, query)
		if err != nil {
			continue // the unprepared call reports the error
		}
		c.mu.Lock()
		if _, dup := c.w[query]; dup || c.closed {
			st.Close()
		} else {
			if c.w == nil {
				c.w = map[string]*sql.Stmt{}
			}
			c.w[query] = st
		}
		c.mu.Unlock()
	}
}

// exec runs a write statement in the transaction, prepared once.
func (t *wtx) exec(query string, args ...any) (sql.Result, error) {
	if st := t.s.writeCached(query); st != nil {
		return t.stmt(st).ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}

// queryRow runs a query returning one row in the transaction, prepared once.
func (t *wtx) queryRow(query string, args ...any) *sql.Row {
	if st := t.s.writeCached(query); st != nil {
		return t.stmt(st).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

// query runs a query in the transaction, prepared once.
func (t *wtx) query(query string, args ...any) (*sql.Rows, error) {
	if st := t.s.writeCached(query); st != nil {
		return t.stmt(st).QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}
