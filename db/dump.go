package db

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
)

// Dump writes the database as SQL text the way rqlite does (API.md §4):
// PRAGMA foreign_keys=OFF, then in one transaction each table (by name;
// sqlite_sequence is emptied, sqlite_stat1 re-analyzed, other sqlite_*
// tables skipped) with its rows as INSERT statements, then the indexes,
// triggers and views. tables, if not empty, limits the dump to those
// tables and their indexes and triggers. It reads one snapshot on a read
// connection and never blocks the writer.
func (d *DB) Dump(ctx context.Context, w io.Writer, tables []string) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.swap.RUnlock()
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return fmt.Errorf("dump: read connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("dump: begin: %w", err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	bw := bufio.NewWriter(w)
	if err := dumpAll(ctx, conn, bw, tables); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("dump: write: %w", err)
	}
	return nil
}

func dumpAll(ctx context.Context, conn *sql.Conn, w *bufio.Writer, tables []string) error {
	want := func(name string) bool { return len(tables) == 0 || contains(tables, name) }
	w.WriteString("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")
	schema, err := queryPairs(ctx, conn, `SELECT "name", "sql" FROM "sqlite_master"
		WHERE "sql" NOT NULL AND "type" == 'table' ORDER BY "name"`)
	if err != nil {
		return err
	}
	for _, t := range schema {
		if !want(t[0]) {
			continue
		}
		if err := dumpTable(ctx, conn, w, t[0], t[1]); err != nil {
			return err
		}
	}
	others, err := queryPairs(ctx, conn, `SELECT "tbl_name", "sql" FROM "sqlite_master"
		WHERE "sql" NOT NULL AND "type" IN ('index', 'trigger', 'view')`)
	if err != nil {
		return err
	}
	for _, o := range others {
		if want(o[0]) {
			w.WriteString(o[1] + ";\n")
		}
	}
	w.WriteString("COMMIT;\n")
	return nil
}

// dumpTable writes one table's CREATE statement and rows.
func dumpTable(ctx context.Context, conn *sql.Conn, w *bufio.Writer, name, create string) error {
	switch {
	case name == "sqlite_sequence":
		w.WriteString(`DELETE FROM "sqlite_sequence";` + "\n")
	case name == "sqlite_stat1":
		w.WriteString(`ANALYZE "sqlite_master";` + "\n")
	case strings.HasPrefix(name, "sqlite_"), name == AppliedTable:
		return nil
	default:
		w.WriteString(create + ";\n")
	}
	ident := strings.ReplaceAll(name, `"`, `""`)
	cols, err := queryPairs(ctx, conn, `SELECT "name", '' FROM pragma_table_info(?)`, name)
	if err != nil {
		return err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `'||quote("` + strings.ReplaceAll(c[0], `"`, `""`) + `")||'`
	}
	q := `SELECT 'INSERT INTO "` + strings.ReplaceAll(ident, `'`, `''`) + `" VALUES(` +
		strings.Join(quoted, ",") + `)' FROM "` + ident + `"`
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("dump table %s: %s", name, errorText(err, "timeout"))
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("dump table %s: %w", name, err)
		}
		w.WriteString(line + ";\n")
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dump table %s: %s", name, errorText(err, "timeout"))
	}
	return nil
}

// queryPairs returns the two text columns of every row of q.
func queryPairs(ctx context.Context, conn *sql.Conn, q string, args ...any) ([][2]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("dump: %s", errorText(err, "timeout"))
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, fmt.Errorf("dump: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
