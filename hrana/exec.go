package hrana

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/internal/auth"
	"github.com/rdb/rdb/store"
)

// executor runs the requests of one pipeline on its (locked) stream.
type executor struct {
	s  *Server
	st *stream
	c  caller
	v3 bool
}

// handle runs one stream request. A returned error is a protocol
// violation: the whole HTTP request fails and the stream is dropped.
func (ex *executor) handle(ctx context.Context, rq streamRequest) (streamResult, error) {
	if ex.st.closed {
		return errResult(&protoError{Message: "the stream is closed", Code: codeProtocol}), nil
	}
	ok := func(r *streamResponse) (streamResult, error) {
		r.Type = rq.Type
		return streamResult{Type: "ok", Response: r}, nil
	}
	switch rq.Type {
	case "close":
		ex.st.endTx()
		ex.st.closed = true
		return ok(&streamResponse{})
	case "execute":
		if rq.Stmt == nil {
			return streamResult{}, protocolError("execute request without stmt")
		}
		res, perr, err := ex.execute(ctx, rq.Stmt)
		if err != nil {
			return streamResult{}, err
		}
		if perr != nil {
			return errResult(perr), nil
		}
		return ok(&streamResponse{Result: res})
	case "batch":
		if rq.Batch == nil {
			return streamResult{}, protocolError("batch request without batch")
		}
		res, err := ex.batch(ctx, rq.Batch)
		if err != nil {
			return streamResult{}, err
		}
		return ok(&streamResponse{Result: res})
	case "sequence":
		text, err := ex.sqlText(rq.SQL, rq.SQLID)
		if err != nil {
			return streamResult{}, err
		}
		perr, err := ex.sequence(ctx, text)
		if err != nil {
			return streamResult{}, err
		}
		if perr != nil {
			return errResult(perr), nil
		}
		return ok(&streamResponse{})
	case "describe":
		text, err := ex.sqlText(rq.SQL, rq.SQLID)
		if err != nil {
			return streamResult{}, err
		}
		res, perr := ex.describe(ctx, text)
		if perr != nil {
			return errResult(perr), nil
		}
		return ok(&streamResponse{Result: res})
	case "store_sql":
		if rq.SQLID == nil || rq.SQL == nil {
			return streamResult{}, protocolError("store_sql needs sql_id and sql")
		}
		if _, dup := ex.st.sqls[*rq.SQLID]; dup {
			return streamResult{}, protocolError(fmt.Sprintf("sql_id %d is already stored", *rq.SQLID))
		}
		if len(ex.st.sqls) >= maxStoredSQL {
			return errResult(&protoError{Message: fmt.Sprintf("too many stored SQL texts (at most %d)", maxStoredSQL), Code: codeStoreTooMany}), nil
		}
		if len(*rq.SQL) > maxStoredSQLLen {
			return errResult(&protoError{Message: fmt.Sprintf("stored SQL text too large (at most %d bytes)", maxStoredSQLLen), Code: codeStoreTooLarge}), nil
		}
		ex.st.sqls[*rq.SQLID] = *rq.SQL
		return ok(&streamResponse{})
	case "close_sql":
		if rq.SQLID == nil {
			return streamResult{}, protocolError("close_sql needs sql_id")
		}
		delete(ex.st.sqls, *rq.SQLID)
		return ok(&streamResponse{})
	case "get_autocommit":
		return ok(&streamResponse{IsAutocommit: ptr(ex.st.tx == nil)})
	}
	return streamResult{}, protocolError(fmt.Sprintf("unknown request type %q", rq.Type))
}

func errResult(e *protoError) streamResult { return streamResult{Type: "error", Error: e} }

// sqlText resolves exactly one of sql and sql_id.
func (ex *executor) sqlText(sql *string, id *int32) (string, error) {
	switch {
	case sql != nil && id != nil:
		return "", protocolError("both sql and sql_id given")
	case sql != nil:
		return *sql, nil
	case id != nil:
		text, ok := ex.st.sqls[*id]
		if !ok {
			return "", protocolError(fmt.Sprintf("sql_id %d is not stored", *id))
		}
		return text, nil
	}
	return "", protocolError("neither sql nor sql_id given")
}

// stmtKind is what a statement means for the stream's transaction.
type stmtKind uint8

const (
	kindOther stmtKind = iota
	kindBegin
	kindBeginReadOnly
	kindCommit
	kindRollback
)

// classify recognises BEGIN…, COMMIT/END and ROLLBACK (not ROLLBACK TO,
// which runs inside the transaction as an ordinary statement).
func classify(sql string) stmtKind {
	w := db.LeadingWords(sql, 3)
	if len(w) == 0 {
		return kindOther
	}
	switch w[0] {
	case "BEGIN":
		if len(w) == 3 && w[1] == "TRANSACTION" && w[2] == "READONLY" {
			return kindBeginReadOnly
		}
		return kindBegin
	case "COMMIT", "END":
		return kindCommit
	case "ROLLBACK":
		for _, x := range w[1:] {
			if x == "TO" {
				return kindOther
			}
		}
		return kindRollback
	}
	return kindOther
}

// execute runs one Stmt: a statement error is a *protoError; err is a
// protocol violation.
func (ex *executor) execute(ctx context.Context, s *stmt) (*stmtResult, *protoError, error) {
	text, err := ex.sqlText(s.SQL, s.SQLID)
	if err != nil {
		return nil, nil, err
	}
	pieces := db.SplitStatements(text)
	switch {
	case len(pieces) == 0:
		return nil, &protoError{Message: "SQL string does not contain any statement", Code: codeNoStatement}, nil
	case len(pieces) > 1:
		return nil, &protoError{Message: "SQL string contains more than one statement", Code: codeManyStmts}, nil
	}
	if len(s.Args) > 0 && len(s.NamedArgs) > 0 {
		return nil, &protoError{Message: "statement has both positional and named arguments", Code: codeArgsBoth}, nil
	}
	params := make([]db.Parameter, 0, len(s.Args)+len(s.NamedArgs))
	for _, a := range s.Args {
		params = append(params, db.Parameter{Value: a.v})
	}
	for _, a := range s.NamedArgs {
		params = append(params, db.Parameter{Name: strings.TrimLeft(a.Name, ":@$"), Value: a.Value.v})
	}
	wantRows := s.WantRows == nil || *s.WantRows
	res, perr := ex.run(ctx, db.Statement{SQL: text, Parameters: params})
	if perr != nil {
		return nil, perr, nil
	}
	return toStmtResult(res, wantRows), nil, nil
}

// run runs one statement on the stream: transaction control opens,
// commits or rolls back the stream's store.Tx; other statements run in
// it, or as a request of their own outside one.
func (ex *executor) run(ctx context.Context, st db.Statement) (db.Result, *protoError) {
	switch classify(st.SQL) {
	case kindBegin:
		return ex.begin(ctx, false)
	case kindBeginReadOnly:
		return ex.begin(ctx, true)
	case kindCommit:
		if ex.st.tx == nil {
			return db.Result{}, &protoError{Message: "cannot commit - no transaction is active", Code: "SQLITE_ERROR"}
		}
		tx := ex.st.tx
		ex.st.tx = nil
		if err := tx.Commit(ctx); err != nil {
			return db.Result{}, txError(err)
		}
		return db.Result{}, nil
	case kindRollback:
		if ex.st.tx == nil {
			return db.Result{}, &protoError{Message: "cannot rollback - no transaction is active", Code: "SQLITE_ERROR"}
		}
		ex.st.endTx()
		return db.Result{}, nil
	}
	if perr := ex.authorize(ctx, st); perr != nil {
		return db.Result{}, perr
	}
	if ex.st.tx != nil && ex.st.readOnly {
		ro, err := ex.s.store.ReadOnly(ctx, []db.Statement{st})
		if err != nil {
			return db.Result{}, requestError(err)
		}
		if !ro {
			return db.Result{}, &protoError{Message: "attempt to write a readonly database", Code: "SQLITE_READONLY"}
		}
	}
	req := db.Request{Statements: []db.Statement{st}, Raw: true}
	if ex.st.tx != nil {
		res, err := ex.st.tx.Run(ctx, &req)
		if err != nil {
			switch {
			case errors.Is(err, db.ErrSpecLost):
				// SQLite itself rolled the transaction back (ON CONFLICT
				// ROLLBACK, RAISE(ROLLBACK)): as in SQLite, the stream
				// goes on in autocommit mode.
				ex.st.tx = nil
				if len(res) > 0 && res[0].Error != "" {
					return db.Result{}, stmtError(res[0].Error) // the statement's own error
				}
			case ex.st.tx.Err() != nil:
				// The transaction is over without the client: this
				// request fails, and so will the next pipeline.
				ex.st.dead = ex.st.tx.Err()
				ex.st.tx = nil
			}
			return db.Result{}, txError(err)
		}
		return one(res)
	}
	resp, err := ex.s.db.Request(ctx, &store.Request{Request: req})
	if err != nil {
		return db.Result{}, requestError(err)
	}
	return one(resp.Results)
}

// one is the single statement's result, or its error.
func one(res []db.Result) (db.Result, *protoError) {
	if len(res) == 0 {
		return db.Result{}, nil // only comments: nothing ran
	}
	if res[0].Error != "" {
		return db.Result{}, stmtError(res[0].Error)
	}
	return res[0], nil
}

// begin opens the stream's transaction at the leader's write slot.
func (ex *executor) begin(ctx context.Context, readOnly bool) (db.Result, *protoError) {
	if ex.st.tx != nil {
		return db.Result{}, &protoError{Message: "cannot start a transaction within a transaction", Code: "SQLITE_ERROR"}
	}
	if !ex.c.may(auth.PermExecute) && !ex.c.may(auth.PermQuery) {
		return db.Result{}, &protoError{Message: "unauthorized", Code: codeUnauthorized}
	}
	tx, err := ex.s.store.Begin(ctx)
	if err != nil {
		return db.Result{}, txError(err)
	}
	ex.st.tx, ex.st.readOnly = tx, readOnly
	return db.Result{}, nil
}

// authorize checks the permission a statement needs: query to read,
// execute to write (as /db/query and /db/execute do).
func (ex *executor) authorize(ctx context.Context, st db.Statement) *protoError {
	if ex.c.auth == nil {
		return nil
	}
	ro, err := ex.s.store.ReadOnly(ctx, []db.Statement{st})
	if err != nil {
		return requestError(err)
	}
	perm := auth.PermExecute
	if ro {
		perm = auth.PermQuery
	}
	if !ex.c.may(perm) {
		return &protoError{Message: "unauthorized: the " + perm + " permission is needed", Code: codeUnauthorized}
	}
	return nil
}

// txError maps a transaction failure to a Hrana Error.
func txError(err error) *protoError {
	switch {
	case errors.Is(err, store.ErrBusy):
		return &protoError{Message: err.Error(), Code: codeBusy}
	case errors.Is(err, store.ErrTxIdle):
		return &protoError{Message: err.Error(), Code: codeTxTimeout}
	}
	return requestError(err)
}

// requestError maps an error refusing a whole request.
func requestError(err error) *protoError {
	switch {
	case errors.Is(err, store.ErrBusy):
		return &protoError{Message: err.Error(), Code: codeBusy}
	case errors.Is(err, store.ErrNotLeader), errors.Is(err, store.ErrLeaderNotFound):
		return &protoError{Message: err.Error(), Code: codeNotLeader}
	case errors.Is(err, db.ErrDisallowedPragma), errors.Is(err, db.ErrDisallowedStatement),
		errors.Is(err, db.ErrUnsupportedType):
		return &protoError{Message: err.Error(), Code: codeInput}
	}
	return stmtError(err.Error())
}

// batch runs a Batch: each step whose condition holds, in order.
func (ex *executor) batch(ctx context.Context, b *batch) (*batchResult, error) {
	n := len(b.Steps)
	res := &batchResult{StepResults: make([]*stmtResult, n), StepErrors: make([]*protoError, n)}
	ran := make([]bool, n)
	for i := range b.Steps {
		step := &b.Steps[i]
		if step.Condition != nil {
			holds, err := ex.eval(step.Condition, i, ran, res)
			if err != nil {
				return nil, err
			}
			if !holds {
				continue
			}
		}
		sr, perr, err := ex.execute(ctx, &step.Stmt)
		if err != nil {
			return nil, err
		}
		ran[i] = true
		res.StepResults[i], res.StepErrors[i] = sr, perr
	}
	return res, nil
}

// eval evaluates a step condition; naming a step that is not earlier
// than step i is a protocol error.
func (ex *executor) eval(c *batchCond, i int, ran []bool, res *batchResult) (bool, error) {
	stepOf := func() (int, error) {
		if c.Step == nil || *c.Step < 0 || *c.Step >= i {
			return 0, protocolError(fmt.Sprintf("condition of step %d refers to a step that is not earlier", i))
		}
		return *c.Step, nil
	}
	switch c.Type {
	case "ok":
		j, err := stepOf()
		return err == nil && ran[j] && res.StepErrors[j] == nil, err
	case "error":
		j, err := stepOf()
		return err == nil && ran[j] && res.StepErrors[j] != nil, err
	case "not":
		if c.Cond == nil {
			return false, protocolError("not condition without cond")
		}
		v, err := ex.eval(c.Cond, i, ran, res)
		return !v, err
	case "and", "or":
		all := c.Type == "and"
		for k := range c.Conds {
			v, err := ex.eval(&c.Conds[k], i, ran, res)
			if err != nil {
				return false, err
			}
			if v != all {
				return v, nil
			}
		}
		return all, nil
	case "is_autocommit":
		return ex.st.tx == nil, nil
	}
	return false, protocolError(fmt.Sprintf("unknown condition type %q", c.Type))
}

// sequence runs the statements of text, ignoring rows, up to the first
// failure.
func (ex *executor) sequence(ctx context.Context, text string) (*protoError, error) {
	for _, piece := range db.SplitStatements(text) {
		if _, perr := ex.run(ctx, db.Statement{SQL: piece}); perr != nil {
			return perr, nil
		}
	}
	return nil, nil
}

// describe reports a statement's parameters and columns.
func (ex *executor) describe(ctx context.Context, text string) (*describeResult, *protoError) {
	d, err := ex.s.store.Describe(ctx, text)
	if err != nil {
		return nil, stmtError(err.Error())
	}
	out := &describeResult{Params: []describeParam{}, Cols: []col{}, IsExplain: d.IsExplain, IsReadonly: d.ReadOnly}
	for _, p := range d.Params {
		dp := describeParam{}
		if p != "" {
			dp.Name = ptr(p)
		}
		out.Params = append(out.Params, dp)
	}
	for i, name := range d.Columns {
		c := col{Name: ptr(name)}
		if d.DeclTypes[i] != "" {
			c.Decltype = ptr(d.DeclTypes[i])
		}
		out.Cols = append(out.Cols, c)
	}
	return out, nil
}
