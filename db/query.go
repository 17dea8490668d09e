package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Query runs req's statements on a read-only connection; a write fails
// with ErrQueryWrite in its slot.
func (d *DB) Query(ctx context.Context, req *Request) ([]Result, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	if res, ok := d.queryOne(ctx, req); ok {
		return res, nil
	}
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read connection: %w", err)
	}
	defer conn.Close()
	r := &runner{conn: conn, states: &d.states, req: req, maxBytes: d.cfg.MaxResultBytes}
	results := r.run(ctx, ModeQuery)
	if mayOpenTx(req.Statements) {
		// A user BEGIN/SAVEPOINT must not leave a pooled connection
		// pinned to an old snapshot.
		r.rollback()
	}
	return results, nil
}

// queryOne serves the common request, one read-only statement, through
// the pool's cached class and prepared statement; ok is false when the
// request needs the general path (several statements, a write, a
// statement that might open a transaction, or one seen for the first
// time, which the general path classifies).
func (d *DB) queryOne(ctx context.Context, req *Request) ([]Result, bool) {
	if len(req.Statements) != 1 || mayOpenTx(req.Statements) {
		return nil, false
	}
	st := req.Statements[0]
	cl, known := d.rcache.class(st.SQL)
	if !known {
		d.classifyRead(ctx, st.SQL)
		return nil, false
	}
	if cl.write || cl.multi || isEmptySQL(st.SQL) {
		return nil, false
	}
	ps, err := d.rcache.stmt(ctx, d.ro, st.SQL)
	if err != nil {
		return nil, false
	}
	r := &runner{req: req, maxBytes: d.cfg.MaxResultBytes}
	start := time.Now()
	res := r.rows(ctx, func(ctx context.Context) (*sql.Rows, error) {
		return ps.QueryContext(ctx, bindArgs(st.Parameters)...)
	})
	if res.Error != "" {
		res.Rows = true
	}
	if req.Timings {
		res.Time = time.Since(start).Seconds()
	}
	return []Result{res}, true
}

// classifyRead classifies text on a pooled connection and remembers it
// for queryOne; errors are left for the general path to report.
func (d *DB) classifyRead(ctx context.Context, text string) {
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if cl, err := d.states.classify(conn, text); err == nil {
		d.rcache.remember(text, cl)
	}
}

// mayOpenTx reports statements that could leave a transaction open (an
// over-approximation: any mention of BEGIN or SAVEPOINT).
func mayOpenTx(stmts []Statement) bool {
	for _, st := range stmts {
		if containsFold(st.SQL, "BEGIN") || containsFold(st.SQL, "SAVEPOINT") {
			return true
		}
	}
	return false
}

// containsFold reports whether sub (ASCII) occurs in s, ignoring case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// ReadOnly reports whether every statement is read-only in the sense of
// sqlite3_stmt_readonly; a statement that cannot be prepared counts as a
// write (so it goes through the log, where its error surfaces). EXPLAIN
// counts as a read.
func (d *DB) ReadOnly(ctx context.Context, stmts []Statement) (bool, error) {
	if err := d.begin(); err != nil {
		return false, err
	}
	defer d.swap.RUnlock()
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("read connection: %w", err)
	}
	defer conn.Close()
	for _, st := range stmts {
		if st.SQL == "" {
			continue
		}
		cl, err := d.states.classify(conn, st.SQL)
		if err != nil {
			return false, err
		}
		if cl.write {
			return false, nil
		}
	}
	return true, nil
}
