package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// AppliedTable is the table, inside the database file, that records the
// last Raft log entry the file reflects. It has one row, written in the
// same SQLite transaction as the entry's effects. Dump leaves it out.
const AppliedTable = "_rdb_applied"

const (
	appliedCreate = `CREATE TABLE IF NOT EXISTS "` + AppliedTable +
		`" (id INTEGER PRIMARY KEY CHECK (id = 1), raft_index INTEGER NOT NULL, raft_term INTEGER NOT NULL)`
	appliedUpsert = `INSERT OR REPLACE INTO "` + AppliedTable + `" (id, raft_index, raft_term) VALUES (1, ?, ?)`
	appliedSelect = `SELECT raft_index, raft_term FROM "` + AppliedTable + `" WHERE id = 1`
)

// Applied is the Raft position a database file reflects: every log entry
// up to Index, and none after it.
type Applied struct {
	Index uint64
	Term  uint64
}

// Item is one request of a log entry, with the mode and Env it runs in.
type Item struct {
	Req  *Request
	Mode Mode
	Env  Env
}

// ApplyEntry runs the requests of one Raft log entry and records at as the
// file's applied position, all in one SQLite transaction: after a crash the
// file holds either the whole entry and its index or neither (store's
// restart relies on it). Requests without Transaction keep rqlite's
// per-statement semantics: a failing statement undoes only itself, later
// statements still run. A request with Transaction runs inside a
// savepoint that its first failure rolls back.
//
// An entry with a statement that cannot run inside a transaction (VACUUM,
// the user's own BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE/END, ATTACH,
// DETACH, PRAGMA), or one whose failure made SQLite roll back the whole
// transaction (ON CONFLICT ROLLBACK, RAISE(ROLLBACK), an interrupted
// statement), runs statement by statement in autocommit mode, as in
// rqlite, and its position is recorded right after: a crash between the
// two replays that one entry (see store/DESIGN.md).
//
// The returned error is for failures of the database itself; statement
// errors are inside the Results.
func (d *DB) ApplyEntry(ctx context.Context, items []Item, at Applied) ([][]Result, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if needsAutocommit(items) {
		return d.applyAutocommit(ctx, items, at)
	}
	if _, err := d.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, fmt.Errorf("apply entry %d: begin: %w", at.Index, err)
	}
	out := make([][]Result, len(items))
	for i, it := range items {
		d.fenv.reset(it.Env, it.Req)
		r := d.writeRunner(it.Req, true)
		out[i] = r.run(ctx, it.Mode)
		if r.lost {
			// SQLite rolled the whole entry back: run it again the
			// way rqlite does, one autocommit statement at a time.
			d.rollbackWrite()
			return d.applyAutocommit(ctx, items, at)
		}
	}
	if err := d.commitApplied(ctx, at); err != nil {
		return nil, err
	}
	return out, nil
}

// applyAutocommit runs items as separate autocommit statements, then
// records at in its own transaction.
func (d *DB) applyAutocommit(ctx context.Context, items []Item, at Applied) ([][]Result, error) {
	out := make([][]Result, len(items))
	for i, it := range items {
		d.fenv.reset(it.Env, it.Req)
		r := d.writeRunner(it.Req, false)
		out[i] = r.run(ctx, it.Mode)
	}
	// A user's BEGIN without COMMIT leaves a transaction open. If a
	// statement failed it is rolled back (rollback-on-error, as rqlite
	// does for SQL loaded with /db/load); otherwise it commits with the
	// entry's position.
	_, err := d.wconn.ExecContext(ctx, "BEGIN")
	switch {
	case isNestedTxError(err) && anyError(out):
		d.rollbackWrite()
		if _, err := d.wconn.ExecContext(ctx, "BEGIN"); err != nil {
			return nil, fmt.Errorf("apply entry %d: begin: %w", at.Index, err)
		}
	case err != nil && !isNestedTxError(err):
		return nil, fmt.Errorf("apply entry %d: begin: %w", at.Index, err)
	}
	if err := d.commitApplied(ctx, at); err != nil {
		return nil, err
	}
	return out, nil
}

// commitApplied records at in the open write transaction and commits it;
// on failure the transaction is rolled back.
func (d *DB) commitApplied(ctx context.Context, at Applied) error {
	if err := d.writeApplied(ctx, at); err != nil {
		d.rollbackWrite()
		return err
	}
	if _, err := d.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		d.rollbackWrite()
		return fmt.Errorf("apply entry %d: commit: %w", at.Index, err)
	}
	return nil
}

// writeRunner runs one request on the write connection with the apply
// path's deterministic functions; nested runs inside the entry's
// transaction.
func (d *DB) writeRunner(req *Request, nested bool) *runner {
	return &runner{conn: d.wconn, states: &d.states, req: req, before: d.fenv.beginStatement,
		nested: nested, maxBytes: d.cfg.MaxResultBytes}
}

// anyError reports whether any statement result holds an error.
func anyError(out [][]Result) bool {
	for _, rs := range out {
		for _, r := range rs {
			if r.Error != "" {
				return true
			}
		}
	}
	return false
}

// SetApplied records at as the file's applied position in its own
// transaction (configuration entries, loaded databases).
func (d *DB) SetApplied(ctx context.Context, at Applied) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return d.writeApplied(ctx, at)
}

// Applied reads the position recorded in the file; zero if none was ever
// recorded.
func (d *DB) Applied(ctx context.Context) (Applied, error) {
	if err := d.begin(); err != nil {
		return Applied{}, err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return readApplied(ctx, d.wconn)
}

func readApplied(ctx context.Context, conn *sql.Conn) (Applied, error) {
	var a Applied
	err := conn.QueryRowContext(ctx, appliedSelect).Scan(&a.Index, &a.Term)
	switch {
	case err == nil:
		return a, nil
	case errors.Is(err, sql.ErrNoRows), strings.Contains(err.Error(), "no such table"):
		return Applied{}, nil
	}
	return Applied{}, fmt.Errorf("read applied position: %w", err)
}

// writeApplied upserts the position, creating the table first if it is
// missing (a new file, or a user dropped it). The connection's sticky
// counters are left as the user's statements set them (counters.go).
func (d *DB) writeApplied(ctx context.Context, at Applied) error {
	saved, err := saveCounters(d.wconn)
	if err != nil {
		return fmt.Errorf("record applied index %d: %w", at.Index, err)
	}
	defer restoreCounters(d.wconn, saved)
	_, err = d.wconn.ExecContext(ctx, appliedUpsert, int64(at.Index), int64(at.Term))
	if err != nil && strings.Contains(err.Error(), "no such table") {
		if _, err = d.wconn.ExecContext(ctx, appliedCreate); err == nil {
			_, err = d.wconn.ExecContext(ctx, appliedUpsert, int64(at.Index), int64(at.Term))
		}
	}
	if err != nil {
		return fmt.Errorf("record applied index %d: %w", at.Index, err)
	}
	return nil
}

// rollbackWrite ends a failed entry transaction; SQLite may have rolled it
// back already, so an error says nothing new.
func (d *DB) rollbackWrite() {
	_, _ = d.wconn.ExecContext(context.Background(), "ROLLBACK")
}

// isNestedTxError reports SQLite's refusal of BEGIN inside a transaction.
func isNestedTxError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "within a transaction")
}

// autocommitKeywords start statements that cannot run inside the entry's
// transaction, or would end it, or mean something else inside one.
var autocommitKeywords = map[string]bool{
	"vacuum": true, "begin": true, "commit": true, "end": true, "rollback": true,
	"savepoint": true, "release": true, "attach": true, "detach": true, "pragma": true,
}

// needsAutocommit reports whether any statement of items starts with one
// of autocommitKeywords.
func needsAutocommit(items []Item) bool {
	for _, it := range items {
		for _, st := range it.Req.Statements {
			for _, p := range splitStatements(st.SQL) {
				kind, n := scanToken(p) // p starts with code: splitStatements trims trivia
				if kind == tkIdent && autocommitKeywords[strings.ToLower(p[:n])] {
					return true
				}
			}
		}
	}
	return false
}
