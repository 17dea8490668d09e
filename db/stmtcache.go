package db

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds a connection's prepared statements. A workload
// with more distinct statements than this empties the cache and starts
// over, which costs what not caching would.
const maxCachedStmts = 256

// stmtCache keeps prepared statements of one long-lived connection (the
// write connection), keyed by SQL text: a bulk request repeats one INSERT
// a thousand times, and the position UPDATE runs after every entry, so
// each is parsed and planned once. SQLite re-prepares a cached statement
// by itself when the schema changes. Not safe for concurrent use: the
// write connection's users hold DB.wmu.
type stmtCache struct {
	m map[string]*sql.Stmt
}

// get returns the prepared statement for query on conn, preparing it on
// first use. A statement that fails to prepare is not cached.
func (c *stmtCache) get(ctx context.Context, conn *sql.Conn, query string) (*sql.Stmt, error) {
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(c.m) >= maxCachedStmts {
		c.clear()
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = st
	return st, nil
}

// clear closes every cached statement; the connection is about to close
// or the cache is full.
func (c *stmtCache) clear() {
	for _, st := range c.m {
		_ = st.Close() // a statement of a closed connection has nothing to free
	}
	c.m = nil
}

// readCache is what the read pool remembers per SQL text, for requests of
// one statement: its class (so it is not prepared just to be classified)
// and a pool-level prepared statement, which database/sql prepares once
// on each connection that runs it. Safe for concurrent use.
type readCache struct {
	mu      sync.Mutex
	classes map[string]stmtClass
	stmts   map[string]*sql.Stmt
}

// class returns the remembered class of query.
func (c *readCache) class(query string) (stmtClass, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.classes[query]
	return cl, ok
}

// remember records a class; failures are never remembered.
func (c *readCache) remember(query string, cl stmtClass) {
	if cl.err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.classes == nil || len(c.classes) >= maxClasses {
		c.classes = make(map[string]stmtClass)
	}
	c.classes[query] = cl
}

// stmt returns the pool's prepared statement for query, preparing it on
// first use.
func (c *readCache) stmt(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.stmts[query]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[query]; ok {
		_ = st.Close() // another reader prepared it first
		return old, nil
	}
	if c.stmts == nil || len(c.stmts) >= maxCachedStmts {
		c.closeStmts()
		c.stmts = make(map[string]*sql.Stmt)
	}
	c.stmts[query] = st
	return st, nil
}

// clear forgets everything; the pool is closing.
func (c *readCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeStmts()
	c.stmts, c.classes = nil, nil
}

func (c *readCache) closeStmts() {
	for _, st := range c.stmts {
		_ = st.Close() // a statement in use closes when its rows do
	}
}
