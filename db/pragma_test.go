package db

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckRequest_Hardening(t *testing.T) {
	tests := []struct {
		sql  string
		want error
	}{
		{"ATTACH '/tmp/x.db' AS x", ErrDisallowedStatement},
		{"  attach database 'x.db' as x", ErrDisallowedStatement},
		{"/* c */ ATTACH ':memory:' AS m", ErrDisallowedStatement},
		{"SELECT 1; ATTACH 'x' AS x", ErrDisallowedStatement},
		{"VACUUM INTO '/tmp/copy.db'", ErrDisallowedStatement},
		{"vacuum main into 'copy.db'", ErrDisallowedStatement},
		{"PRAGMA locking_mode=EXCLUSIVE", ErrDisallowedPragma},
		{"PRAGMA main.locking_mode = exclusive", ErrDisallowedPragma},
		{"PRAGMA writable_schema=ON", ErrDisallowedPragma},
		{"PRAGMA temp_store_directory='/tmp'", ErrDisallowedPragma},
		{"PRAGMA data_store_directory('/tmp')", ErrDisallowedPragma},
		{"PRAGMA journal_mode=DELETE", ErrDisallowedPragma},
		{"VACUUM", nil},
		{"SELECT 'ATTACH x'", nil},
		{"CREATE TABLE attachments(id)", nil},
		{"PRAGMA locking_mode", nil},
		{"PRAGMA table_info(t)", nil},
		{"INSERT INTO t VALUES('vacuum into')", nil},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			err := CheckRequest(&Request{Statements: stmts(tt.sql)})
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("CheckRequest(%q) = %v, want %v", tt.sql, err, tt.want)
			}
		})
	}
}

// TestDB_LoadExtensionRefused: SQLite itself refuses load_extension on
// the write and the read connections, so no file is ever loaded.
func TestDB_LoadExtensionRefused(t *testing.T) {
	d := newTestDB(t)
	lib := filepath.Join(t.TempDir(), "ext.so")
	if err := os.WriteFile(lib, []byte("not a library"), 0o600); err != nil {
		t.Fatal(err)
	}
	req := &Request{Statements: stmts("SELECT load_extension('" + lib + "')")}
	ctx := context.Background()
	paths := []struct {
		name string
		run  func() ([]Result, error)
	}{
		{"execute", func() ([]Result, error) { return d.Apply(ctx, req, ModeExecute, testEnv) }},
		{"request", func() ([]Result, error) { return d.Apply(ctx, req, ModeRequest, testEnv) }},
		{"query", func() ([]Result, error) { return d.Query(ctx, req) }},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			res, err := p.run()
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if len(res) != 1 || !strings.Contains(res[0].Error, "not authorized") {
				t.Errorf("results = %+v, want a \"not authorized\" error", res)
			}
		})
	}
}
