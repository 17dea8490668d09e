package system_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// step is one request and the exact response it must produce.
type step struct {
	name   string
	method string
	path   string
	ctype  string
	body   string
	code   int
	want   string
	// prefix makes want a prefix of the body rather than the whole body.
	prefix bool
}

func runSteps(t *testing.T, n *Node, steps []step) {
	t.Helper()
	for _, s := range steps {
		method, ctype := s.method, s.ctype
		if method == "" {
			method = "POST"
		}
		if ctype == "" && method == "POST" {
			ctype = "application/json"
		}
		code, body, err := n.Do(method, s.path, ctype, s.body)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		want := s.code
		if want == 0 {
			want = http.StatusOK
		}
		ok := body == s.want || (s.prefix && strings.HasPrefix(body, s.want))
		if code != want || !ok {
			t.Errorf("%s: %s %s %s\n got %d %q\nwant %d %q", s.name, method, s.path, s.body, code, body, want, s.want)
		}
	}
}

// TestAPI_SingleNode_ByteExact checks, byte for byte, the responses an rqlite
// client sees for the common requests (issue 2, acceptance 2).
func TestAPI_SingleNode_ByteExact(t *testing.T) {
	n := StartNode(t)
	runSteps(t, n, []step{
		{name: "create", path: "/db/execute", body: `["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, age INTEGER)"]`,
			want: `{"results":[{}]}`},
		{name: "insert double-quoted literal", path: "/db/execute", body: `["INSERT INTO foo(name, age) VALUES(\"fiona\", 20)"]`,
			want: `{"results":[{"last_insert_id":1,"rows_affected":1}]}`},
		{name: "positional params", path: "/db/execute", body: `[["INSERT INTO foo(name, age) VALUES(?, ?)", "declan", 30]]`,
			want: `{"results":[{"last_insert_id":2,"rows_affected":1}]}`},
		{name: "named params", path: "/db/execute", body: `[["INSERT INTO foo(name, age) VALUES(:name, :age)", {"name": "aoife", "age": 40}]]`,
			want: `{"results":[{"last_insert_id":3,"rows_affected":1}]}`},
		{name: "select GET q", method: "GET", path: "/db/query?q=SELECT%20*%20FROM%20foo%20ORDER%20BY%20id",
			want: `{"results":[{"columns":["id","name","age"],"types":["integer","text","integer"],"values":[[1,"fiona",20],[2,"declan",30],[3,"aoife",40]]}]}`},
		{name: "select POST with param", path: "/db/query", body: `[["SELECT name FROM foo WHERE age > ?", 25]]`,
			want: `{"results":[{"columns":["name"],"types":["text"],"values":[["declan"],["aoife"]]}]}`},
		{name: "select no rows", path: "/db/query", body: `["SELECT * FROM foo WHERE id = 99"]`,
			want: `{"results":[{"columns":["id","name","age"],"types":["integer","text","integer"]}]}`},
		{name: "associative query", path: "/db/query?associative", body: `["SELECT id, name FROM foo WHERE id = 1"]`,
			want: `{"results":[{"types":{"id":"integer","name":"text"},"rows":[{"id":1,"name":"fiona"}]}]}`},
		{name: "associative execute", path: "/db/execute?associative", body: `["UPDATE foo SET age = 21 WHERE id = 1"]`,
			want: `{"results":[{"last_insert_id":3,"rows_affected":1,"rows":null}]}`},
		{name: "sticky counters after DDL", path: "/db/execute", body: `["CREATE TABLE sticky (x)"]`,
			want: `{"results":[{"last_insert_id":3,"rows_affected":1}]}`},
		{name: "pretty", path: "/db/query?pretty", body: `["SELECT id FROM foo WHERE id = 1"]`,
			want: "{\n    \"results\": [\n        {\n            \"columns\": [\n                \"id\"\n            ],\n            \"types\": [\n                \"integer\"\n            ],\n            \"values\": [\n                [\n                    1\n                ]\n            ]\n        }\n    ]\n}"},
		{name: "syntax error in 200", path: "/db/execute", body: `["blah"]`,
			want: `{"results":[{"error":"near \"blah\": syntax error"}]}`},
		{name: "write via query refused", path: "/db/query", body: `["INSERT INTO foo(name) VALUES('x')"]`,
			want: `{"results":[{"error":"attempt to change database via query operation"}]}`},
		{name: "returning", path: "/db/execute", body: `["INSERT INTO foo(name, age) VALUES('rory', 50) RETURNING id, name"]`,
			want: `{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[4,"rory"]]}]}`},
		{name: "request mixing reads and writes", path: "/db/request", body: `["INSERT INTO foo(name, age) VALUES('sean', 60)", "SELECT COUNT(*) FROM foo"]`,
			want: `{"results":[{"last_insert_id":5,"rows_affected":1},{"columns":["COUNT(*)"],"types":["integer"],"values":[[5]]}]}`},
		{name: "request read only", path: "/db/request", body: `["SELECT name FROM foo WHERE id = 5"]`,
			want: `{"results":[{"columns":["name"],"types":["text"],"values":[["sean"]]}]}`},
		{name: "GET query without q", method: "GET", path: "/db/query", want: `{"results":[]}`},
		{name: "disallowed pragma", path: "/db/execute", body: `["PRAGMA journal_mode=DELETE"]`,
			want: `{"results":[],"error":"disallowed pragma"}`},
		{name: "text/plain execute is one statement", path: "/db/execute", ctype: "text/plain",
			body: `INSERT INTO foo(name, age) VALUES('t1', 1); INSERT INTO foo(name, age) VALUES('t2', 2)`,
			want: `{"results":[{"last_insert_id":7,"rows_affected":1}]}`},
	})
}

// TestAPI_Transactions checks that a failing statement inside ?transaction
// leaves nothing applied, and that without it each statement stands alone.
func TestAPI_Transactions(t *testing.T) {
	n := StartNode(t)
	runSteps(t, n, []step{
		{name: "create", path: "/db/execute", body: `["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"]`, want: `{"results":[{}]}`},
		{name: "transaction rolls back", path: "/db/execute?transaction",
			body: `["INSERT INTO t(v) VALUES('a')", "INSERT INTO t(v) VALUES('a')", "INSERT INTO t(v) VALUES('b')"]`,
			want: `{"results":[{"last_insert_id":1,"rows_affected":1},{"error":"UNIQUE constraint failed: t.v"}]}`},
		{name: "nothing applied", path: "/db/query", body: `["SELECT COUNT(*) FROM t"]`,
			want: `{"results":[{"columns":["COUNT(*)"],"types":["integer"],"values":[[0]]}]}`},
		{name: "no transaction continues", path: "/db/execute",
			body: `["INSERT INTO t(v) VALUES('a')", "INSERT INTO t(v) VALUES('a')", "INSERT INTO t(v) VALUES('b')"]`,
			want: `{"results":[{"last_insert_id":1,"rows_affected":1},{"error":"UNIQUE constraint failed: t.v"},{"last_insert_id":2,"rows_affected":1}]}`},
		{name: "both others applied", path: "/db/query", body: `["SELECT v FROM t ORDER BY id"]`,
			want: `{"results":[{"columns":["v"],"types":["text"],"values":[["a"],["b"]]}]}`},
		{name: "transaction all good", path: "/db/execute?transaction",
			body: `["INSERT INTO t(v) VALUES('c')", "INSERT INTO t(v) VALUES('d')"]`,
			want: `{"results":[{"last_insert_id":3,"rows_affected":1},{"last_insert_id":4,"rows_affected":1}]}`},
	})
}

// TestAPI_ValueRendering checks BLOB, REAL, NULL, boolean and datetime
// rendering, with and without ?blob_array.
func TestAPI_ValueRendering(t *testing.T) {
	n := StartNode(t)
	runSteps(t, n, []step{
		{name: "create", path: "/db/execute",
			body: `["CREATE TABLE v (id INTEGER PRIMARY KEY, data BLOB, r REAL, n TEXT, flag BOOLEAN, ts DATETIME, d DATE, ms TIMESTAMP, note VARCHAR(500))"]`,
			want: `{"results":[{}]}`},
		{name: "insert", path: "/db/execute",
			body: `[["INSERT INTO v(data, r, n, flag, ts, d, ms, note) VALUES(?, ?, ?, ?, ?, ?, ?, ?)", "x'DEADBEEF'", 2.0, null, true, "2024-01-02 03:04:05", "2024-01-02", 1700000000123, [104, 105]]]`,
			want: `{"results":[{"last_insert_id":1,"rows_affected":1}]}`},
		{name: "select", path: "/db/query", body: `["SELECT * FROM v"]`,
			want: `{"results":[{"columns":["id","data","r","n","flag","ts","d","ms","note"],"types":["integer","blob","real","text","boolean","datetime","date","timestamp","varchar(500)"],"values":[[1,"3q2+7w==",2,null,true,"2024-01-02T03:04:05Z","2024-01-02T00:00:00Z","2023-11-14T22:13:20.123Z","hi"]]}]}`},
		{name: "blob_array", path: "/db/query?blob_array", body: `["SELECT data FROM v"]`,
			want: `{"results":[{"columns":["data"],"types":["blob"],"values":[[[222,173,190,239]]]}]}`},
		{name: "real fraction and expression types", path: "/db/query", body: `["SELECT 1.5, 'x', 3, x'41', NULL"]`,
			// A BLOB from an expression has no declared type, which counts as
			// text-like: it comes back as a string typed "text" (MUST-COPY).
			want: `{"results":[{"columns":["1.5","'x'","3","x'41'","NULL"],"types":["real","text","integer","text",""],"values":[[1.5,"x",3,"A",null]]}]}`},
		{name: "html escaping", path: "/db/query", body: `["SELECT '<a&b>' AS s"]`,
			want: `{"results":[{"columns":["s"],"types":["text"],"values":[["\u003ca\u0026b\u003e"]]}]}`},
	})
}

// TestAPI_Timings checks that ?timings adds a time to each result and to the
// top level, and ?raft_index reports the entry's index for writes.
func TestAPI_Timings(t *testing.T) {
	n := StartNode(t)
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY)"]`)
	body := n.Execute("/db/execute?timings&raft_index", `["INSERT INTO foo(id) VALUES(1)"]`)
	var got struct {
		Results []map[string]any `json:"results"`
		Time    float64          `json:"time"`
		Index   uint64           `json:"raft_index"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	if len(got.Results) != 1 || got.Time <= 0 || got.Index == 0 {
		t.Fatalf("want one result, a top-level time and a raft_index; got %s", body)
	}
	if tm, ok := got.Results[0]["time"].(float64); !ok || tm <= 0 {
		t.Fatalf("want a per-result time; got %s", body)
	}
	if !strings.HasPrefix(body, `{"results":[{"last_insert_id":1,"rows_affected":1,"time":`) {
		t.Fatalf("field order: got %s", body)
	}
}
