package store

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// nowCols are the 'now'-dependent expressions stored by the test.
const nowCols = `RANDOM(), RANDOMBLOB(8), datetime('now'), date('now'), time('now'),
	julianday('now'), unixepoch('now'), strftime('%s','now'), CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME`

// determinismEntries is a log of commands exercising every
// non-deterministic SQL function, directly, in INSERT … SELECT and in a
// trigger, plus a strong read.
func determinismEntries(t *testing.T, start time.Time) []*raft.Log {
	t.Helper()
	steps := []struct {
		mode db.Mode
		sql  string
	}{
		{db.ModeExecute, `CREATE TABLE t (id INTEGER PRIMARY KEY, r INTEGER, b BLOB, dt TEXT, d TEXT, tm TEXT,
			jd REAL, ue INTEGER, s TEXT, ct TEXT, cd TEXT, ctm TEXT)`},
		{db.ModeExecute, `CREATE TABLE audit (id INTEGER PRIMARY KEY, r INTEGER, b BLOB, ts TEXT, ct TEXT)`},
		{db.ModeExecute, `CREATE TRIGGER trg AFTER INSERT ON t BEGIN
			INSERT INTO audit(r, b, ts, ct) VALUES (RANDOM(), RANDOMBLOB(8), datetime('now'), CURRENT_TIMESTAMP); END`},
		{db.ModeExecute, `CREATE TABLE src (x)`},
		{db.ModeExecute, `INSERT INTO src VALUES (1), (2), (3)`},
		{db.ModeExecute, `INSERT INTO t(r, b, dt, d, tm, jd, ue, s, ct, cd, ctm) VALUES (` + nowCols + `)`},
		{db.ModeExecute, `INSERT INTO t(r, b, dt, d, tm, jd, ue, s, ct, cd, ctm) VALUES (` + nowCols + `)`},
		{db.ModeExecute, `INSERT INTO t(r, b, dt, d, tm, jd, ue, s, ct, cd, ctm) SELECT ` + nowCols + ` FROM src`},
		{db.ModeQuery, `SELECT ` + nowCols},
	}
	logs := make([]*raft.Log, len(steps))
	for i, st := range steps {
		leaderTime := start.Add(time.Duration(i) * 1500 * time.Millisecond)
		cr, err := newCommandRequest(&db.Request{Statements: []db.Statement{{SQL: st.sql}}}, st.mode)
		if err != nil {
			t.Fatal(err)
		}
		b, err := encodeCommand(&command{Type: cmdExecute, Time: leaderTime.UnixNano(), Requests: []commandRequest{cr}})
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = &raft.Log{Index: uint64(i + 3), Term: 2, Type: raft.LogCommand, Data: b, AppendedAt: leaderTime}
	}
	return logs
}

// newSQLiteProcessor is an FSM command processor on a fresh database.
func newSQLiteProcessor(t *testing.T) (*processor, *db.DB) {
	t.Helper()
	dir := t.TempDir()
	d, err := openSQLite(db.Config{Path: filepath.Join(dir, sqliteName), MaxReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return newProcessor(d, dir, testLogger(), nil), d.(sqliteDB).DB
}

// dump is the database as SQL text.
func dump(t *testing.T, d *db.DB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := d.Dump(context.Background(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFSM_Determinism(t *testing.T) {
	start := time.Now().Truncate(time.Millisecond)
	entries := determinismEntries(t, start)
	p1, d1 := newSQLiteProcessor(t)
	p2, d2 := newSQLiteProcessor(t)
	var res1, res2 [][]requestResult
	for _, l := range entries {
		res1 = append(res1, fsm{p1}.Apply(l).([]requestResult))
		res2 = append(res2, fsm{p2}.Apply(l).([]requestResult))
	}
	if !reflect.DeepEqual(res1, res2) {
		t.Fatalf("results differ:\n%+v\n%+v", res1, res2)
	}
	for i, rr := range res1 {
		if rr[0].Err != nil || rr[0].Results[0].Error != "" {
			t.Fatalf("entry %d failed: %+v", i, rr[0])
		}
	}
	dump1 := dump(t, d1)
	if !bytes.Equal(dump1, dump(t, d2)) {
		t.Fatalf("databases differ:\n%s\n---\n%s", dump1, dump(t, d2))
	}
	checkPlausible(t, d1, start)
	checkPlausibleRead(t, res1[len(res1)-1][0].Results[0], entries[len(entries)-1].AppendedAt)

	// A third node restored from a snapshot of the first has the same data.
	p3, d3 := newSQLiteProcessor(t)
	restoreFromSnapshot(t, p1, p3)
	if !bytes.Equal(dump1, dump(t, d3)) {
		t.Fatalf("restored database differs:\n%s\n---\n%s", dump1, dump(t, d3))
	}
	if got, want := p3.state.Index, entries[len(entries)-1].Index; got != want {
		t.Fatalf("restored applied index = %d, want %d", got, want)
	}
}

// checkPlausible checks the stored values look right: times near the
// leader's clock, random values different between entries and rows.
func checkPlausible(t *testing.T, d *db.DB, start time.Time) {
	t.Helper()
	res, err := d.Query(context.Background(), &db.Request{Statements: []db.Statement{
		{SQL: "SELECT r, hex(b), ue, s, dt, ct FROM t ORDER BY id"},
		{SQL: "SELECT COUNT(DISTINCT r), COUNT(DISTINCT b), COUNT(*) FROM audit"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rows := res[0].Values
	if len(rows) != 5 {
		t.Fatalf("t has %d rows, want 5", len(rows))
	}
	seenR, seenB := map[any]bool{}, map[any]bool{}
	for i, row := range rows {
		seenR[row[0]], seenB[row[1]] = true, true
		ue, _ := row[2].(int64)
		if d := time.Unix(ue, 0).Sub(start); d < -time.Second || d > time.Minute {
			t.Errorf("row %d unixepoch('now') = %d, want near %d", i, ue, start.Unix())
		}
		if s := row[3].(string); s != strconv.FormatInt(ue, 10) {
			t.Errorf("row %d strftime('%%s','now') = %q, want %d", i, s, ue)
		}
		if dt, ct := row[4].(string), row[5].(string); dt != ct || dt != time.Unix(ue, 0).UTC().Format(time.DateTime) {
			t.Errorf("row %d datetime('now') = %q, CURRENT_TIMESTAMP = %q, want both %s", i, dt, ct, time.Unix(ue, 0).UTC().Format(time.DateTime))
		}
	}
	if len(seenR) != 5 || len(seenB) != 5 {
		t.Errorf("RANDOM()/RANDOMBLOB() repeated across rows: %d/%d distinct of 5", len(seenR), len(seenB))
	}
	if got := res[1].Values[0]; got[0] != int64(5) || got[1] != int64(5) || got[2] != int64(5) {
		t.Errorf("trigger rows: distinct r, distinct b, count = %v, want 5 5 5", got)
	}
}

// checkPlausibleRead checks the strong read's 'now' is the entry's time.
func checkPlausibleRead(t *testing.T, r db.Result, at time.Time) {
	t.Helper()
	if len(r.Values) != 1 {
		t.Fatalf("strong read returned %v", r.Values)
	}
	if got, want := r.Values[0][6], at.Unix(); got != want {
		t.Errorf("unixepoch('now') in strong read = %v, want the entry's %d", got, want)
	}
}

// restoreFromSnapshot persists a snapshot of src and restores it into dst.
func restoreFromSnapshot(t *testing.T, src, dst *processor) {
	t.Helper()
	snap, err := fsm{src}.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.closed {
		t.Fatal("Persist did not close the sink")
	}
	if err := (fsm{dst}).Restore(sink.reader()); err != nil {
		t.Fatalf("Restore: %v", err)
	}
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string         { return "mem" }
func (s *memSink) Close() error       { s.closed = true; return nil }
func (s *memSink) Cancel() error      { s.cancelled = true; return nil }
func (s *memSink) reader() *nopCloser { return &nopCloser{bytes.NewReader(s.Bytes())} }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
