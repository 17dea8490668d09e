package httpd

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rdb/rdb/store"
)

// TestService_Malformed sends bad requests: each gets its exact status
// and body, never a 500, and never reaches the Database.
func TestService_Malformed(t *testing.T) {
	type hdr = []string
	plain := hdr{"Content-Type", "text/plain"}
	tests := []struct {
		name     string
		method   string
		target   string
		body     string
		hdr      hdr
		wantCode int
		wantBody string
	}{
		{"empty body", "POST", "/db/execute", "", nil, 400, "invalid JSON body\n"},
		{"open bracket", "POST", "/db/execute", "[", nil, 400, "invalid JSON body\n"},
		{"truncated", "POST", "/db/execute", `["SELECT 1"`, nil, 400, "invalid JSON body\n"},
		{"truncated string", "POST", "/db/request", `["SELECT`, nil, 400, "invalid JSON body\n"},
		{"not json", "POST", "/db/query", `SELECT 1`, nil, 400, "invalid JSON body\n"},
		{"trailing garbage", "POST", "/db/execute", `["SELECT 1"] x`, nil, 400, "invalid JSON body\n"},
		{"two arrays", "POST", "/db/execute", `["SELECT 1"]["SELECT 2"]`, nil, 400, "invalid JSON body\n"},
		{"object", "POST", "/db/execute", `{"sql":"SELECT 1"}`, nil, 400, "invalid request\n"},
		{"string", "POST", "/db/execute", `"SELECT 1"`, nil, 400, "invalid request\n"},
		{"number", "POST", "/db/request", `123`, nil, 400, "invalid request\n"},
		{"null", "POST", "/db/execute", `null`, nil, 400, "invalid request\n"},
		{"empty array", "POST", "/db/execute", `[]`, nil, 400, "no statements\n"},
		{"empty array query", "POST", "/db/query", ` [ ] `, nil, 400, "no statements\n"},
		{"empty array request", "POST", "/db/request", `[]`, nil, 400, "no statements\n"},
		{"empty inner array", "POST", "/db/execute", `[[]]`, nil, 400, "invalid request\n"},
		{"number element", "POST", "/db/execute", `[1]`, nil, 400, "invalid request\n"},
		{"null element", "POST", "/db/execute", `[null]`, nil, 400, "invalid request\n"},
		{"object element", "POST", "/db/execute", `[{"a":1}]`, nil, 400, "invalid request\n"},
		{"non-string sql", "POST", "/db/execute", `[[1, 2]]`, nil, 400, "invalid request\n"},
		{"bad second element", "POST", "/db/execute", `["SELECT 1", true]`, nil, 400, "invalid request\n"},
		{"empty param name", "POST", "/db/execute", `[["SELECT :a", {"": 1}]]`, nil, 400, "invalid request\n"},
		{"nested object param", "POST", "/db/execute", `[["SELECT ?", {"a": {"b": 1}}]]`, nil, 400, "unsupported type: nested object\n"},
		{"object in positional", "POST", "/db/execute", `[["SELECT ?", [{"a": 1}]]]`, nil, 400, "unsupported type: array element of type object\n"},
		{"byte too big", "POST", "/db/execute", `[["SELECT ?", [1, 256]]]`, nil, 400, "unsupported type: array element 256 is not a byte\n"},
		{"negative byte", "POST", "/db/execute", `[["SELECT ?", [-1]]]`, nil, 400, "unsupported type: array element -1 is not a byte\n"},
		{"fractional byte", "POST", "/db/execute", `[["SELECT ?", [1.5]]]`, nil, 400, "unsupported type: array element 1.5 is not a byte\n"},
		{"string in byte array", "POST", "/db/execute", `[["SELECT ?", ["a"]]]`, nil, 400, "unsupported type: array element of type string\n"},
		{"nested array", "POST", "/db/execute", `[["SELECT ?", [[1]]]]`, nil, 400, "unsupported type: array element of type array\n"},
		{"huge number", "POST", "/db/execute", `[["SELECT ?", 1e400]]`, nil, 400, "unsupported type: number 1e400 out of range\n"},
		{"bad timeout", "POST", "/db/execute?timeout=abc", `["SELECT 1"]`, nil, 400, "timeout is not a valid duration\n"},
		{"bare number timeout", "GET", "/status?timeout=5", "", nil, 400, "timeout is not a valid duration\n"},
		{"bad freshness", "GET", "/db/query?q=SELECT+1&freshness=1x", "", nil, 400, "freshness is not a valid duration\n"},
		{"bad db_timeout", "POST", "/db/request?db_timeout=", `["SELECT 1"]`, nil, 400, "db_timeout is not a valid duration\n"},
		{"bad linearizable_timeout", "GET", "/db/query?q=SELECT+1&linearizable_timeout=soon", "", nil, 400, "linearizable_timeout is not a valid duration\n"},
		{"first value counts", "POST", "/db/execute?timeout=bad&timeout=1s", `["SELECT 1"]`, nil, 400, "timeout is not a valid duration\n"},
		{"bad retries", "POST", "/db/execute?retries=two", `["SELECT 1"]`, nil, 400, "retries is not a valid integer\n"},
		{"bad trailing_logs", "POST", "/nope?trailing_logs=1.5", "", nil, 400, "trailing_logs is not a valid integer\n"},
		{"freshness_strict alone", "GET", "/db/query?q=SELECT+1&freshness_strict", "", nil, 400, "freshness_strict requires freshness\n"},
		{"empty q", "GET", "/db/query?q=", "", nil, 400, "query parameter not set\n"},
		{"empty q sql", "GET", "/db/sql?q", "", nil, 400, "query parameter not set\n"},
		{"bad escape", "GET", "/db/query?q=%zz", "", nil, 400, "invalid query string\n"},
		{"semicolon in query", "GET", "/db/query?q=SELECT+1;SELECT+2", "", nil, 400, "invalid query string\n"},
		{"empty text body", "POST", "/db/execute", "", plain, 400, "no statements\n"},
		{"queue empty array", "POST", "/db/execute?queue", `[]`, nil, 400, "no statements\n"},
		{"queue bad json", "POST", "/db/execute?queue", `[`, nil, 400, "invalid JSON body\n"},
		{"wrong method", "PUT", "/db/execute", `["SELECT 1"]`, nil, 405, ""},
		{"get execute", "GET", "/db/execute?q=SELECT+1", "", nil, 405, ""},
		{"put leader", "PUT", "/leader", `{}`, nil, 405, ""},
		{"unknown path", "GET", "/db/nope", "", nil, 404, ""},
		{"join", "POST", "/join", `{"id":"1"}`, nil, 404, ""},
	}
	var calls atomic.Int32
	f := &fakes{}
	fn := func(context.Context, *store.Request) (store.Response, error) {
		calls.Add(1)
		return store.Response{}, nil
	}
	f.db.executeFn, f.db.queryFn, f.db.requestFn = fn, fn, fn
	s := newTestService(t, testConfig(), f)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, s, tt.method, tt.target, tt.body, tt.hdr...)
			check(t, w, tt.wantCode, tt.wantBody)
			if tt.wantBody != "" && !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", w.Header().Get("Content-Type"))
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("Database called %d times for malformed requests, want 0", n)
	}
}
