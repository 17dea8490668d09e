package db

import (
	"context"
	"database/sql"
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
	// (DB.ApplyEntry): a Transaction request uses a savepoint instead of
	// BEGIN…COMMIT. A failure that made SQLite roll the whole entry
	// transaction back (ON CONFLICT ROLLBACK, an interrupt) sets lost and
	// stops the run: ApplyEntry then reruns the entry in autocommit mode.
	nested bool
	lost   bool
	// maxBytes bounds one statement's rows (Config.MaxResultBytes).
	maxBytes int64
}

// run executes the request in mode and returns one Result per non-empty
// statement (API.md §3.1). In a transaction, the first failure rolls back
// and stops, except in ModeQuery, where (as in rqlite) every statement
// gets its entry.
func (r *runner) run(ctx context.Context, mode Mode) []Result {
	results := make([]Result, 0, len(r.req.Statements))
	if r.req.Transaction {
		if _, err := r.conn.ExecContext(ctx, r.txSQL().begin); err != nil {
			return append(results, Result{Error: errorText(err, executeTimeoutText)})
		}
	}
	for _, st := range r.req.Statements {
		if st.SQL == "" {
			continue
		}
		res := r.one(ctx, st, mode)
		results = append(results, res)
		if res.Error != "" && r.req.Transaction && mode != ModeQuery {
			r.rollback()
			return results
		}
		if res.Error != "" {
			r.reopen()
		}
		if r.lost {
			return results
		}
	}
	if r.req.Transaction {
		if _, err := r.conn.ExecContext(ctx, r.txSQL().commit); err != nil {
			r.rollback()
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
// succeeds (opening one for ApplyEntry to roll back) if SQLite rolled the
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
	if mode == ModeExecute && r.req.NoParse {
		return r.exec(ctx, st)
	}
	cl, err := r.states.classify(r.conn, st.SQL)
	if err != nil {
		return Result{Error: err.Error()}
	}
	switch mode {
	case ModeQuery:
		if cl.err != nil {
			return Result{Error: errorText(cl.err, queryTimeoutText)}
		}
		if cl.write {
			return Result{Error: ErrQueryWrite.Error()}
		}
		return r.query(ctx, st)
	case ModeRequest:
		if !cl.write {
			return r.query(ctx, st)
		}
	}
	if cl.write && cl.columns > 0 && !cl.multi && cl.err == nil {
		return r.query(ctx, st) // RETURNING
	}
	return r.exec(ctx, st)
}

// stmtCtx bounds one statement by the request's db_timeout.
func (r *runner) stmtCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.req.Timeout > 0 {
		return context.WithTimeout(ctx, r.req.Timeout)
	}
	return ctx, func() {}
}

// exec runs a statement as a write: a write entry with the connection's
// last_insert_rowid() and changes() after it (sticky, as in SQLite).
func (r *runner) exec(ctx context.Context, st Statement) Result {
	ctx, cancel := r.stmtCtx(ctx)
	defer cancel()
	res, err := r.conn.ExecContext(ctx, st.SQL, bindArgs(st.Parameters)...)
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
	return Result{LastInsertID: id, RowsAffected: n}
}

// query runs a statement and returns its rows entry.
func (r *runner) query(ctx context.Context, st Statement) Result {
	ctx, cancel := r.stmtCtx(ctx)
	defer cancel()
	rows, err := r.conn.QueryContext(ctx, st.SQL, bindArgs(st.Parameters)...)
	if err != nil {
		return Result{Error: errorText(err, queryTimeoutText)}
	}
	res, err := readRows(rows, r.maxBytes)
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
