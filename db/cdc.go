package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const schemaVersionQuery = "SELECT schema_version FROM pragma_schema_version"

// errNoStmt stands for a failure to prepare the schema version query: the
// column cache is then dropped.
var errNoStmt = errors.New("schema version query not prepared")

// ChangeOp is the kind of a captured row change.
type ChangeOp uint8

// Row change kinds.
const (
	ChangeInsert ChangeOp = iota + 1
	ChangeUpdate
	ChangeDelete
)

func (o ChangeOp) String() string {
	switch o {
	case ChangeInsert:
		return "INSERT"
	case ChangeUpdate:
		return "UPDATE"
	case ChangeDelete:
		return "DELETE"
	}
	return "UNKNOWN"
}

// RowChange is one row an entry inserted, updated or deleted. Before and
// After hold the row's values in column order (SQLite storage classes:
// int64, float64, string, []byte, nil), Columns their names; Error is set
// instead when the row could not be read.
type RowChange struct {
	Op       ChangeOp
	Table    string
	OldRowID int64
	NewRowID int64
	Columns  []string
	Before   []any
	After    []any
	Error    string
}

// EntryChanges is what one Raft log entry changed, captured while it was
// applied: Index is the entry's, CommitTime the local time of the SQLite
// commit that holds it.
type EntryChanges struct {
	Index      uint64
	CommitTime time.Time
	Changes    []RowChange
}

// ChangeSink receives the changes of the entries of one SQLite commit, in
// log order, right before that commit, on the apply goroutine (so it runs
// before the database records the entries as applied: a crash in between
// replays them, and the sink sees them again). Only entries that changed
// at least one row are passed. It must not use the database.
type ChangeSink func([]EntryChanges)

// capture collects the row changes of the write connection through
// SQLite's pre-update hook (Config.Changes set). Used under DB.wmu only:
// the hook runs on the apply goroutine, inside statements it runs.
type capture struct {
	sink    ChangeSink
	cur     []RowChange    // changes of the entry being applied
	pending []EntryChanges // entries of the open transaction
	// columns caches each table's column names for schemaVersion,
	// which is looked up again only at the first entry with changes of
	// a transaction and after an entry with DDL (checked says it is
	// current).
	columns       map[string][]string
	schemaVersion int64
	checked       bool
}

// register installs the hook on a new write connection.
func (c *capture) register(conn sqlite.ExecQuerierContext) error {
	hr, ok := conn.(sqlite.HookRegisterer)
	if !ok {
		return fmt.Errorf("connection %T has no pre-update hook", conn)
	}
	hr.RegisterPreUpdateHook(c.preUpdate)
	return nil
}

// preUpdate records one row change of a user table of the main database.
func (c *capture) preUpdate(d sqlite.SQLitePreUpdateData) {
	if d.DatabaseName != "main" || d.TableName == AppliedTable || strings.HasPrefix(d.TableName, "sqlite_") {
		return
	}
	rc := RowChange{Table: d.TableName}
	n := d.Count()
	switch d.Op {
	case sqlite3.SQLITE_INSERT:
		rc.Op, rc.NewRowID = ChangeInsert, d.NewRowID
		rc.After = make([]any, n)
		if err := d.New(rc.After...); err != nil {
			rc.Error, rc.After = err.Error(), nil
		}
	case sqlite3.SQLITE_UPDATE:
		rc.Op, rc.OldRowID, rc.NewRowID = ChangeUpdate, d.OldRowID, d.NewRowID
		rc.Before, rc.After = make([]any, n), make([]any, n)
		if err := d.Old(rc.Before...); err != nil {
			rc.Error, rc.Before, rc.After = err.Error(), nil, nil
		} else if err := d.New(rc.After...); err != nil {
			rc.Error, rc.Before, rc.After = err.Error(), nil, nil
		}
	case sqlite3.SQLITE_DELETE:
		rc.Op, rc.OldRowID = ChangeDelete, d.OldRowID
		rc.Before = make([]any, n)
		if err := d.Old(rc.Before...); err != nil {
			rc.Error, rc.Before = err.Error(), nil
		}
	default:
		return
	}
	c.cur = append(c.cur, rc)
}

// mark is the position to truncate to if the statement that follows is
// undone.
func (c *capture) mark() int {
	if c == nil {
		return 0
	}
	return len(c.cur)
}

// truncate drops the changes after m: SQLite undid the statement (or the
// request's savepoint) that made them.
func (c *capture) truncate(m int) {
	if c != nil && m < len(c.cur) {
		c.cur = c.cur[:m]
	}
}

// endEntry closes the current entry: its changes get column names and
// join the open transaction's.
func (c *capture) endEntry(ctx context.Context, d *DB, e Entry) {
	if c == nil {
		return
	}
	if hasDDL(e.Items) {
		c.checked = false
	}
	if len(c.cur) == 0 {
		return
	}
	index := e.At.Index
	c.nameColumns(ctx, d)
	c.pending = append(c.pending, EntryChanges{Index: index, Changes: c.cur})
	c.cur = nil
}

// discard forgets everything since the transaction began (it was rolled
// back; the entries are redone).
func (c *capture) discard() {
	if c != nil {
		c.cur, c.pending, c.checked = nil, nil, false
	}
}

// flush hands the open transaction's entries to the sink, stamped with
// the commit time; call it right before COMMIT.
func (c *capture) flush() {
	if c == nil || len(c.pending) == 0 {
		return
	}
	now := time.Now()
	for i := range c.pending {
		c.pending[i].CommitTime = now
	}
	c.sink(c.pending)
	c.pending, c.checked = nil, false
}

// nameColumns fills Columns of the current changes from the schema as it
// is now (inside the transaction, so DDL earlier in the entry counts). A
// row whose value count does not match gets an Error instead of values.
func (c *capture) nameColumns(ctx context.Context, d *DB) {
	if !c.checked {
		var ver int64
		err := errNoStmt
		if st, serr := d.wstmts.get(ctx, d.wconn, schemaVersionQuery); serr == nil {
			err = st.QueryRowContext(ctx).Scan(&ver)
		}
		if err != nil || ver != c.schemaVersion || c.columns == nil {
			c.columns, c.schemaVersion = map[string][]string{}, ver
		}
		c.checked = err == nil
	}
	for i := range c.cur {
		rc := &c.cur[i]
		if rc.Error != "" {
			continue
		}
		cols, err := c.tableColumns(ctx, d, rc.Table)
		n := max(len(rc.Before), len(rc.After))
		switch {
		case err != nil:
			rc.Error = err.Error()
		case len(cols) != n:
			rc.Error = fmt.Sprintf("table %s has %d columns, row change has %d values", rc.Table, len(cols), n)
		default:
			rc.Columns = cols
			continue
		}
		rc.Before, rc.After = nil, nil
	}
}

func (c *capture) tableColumns(ctx context.Context, d *DB, table string) ([]string, error) {
	if cols, ok := c.columns[table]; ok {
		return cols, nil
	}
	rows, err := d.wconn.QueryContext(ctx, "SELECT name FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		cols = append(cols, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	c.columns[table] = cols
	return cols, nil
}
