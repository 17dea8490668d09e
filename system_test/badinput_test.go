package system_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends malformed requests to a real node, checks each status
// and body, and then checks the node still serves correctly (issue 2,
// acceptance 5).
func TestBadInput(t *testing.T) {
	n := StartNode(t, "-http-max-body-size", "4096")
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)"]`)
	n.Execute("/db/execute", `["INSERT INTO foo(name) VALUES('fiona')"]`)

	const (
		badReq  = "invalid request\n"
		badJSON = "invalid JSON body\n"
	)
	runSteps(t, n, []step{
		{name: "not JSON", path: "/db/execute", body: `not json`, code: 400, want: badJSON},
		{name: "truncated JSON", path: "/db/execute", body: `["SELECT 1"`, code: 400, want: badJSON},
		{name: "lone bracket", path: "/db/query", body: `[`, code: 400, want: badJSON},
		{name: "object not array", path: "/db/execute", body: `{"a":1}`, code: 400, want: badReq},
		{name: "string not array", path: "/db/execute", body: `"SELECT 1"`, code: 400, want: badReq},
		{name: "number element", path: "/db/execute", body: `[1]`, code: 400, want: badReq},
		{name: "null element", path: "/db/query", body: `[null]`, code: 400, want: badReq},
		{name: "bool element", path: "/db/request", body: `[true]`, code: 400, want: badReq},
		{name: "empty inner array", path: "/db/execute", body: `[[]]`, code: 400, want: badReq},
		{name: "non-string SQL", path: "/db/execute", body: `[[1, 2]]`, code: 400, want: badReq},
		{name: "object element", path: "/db/query", body: `[{"sql":"SELECT 1"}]`, code: 400, want: badReq},
		{name: "no statements", path: "/db/execute", body: `[]`, code: 400, want: "no statements\n"},
		{name: "nested object param", path: "/db/execute", body: `[["SELECT ?", {"a": {"b": 1}}]]`, code: 400, want: "unsupported type", prefix: true},
		{name: "nested object positional", path: "/db/query", body: `[["SELECT ?", {"b": [1, {"c": 2}]}]]`, code: 400, want: "unsupported type", prefix: true},
		{name: "blob byte out of range", path: "/db/execute", body: `[["SELECT ?", [1, 256]]]`, code: 400, want: "unsupported type", prefix: true},
		{name: "blob negative byte", path: "/db/execute", body: `[["SELECT ?", [-1]]]`, code: 400, want: "unsupported type", prefix: true},
		{name: "bad timeout", path: "/db/execute?timeout=abc", body: `["SELECT 1"]`, code: 400, want: "timeout is not a valid duration\n"},
		{name: "bad freshness", path: "/db/query?freshness=1x", body: `["SELECT 1"]`, code: 400, want: "freshness is not a valid duration\n"},
		{name: "bad db_timeout", path: "/db/query?db_timeout=zz", body: `["SELECT 1"]`, code: 400, want: "db_timeout is not a valid duration\n"},
		{name: "bad linearizable_timeout", path: "/db/query?linearizable_timeout=5", body: `["SELECT 1"]`, code: 400, want: "linearizable_timeout is not a valid duration\n"},
		{name: "bad retries", path: "/db/execute?retries=x", body: `["SELECT 1"]`, code: 400, want: "retries is not a valid integer\n"},
		{name: "freshness_strict alone", path: "/db/query?freshness_strict", body: `["SELECT 1"]`, code: 400, want: "freshness_strict requires freshness\n"},
		{name: "empty q", method: "GET", path: "/db/query?q=", code: 400, want: "query parameter not set\n"},
		{name: "GET execute", method: "GET", path: "/db/execute", code: 405, want: ""},
		{name: "PUT query", method: "PUT", path: "/db/query", code: 405, want: ""},
		{name: "GET request", method: "GET", path: "/db/request", code: 405, want: ""},
		{name: "DELETE status", method: "DELETE", path: "/status", code: 405, want: ""},
		{name: "POST readyz", method: "POST", path: "/readyz", code: 405, want: ""},
		{name: "unknown path", method: "GET", path: "/nope", code: 404, want: ""},
		{name: "HTTP join is gone", method: "POST", path: "/join", code: 404, want: ""},
		{name: "OPTIONS", method: "OPTIONS", path: "/db/execute", code: 200, want: ""},
		{name: "body too large", path: "/db/execute", body: `["` + strings.Repeat("x", 5000) + `"]`, code: http.StatusRequestEntityTooLarge, want: "request body too large", prefix: true},
		{name: "unknown level is weak", path: "/db/query?level=bogus", body: `["SELECT name FROM foo"]`,
			want: `{"results":[{"columns":["name"],"types":["text"],"values":[["fiona"]]}]}`},
		{name: "extra params are ignored, as by rqlite", path: "/db/query", body: `[["SELECT 1", 1, 2]]`,
			want: `{"results":[{"columns":["1"],"types":["integer"],"values":[[1]]}]}`},
		{name: "empty statement skipped", path: "/db/query", body: `["SELECT 1", ""]`,
			want: `{"results":[{"columns":["1"],"types":["integer"],"values":[[1]]}]}`},
	})

	// The node still serves correctly, and nothing was half-applied.
	runSteps(t, n, []step{
		{name: "still serving", path: "/db/request", body: `["INSERT INTO foo(name) VALUES('declan')", "SELECT name FROM foo ORDER BY id"]`,
			want: `{"results":[{"last_insert_id":2,"rows_affected":1},{"columns":["name"],"types":["text"],"values":[["fiona"],["declan"]]}]}`},
	})
}
