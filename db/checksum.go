package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"strings"
	"time"
)

// Checksum is a digest of a database's contents at one applied position:
// the schema and every row of every table, in a fixed order, with each
// value's type. Two replicas at the same Index must have the same Sum.
type Checksum struct {
	Index  uint64 `json:"index"`
	Term   uint64 `json:"term"`
	Sum    string `json:"checksum"` // SHA-256, hex
	Tables int    `json:"tables"`
	Rows   int64  `json:"rows"`
	// Duration is how long the digest took to compute.
	Duration time.Duration `json:"-"`
}

// PinnedRead is a read transaction opened at one applied position, to
// compute that position's Checksum later while writes go on. Finish
// must be called once; it ends the transaction.
type PinnedRead struct {
	conn  *sql.Conn
	at    Applied
	start time.Time
}

// Checksum computes the digest of the database as it is now.
func (d *DB) Checksum(ctx context.Context) (Checksum, error) {
	p, err := d.Pin(ctx)
	if err != nil {
		return Checksum{}, err
	}
	return p.Finish(ctx)
}

// Pin opens a read transaction on the database as it is now (in WAL mode
// the transaction keeps seeing this state however many writes commit
// after it), and reads the applied position it reflects. The caller that
// applies entries calls it between two commits to pin the state at the
// last entry committed.
func (d *DB) Pin(ctx context.Context) (*PinnedRead, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read connection: %w", err)
	}
	p := &PinnedRead{conn: conn, start: time.Now()}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin checksum read: %w", err)
	}
	// The first read fixes the transaction's snapshot. A database no
	// entry was applied to has no position table: position 0.
	var has int
	err = conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name = ?", AppliedTable).Scan(&has)
	if err == nil && has > 0 {
		err = conn.QueryRowContext(ctx, "SELECT raft_index, raft_term FROM "+AppliedTable).Scan(&p.at.Index, &p.at.Term)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		p.close()
		return nil, fmt.Errorf("read applied position: %w", err)
	}
	return p, nil
}

// At is the applied position the read is pinned at.
func (p *PinnedRead) At() Applied { return p.at }

func (p *PinnedRead) close() {
	p.conn.ExecContext(context.Background(), "ROLLBACK")
	p.conn.Close()
}

// Finish computes the digest of the pinned state and ends the read.
func (p *PinnedRead) Finish(ctx context.Context) (Checksum, error) {
	defer p.close()
	c := Checksum{Index: p.at.Index, Term: p.at.Term}
	h := sha256.New()
	tables, err := checksumTables(ctx, p.conn)
	if err != nil {
		return c, err
	}
	if err := hashSchema(ctx, p.conn, h); err != nil {
		return c, err
	}
	for _, t := range tables {
		n, err := hashRows(ctx, p.conn, h, t)
		if err != nil {
			return c, err
		}
		c.Tables++
		c.Rows += n
	}
	c.Sum = hex.EncodeToString(h.Sum(nil))
	c.Duration = time.Since(p.start)
	return c, nil
}

// checksumTable is one table the digest covers and the ORDER BY that
// lists its rows in key order.
type checksumTable struct {
	name, orderBy string
}

// excludedFromChecksum reports tables that are not replicated state:
// rdb's own position (it is the Index) and statistics that a node may
// gather on its own (ANALYZE, PRAGMA optimize).
func excludedFromChecksum(name string) bool {
	return name == AppliedTable || strings.HasPrefix(name, "sqlite_stat")
}

// checksumTables lists the ordinary and shadow tables of the main schema
// by name. Rowid tables are read in rowid order, WITHOUT ROWID tables in
// primary-key order: both are the order of the table's own b-tree, so
// no sort is needed.
func checksumTables(ctx context.Context, conn *sql.Conn) ([]checksumTable, error) {
	rows, err := conn.QueryContext(ctx,
		"SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow') ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []checksumTable
	var withoutRowid []int
	for rows.Next() {
		var name string
		var wr bool
		if err := rows.Scan(&name, &wr); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if excludedFromChecksum(name) || name == "sqlite_schema" || name == "sqlite_temp_schema" {
			continue
		}
		if wr {
			withoutRowid = append(withoutRowid, len(out))
		}
		out = append(out, checksumTable{name: name, orderBy: "rowid"})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	for _, i := range withoutRowid {
		pk, err := primaryKey(ctx, conn, out[i].name)
		if err != nil {
			return nil, err
		}
		out[i].orderBy = pk
	}
	return out, nil
}

// primaryKey is the ORDER BY list of a WITHOUT ROWID table's primary key.
func primaryKey(ctx context.Context, conn *sql.Conn, table string) (string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", table)
	if err != nil {
		return "", fmt.Errorf("primary key of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", fmt.Errorf("primary key of %s: %w", table, err)
		}
		cols = append(cols, quoteIdent(c))
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("primary key of %s: %w", table, err)
	}
	return strings.Join(cols, ", "), nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// hashSchema adds every schema object but excluded tables (their
// definitions, not their root pages, which a restored copy may lay out
// differently).
func hashSchema(ctx context.Context, conn *sql.Conn, h hash.Hash) error {
	rows, err := conn.QueryContext(ctx, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	defer rows.Close()
	var typ, name, tbl string
	var text sql.NullString
	for rows.Next() {
		if err := rows.Scan(&typ, &name, &tbl, &text); err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
		if excludedFromChecksum(tbl) {
			continue
		}
		for _, v := range []any{typ, name, tbl, text.String} {
			hashValue(h, v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	return nil
}

// hashRows adds a table's name and rows and returns how many rows it has.
func hashRows(ctx context.Context, conn *sql.Conn, h hash.Hash, t checksumTable) (int64, error) {
	hashValue(h, t.name)
	rows, err := conn.QueryContext(ctx, "SELECT * FROM "+quoteIdent(t.name)+" ORDER BY "+t.orderBy)
	if err != nil {
		return 0, fmt.Errorf("read table %s: %w", t.name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("read table %s: %w", t.name, err)
	}
	vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("read table %s: %w", t.name, err)
		}
		h.Write([]byte{'\n'})
		for _, v := range vals {
			hashValue(h, v)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read table %s: %w", t.name, err)
	}
	return n, nil
}

// hashValue adds one value: a type tag, then its bytes (lengths first,
// so no two sequences of values hash alike).
func hashValue(h hash.Hash, v any) {
	var buf [9]byte
	switch x := v.(type) {
	case nil:
		h.Write([]byte{0})
	case int64:
		buf[0] = 1
		binary.BigEndian.PutUint64(buf[1:], uint64(x))
		h.Write(buf[:])
	case float64:
		buf[0] = 2
		binary.BigEndian.PutUint64(buf[1:], math.Float64bits(x))
		h.Write(buf[:])
	case string:
		hashBytes(h, 3, []byte(x))
	case []byte:
		hashBytes(h, 4, x)
	case bool:
		buf[0], buf[1] = 5, 0
		if x {
			buf[1] = 1
		}
		h.Write(buf[:2])
	case time.Time:
		hashBytes(h, 6, []byte(x.UTC().Format(time.RFC3339Nano)))
	default:
		hashBytes(h, 7, []byte(fmt.Sprintf("%T:%v", v, v)))
	}
}

func hashBytes(h hash.Hash, tag byte, b []byte) {
	var buf [9]byte
	buf[0] = tag
	binary.BigEndian.PutUint64(buf[1:], uint64(len(b)))
	h.Write(buf[:])
	h.Write(b)
}
