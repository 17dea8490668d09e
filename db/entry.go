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

// The row also keeps the write connection's state that SQL can read and
// that the next entry may depend on (last_insert_rowid(), rdb's sticky
// rows_affected), as it stood after that entry, so a node that reopens the
// file (restart, snapshot restore) resumes from exactly the state every
// other node has: without it a restarted node's first entry would see
// last_insert_rowid() = 0 where the others see the last INSERT's rowid.
const (
	appliedCreate = `CREATE TABLE IF NOT EXISTS "` + AppliedTable +
		`" (id INTEGER PRIMARY KEY CHECK (id = 1), raft_index INTEGER NOT NULL, raft_term INTEGER NOT NULL,` +
		` last_rowid INTEGER NOT NULL DEFAULT 0, rows_sticky INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID`
	appliedUpsert = `INSERT OR REPLACE INTO "` + AppliedTable +
		`" (id, raft_index, raft_term, last_rowid, rows_sticky) VALUES (1, ?, ?, last_insert_rowid(), ?)`
	appliedUpdate = `UPDATE "` + AppliedTable +
		`" SET raft_index = ?, raft_term = ?, last_rowid = last_insert_rowid(), rows_sticky = ? WHERE id = 1`
	appliedSelect = `SELECT raft_index, raft_term FROM "` + AppliedTable + `" WHERE id = 1`
	// connStateSelect reads the state saved with the position; a file
	// without the table (new, or from a backup) has none.
	connStateSelect = `SELECT last_rowid, rows_sticky FROM "` + AppliedTable + `" WHERE id = 1`
)

// appliedColumnsAdd upgrade the table of a file written before the
// connection state was kept (the values then start at zero, as they did).
var appliedColumnsAdd = map[string]string{
	"last_rowid":  `ALTER TABLE "` + AppliedTable + `" ADD COLUMN last_rowid INTEGER NOT NULL DEFAULT 0`,
	"rows_sticky": `ALTER TABLE "` + AppliedTable + `" ADD COLUMN rows_sticky INTEGER NOT NULL DEFAULT 0`,
}

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

// Entry is one Raft log entry for ApplyBatch: its requests (none for a
// configuration entry, which only moves the position) and its position.
type Entry struct {
	Items []Item
	At    Applied
}

// ApplyBatch runs consecutive committed Raft log entries and records each
// one's position, normally all in one SQLite transaction (group commit):
// after a crash the file holds a prefix of the entries and the position of
// the last one in it, never part of an entry. The result does not depend
// on where batches start and end (nodes batch differently), because every
// entry runs exactly as it would alone:
//
//   - Requests without Transaction keep rqlite's per-statement semantics:
//     a failing statement undoes only itself, later statements still run.
//     A request with Transaction runs inside a savepoint that its first
//     failure rolls back.
//   - The position is written after every entry with an UPDATE, so each
//     entry starts with the same connection state (changes() is 1) whether
//     or not the previous entry was in the same transaction.
//   - An entry with a statement that cannot run inside a transaction
//     (VACUUM, the user's own BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE/END,
//     ATTACH, DETACH, PRAGMA) runs alone, statement by statement in
//     autocommit mode, as in rqlite, and its position is recorded right
//     after: a crash between the two replays that one entry (see
//     store/DESIGN.md).
//   - An entry whose failure made SQLite roll the whole transaction back
//     (ON CONFLICT ROLLBACK, RAISE(ROLLBACK)) or whose COMMIT fails (a
//     deferred foreign-key violation) is rerun alone in autocommit mode,
//     after the entries before it are redone and committed without it.
//   - With foreign keys enforced and a schema that defers some, every
//     entry commits alone: a later entry of the batch could otherwise
//     repair a violation that fails its entry when committed alone.
//
// Statement errors are inside the Results; the returned error is for
// failures of the database itself, after which the file holds a prefix of
// the entries (the caller must stop: store panics and replays the log).
// No wall-clock limit applies here: db_timeout would stop a statement on
// a slow replica but not on a fast one.
func (d *DB) ApplyBatch(ctx context.Context, entries []Entry) ([][][]Result, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.preemptSpec()
	out := make([][][]Result, len(entries))
	for i := 0; i < len(entries); {
		if needsAutocommit(entries[i].Items) {
			res, err := d.applyAutocommit(ctx, entries[i].Items, entries[i].At)
			if err != nil {
				return nil, err
			}
			out[i] = res
			d.fkDeferred = fkDeferredUnknown // it may have changed the schema
			i++
			continue
		}
		j := i + 1
		if !d.entriesAlone(ctx) {
			for j < len(entries) && !needsAutocommit(entries[j].Items) && !(d.cfg.FKConstraints && hasDDL(entries[j-1].Items)) {
				j++
			}
		}
		n, err := d.applyTx(ctx, entries[i:j], out[i:j])
		if err != nil {
			return nil, err
		}
		if d.cfg.FKConstraints && hasDDL(entries[i+n-1].Items) {
			d.fkDeferred = fkDeferredUnknown
		}
		i += n
	}
	return out, nil
}

// applyTx runs entries in one transaction, filling out, and returns how
// many it applied: all, or fewer when one of them had to run alone in
// autocommit mode (it is then the last one applied).
//
// When SQLite rolls the transaction back under entry k, the entries
// before it are redone and committed without it, then entry k is tried
// alone, exactly as on a node that never batched it with them: the
// connection's last_insert_rowid() and changes() are first put back as
// they were at BEGIN, so the redone entries see what they saw.
func (d *DB) applyTx(ctx context.Context, entries []Entry, out [][][]Result) (int, error) {
	start, err := d.connState(ctx)
	if err != nil {
		return 0, fmt.Errorf("apply entry %d: %w", entries[0].At.Index, err)
	}
	if err := d.execCached(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, fmt.Errorf("apply entry %d: begin: %w", entries[0].At.Index, err)
	}
	for k, e := range entries {
		res, lost := d.runEntry(ctx, e.Items)
		if lost {
			d.rollbackWrite()
			if k == 0 {
				return d.alone(ctx, e, out)
			}
			return d.redoWithout(ctx, entries[:k+1], out, start)
		}
		out[k] = res
		d.cdc.endEntry(ctx, d, e)
		if err := d.writeApplied(ctx, e.At); err != nil {
			d.rollbackWrite()
			return 0, err
		}
	}
	d.cdc.flush()
	err = d.execCached(ctx, "COMMIT")
	if err == nil {
		return len(entries), nil
	}
	d.rollbackWrite()
	if !isConstraintError(err) {
		return 0, fmt.Errorf("apply entry %d: commit: %w", entries[len(entries)-1].At.Index, err)
	}
	// A deferred constraint failed at COMMIT. Alone, the entry that broke
	// it would have failed its own COMMIT: commit one at a time.
	if len(entries) == 1 {
		return d.alone(ctx, entries[0], out)
	}
	if err := d.setConnState(ctx, start); err != nil {
		return 0, err
	}
	for done := 0; done < len(entries); {
		n, err := d.applyTx(ctx, entries[done:done+1], out[done:done+1])
		if err != nil {
			return 0, err
		}
		done += n
	}
	return len(entries), nil
}

// execCached runs a statement without parameters through the write
// connection's prepared statements.
func (d *DB) execCached(ctx context.Context, query string) error {
	st, err := d.wstmts.get(ctx, d.wconn, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx)
	return err
}

// redoWithout puts the connection state back to start, commits all
// entries but the last without it, then tries the last in a transaction
// of its own (which SQLite rolls back again, so it runs alone).
func (d *DB) redoWithout(ctx context.Context, entries []Entry, out [][][]Result, start connState) (int, error) {
	if err := d.setConnState(ctx, start); err != nil {
		return 0, err
	}
	k := len(entries) - 1
	for done := 0; done < k; {
		n, err := d.applyTx(ctx, entries[done:k], out[done:k])
		if err != nil {
			return 0, err
		}
		done += n
	}
	if _, err := d.applyTx(ctx, entries[k:], out[k:]); err != nil {
		return 0, err
	}
	return len(entries), nil
}

// alone runs e statement by statement in autocommit mode after SQLite
// rolled its transaction back; out[0] gets its results.
func (d *DB) alone(ctx context.Context, e Entry, out [][][]Result) (int, error) {
	res, err := d.applyAutocommit(ctx, e.Items, e.At)
	if err != nil {
		return 0, err
	}
	out[0] = res
	return 1, nil
}

// connState is the write connection's state that SQL can read and a
// rollback does not undo: last_insert_rowid(), and rdb's rows_affected.
// changes() is 1 wherever a connState is taken or set (after a position
// write, or after setConnState).
type connState struct {
	lastRowid int64
	sticky    int64
}

const (
	lastRowidQuery = "SELECT last_insert_rowid()"
	rowidCreate    = "CREATE TEMP TABLE IF NOT EXISTS rdb_rowid (x)"
	rowidClear     = "DELETE FROM temp.rdb_rowid"
	rowidSet       = "INSERT INTO temp.rdb_rowid(rowid) VALUES (?)"
)

func (d *DB) connState(ctx context.Context) (connState, error) {
	st, err := d.wstmts.get(ctx, d.wconn, lastRowidQuery)
	if err != nil {
		return connState{}, fmt.Errorf("read last_insert_rowid: %w", err)
	}
	var id int64
	if err := st.QueryRowContext(ctx).Scan(&id); err != nil {
		return connState{}, fmt.Errorf("read last_insert_rowid: %w", err)
	}
	return connState{lastRowid: id, sticky: d.sticky}, nil
}

// savedConnState is the connection state recorded with the position in
// the file, upgrading an older file's table first; zero if the file has
// no position yet.
func (d *DB) savedConnState(ctx context.Context) (connState, error) {
	rows, err := d.wconn.QueryContext(ctx, `SELECT name FROM pragma_table_info('`+AppliedTable+`')`)
	if err != nil {
		return connState{}, fmt.Errorf("read %s columns: %w", AppliedTable, err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return connState{}, fmt.Errorf("read %s columns: %w", AppliedTable, err)
		}
		have[name] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return connState{}, fmt.Errorf("read %s columns: %w", AppliedTable, err)
	}
	if len(have) == 0 {
		return connState{}, nil // no table yet
	}
	for _, col := range []string{"last_rowid", "rows_sticky"} {
		if !have[col] {
			if _, err := d.wconn.ExecContext(ctx, appliedColumnsAdd[col]); err != nil {
				return connState{}, fmt.Errorf("upgrade %s: %w", AppliedTable, err)
			}
		}
	}
	var s connState
	err = d.wconn.QueryRowContext(ctx, connStateSelect).Scan(&s.lastRowid, &s.sticky)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return connState{}, fmt.Errorf("read saved connection state: %w", err)
	}
	return s, nil
}

// setConnState puts s back: an INSERT into a connection-private temp
// table sets last_insert_rowid() (and changes() to 1) without touching
// the database file.
func (d *DB) setConnState(ctx context.Context, s connState) error {
	d.sticky = s.sticky
	for _, q := range []string{rowidCreate, rowidClear} {
		if _, err := d.wconn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reset connection state: %w", err)
		}
	}
	if _, err := d.wconn.ExecContext(ctx, rowidSet, s.lastRowid); err != nil {
		return fmt.Errorf("reset connection state: %w", err)
	}
	return nil
}

// runEntry runs an entry's items inside the open transaction. lost
// reports that SQLite rolled the whole transaction back.
func (d *DB) runEntry(ctx context.Context, items []Item) ([][]Result, bool) {
	res := make([][]Result, len(items))
	for i, it := range items {
		d.fenv.reset(it.Env, it.Req)
		r := d.writeRunner(it.Req, true)
		res[i] = r.run(ctx, it.Mode)
		if r.lost {
			return nil, true
		}
	}
	return res, false
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
	d.cdc.endEntry(ctx, d, Entry{Items: items, At: at})
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
	d.cdc.flush()
	if _, err := d.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		d.rollbackWrite()
		return fmt.Errorf("apply entry %d: commit: %w", at.Index, err)
	}
	return nil
}

// writeRunner runs one request on the write connection with the apply
// path's deterministic functions, its prepared statements and rdb's
// record of rows_affected; nested runs inside the entry's transaction.
func (d *DB) writeRunner(req *Request, nested bool) *runner {
	return &runner{conn: d.wconn, states: &d.states, req: req, before: d.fenv.beginStatement,
		nested: nested, maxBytes: d.cfg.MaxResultBytes, stmts: &d.wstmts, sticky: &d.sticky,
		noTimeout: true, cdc: d.cdc}
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
	d.preemptSpec()
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

// writeApplied records the position in the file. It UPDATEs the one row
// through a prepared statement, which leaves last_insert_rowid() alone and
// sets changes() to 1 (the same after every entry); only when the row or
// the table is missing (a new file, or a user dropped it) is it created,
// WITHOUT ROWID so that the INSERT leaves last_insert_rowid() alone too.
func (d *DB) writeApplied(ctx context.Context, at Applied) error {
	n, err := d.updateApplied(ctx, at)
	if err == nil && n == 1 {
		return nil
	}
	if err != nil && !strings.Contains(err.Error(), "no such table") {
		return fmt.Errorf("record applied index %d: %w", at.Index, err)
	}
	if _, err := d.wconn.ExecContext(ctx, appliedCreate); err != nil {
		return fmt.Errorf("record applied index %d: create table: %w", at.Index, err)
	}
	if _, err := d.wconn.ExecContext(ctx, appliedUpsert, int64(at.Index), int64(at.Term), d.sticky); err != nil {
		return fmt.Errorf("record applied index %d: %w", at.Index, err)
	}
	return nil
}

// updateApplied runs the UPDATE of the position and returns the rows it
// changed.
func (d *DB) updateApplied(ctx context.Context, at Applied) (int64, error) {
	st, err := d.wstmts.get(ctx, d.wconn, appliedUpdate)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, int64(at.Index), int64(at.Term), d.sticky)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// rollbackWrite ends a failed entry transaction; SQLite may have rolled it
// back already, so an error says nothing new.
func (d *DB) rollbackWrite() {
	d.cdc.discard()
	_, _ = d.wconn.ExecContext(context.Background(), "ROLLBACK")
}

// isNestedTxError reports SQLite's refusal of BEGIN inside a transaction.
func isNestedTxError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "within a transaction")
}

// autocommitKeywords start statements that cannot run inside the entry's
// transaction, or would end it, or mean something else inside one.
var autocommitKeywords = map[string]bool{
	"VACUUM": true, "BEGIN": true, "COMMIT": true, "END": true, "ROLLBACK": true,
	"SAVEPOINT": true, "RELEASE": true, "ATTACH": true, "DETACH": true, "PRAGMA": true,
}

// NeedsAutocommit reports whether req holds a statement that cannot run
// inside the entry's transaction (see ApplyBatch): such a request makes
// its whole entry run in autocommit mode, so the store logs it alone.
func NeedsAutocommit(req *Request) bool {
	return needsAutocommit([]Item{{Req: req}})
}

// needsAutocommit reports whether any statement of items starts with one
// of autocommitKeywords.
func needsAutocommit(items []Item) bool {
	return anyStartsWith(items, autocommitKeywords)
}

// anyStartsWith reports whether any SQL statement of items starts with a
// keyword of kws (upper case).
func anyStartsWith(items []Item, kws map[string]bool) bool {
	for _, it := range items {
		for _, st := range it.Req.Statements {
			if !strings.Contains(st.SQL, ";") {
				if kws[leadingKeyword(st.SQL)] {
					return true
				}
				continue
			}
			for _, p := range splitStatements(st.SQL) {
				kind, n := scanToken(p) // p starts with code: splitStatements trims trivia
				if kind == tkIdent && kws[strings.ToUpper(p[:n])] {
					return true
				}
			}
		}
	}
	return false
}

// ddlKeywords start statements that change the schema.
var ddlKeywords = map[string]bool{"CREATE": true, "ALTER": true, "DROP": true}

// hasDDL reports whether any statement of items changes the schema (so
// the schema-dependent batching decision must be made again after it).
func hasDDL(items []Item) bool {
	return anyStartsWith(items, ddlKeywords)
}

// isConstraintError reports a constraint failure (a deferred foreign key
// at COMMIT).
func isConstraintError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "constraint failed")
}

// fkState is what the write path knows of deferred foreign keys.
type fkState uint8

const (
	fkDeferredUnknown fkState = iota
	fkDeferredNone
	fkDeferredSome
)

// deferredFKQuery finds a table whose foreign keys are checked at COMMIT.
const deferredFKQuery = `SELECT 1 FROM sqlite_master WHERE type = 'table' AND sql LIKE '%DEFERRED%' LIMIT 1`

// entriesAlone reports whether every entry must commit in a transaction of
// its own: foreign keys are enforced and the schema defers some. The
// answer is looked up again after an entry that changed the schema.
func (d *DB) entriesAlone(ctx context.Context) bool {
	if !d.cfg.FKConstraints {
		return false
	}
	if d.fkDeferred == fkDeferredUnknown {
		var one int
		err := d.wconn.QueryRowContext(ctx, deferredFKQuery).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			d.fkDeferred = fkDeferredNone
		case err == nil:
			d.fkDeferred = fkDeferredSome
		default:
			return true // cannot tell: the safe choice
		}
	}
	return d.fkDeferred == fkDeferredSome
}
