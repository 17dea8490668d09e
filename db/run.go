package db

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// runner runs one request's statements on one connection (the write
// connection for Apply, a read connection for Query).
type runner struct {
	conn   *sql.Conn
	states *connStates
	req    *Request
	// before runs before each statement (the write connection refreshes
	// its wall-clock 'now').
	before func()
	// nested means the statements run inside the entry's transaction
	// (DB.ApplyBatch): a Transaction request uses a savepoint instead of
	// BEGIN…COMMIT. A failure that made SQLite roll the whole entry
	// transaction back (ON CONFLICT ROLLBACK, an interrupt) sets lost and
	// stops the run: ApplyBatch then reruns the entry in autocommit mode.
	nested bool
	lost   bool
	// maxBytes bounds one statement's rows (Config.MaxResultBytes).
	maxBytes int64
	// The write connection's extras: its prepared statements (nil: none
	// cached), rdb's record of the last rows_affected (nil: SQLite's
	// changes() is reported as is), and no db_timeout (a wall-clock
	// limit on the apply path would let replicas diverge).
	stmts     *stmtCache
	sticky    *int64
	noTimeout bool
	// cdc is the write connection's change capture (nil when off): a
	// statement or savepoint SQLite undoes must take its captured
	// changes with it. multi says the last statement ran as several.
	cdc   *capture
	multi bool
	// userBegin is the capture mark at the user's own BEGIN (autocommit
	// runs only), so that their ROLLBACK takes its changes back.
	userBegin int
}

// userTx follows a user's own BEGIN … ROLLBACK (run in autocommit mode,
// one statement each) for change capture: the rolled-back changes must
// not be reported. m is the mark before the statement.
func (r *runner) userTx(sql string, m int) {
	switch leadingKeyword(sql) {
	case "BEGIN":
		r.userBegin = m
	case "ROLLBACK":
		if !strings.Contains(strings.ToUpper(sql), " TO ") {
			r.cdc.truncate(r.userBegin)
		}
	}
}

// run executes the request in mode and returns one Result per non-empty
// statement (API.md §3.1). In a transaction, the first failure rolls back
// and stops, except in ModeQuery, where (as in rqlite) every statement
// gets its entry.
func (r *runner) run(ctx context.Context, mode Mode) []Result {
	results := make([]Result, 0, len(r.req.Statements))
	txMark := r.cdc.mark()
	if r.req.Transaction {
		if _, err := r.conn.ExecContext(ctx, r.txSQL().begin); err != nil {
			return append(results, Result{Error: errorText(err, executeTimeoutText)})
		}
	}
	for _, st := range r.req.Statements {
		if st.SQL == "" {
			continue
		}
		m := r.cdc.mark()
		res := r.one(ctx, st, mode)
		results = append(results, res)
		if res.Error != "" && r.req.Transaction && mode != ModeQuery {
			r.rollback()
			r.cdc.truncate(txMark)
			return results
		}
		if res.Error != "" {
			// SQLite undid the failed statement, but not the statements
			// before it in a multi-statement text.
			if !r.multi {
				r.cdc.truncate(m)
			}
			r.reopen()
		} else if r.cdc != nil && !r.nested && !r.multi {
			r.userTx(st.SQL, m)
		}
		if r.lost {
			return results
		}
	}
	if r.req.Transaction {
		if _, err := r.conn.ExecContext(ctx, r.txSQL().commit); err != nil {
			r.rollback()
			r.cdc.truncate(txMark)
			results = append(results, Result{Error: errorText(err, executeTimeoutText)})
		}
	}
	return results
}

// txStatements are the statements that open, commit and roll back a
// request's transaction.
type txStatements struct{ begin, commit, rollback string }

var (
	topTx    = txStatements{"BEGIN", "COMMIT", "ROLLBACK"}
	nestedTx = txStatements{"SAVEPOINT rdb_request", "RELEASE rdb_request",
		"ROLLBACK TO rdb_request; RELEASE rdb_request"}
)

func (r *runner) txSQL() txStatements {
	if r.nested {
		return nestedTx
	}
	return topTx
}

// rollback ends the request's transaction after a failure. SQLite may
// already have rolled it back (e.g. after an interrupt), so an error here
// says nothing new.
func (r *runner) rollback() {
	_, _ = r.conn.ExecContext(context.Background(), r.txSQL().rollback)
	r.reopen()
}

// reopen checks that a nested runner is still inside the entry's
// transaction after a failure: BEGIN fails inside a transaction, and
// succeeds (opening one for ApplyBatch to roll back) if SQLite rolled the
// entry's transaction back.
func (r *runner) reopen() {
	if !r.nested {
		return
	}
	if _, err := r.conn.ExecContext(context.Background(), "BEGIN"); err == nil {
		r.lost = true
	}
}

// one runs a statement and stamps its timing.
func (r *runner) one(ctx context.Context, st Statement, mode Mode) Result {
	start := time.Now()
	res := r.dispatch(ctx, st, mode)
	if mode == ModeQuery && res.Error != "" {
		res.Rows = true // a read's failure keeps the rows shape
	}
	if r.req.Timings {
		res.Time = time.Since(start).Seconds()
	}
	return res
}

// dispatch decides how a statement runs: as a read (rows entry), a write
// (counters), or not at all (a write on the read path).
func (r *runner) dispatch(ctx context.Context, st Statement, mode Mode) Result {
	if r.before != nil {
		r.before()
	}
	if isEmptySQL(st.SQL) {
		// Only whitespace, comments or semicolons: nothing runs, and
		// SQLite has no result to report (mattn gives zero counters).
		return Result{Rows: mode != ModeExecute}
	}
	r.multi = true // unless classified otherwise
	if mode == ModeExecute && r.req.NoParse {
		return r.exec(ctx, st, stmtClass{multi: true})
	}
	cl, err := r.states.classify(r.conn, st.SQL)
	if err != nil {
		return Result{Error: err.Error()}
	}
	r.multi = cl.multi
	switch mode {
	case ModeQuery:
		if cl.err != nil {
			return Result{Error: errorText(cl.err, queryTimeoutText)}
		}
		if cl.write {
			return Result{Error: ErrQueryWrite.Error()}
		}
		return r.query(ctx, st, cl)
	case ModeRequest:
		if !cl.write {
			return r.query(ctx, st, cl)
		}
	}
	if cl.write && cl.columns > 0 && !cl.multi && cl.err == nil {
		return r.query(ctx, st, cl) // RETURNING
	}
	return r.exec(ctx, st, cl)
}

// stmtCtx bounds one statement by the request's db_timeout, except on the
// apply path.
func (r *runner) stmtCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.req.Timeout > 0 && !r.noTimeout {
		return context.WithTimeout(ctx, r.req.Timeout)
	}
	return ctx, func() {}
}

// prepared returns the cached prepared statement for a single statement
// that prepared cleanly, or nil to run the text directly.
func (r *runner) prepared(ctx context.Context, st Statement, cl stmtClass) *sql.Stmt {
	if r.stmts == nil || cl.multi || cl.err != nil {
		return nil
	}
	ps, err := r.stmts.get(ctx, r.conn, st.SQL)
	if err != nil {
		return nil // running the text reports the error in its slot
	}
	return ps
}

// exec runs a statement as a write: a write entry with the connection's
// last_insert_rowid() after it and the rows it changed. rqlite reports
// both "sticky", as SQLite keeps them: a statement that changes no rows
// by itself (DDL) reports the previous statement's count; on the write
// connection rdb keeps that count itself, since its own bookkeeping
// writes move SQLite's.
func (r *runner) exec(ctx context.Context, st Statement, cl stmtClass) Result {
	ctx, cancel := r.stmtCtx(ctx)
	defer cancel()
	var (
		res sql.Result
		err error
	)
	if ps := r.prepared(ctx, st, cl); ps != nil {
		res, err = ps.ExecContext(ctx, bindArgs(st.Parameters)...)
	} else {
		res, err = r.conn.ExecContext(ctx, st.SQL, bindArgs(st.Parameters)...)
	}
	if err != nil {
		return Result{Error: errorText(err, executeTimeoutText)}
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Result{Error: errorText(err, executeTimeoutText)}
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Result{Error: errorText(err, executeTimeoutText)}
	}
	return Result{LastInsertID: id, RowsAffected: r.rowsAffected(st.SQL, n)}
}

// rowsAffected is what a write reports: SQLite's count after a statement
// that sets it (INSERT, UPDATE, DELETE), else the last such count.
func (r *runner) rowsAffected(text string, n int64) int64 {
	if r.sticky == nil {
		return n
	}
	if setsChanges(text) {
		*r.sticky = n
	}
	return *r.sticky
}

// query runs a statement and returns its rows entry.
func (r *runner) query(ctx context.Context, st Statement, cl stmtClass) Result {
	ps := r.prepared(ctx, st, cl)
	res := r.rows(ctx, func(ctx context.Context) (*sql.Rows, error) {
		if ps != nil {
			return ps.QueryContext(ctx, bindArgs(st.Parameters)...)
		}
		return r.conn.QueryContext(ctx, st.SQL, bindArgs(st.Parameters)...)
	})
	if res.Error == "" && cl.write && r.sticky != nil && setsChanges(st.SQL) {
		*r.sticky = int64(len(res.Values)) // RETURNING: one row per change
	}
	return res
}

// rows runs open within the request's db_timeout and reads its rows.
func (r *runner) rows(ctx context.Context, open func(context.Context) (*sql.Rows, error)) Result {
	ctx, cancel := r.stmtCtx(ctx)
	defer cancel()
	rows, err := open(ctx)
	if err != nil {
		return Result{Error: errorText(err, queryTimeoutText)}
	}
	res, err := readRows(rows, r.maxBytes, r.req.Raw)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{Error: errorText(err, queryTimeoutText)}
	}
	return res
}

// bindArgs turns parameters into database/sql arguments; named ones bind
// to :name, @name or $name.
func bindArgs(ps []Parameter) []any {
	if len(ps) == 0 {
		return nil
	}
	args := make([]any, len(ps))
	for i, p := range ps {
		if p.Name != "" {
			args[i] = sql.Named(p.Name, p.Value)
		} else {
			args[i] = p.Value
		}
	}
	return args
}
