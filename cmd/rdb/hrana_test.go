package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// startHranaNode runs a whole node in-process with extra flags and
// returns its base URL.
func startHranaNode(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"-http-addr", "127.0.0.1:0", "-raft-addr", "127.0.0.1:0", "-raft-log-level", "ERROR"}, extra...)
	cfg, err := parseServeFlags("rdb serve", append(args, t.TempDir()), true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n, err := startNode(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	base := "http://" + cfg.HTTPAddr
	rdbtest.WaitFor(t, 20*time.Second, "node leads", func() bool { return n.store.IsLeader() })
	return base
}

// hranaPost posts a pipeline body and decodes the JSON answer.
func hranaPost(t *testing.T, url, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("POST %s: %d, body not a JSON object: %q", url, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type %q, want exactly application/json", ct)
	}
	return resp.StatusCode, m
}

// results returns a pipeline answer's results after checking it is 200.
func results(t *testing.T, code int, m map[string]any) []any {
	t.Helper()
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, m)
	}
	rs, ok := m["results"].([]any)
	if !ok {
		t.Fatalf("no results: %v", m)
	}
	return rs
}

// pipe posts a pipeline and returns its results (status 200 required).
func pipe(t *testing.T, url, body string, header ...string) []any {
	t.Helper()
	code, m := hranaPost(t, url, body, header...)
	return results(t, code, m)
}

// jsonPath digs into decoded JSON: string keys and int indexes.
func jsonPath(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func TestHrana_TSClientTransaction(t *testing.T) {
	base := startHranaNode(t)
	url := base + "/v2/pipeline"
	rs := pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, f REAL, b BLOB)"}},{"type":"close"}]}`)
	if jsonPath(rs, 0, "type") != "ok" || jsonPath(rs, 1, "response", "type") != "close" {
		t.Fatalf("create: %v", rs)
	}
	// (1) of HRANA.md §9: store_sql + batch [BEGIN IMMEDIATE, ok(0) → S1].
	code, m := hranaPost(t, url, `{"requests":[
		{"type":"store_sql","sql_id":0,"sql":"INSERT INTO t (name, f, b) VALUES (?, ?, ?) RETURNING id"},
		{"type":"batch","batch":{"steps":[
			{"stmt":{"sql":"BEGIN IMMEDIATE","args":[],"named_args":[],"want_rows":false}},
			{"condition":{"type":"ok","step":0},"stmt":{"sql_id":0,"args":[{"type":"text","value":"ann"},{"type":"float","value":1},{"type":"blob","base64":"AAEC/w=="}],"named_args":[],"want_rows":true}}]}}]}`)
	rs = results(t, code, m)
	if e := jsonPath(rs, 1, "response", "result", "step_errors", 1); e != nil {
		t.Fatalf("insert in transaction: %v", e)
	}
	if got := jsonPath(rs, 1, "response", "result", "step_results", 1, "rows", 0, 0, "value"); got != "1" {
		t.Fatalf("RETURNING id: %v", rs)
	}
	baton, _ := m["baton"].(string)
	if baton == "" {
		t.Fatalf("no baton with a transaction open: %v", m)
	}
	// Outside the stream the row is not visible yet.
	rs = pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"SELECT COUNT(*) FROM t"}},{"type":"close"}]}`)
	if got := jsonPath(rs, 0, "response", "result", "rows", 0, 0, "value"); got != "0" {
		t.Fatalf("uncommitted row visible on another stream: %v", rs)
	}
	// (2) A failing statement (UNIQUE) leaves the transaction usable,
	// with SQLite's code; the stream sees its own write.
	code, m = hranaPost(t, url, `{"baton":"`+baton+`","requests":[
		{"type":"execute","stmt":{"sql":"INSERT INTO t (name) VALUES ('ann')"}},
		{"type":"execute","stmt":{"sql":"SELECT name, f, b FROM t WHERE name = :n","named_args":[{"name":"n","value":{"type":"text","value":"ann"}}]}},
		{"type":"get_autocommit"}]}`)
	rs = results(t, code, m)
	if jsonPath(rs, 0, "type") != "error" || jsonPath(rs, 0, "error", "code") != "SQLITE_CONSTRAINT" {
		t.Fatalf("duplicate insert: %v", jsonPath(rs, 0))
	}
	row := jsonPath(rs, 1, "response", "result", "rows", 0)
	want := []any{
		map[string]any{"type": "text", "value": "ann"},
		map[string]any{"type": "float", "value": 1.0},
		map[string]any{"type": "blob", "base64": "AAEC/w"},
	}
	if b1, _ := json.Marshal(row); !bytes.Equal(b1, must(json.Marshal(want))) {
		t.Fatalf("row %s, want %s", b1, must(json.Marshal(want)))
	}
	if jsonPath(rs, 2, "response", "is_autocommit") != false {
		t.Fatalf("get_autocommit in a transaction: %v", jsonPath(rs, 2))
	}
	// The old baton is single-use.
	if code, _ := hranaPost(t, url, `{"baton":"`+baton+`","requests":[]}`); code != http.StatusBadRequest {
		t.Fatalf("reused baton: %d, want 400", code)
	}
	baton = m["baton"].(string)
	// (3) COMMIT + close: baton null, the row visible everywhere.
	code, m = hranaPost(t, url, `{"baton":"`+baton+`","requests":[{"type":"execute","stmt":{"sql":"COMMIT","args":[],"named_args":[],"want_rows":false}},{"type":"close"}]}`)
	rs = results(t, code, m)
	if jsonPath(rs, 0, "type") != "ok" || m["baton"] != nil {
		t.Fatalf("commit: %v", m)
	}
	rs = pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"SELECT id, name FROM t"}}]}`)
	if got := jsonPath(rs, 0, "response", "result", "rows", 0, 1, "value"); got != "ann" {
		t.Fatalf("after commit: %v", rs)
	}
	if got := jsonPath(rs, 0, "response", "result", "cols", 1, "decltype"); got != "TEXT" {
		t.Fatalf("decltype %v, want TEXT", got)
	}
	// /status counts streams and transactions.
	resp, err := http.Get(base + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var status map[string]any
	json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if got := jsonPath(status, "hrana", "transactions", "committed"); got != 1.0 {
		t.Errorf("/status hrana.transactions.committed = %v, want 1: %v", got, status["hrana"])
	}
	if got := jsonPath(status, "hrana", "opened"); got == nil || got.(float64) < 3 {
		t.Errorf("/status hrana.opened = %v", got)
	}
	resp, err = http.Get(base + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]any
	json.NewDecoder(resp.Body).Decode(&vars)
	resp.Body.Close()
	if got := jsonPath(vars, "hrana", "transactions", "begun"); got == nil || got.(float64) < 1 {
		t.Errorf("/debug/vars hrana.transactions.begun = %v", got)
	}
	// The closed stream's baton is an HTTP error.
	if code, _ := hranaPost(t, url, `{"baton":"`+baton+`","requests":[]}`); code < 400 {
		t.Fatalf("baton of a closed stream: %d", code)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestHrana_RollbackCloseAndBatchCommit(t *testing.T) {
	base := startHranaNode(t)
	url := base + "/v2/pipeline"
	pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"CREATE TABLE t (x INTEGER)"}}]}`)
	// BEGIN, insert, then close without COMMIT: rolled back.
	code, m := hranaPost(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"BEGIN"}},{"type":"execute","stmt":{"sql":"INSERT INTO t VALUES (1)"}}]}`)
	results(t, code, m)
	pipe(t, url, `{"baton":"`+m["baton"].(string)+`","requests":[{"type":"close"}]}`)
	// client.batch(): BEGIN DEFERRED, steps, COMMIT, ROLLBACK on failure.
	rs := pipe(t, url, `{"requests":[{"type":"batch","batch":{"steps":[
		{"stmt":{"sql":"BEGIN DEFERRED"}},
		{"condition":{"type":"ok","step":0},"stmt":{"sql":"INSERT INTO t VALUES (2)"}},
		{"condition":{"type":"ok","step":1},"stmt":{"sql":"INSERT INTO t VALUES (3)"}},
		{"condition":{"type":"ok","step":2},"stmt":{"sql":"COMMIT"}},
		{"condition":{"type":"not","cond":{"type":"ok","step":3}},"stmt":{"sql":"ROLLBACK"}}]}},{"type":"close"}]}`)
	if e := jsonPath(rs, 0, "response", "result", "step_errors"); strings.Contains(string(must(json.Marshal(e))), "message") {
		t.Fatalf("batch errors: %v", e)
	}
	if jsonPath(rs, 0, "response", "result", "step_results", 4) != nil {
		t.Fatalf("ROLLBACK step ran although COMMIT succeeded: %v", rs)
	}
	// A failing batch rolls back entirely.
	rs = pipe(t, url, `{"requests":[{"type":"batch","batch":{"steps":[
		{"stmt":{"sql":"BEGIN DEFERRED"}},
		{"condition":{"type":"ok","step":0},"stmt":{"sql":"INSERT INTO t VALUES (4)"}},
		{"condition":{"type":"ok","step":1},"stmt":{"sql":"INSERT INTO nope VALUES (5)"}},
		{"condition":{"type":"ok","step":2},"stmt":{"sql":"COMMIT"}},
		{"condition":{"type":"not","cond":{"type":"ok","step":3}},"stmt":{"sql":"ROLLBACK"}}]}},{"type":"close"}]}`)
	if jsonPath(rs, 0, "response", "result", "step_errors", 2, "message") == nil || jsonPath(rs, 0, "response", "result", "step_results", 4) == nil {
		t.Fatalf("failing batch: %v", rs)
	}
	// transaction("read"): BEGIN TRANSACTION READONLY refuses writes.
	code, m = hranaPost(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"BEGIN TRANSACTION READONLY"}},{"type":"execute","stmt":{"sql":"INSERT INTO t VALUES (99)"}},{"type":"execute","stmt":{"sql":"SELECT COUNT(*) FROM t"}},{"type":"execute","stmt":{"sql":"COMMIT"}},{"type":"close"}]}`)
	rs = results(t, code, m)
	if jsonPath(rs, 1, "error", "code") != "SQLITE_READONLY" || jsonPath(rs, 2, "type") != "ok" || jsonPath(rs, 3, "type") != "ok" {
		t.Fatalf("read-only transaction: %v", rs)
	}
	// executeMultiple(): sequence.
	rs = pipe(t, url, `{"requests":[{"type":"sequence","sql":"INSERT INTO t VALUES (6); INSERT INTO t VALUES (7);"},{"type":"close"}]}`)
	if jsonPath(rs, 0, "type") != "ok" {
		t.Fatalf("sequence: %v", rs)
	}
	rs = pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"SELECT group_concat(x) FROM (SELECT x FROM t ORDER BY x)"}}]}`)
	if got := jsonPath(rs, 0, "response", "result", "rows", 0, 0, "value"); got != "2,3,6,7" {
		t.Fatalf("rows %v, want 2,3,6,7", got)
	}
}

func TestHrana_ProtocolErrorsAndV3(t *testing.T) {
	base := startHranaNode(t)
	for _, c := range []struct {
		body string
		code int
	}{
		{`{not json`, http.StatusBadRequest},
		{`{"baton":"forged","requests":[]}`, http.StatusBadRequest},
		{`{"requests":[{"type":"execute","stmt":{"sql_id":9}}]}`, http.StatusBadRequest},
		{`{"requests":[{"type":"nope"}]}`, http.StatusBadRequest},
		{`{"requests":[{"type":"batch","batch":{"steps":[{"condition":{"type":"ok","step":0},"stmt":{"sql":"SELECT 1"}}]}}]}`, http.StatusBadRequest},
	} {
		code, m := hranaPost(t, base+"/v2/pipeline", c.body)
		if code != c.code || m["message"] == nil || m["error"] == nil {
			t.Errorf("%s: %d %v, want %d with message and error", c.body, code, m, c.code)
		}
	}
	rs := pipe(t, base+"/v3/pipeline", `{"requests":[
		{"type":"execute","stmt":{"sql":"SELECT 1; SELECT 2"}},
		{"type":"execute","stmt":{"sql":"  "}},
		{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"1"}],"named_args":[{"name":"a","value":{"type":"null"}}]}},
		{"type":"describe","sql":"SELECT :a AS x, ?2"},
		{"type":"get_autocommit"},
		{"type":"execute","stmt":{"sql":"SELECT 9223372036854775807, -0.5, NULL, x'00'","want_rows":false}}]}`)
	for i, code := range []string{"SQL_MANY_STATEMENTS", "SQL_NO_STATEMENT", "ARGS_BOTH_POSITIONAL_AND_NAMED"} {
		if got := jsonPath(rs, i, "error", "code"); got != code {
			t.Errorf("request %d: code %v, want %s", i, got, code)
		}
	}
	if got := must(json.Marshal(jsonPath(rs, 3, "response", "result", "params"))); string(got) != `[{"name":":a"},{"name":"?2"}]` {
		t.Errorf("describe params %s", got)
	}
	if jsonPath(rs, 4, "response", "is_autocommit") != true {
		t.Errorf("get_autocommit: %v", jsonPath(rs, 4))
	}
	if got := jsonPath(rs, 5, "response", "result"); len(jsonPath(got, "rows").([]any)) != 0 || len(jsonPath(got, "cols").([]any)) != 4 {
		t.Errorf("want_rows false: %v", got)
	}
	// Cursor: newline-delimited entries.
	resp, err := http.Post(base+"/v3/cursor", "application/json", strings.NewReader(`{"batch":{"steps":[{"stmt":{"sql":"SELECT 1 AS a UNION ALL SELECT 2"}},{"stmt":{"sql":"SELEC"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 6 || !strings.Contains(lines[0], `"baton"`) || !strings.Contains(lines[1], `"step_begin"`) ||
		!strings.Contains(lines[3], `"value":"2"`) || !strings.Contains(lines[5], `"step_error"`) {
		t.Errorf("cursor answer:\n%s", body)
	}
	for path, want := range map[string]int{"/v2": 200, "/v3": 200, "/v3-protobuf": 404, "/v3-protobuf/pipeline": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestHrana_BearerTokens(t *testing.T) {
	authFile := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(authFile, []byte(`[
		{"username":"reader","password":"r","token":"tok-r","perms":["query"]},
		{"username":"writer","password":"w","token":"tok-w","perms":["query","execute"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startHranaNode(t, "-auth", authFile)
	url := base + "/v2/pipeline"
	if code, m := hranaPost(t, url, `{"requests":[]}`); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d %v", code, m)
	}
	if code, _ := hranaPost(t, url, `{"requests":[]}`, "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", code)
	}
	rs := pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"CREATE TABLE t (x)"}}]}`, "Authorization", "Bearer tok-w")
	if jsonPath(rs, 0, "type") != "ok" {
		t.Fatalf("writer: %v", rs)
	}
	rs = pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"INSERT INTO t VALUES (1)"}},{"type":"execute","stmt":{"sql":"SELECT COUNT(*) FROM t"}}]}`, "Authorization", "Bearer tok-r")
	if jsonPath(rs, 0, "type") != "error" || jsonPath(rs, 1, "type") != "ok" {
		t.Fatalf("reader: %v", rs)
	}
	// Basic credentials work too.
	rs = pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"INSERT INTO t VALUES (1)"}}]}`, "Authorization", "Basic d3JpdGVyOnc=")
	if jsonPath(rs, 0, "type") != "ok" {
		t.Fatalf("writer by Basic auth: %v", rs)
	}
}

func TestHrana_SQLiteRollsBackTransaction(t *testing.T) {
	base := startHranaNode(t)
	url := base + "/v2/pipeline"
	pipe(t, url, `{"requests":[{"type":"execute","stmt":{"sql":"CREATE TABLE u (x UNIQUE)"}},{"type":"execute","stmt":{"sql":"INSERT INTO u VALUES (1)"}}]}`)
	rs := pipe(t, url, `{"requests":[
		{"type":"execute","stmt":{"sql":"BEGIN"}},
		{"type":"execute","stmt":{"sql":"INSERT INTO u VALUES (2)"}},
		{"type":"execute","stmt":{"sql":"INSERT OR ROLLBACK INTO u VALUES (1)"}},
		{"type":"get_autocommit"},
		{"type":"execute","stmt":{"sql":"INSERT INTO u VALUES (3)"}},
		{"type":"execute","stmt":{"sql":"COMMIT"}},
		{"type":"execute","stmt":{"sql":"SELECT group_concat(x) FROM (SELECT x FROM u ORDER BY x)"}}]}`)
	if jsonPath(rs, 2, "error", "code") != "SQLITE_CONSTRAINT" || jsonPath(rs, 3, "response", "is_autocommit") != true ||
		jsonPath(rs, 4, "type") != "ok" || jsonPath(rs, 5, "type") != "error" ||
		jsonPath(rs, 6, "response", "result", "rows", 0, 0, "value") != "1,3" {
		t.Fatalf("results %v", rs)
	}
}
