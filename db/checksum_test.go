package db

import (
	"context"
	"errors"
	"testing"
	"time"
)

func checksumOf(t *testing.T, d *DB) Checksum {
	t.Helper()
	c, err := d.Checksum(context.Background())
	if err != nil {
		t.Fatalf("checksum: %v", err)
	}
	return c
}

// TestDB_Checksum_ContentDecides: the digest depends on the rows, their
// keys and their types and on the schema, not on the order the rows were
// written in.
func TestDB_Checksum_ContentDecides(t *testing.T) {
	base := []string{
		"CREATE TABLE a (id INTEGER PRIMARY KEY, v)",
		"CREATE TABLE w (k TEXT, n INTEGER, v, PRIMARY KEY (k, n)) WITHOUT ROWID",
	}
	build := func(extra ...string) Checksum {
		d := newTestDB(t)
		exec(t, d, append(append([]string{}, base...), extra...)...)
		return checksumOf(t, d)
	}
	want := build("INSERT INTO a VALUES (1, 'x'), (2, 2.5), (3, NULL), (4, x'00ff')",
		"INSERT INTO w VALUES ('b', 1, 1), ('a', 2, 2)")
	tests := []struct {
		name  string
		extra []string
		same  bool
	}{
		{"other insertion order", []string{"INSERT INTO a VALUES (4, x'00ff'), (3, NULL), (2, 2.5), (1, 'x')",
			"INSERT INTO w VALUES ('a', 2, 2), ('b', 1, 1)"}, true},
		{"one value changed", []string{"INSERT INTO a VALUES (1, 'y'), (2, 2.5), (3, NULL), (4, x'00ff')",
			"INSERT INTO w VALUES ('b', 1, 1), ('a', 2, 2)"}, false},
		{"one type changed", []string{"INSERT INTO a VALUES (1, 'x'), (2, '2.5'), (3, NULL), (4, x'00ff')",
			"INSERT INTO w VALUES ('b', 1, 1), ('a', 2, 2)"}, false},
		{"one key changed", []string{"INSERT INTO a VALUES (1, 'x'), (2, 2.5), (3, NULL), (5, x'00ff')",
			"INSERT INTO w VALUES ('b', 1, 1), ('a', 2, 2)"}, false},
		{"one row missing", []string{"INSERT INTO a VALUES (1, 'x'), (2, 2.5), (3, NULL), (4, x'00ff')",
			"INSERT INTO w VALUES ('b', 1, 1)"}, false},
		{"an extra index", []string{"INSERT INTO a VALUES (1, 'x'), (2, 2.5), (3, NULL), (4, x'00ff')",
			"INSERT INTO w VALUES ('b', 1, 1), ('a', 2, 2)", "CREATE INDEX av ON a(v)"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(tt.extra...)
			if (got.Sum == want.Sum) != tt.same {
				t.Errorf("sum %s vs %s: same=%v, want same=%v", got.Sum, want.Sum, got.Sum == want.Sum, tt.same)
			}
		})
	}
	if want.Tables != 2 || want.Rows != 6 {
		t.Errorf("covered %d tables and %d rows, want 2 and 6", want.Tables, want.Rows)
	}
}

// TestDB_Pin_SeesOnlyItsPosition: a pinned read digests the state at the
// moment it was pinned, whatever is written after.
func TestDB_Pin_SeesOnlyItsPosition(t *testing.T) {
	d := newTestDB(t)
	write := func(index uint64, sqls ...string) {
		t.Helper()
		item := Item{Req: &Request{Statements: stmts(sqls...)}, Mode: ModeExecute, Env: testEnv}
		if _, err := d.ApplyEntry(context.Background(), []Item{item}, Applied{Index: index, Term: 1}); err != nil {
			t.Fatal(err)
		}
	}
	write(5, "CREATE TABLE a (v)", "INSERT INTO a VALUES (1)")
	before := checksumOf(t, d)
	if before.Index != 5 {
		t.Fatalf("digest at index %d, want 5", before.Index)
	}
	p, err := d.Pin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	write(6, "INSERT INTO a VALUES (2)")
	got, err := p.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Sum != before.Sum || got.Index != before.Index {
		t.Errorf("pinned digest %s at %d, want %s at %d", got.Sum, got.Index, before.Sum, before.Index)
	}
	if after := checksumOf(t, d); after.Sum == before.Sum || after.Index <= before.Index {
		t.Errorf("digest after the write %s at %d, want a new sum at a later index than %d", after.Sum, after.Index, before.Index)
	}
}

// TestDB_TryCheckpoint_DoesNotWait: with a reader holding the WAL (a
// pinned checksum read), TryCheckpoint fails at once with
// ErrCheckpointBusy instead of waiting out the busy timeout, and
// succeeds once the reader is gone.
func TestDB_TryCheckpoint_DoesNotWait(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE a (v)", "INSERT INTO a VALUES (1)")
	p, err := d.Pin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	exec(t, d, "INSERT INTO a VALUES (2)")
	start := time.Now()
	err = d.TryCheckpoint(context.Background())
	if !errors.Is(err, ErrCheckpointBusy) {
		t.Errorf("TryCheckpoint under a reader: %v, want ErrCheckpointBusy", err)
	}
	if took := time.Since(start); took > busyTimeoutMS*time.Millisecond/2 {
		t.Errorf("TryCheckpoint took %s: it waited for the reader", took)
	}
	if _, err := p.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := d.TryCheckpoint(context.Background()); err != nil {
		t.Errorf("TryCheckpoint without readers: %v", err)
	}
	// The write connection's busy timeout is back for everything else.
	var ms int
	if err := d.wconn.QueryRowContext(context.Background(), "PRAGMA busy_timeout").Scan(&ms); err != nil {
		t.Fatal(err)
	}
	if ms != busyTimeoutMS {
		t.Errorf("busy_timeout of the write connection %d, want %d", ms, busyTimeoutMS)
	}
}
