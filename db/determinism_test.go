package db

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

// detFuncs are the overridden functions, each as a SELECT expression.
var detFuncs = []string{
	"random()",
	"randomblob(16)",
	"date('now')",
	"time('NOW')",
	"datetime('now')",
	"julianday('now')",
	"unixepoch('now')",
	"unixepoch('now', 'subsec')",
	"strftime('%Y-%m-%d %H:%M:%f', 'now')",
	"strftime('%s')",
	"timediff('now', '2000-01-01')",
	"timediff('2000-01-01', 'now')",
	"date()",
	"datetime('now', '+1 day', 'utc')",
	"CURRENT_TIMESTAMP",
	"CURRENT_DATE",
	"CURRENT_TIME",
}

// applyValues applies one SELECT of expr in ModeRequest and returns its
// single value.
func applyValue(t *testing.T, d *DB, req Request, expr string, env Env) any {
	t.Helper()
	req.Statements = stmts("SELECT " + expr)
	res := apply(t, d, &req, ModeRequest, env)
	if len(res) != 1 || res[0].Error != "" || len(res[0].Values) != 1 {
		t.Fatalf("SELECT %s: %+v", expr, res)
	}
	return res[0].Values[0][0]
}

func TestDB_Apply_Deterministic_SameEnvSameBytes(t *testing.T) {
	a, b := newTestDB(t), newTestDB(t)
	for _, expr := range detFuncs {
		t.Run(expr, func(t *testing.T) {
			got, want := applyValue(t, a, Request{}, expr, testEnv), applyValue(t, b, Request{}, expr, testEnv)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("two fresh DBs differ: %#v vs %#v", got, want)
			}
			if got == nil {
				t.Errorf("got NULL")
			}
		})
	}
}

func TestDB_Apply_Deterministic_Values(t *testing.T) {
	d := newTestDB(t)
	now := testEnv.Now
	jd := float64(now.UnixMilli())/86400000.0 + 2440587.5
	tests := []struct {
		expr string
		want any
	}{
		{"datetime('now')", now.Format("2006-01-02 15:04:05")},
		{"date('now')", now.Format("2006-01-02")},
		{"time('now')", now.Format("15:04:05")},
		{"CURRENT_TIMESTAMP", now.Format("2006-01-02 15:04:05")},
		{"CURRENT_DATE", now.Format("2006-01-02")},
		{"CURRENT_TIME", now.Format("15:04:05")},
		{"strftime('%Y-%m-%d %H:%M:%f', 'now')", now.Format("2006-01-02 15:04:05.000")},
		{"strftime('%s')", strconv.FormatInt(now.Unix(), 10)},
		{"unixepoch('now')", now.Unix()},
		{"unixepoch()", now.Unix()},
		{"julianday('now')", jd},
		{"datetime('now', 'utc')", now.Format("2006-01-02 15:04:05")},
		{"datetime('now', '+1 day')", now.Add(24 * time.Hour).Format("2006-01-02 15:04:05")},
		{"datetime('2000-01-01')", "2000-01-01 00:00:00"},
		{"timediff('now', 'now')", "+0000-00-00 00:00:00.000"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if got := applyValue(t, d, Request{}, tt.expr, testEnv); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDB_Apply_Deterministic_Random(t *testing.T) {
	d := newTestDB(t)
	two := func(env Env, req Request) []any {
		req.Statements = stmts("SELECT random(), random(), randomblob(8)")
		res := apply(t, d, &req, ModeRequest, env)
		return res[0].Values[0]
	}
	first := two(testEnv, Request{})
	if reflect.DeepEqual(first[0], first[1]) {
		t.Errorf("two calls in one entry gave the same value %v", first[0])
	}
	if again := two(testEnv, Request{}); !reflect.DeepEqual(first, again) {
		t.Errorf("same seed, different values: %v vs %v", first, again)
	}
	other := testEnv
	other.Seed++
	if diff := two(other, Request{}); reflect.DeepEqual(first[0], diff[0]) || reflect.DeepEqual(first[2], diff[2]) {
		t.Errorf("different seeds, same values: %v vs %v", first, diff)
	}
	if real1, real2 := two(testEnv, Request{NoRandom: true}), two(testEnv, Request{NoRandom: true}); reflect.DeepEqual(real1, real2) {
		t.Errorf("NoRandom gave repeatable values %v", real1)
	}
	if got := applyValue(t, d, Request{}, "length(randomblob(0))", testEnv); got != int64(1) {
		t.Errorf("length(randomblob(0)): got %#v, want 1", got)
	}
	if got := applyValue(t, d, Request{}, "typeof(randomblob(3))", testEnv); got != "blob" {
		t.Errorf("typeof(randomblob(3)): got %#v, want blob", got)
	}
}

func TestDB_Apply_Deterministic_WallClock(t *testing.T) {
	d := newTestDB(t)
	old := Env{Seed: 1, Now: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)}
	near := func(v any) bool {
		n, ok := v.(int64)
		return ok && n > time.Now().Add(-time.Hour).Unix() && n < time.Now().Add(time.Hour).Unix()
	}
	if got := applyValue(t, d, Request{NoTime: true}, "unixepoch('now')", old); !near(got) {
		t.Errorf("NoTime: got %v, want the wall clock", got)
	}
	if got := applyValue(t, d, Request{}, "unixepoch('now')", Env{Seed: 1}); !near(got) {
		t.Errorf("zero Env.Now: got %v, want the wall clock", got)
	}
	if got := applyValue(t, d, Request{}, "unixepoch('now')", old); got != old.Now.Unix() {
		t.Errorf("Env.Now: got %v, want %v", got, old.Now.Unix())
	}
	// Read connections keep the real built-ins.
	if got := queryValues(t, d, "SELECT unixepoch('now')"); !near(got[0][0]) {
		t.Errorf("read path: got %v, want the wall clock", got)
	}
}

// setupTriggerDB creates tables whose trigger, DEFAULT and INSERT…SELECT
// use random() and 'now'.
func setupTriggerDB(t *testing.T) *DB {
	t.Helper()
	d := newTestDB(t)
	exec(t, d,
		"CREATE TABLE a (x)",
		"CREATE TABLE log (r, t, c DEFAULT CURRENT_TIMESTAMP)",
		"CREATE TRIGGER tr AFTER INSERT ON a BEGIN INSERT INTO log(r, t) VALUES(random(), datetime('now')); END",
		"CREATE TABLE src (x)",
		"CREATE TABLE dst (x)",
		"INSERT INTO src WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 30) SELECT n FROM c",
	)
	return d
}

func TestDB_Apply_Deterministic_TriggersAndOrderBy(t *testing.T) {
	run := func(seed uint64) ([][]any, [][]any) {
		d := setupTriggerDB(t)
		env := Env{Seed: seed, Now: testEnv.Now}
		apply(t, d, &Request{Statements: stmts(
			"INSERT INTO a VALUES(1)",
			"INSERT INTO a VALUES(2)",
			"INSERT INTO dst SELECT x FROM src ORDER BY RANDOM()",
		)}, ModeExecute, env)
		return queryValues(t, d, "SELECT r, t, c FROM log ORDER BY rowid"),
			queryValues(t, d, "SELECT x FROM dst ORDER BY rowid")
	}
	log1, dst1 := run(7)
	log2, dst2 := run(7)
	if !reflect.DeepEqual(log1, log2) || !reflect.DeepEqual(dst1, dst2) {
		t.Fatalf("same entry, different results:\n%v\n%v\n%v\n%v", log1, log2, dst1, dst2)
	}
	stamp := testEnv.Now.Format("2006-01-02 15:04:05")
	for _, row := range log1 {
		if row[1] != stamp || row[2] != stamp {
			t.Errorf("trigger/default time %v, want %s", row, stamp)
		}
	}
	if reflect.DeepEqual(log1[0][0], log1[1][0]) {
		t.Errorf("trigger random() repeated: %v", log1)
	}
	_, dst3 := run(8)
	if reflect.DeepEqual(dst1, dst3) {
		t.Errorf("ORDER BY RANDOM() ignored the seed: %v", dst1)
	}
	sorted := true
	for i := range dst1 {
		sorted = sorted && dst1[i][0] == int64(i+1)
	}
	if sorted {
		t.Errorf("ORDER BY RANDOM() kept the order: %v", dst1)
	}
}

func TestDB_Apply_Deterministic_IndexesAndGeneratedColumns(t *testing.T) {
	d := newTestDB(t)
	exec(t, d,
		"CREATE TABLE e (d TEXT, g TEXT AS (date(d)))",
		"CREATE INDEX ei ON e(date(d))",
		"INSERT INTO e(d) VALUES('2024-01-02 03:04:05')",
	)
	got := queryValues(t, d, "SELECT g FROM e WHERE date(d) = '2024-01-02'")
	if len(got) != 1 || got[0][0] != "2024-01-02" {
		t.Errorf("got %v", got)
	}
}
