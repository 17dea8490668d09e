package shell

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeNode is an httptest server answering the endpoints the real node
// does not serve yet (/db/backup, /db/load, /boot, /snapshot, /reap) and
// recording what the shell sent.
type fakeNode struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string]string // "METHOD path?query" → body
}

const fakeDB = "SQLite format 3\x00 rest of a database file"

func newFakeNode(t *testing.T) *fakeNode {
	t.Helper()
	f := &fakeNode{got: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNode) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fakeNode) request(key string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.got[key]
	return b, ok
}

func (f *fakeNode) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		key += "?" + r.URL.RawQuery
	}
	f.mu.Lock()
	f.got[key] = string(b)
	f.mu.Unlock()
	w.Header().Set("X-RQLITE-VERSION", "v-fake")
	switch {
	case r.URL.Path == "/status" && r.URL.Query().Get("key") == "store":
		io.WriteString(w, `{"db_conf":{"fk_constraints":true}}`)
	case r.URL.Path == "/status":
		io.WriteString(w, `{"store":{"db_conf":{"fk_constraints":true}}}`)
	case r.URL.Path == "/db/backup" && r.URL.Query().Get("fmt") == "sql":
		io.WriteString(w, "BEGIN TRANSACTION;\nCOMMIT;\n")
	case r.URL.Path == "/db/backup":
		io.WriteString(w, fakeDB)
	case r.URL.Path == "/db/load" && strings.HasPrefix(string(b), "SQLite format 3"):
		io.WriteString(w, `{"results":[]}`)
	case r.URL.Path == "/db/load":
		io.WriteString(w, `{"results":[{"last_insert_id":3,"rows_affected":2}]}`)
	case r.URL.Path == "/db/request":
		w.WriteHeader(http.StatusUnauthorized)
	case r.URL.Path == "/snapshot":
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/reap":
		io.WriteString(w, `{"snapshots_reaped":2,"wals_checkpointed":1}`)
	case r.URL.Path == "/nodes":
		json.NewEncoder(w).Encode(map[string]any{"nodes": []map[string]any{
			{"id": "n1", "api_addr": f.srv.URL, "addr": "x:1", "leader": true, "voter": true, "reachable": true}}})
	case r.URL.Path == "/readyz":
		io.WriteString(w, "[+]node ok")
	case r.URL.Path == "/boot", r.URL.Path == "/remove", r.URL.Path == "/leader", r.URL.Path == "/debug/vars":
		io.WriteString(w, "{}")
	default:
		http.NotFound(w, r)
	}
}

func TestShell_FakeNodeCommands(t *testing.T) {
	f := newFakeNode(t)
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(path("in.db"), []byte(fakeDB), 0o600)
	os.WriteFile(path("in.sql"), []byte("INSERT INTO t VALUES(1);"), 0o600)
	os.WriteFile(path("bad.db"), []byte("not a database"), 0o600)
	tests := []struct {
		name     string
		input    string
		wantCode int
		want     string
		request  string // key of the request the fake must have seen
		reqBody  string // its body, if checked
		file     string // a file that must now exist ...
		content  string // ... with this content
	}{
		{name: "backup", input: ".backup " + path("b.db"), want: "backup file written successfully\n",
			request: "GET /db/backup", file: path("b.db"), content: fakeDB},
		{name: "dump", input: ".dump " + path("d.sql") + " foo,bar", want: "SQL text file written successfully\n",
			request: "GET /db/backup?fmt=sql&tables=foo%2Cbar", file: path("d.sql"), content: "BEGIN TRANSACTION;\nCOMMIT;\n"},
		{name: "restore sqlite", input: ".restore " + path("in.db"), want: "Database restored successfully.\n",
			request: "POST /db/load", reqBody: fakeDB},
		{name: "restore sql", input: ".restore " + path("in.sql"),
			want:    "last inserted ID: 3\nrows affected: 2\nDatabase restored successfully.\n",
			request: "POST /db/load", reqBody: "INSERT INTO t VALUES(1);\nPRAGMA foreign_keys=ON;"},
		{name: "restore missing", input: ".restore " + path("nope"), wantCode: 0,
			want: "ERR! read restore file: open " + path("nope") + ": no such file or directory\n"},
		{name: "boot", input: ".boot " + path("in.db"), want: "Node booted successfully.\n",
			request: "POST /boot", reqBody: fakeDB},
		{name: "boot not sqlite", input: ".boot " + path("bad.db"), wantCode: 0,
			want: "ERR! " + path("bad.db") + " is not a SQLite database file\n"},
		{name: "snapshot", input: ".snapshot 5", request: "POST /snapshot?trailing_logs=5"},
		{name: "snapshot bad", input: ".snapshot many", wantCode: 0, want: "ERR! usage: .snapshot [trailing logs]\n"},
		{name: "reap", input: ".reap", want: "snapshots reaped: 2, WALs checkpointed: 1\n", request: "POST /reap"},
		{name: "remove", input: ".remove n2", request: "DELETE /remove", reqBody: `{"id":"n2"}`},
		{name: "remove needs id", input: ".remove", wantCode: 0, want: "ERR! usage: .remove <raft ID>\n"},
		{name: "stepdown", input: ".stepdown n3", request: "POST /leader?wait=true", reqBody: `{"id":"n3"}`},
		{name: "sysdump", input: ".sysdump " + path("sys.txt"), request: "GET /debug/vars", file: path("sys.txt")},
		{name: "not found", input: ".extensions", wantCode: 0, want: ""},
		{name: "unauthorized", input: "SELECT 1;", wantCode: 0,
			want: "ERR! unauthorized (HTTP 401): the node requires a user and password; give them with -u user:pass\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runShell(t, tt.input+"\n", f.addr())
			if got := body(t, out); got != tt.want || code != tt.wantCode {
				t.Errorf("exit %d output %q, want exit %d output %q", code, got, tt.wantCode, tt.want)
			}
			if tt.request != "" {
				b, ok := f.request(tt.request)
				if !ok || (tt.reqBody != "" && b != tt.reqBody) {
					t.Errorf("request %q seen %v with body %q, want body %q", tt.request, ok, b, tt.reqBody)
				}
			}
			if tt.file != "" {
				b, err := os.ReadFile(tt.file)
				if err != nil || (tt.content != "" && string(b) != tt.content) {
					t.Errorf("file %s: %q, %v; want %q", tt.file, b, err, tt.content)
				}
			}
		})
	}
}

func TestShell_SysdumpContent(t *testing.T) {
	f := newFakeNode(t)
	file := filepath.Join(t.TempDir(), "sys.txt")
	if out, code := runShell(t, ".sysdump "+file+"\n", f.addr()); code != 0 {
		t.Fatalf("sysdump failed: %s", out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sysdumpPaths {
		if want := "=== GET " + f.srv.URL + p + " (HTTP 200)\n"; !strings.Contains(string(b), want) {
			t.Errorf("sysdump lacks %q:\n%s", want, b)
		}
	}
}
