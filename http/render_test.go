package httpd

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// respond makes a fake Database method that answers with results.
func respond(results ...db.Result) dbFn {
	return func(context.Context, *store.Request) (store.Response, error) {
		return store.Response{Results: results, RaftIndex: 7}, nil
	}
}

var (
	rowsFiona = db.Result{Rows: true, Columns: []string{"id", "name"}, Types: []string{"integer", "text"},
		Values: [][]any{{int64(1), "fiona"}}}
	rowsEmpty = db.Result{Rows: true, Columns: []string{"id", "name"}, Types: []string{"integer", "text"}}
	insert    = db.Result{LastInsertID: 1, RowsAffected: 1}
	stmtErr   = db.Result{Error: `near "blah": syntax error`}
	blob      = []byte{0xde, 0xad, 0xbe, 0xef}
)

func TestRender_Shapes(t *testing.T) {
	tests := []struct {
		name    string
		path    string // POST unless it has a q=
		results []db.Result
		want    string
	}{
		{"ddl", "/db/execute", []db.Result{{}}, `{"results":[{}]}`},
		{"insert", "/db/execute", []db.Result{insert}, `{"results":[{"last_insert_id":1,"rows_affected":1}]}`},
		{"no results", "/db/execute", nil, `{"results":[]}`},
		{"rows", "/db/query", []db.Result{rowsFiona},
			`{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]}]}`},
		{"rows get", "/db/query?q=SELECT+*+FROM+foo", []db.Result{rowsFiona},
			`{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]}]}`},
		{"no rows", "/db/query", []db.Result{rowsEmpty},
			`{"results":[{"columns":["id","name"],"types":["integer","text"]}]}`},
		{"statement error", "/db/execute", []db.Result{stmtErr}, `{"results":[{"error":"near \"blah\": syntax error"}]}`},
		{"statement error query", "/db/query", []db.Result{stmtErr}, `{"results":[{"error":"near \"blah\": syntax error"}]}`},
		{"rows with error", "/db/query", []db.Result{{Rows: true, Columns: []string{"a"}, Types: []string{""}, Error: "interrupted"}},
			`{"results":[{"columns":["a"],"types":[""],"error":"interrupted"}]}`},
		{"write with time", "/db/execute", []db.Result{{RowsAffected: 2, Time: 0.5}},
			`{"results":[{"rows_affected":2,"time":0.5}]}`},
		{"returning in execute", "/db/execute", []db.Result{rowsFiona, insert},
			`{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]},{"last_insert_id":1,"rows_affected":1}]}`},
		{"mixed request", "/db/request", []db.Result{insert, rowsFiona, stmtErr},
			`{"results":[{"last_insert_id":1,"rows_affected":1},{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]},{"error":"near \"blah\": syntax error"}]}`},
		{"value kinds", "/db/query", []db.Result{{Rows: true, Columns: []string{"i", "f", "t", "n", "b", "x", "e"},
			Types:  []string{"integer", "real", "text", "", "boolean", "blob", "blob"},
			Values: [][]any{{int64(-9223372036854775808), 2.0, "ü<>&\"", nil, true, blob, []byte{}}}}},
			`{"results":[{"columns":["i","f","t","n","b","x","e"],"types":["integer","real","text","","boolean","blob","blob"],"values":[[-9223372036854775808,2,"ü\u003c\u003e\u0026\"",null,true,"3q2+7w==",""]]}]}`},
		{"floats", "/db/query", []db.Result{{Rows: true, Columns: []string{"a"}, Types: []string{"real"},
			Values: [][]any{{0.1}, {1e-7}, {1e21}, {123456789.125}, {math.Inf(1)}, {math.NaN()}}}},
			`{"results":[{"columns":["a"],"types":["real"],"values":[[0.1],[1e-7],[1e+21],[123456789.125],[null],[null]]}]}`},
		{"blob_array", "/db/query?blob_array", []db.Result{{Rows: true, Columns: []string{"x", "e"}, Types: []string{"blob", "blob"},
			Values: [][]any{{blob, []byte{}}}}},
			`{"results":[{"columns":["x","e"],"types":["blob","blob"],"values":[[[222,173,190,239],[]]]}]}`},
		{"raft_index", "/db/execute?raft_index", []db.Result{insert},
			`{"results":[{"last_insert_id":1,"rows_affected":1}],"raft_index":7}`},
		{"raft_index not asked", "/db/execute", []db.Result{insert},
			`{"results":[{"last_insert_id":1,"rows_affected":1}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			f.db.executeFn, f.db.queryFn, f.db.requestFn = respond(tt.results...), respond(tt.results...), respond(tt.results...)
			s := newTestService(t, testConfig(), f)
			method, body := http.MethodPost, `["SELECT 1"]`
			if strings.Contains(tt.path, "q=") {
				method, body = http.MethodGet, ""
			}
			w := do(t, s, method, tt.path, body)
			check(t, w, 200, tt.want)
			if got := w.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
		})
	}
}

func TestRender_Associative(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		results []db.Result
		want    string
	}{
		{"rows", "/db/query?associative", []db.Result{{Rows: true, Columns: []string{"name", "id"}, Types: []string{"text", "integer"},
			Values: [][]any{{"fiona", int64(1)}, {"declan", int64(2)}}}},
			`{"results":[{"types":{"id":"integer","name":"text"},"rows":[{"id":1,"name":"fiona"},{"id":2,"name":"declan"}]}]}`},
		{"no rows", "/db/query?associative", []db.Result{rowsEmpty},
			`{"results":[{"types":{"id":"integer","name":"text"},"rows":[]}]}`},
		{"no types", "/db/query?associative", []db.Result{{Rows: true}}, `{"results":[{"rows":[]}]}`},
		{"rows error", "/db/query?associative", []db.Result{{Rows: true, Columns: []string{"a"}, Types: []string{"integer"},
			Error: "interrupted", Time: 0.25}},
			`{"results":[{"types":{"a":"integer"},"rows":[],"error":"interrupted","time":0.25}]}`},
		{"query statement error", "/db/query?associative", []db.Result{stmtErr},
			`{"results":[{"rows":[],"error":"near \"blah\": syntax error"}]}`},
		{"execute write", "/db/execute?associative", []db.Result{{LastInsertID: 99, RowsAffected: 1}},
			`{"results":[{"last_insert_id":99,"rows_affected":1,"rows":null}]}`},
		{"execute ddl", "/db/execute?associative", []db.Result{{}}, `{"results":[{"rows":null}]}`},
		{"execute error", "/db/execute?associative", []db.Result{stmtErr},
			`{"results":[{"error":"near \"blah\": syntax error","rows":null}]}`},
		{"request mixed", "/db/request?associative&blob_array", []db.Result{insert,
			{Rows: true, Columns: []string{"b"}, Types: []string{"blob"}, Values: [][]any{{blob}}}},
			`{"results":[{"last_insert_id":1,"rows_affected":1,"rows":null},{"types":{"b":"blob"},"rows":[{"b":[222,173,190,239]}]}]}`},
		{"blob base64", "/db/request?associative", []db.Result{{Rows: true, Columns: []string{"b"}, Types: []string{"blob"}, Values: [][]any{{blob}}}},
			`{"results":[{"types":{"b":"blob"},"rows":[{"b":"3q2+7w=="}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			f.db.executeFn, f.db.queryFn, f.db.requestFn = respond(tt.results...), respond(tt.results...), respond(tt.results...)
			s := newTestService(t, testConfig(), f)
			check(t, do(t, s, http.MethodPost, tt.path, `["SELECT 1"]`), 200, tt.want)
		})
	}
}

func TestRender_Pretty(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"pretty", "?pretty", "{\n    \"results\": [\n        {\n            \"last_insert_id\": 1,\n            \"rows_affected\": 1\n        }\n    ]\n}"},
		{"pretty=false still on", "?pretty=false", "{\n    \"results\": [\n        {\n            \"last_insert_id\": 1,\n            \"rows_affected\": 1\n        }\n    ]\n}"},
		{"not pretty", "", `{"results":[{"last_insert_id":1,"rows_affected":1}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			f.db.executeFn = respond(insert)
			s := newTestService(t, testConfig(), f)
			check(t, do(t, s, http.MethodPost, "/db/execute"+tt.query, `["INSERT"]`), 200, tt.want)
		})
	}
}

func TestRender_Timings(t *testing.T) {
	f := &fakes{}
	f.db.executeFn = respond(db.Result{RowsAffected: 1, Time: 0.125})
	s := newTestService(t, testConfig(), f)
	for _, tt := range []struct {
		name     string
		query    string
		wantTime bool
	}{{"timings", "?timings", true}, {"no timings", "", false}} {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, s, http.MethodPost, "/db/execute"+tt.query, `["INSERT"]`)
			var got struct {
				Results []map[string]any `json:"results"`
				Time    *float64         `json:"time"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode %q: %v", w.Body.String(), err)
			}
			if (got.Time != nil) != tt.wantTime || (got.Time != nil && *got.Time <= 0) {
				t.Errorf("top-level time = %v, want present=%v and positive", got.Time, tt.wantTime)
			}
			if len(got.Results) != 1 || got.Results[0]["time"] != 0.125 {
				t.Errorf("results = %v, want one entry with time 0.125", got.Results)
			}
		})
	}
}

func TestService_ServedByHeader(t *testing.T) {
	tests := []struct {
		name     string
		servedBy string
		err      error
		want     string
	}{
		{"local", "", nil, testAdvAddr},
		{"forwarded", "10.0.0.1:4002", nil, "10.0.0.1:4002"},
		{"failed", "", store.ErrNotReady, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			fn := func(context.Context, *store.Request) (store.Response, error) {
				return store.Response{ServedBy: tt.servedBy}, tt.err
			}
			f.db.executeFn, f.db.queryFn, f.db.requestFn = fn, fn, fn
			s := newTestService(t, testConfig(), f)
			for _, path := range []string{"/db/execute", "/db/query", "/db/request"} {
				w := do(t, s, http.MethodPost, path, `["SELECT 1"]`)
				if got := w.Header().Get("X-RQLITE-SERVED-BY"); got != tt.want {
					t.Errorf("%s: X-RQLITE-SERVED-BY = %q, want %q", path, got, tt.want)
				}
			}
		})
	}
}
