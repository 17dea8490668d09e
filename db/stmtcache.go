package db

import (
	"context"
	"database/sql"
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
