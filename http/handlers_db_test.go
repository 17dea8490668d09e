package httpd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

func TestService_StoreRequestMapping(t *testing.T) {
	defaults := func(stmts ...db.Statement) store.Request {
		return store.Request{Request: db.Request{Statements: stmts}, LinearizableTimeout: 10 * time.Second}
	}
	sel := db.Statement{SQL: "SELECT 1"}
	tests := []struct {
		name        string
		method      string
		target      string
		body        string
		contentType string
		want        func() store.Request
	}{
		{"defaults", "POST", "/db/query", `["SELECT 1"]`, "", func() store.Request { return defaults(sel) }},
		{"get q", "GET", "/db/query?q=SELECT%201", "", "", func() store.Request { return defaults(sel) }},
		{"flags", "POST", "/db/query?transaction&timings&noparse&norwrandom&norwtime&freshness=1s&freshness_strict&level=NONE&db_timeout=2s&linearizable_timeout=3s&qualify_columns&retries=3",
			`["SELECT 1"]`, "", func() store.Request {
				r := defaults(sel)
				r.Transaction, r.Timings, r.NoParse, r.NoRandom, r.NoTime = true, true, true, true, true
				r.Freshness, r.FreshnessStrict, r.Level = time.Second, true, store.LevelNone
				r.Timeout, r.LinearizableTimeout = 2*time.Second, 3*time.Second
				return r
			}},
		{"unknown level is weak", "POST", "/db/query?level=bogus", `["SELECT 1"]`, "", func() store.Request { return defaults(sel) }},
		{"level strong", "POST", "/db/query?level=Strong", `["SELECT 1"]`, "", func() store.Request {
			r := defaults(sel)
			r.Level = store.LevelStrong
			return r
		}},
		{"params", "POST", "/db/query", `[["SELECT ?, :b, :a", 1, {"b": 2.5, "a": "x'00ff'"}, null, true, [1, 2], " X'AB' ", "x'zz'"]]`, "",
			func() store.Request {
				return defaults(db.Statement{SQL: "SELECT ?, :b, :a", Parameters: []db.Parameter{
					{Value: int64(1)}, {Name: "a", Value: []byte{0, 0xff}}, {Name: "b", Value: 2.5},
					{Value: nil}, {Value: true}, {Value: []byte{1, 2}}, {Value: []byte{0xab}}, {Value: "x'zz'"},
				}})
			}},
		{"text/plain", "POST", "/db/query", "SELECT 1; SELECT 2", "text/plain; charset=utf-8",
			func() store.Request { return defaults(db.Statement{SQL: "SELECT 1; SELECT 2"}) }},
		{"text/plain looks like JSON", "POST", "/db/query", `["SELECT 1"]`, "text/plain",
			func() store.Request { return defaults(db.Statement{SQL: `["SELECT 1"]`}) }},
		{"empty statements skipped", "POST", "/db/query", `["", "SELECT 1", ["", 1]]`, "",
			func() store.Request { return defaults(sel) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*store.Request
			f := &fakes{}
			f.db.queryFn = func(ctx context.Context, req *store.Request) (store.Response, error) {
				got = append(got, req)
				return store.Response{}, nil
			}
			s := newTestService(t, testConfig(), f)
			var hdr []string
			if tt.contentType != "" {
				hdr = []string{"Content-Type", tt.contentType}
			}
			if w := do(t, s, tt.method, tt.target, tt.body, hdr...); w.Code != 200 {
				t.Fatalf("status = %d, want 200 (body %q)", w.Code, w.Body.String())
			}
			if len(got) != 1 {
				t.Fatalf("Query called %d times, want 1", len(got))
			}
			if want := tt.want(); !reflect.DeepEqual(*got[0], want) {
				t.Errorf("request =\n%#v\nwant\n%#v", *got[0], want)
			}
		})
	}
}

func TestService_RequestTimeout(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  time.Duration
	}{{"default", "", 30 * time.Second}, {"param", "?timeout=2s", 2 * time.Second}, {"zero means default", "?timeout=0s", 30 * time.Second}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got time.Duration
			f := &fakes{}
			f.db.executeFn = func(ctx context.Context, _ *store.Request) (store.Response, error) {
				dl, ok := ctx.Deadline()
				if !ok {
					return store.Response{}, errors.New("no deadline")
				}
				got = time.Until(dl)
				return store.Response{}, nil
			}
			s := newTestService(t, testConfig(), f)
			check(t, do(t, s, "POST", "/db/execute"+tt.query, `["X"]`), 200, `{"results":[]}`)
			if got > tt.want || got < tt.want-5*time.Second {
				t.Errorf("deadline in %v, want about %v", got, tt.want)
			}
		})
	}
}

func TestService_GetQueryWithoutQ(t *testing.T) {
	called := false
	f := &fakes{}
	f.db.queryFn = func(context.Context, *store.Request) (store.Response, error) {
		called = true
		return store.Response{}, nil
	}
	s := newTestService(t, testConfig(), f)
	check(t, do(t, s, "GET", "/db/query", ""), 200, `{"results":[]}`)
	check(t, do(t, s, "GET", "/db/query?pretty", ""), 200, "{\n    \"results\": []\n}")
	if called {
		t.Error("Query was called without q")
	}
}

func TestService_DatabaseErrors(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		err        error
		leaderAddr func(context.Context) (string, error)
		wantCode   int
		wantBody   string
		wantLoc    string
	}{
		{"disallowed pragma", "", db.ErrDisallowedPragma, nil, 200, `{"results":[],"error":"disallowed pragma"}`, ""},
		{"stale read wrapped", "", fmt.Errorf("query: %w", store.ErrStaleRead), nil, 200, `{"results":[],"error":"stale read"}`, ""},
		{"not open", "", store.ErrNotOpen, nil, 200, `{"results":[],"error":"store not open"}`, ""},
		{"not ready", "?pretty", store.ErrNotReady, nil, 200, "{\n    \"results\": [],\n    \"error\": \"store not ready\"\n}", ""},
		{"apply timeout", "", fmt.Errorf("forward: %w", store.ErrApplyTimeout), nil, 200, `{"results":[],"error":"timeout waiting for raft apply"}`, ""},
		{"fsm timeout text kept", "", errors.New("index 12: timeout waiting for fsm"), nil, 200, `{"results":[],"error":"index 12: timeout waiting for fsm"}`, ""},
		{"failed forward", "", errors.New("dial tcp: connection refused"), nil, 200, `{"results":[],"error":"dial tcp: connection refused"}`, ""},
		{"unsupported type keeps detail", "", fmt.Errorf("%w: chan int", db.ErrUnsupportedType), nil, 200, `{"results":[],"error":"unsupported type: chan int"}`, ""},
		{"leader not found", "", fmt.Errorf("forward: %w", store.ErrLeaderNotFound), nil, 503, "leader not found\n", ""},
		{"not leader without redirect", "", store.ErrNotLeader, nil, 200, `{"results":[],"error":"not leader"}`, ""},
		{"redirect", "?redirect&level=strong", store.ErrNotLeader, func(context.Context) (string, error) { return "https://leader:4001", nil },
			301, "", "https://leader:4001/db/query?redirect&level=strong"},
		{"redirect no leader", "?redirect", store.ErrNotLeader, func(context.Context) (string, error) { return "", store.ErrLeaderNotFound },
			500, "leader not found\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			f.db.queryFn = func(context.Context, *store.Request) (store.Response, error) {
				return store.Response{Results: []db.Result{insert}}, tt.err
			}
			f.cluster.leaderAPIAddrFn = tt.leaderAddr
			s := newTestService(t, testConfig(), f)
			w := do(t, s, "POST", "/db/query"+tt.query, `["SELECT 1"]`)
			check(t, w, tt.wantCode, tt.wantBody)
			if got := w.Header().Get("Location"); got != tt.wantLoc {
				t.Errorf("Location = %q, want %q", got, tt.wantLoc)
			}
		})
	}
}

func TestService_SQL(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
		body   string
		want   string
	}{
		{"get", "GET", "/db/sql?q=SELECT+RANDOM()", "", `{"results":[{"original":"SELECT RANDOM()","rewritten":"SELECT 42 r=false t=false"}]}`},
		{"get no q", "GET", "/db/sql", "", `{"results":[]}`},
		{"post flags", "POST", "/db/sql?norwrandom&norwtime", `["SELECT 1", "BAD"]`,
			`{"results":[{"original":"SELECT 1","rewritten":"SELECT 42 r=true t=true"},{"original":"BAD","error":"cannot rewrite"}]}`},
		{"post bad body", "POST", "/db/sql", `[1]`, "invalid request\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, testConfig(), nil)
			s.rewrite = func(sql string, noRandom, noTime bool) (string, error) {
				if sql == "BAD" {
					return "", errors.New("cannot rewrite")
				}
				return fmt.Sprintf("SELECT 42 r=%t t=%t", noRandom, noTime), nil
			}
			w := do(t, s, tt.method, tt.target, tt.body)
			want := 200
			if tt.want == "invalid request\n" {
				want = 400
			}
			check(t, w, want, tt.want)
		})
	}
}

func TestService_BodyLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodySize = 16
	s := newTestService(t, cfg, nil)
	check(t, do(t, s, http.MethodPost, "/db/execute", `["SELECT 1"]`), 200, `{"results":[]}`)
	check(t, do(t, s, http.MethodPost, "/db/execute", `["SELECT 1", "SELECT 2"]`), 413, "request body too large\n")
	check(t, do(t, s, http.MethodPost, "/db/execute?queue", `["SELECT 1", "SELECT 2"]`), 413, "request body too large\n")
}
