package db

import (
	"context"
	"reflect"
	"testing"
)

func TestDB_ReadOnly(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	tests := []struct {
		sql  string
		want bool
	}{
		{"SELECT * FROM foo", true},
		{"select 1", true},
		{"  /* c */ SELECT 1; -- trailing", true},
		{"EXPLAIN SELECT * FROM foo", true},
		{"EXPLAIN QUERY PLAN SELECT * FROM foo", true},
		{"EXPLAIN INSERT INTO foo(name) VALUES('x')", true},
		{"WITH c AS (SELECT 1) SELECT * FROM c", true},
		{"PRAGMA foreign_keys", true},
		{"PRAGMA table_info(foo)", true},
		{"PRAGMA main.index_list(foo)", true},
		{"BEGIN", true},
		{"COMMIT", true},
		{"SAVEPOINT s", true},
		{"SELECT 1; SELECT 2", true},
		{"", true},
		{"INSERT INTO foo(name) VALUES('x')", false},
		{"UPDATE foo SET name = 'y'", false},
		{"DELETE FROM foo", false},
		{"INSERT INTO foo(name) VALUES('x') RETURNING id", false},
		{"WITH c(n) AS (SELECT 'x') INSERT INTO foo(name) SELECT n FROM c", false},
		{"CREATE TABLE bar (x)", false},
		{"CREATE TEMP TABLE bar (x)", false},
		{"CREATE INDEX i ON foo(name)", false},
		{"CREATE VIEW v AS SELECT 1", false},
		{"DROP TABLE foo", false},
		{"ALTER TABLE foo ADD COLUMN z", false},
		{"PRAGMA user_version=1", false},
		{"PRAGMA foreign_keys = ON", false},
		{"PRAGMA wal_checkpoint", false},
		{"VACUUM", false},
		{" vacuum ", false},
		{"REINDEX", false},
		{"ANALYZE", false},
		{"ATTACH ':memory:' AS m", false},
		{"SELECT 1; DELETE FROM foo", false},
		{"blah", false},
		{"SELECT * FROM nope", false},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			got, err := d.ReadOnly(ctx, stmts(tt.sql))
			if err != nil {
				t.Fatalf("ReadOnly: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("all must be read-only", func(t *testing.T) {
		got, err := d.ReadOnly(ctx, stmts("SELECT 1", "INSERT INTO foo(name) VALUES('x')"))
		if err != nil || got {
			t.Errorf("got %v, %v; want false", got, err)
		}
	})
	// Classification never ran anything.
	if got := queryValues(t, d, "SELECT COUNT(*) FROM foo"); got[0][0] != int64(0) {
		t.Errorf("classification wrote rows: %v", got)
	}
}

func TestSplitStatements(t *testing.T) {
	trigger := "CREATE TRIGGER tr AFTER INSERT ON a BEGIN INSERT INTO b VALUES(1); UPDATE b SET x = 2; END;"
	tests := []struct {
		name string
		sql  string
		want []string
	}{
		{"one", "SELECT 1", []string{"SELECT 1"}},
		{"trailing semicolon", "SELECT 1;  ", []string{"SELECT 1;"}},
		{"two", "SELECT 1; SELECT 2", []string{"SELECT 1;", "SELECT 2"}},
		{"semicolon in string", "SELECT ';'; SELECT 2", []string{"SELECT ';';", "SELECT 2"}},
		{"semicolon in identifier", `SELECT 1 AS "a;b"`, []string{`SELECT 1 AS "a;b"`}},
		{"semicolon in comment", "SELECT 1 -- ;\n; /* ; */", []string{"SELECT 1 -- ;\n;"}},
		{"trigger body whole", trigger + " SELECT 1", []string{trigger, "SELECT 1"}},
		{"temp trigger", "CREATE TEMP TRIGGER t AFTER DELETE ON a BEGIN SELECT 1; END; SELECT 2",
			[]string{"CREATE TEMP TRIGGER t AFTER DELETE ON a BEGIN SELECT 1; END;", "SELECT 2"}},
		{"empty pieces dropped", ";; -- x\n;", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitStatements(tt.sql); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want string
	}{
		{"syntax", "SELEC 1", `near "SELEC": syntax error`},
		{"incomplete", "SELECT", `incomplete input`},
		{"no table", "SELECT * FROM x", "no such table: x"},
	}
	d := newTestDB(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := query(t, d, &Request{Statements: stmts(tt.sql)})
			if res[0].Error != tt.want {
				t.Errorf("got %q, want %q", res[0].Error, tt.want)
			}
		})
	}
}
