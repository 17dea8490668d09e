package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// request is what the fake server saw.
type request struct {
	path, level, auth string
	stmts             []string // the SQL of each statement
}

// fakeServer answers as rqlite does; handleFn, if set, answers first
// (return code 0 to fall through to the default answer).
type fakeServer struct {
	*httptest.Server
	handleFn func(r request) (int, string)

	mu   sync.Mutex
	reqs []request
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, hr *http.Request) {
	body, _ := io.ReadAll(hr.Body)
	r := request{path: hr.URL.Path, level: hr.URL.Query().Get("level"), auth: hr.Header.Get("Authorization"), stmts: sqlOf(body)}
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	fn := f.handleFn
	f.mu.Unlock()
	code, out := 0, ""
	if fn != nil {
		code, out = fn(r)
	}
	if code == 0 {
		code, out = http.StatusOK, answer(r)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, out)
}

// sqlOf reads the SQL out of [["sql", args...], ...] or ["sql", ...].
func sqlOf(body []byte) []string {
	var raw []json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			out = append(out, s)
			continue
		}
		var arr []json.RawMessage
		if json.Unmarshal(r, &arr) == nil && len(arr) > 0 && json.Unmarshal(arr[0], &s) == nil {
			out = append(out, s)
		}
	}
	return out
}

// answer is a successful reply: one result per statement, a COUNT of
// every preloaded row, one row for any other SELECT.
func answer(r request) string {
	results := make([]string, len(r.stmts))
	for i, s := range r.stmts {
		var rows, n int
		switch {
		case r.path == "/db/execute":
			results[i] = `{"last_insert_id":1,"rows_affected":1}`
			continue
		case strings.HasPrefix(s, "SELECT COUNT(*)"):
			fmt.Sscanf(s[strings.Index(s, "AND ")+4:], "%d", &n)
			rows = n
		default:
			rows = 1
		}
		results[i] = fmt.Sprintf(`{"columns":["c"],"types":["integer"],"values":[[%d]]}`, rows)
	}
	return `{"results":[` + strings.Join(results, ",") + `]}`
}

// requests returns what was seen so far whose path is path.
func (f *fakeServer) requests(path string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []request
	for _, r := range f.reqs {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// withSQL keeps the requests whose first statement starts with prefix.
func withSQL(reqs []request, prefix string) []request {
	var out []request
	for _, r := range reqs {
		if len(r.stmts) > 0 && strings.HasPrefix(r.stmts[0], prefix) {
			out = append(out, r)
		}
	}
	return out
}

// testConfig is a small run against urls.
func testConfig(urls ...string) Config {
	cfg := DefaultConfig()
	cfg.URLs = urls
	cfg.Concurrency = 4
	cfg.Requests = 40
	cfg.Duration = 30 * time.Second
	cfg.Timeout = 10 * time.Second
	cfg.Rows = 100
	cfg.Batch = 5
	return cfg
}

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer = rdbtest.Buffer

var waitFor = rdbtest.WaitFor
