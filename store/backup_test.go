package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// backupFile writes a backup of s in format to a new file.
func backupFile(t *testing.T, s *Store, format BackupFormat) string {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Backup(context.Background(), &buf, format, nil); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	p := filepath.Join(t.TempDir(), "backup")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStore_BackupLoad(t *testing.T) {
	nodes := newTestCluster(t, 3, false, steady)
	leader := waitLeader(t, nodes)
	src := startNode(t, fileConfig(t, t.TempDir(), nil), raft.NewInmemAddr(), false)
	mustExecute(t, src.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)",
		`INSERT INTO foo(name) VALUES("fiona")`, `INSERT INTO foo(name) VALUES("declan")`)
	want := queryValues(t, src.Store, LevelNone, "SELECT * FROM foo ORDER BY id")
	for _, format := range []BackupFormat{BackupBinary, BackupDelete} {
		path := backupFile(t, src.Store, format)
		mustExecute(t, leader.Store, "DROP TABLE IF EXISTS foo", "CREATE TABLE other (x)")
		if err := leader.Load(context.Background(), path); err != nil {
			t.Fatalf("Load format %d: %v", format, err)
		}
		resp := mustExecute(t, leader.Store, "SELECT 1")
		waitAllApplied(t, nodes, resp.RaftIndex)
		for _, n := range nodes {
			if got := queryValues(t, n.Store, LevelNone, "SELECT * FROM foo ORDER BY id"); !reflect.DeepEqual(got, want) {
				t.Fatalf("format %d: %s rows = %v, want %v", format, n.cfg.NodeID, got, want)
			}
			tables := queryValues(t, n.Store, LevelNone, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'other'")
			if tables[0][0] != int64(0) {
				t.Fatalf("format %d: %s still has the old table", format, n.cfg.NodeID)
			}
		}
	}
	sql := backupFile(t, src.Store, BackupSQL)
	b, err := os.ReadFile(sql)
	if err != nil || !strings.Contains(string(b), `INSERT INTO "foo" VALUES(1,'fiona');`) || strings.Contains(string(b), db.AppliedTable) {
		t.Fatalf("SQL dump %q, %v", b, err)
	}
}

func TestStore_LoadRefusesBadFiles(t *testing.T) {
	n := startNode(t, fileConfig(t, t.TempDir(), nil), raft.NewInmemAddr(), false)
	mustExecute(t, n.Store, "CREATE TABLE foo (x)", "INSERT INTO foo VALUES(1)")
	good, err := os.ReadFile(backupFile(t, n.Store, BackupBinary))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"not sqlite", []byte("CREATE TABLE nope (x); -- text, not a database file"), db.ErrNotSQLite},
		{"truncated", good[:len(good)-len(good)/3], db.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "upload")
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			for name, f := range map[string]func(context.Context, string) error{"Load": n.Load, "Boot": n.Boot} {
				if err := f(context.Background(), p); !errors.Is(err, tt.want) {
					t.Errorf("%s: err = %v, want %v", name, err, tt.want)
				}
			}
			if got := queryValues(t, n.Store, LevelNone, "SELECT x FROM foo"); !reflect.DeepEqual(got, [][]any{{int64(1)}}) {
				t.Errorf("data changed: %v", got)
			}
		})
	}
}

func TestStore_Boot(t *testing.T) {
	src := startNode(t, fileConfig(t, t.TempDir(), nil), raft.NewInmemAddr(), false)
	mustExecute(t, src.Store, "CREATE TABLE foo (x)", "INSERT INTO foo VALUES(42)")
	path := backupFile(t, src.Store, BackupBinary)

	dir, addr := t.TempDir(), raft.NewInmemAddr()
	n := startNode(t, fileConfig(t, dir, nil), addr, false)
	mustExecute(t, n.Store, "CREATE TABLE old (x)")
	if err := n.Boot(context.Background(), path); err != nil {
		t.Fatalf("Boot: %v", err)
	}
	check := func(when string) {
		t.Helper()
		if got := queryValues(t, n.Store, LevelNone, "SELECT x FROM foo"); !reflect.DeepEqual(got, [][]any{{int64(42)}}) {
			t.Fatalf("%s: rows %v", when, got)
		}
	}
	check("after boot")
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := removeDBFiles(filepath.Join(dir, sqliteName)); err != nil {
		t.Fatal(err)
	}
	n = startNode(t, fileConfig(t, dir, nil), addr, false)
	waitFor(t, waitTimeout, "readiness", n.Ready)
	check("after restart without the database file")

	cluster := newTestCluster(t, 2, false, nil)
	if err := waitLeader(t, cluster).Boot(context.Background(), path); !errors.Is(err, ErrNotSingleNode) {
		t.Errorf("Boot on a 2-node cluster: %v, want %v", err, ErrNotSingleNode)
	}
}

// TestStore_Backup_UserFileOnly checks that binary backups (both journal
// modes) and SQL dumps hold the user's tables without the bookkeeping
// table, and keep the header's user_version and application_id, which
// belong to users.
func TestStore_Backup_UserFileOnly(t *testing.T) {
	src := startNode(t, fileConfig(t, t.TempDir(), nil), raft.NewInmemAddr(), false)
	mustExecute(t, src.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)",
		"CREATE INDEX foo_name ON foo(name)", "PRAGMA user_version=7", "PRAGMA application_id=4242")
	for _, format := range []BackupFormat{BackupBinary, BackupDelete} {
		path := backupFile(t, src.Store, format)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if uv, app := binary.BigEndian.Uint32(b[60:]), binary.BigEndian.Uint32(b[68:]); uv != 7 || app != 4242 {
			t.Errorf("format %d: user_version %d, application_id %d; want 7, 4242", format, uv, app)
		}
		if got, want := backupObjects(t, path), []any{"foo", "foo_name"}; !reflect.DeepEqual(got, want) {
			t.Errorf("format %d: objects %v, want %v", format, got, want)
		}
	}
	b, err := os.ReadFile(backupFile(t, src.Store, BackupSQL))
	if err != nil || strings.Contains(string(b), db.AppliedTable) || !strings.Contains(string(b), "foo_name") {
		t.Errorf("SQL dump %q, %v", b, err)
	}
}

// backupObjects opens the backup at path and lists its schema objects.
func backupObjects(t *testing.T, path string) []any {
	t.Helper()
	d, err := db.Open(db.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := d.Query(context.Background(), &db.Request{Statements: []db.Statement{{SQL: "SELECT name FROM sqlite_master ORDER BY name"}}})
	if err != nil || len(res) != 1 || res[0].Error != "" {
		t.Fatalf("list objects: %+v %v", res, err)
	}
	var names []any
	for _, row := range res[0].Values {
		names = append(names, row[0])
	}
	return names
}

// TestGoneSnapshots: snapshots_reaped counts the IDs that went away, not
// the folds, and ignores a snapshot persisted during the reap.
func TestGoneSnapshots(t *testing.T) {
	metas := func(ids ...string) []*raft.SnapshotMeta {
		out := make([]*raft.SnapshotMeta, len(ids))
		for i, id := range ids {
			out[i] = &raft.SnapshotMeta{ID: id}
		}
		return out
	}
	tests := []struct {
		name          string
		before, after []*raft.SnapshotMeta
		want          []string
	}{
		{"nothing to reap", metas("a"), metas("a"), nil},
		{"base and two folded", metas("c", "b", "a"), metas("c"), []string{"b", "a"}},
		{"one persisted meanwhile", metas("b", "a"), metas("d", "b"), []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := goneSnapshots(tt.before, tt.after); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
