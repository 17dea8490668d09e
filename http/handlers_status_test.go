package httpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

func TestService_Status(t *testing.T) {
	f := &fakes{}
	f.store.statsFn = func() (map[string]any, error) {
		return map[string]any{"open": true, "node_id": "1", "raft": map[string]any{"state": "Leader", "commit_index": 5}}, nil
	}
	cfg := testConfig()
	cfg.Commit, cfg.BuildTime, cfg.CompilerCommand = "abc123", "2024-01-01", "go build"
	cfg.RaftAdvAddr = testLeader
	cfg.Reporters = map[string]func() (map[string]any, error){
		"network": func() (map[string]any, error) { return map[string]any{"z": 1, "a": 2}, nil },
	}
	s := newTestService(t, cfg, f)
	w := do(t, s, http.MethodGet, "/status", "")
	if w.Code != 200 || w.Header().Get("Content-Type") != mimeJSON {
		t.Fatalf("status = %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	wantOrder := []string{`"build":`, `"cluster":`, `"http":`, `"network":{"a":2,"z":1}`, `"node":`, `"os":`, `"runtime":`, `"store":`}
	last := -1
	for _, k := range wantOrder {
		i := strings.Index(body, k)
		if i <= last {
			t.Fatalf("key %s at %d, want after %d (keys sorted) in %s", k, i, last, body)
		}
		last = i
	}
	tests := []struct {
		key  string
		want string
	}{
		{"build", `{"branch":"","build_time":"2024-01-01","commit":"abc123","compiler_command":"go build","compiler_toolchain":"gc","version":"v10.3.0"}`},
		{"build.version", `"v10.3.0"`},
		{"store", `{"node_id":"1","open":true,"raft":{"commit_index":5,"state":"Leader"}}`},
		{"store.raft.commit_index", `5`},
		{"cluster", `{"addr":"localhost:4002","api_addr":"localhost:4001","https":"false"}`},
		{"http.queue._default.sequence_number", `0`},
		{"http.auth", `"disabled"`},
		{"nope", `{}`},
		{"build.version.x", `{}`},
		{"store.nope", `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			check(t, do(t, s, http.MethodGet, "/status?key="+tt.key, ""), 200, tt.want)
		})
	}
	t.Run("pretty", func(t *testing.T) {
		check(t, do(t, s, http.MethodGet, "/status?key=store.raft&pretty", ""), 200,
			"{\n    \"commit_index\": 5,\n    \"state\": \"Leader\"\n}")
	})
	t.Run("node times", func(t *testing.T) {
		var got map[string]string
		if err := json.Unmarshal(do(t, s, http.MethodGet, "/status?key=node", "").Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"start_time", "current_time", "uptime"} {
			if got[k] == "" {
				t.Errorf("node.%s missing in %v", k, got)
			}
		}
	})
}

func TestService_Status_StoreStates(t *testing.T) {
	tests := []struct {
		name     string
		open     bool
		statsErr error
		wantCode int
		wantBody string
	}{
		{"not open", false, nil, 200, `{"open":false}`},
		{"open", true, nil, 200, `{"node_id":"1","open":true}`},
		{"stats error", true, errors.New("disk on fire"), 500, "store stats: disk on fire\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			f.store.isOpenFn = func() bool { return tt.open }
			f.store.statsFn = func() (map[string]any, error) {
				return map[string]any{"open": true, "node_id": "1"}, tt.statsErr
			}
			s := newTestService(t, testConfig(), f)
			check(t, do(t, s, http.MethodGet, "/status?key=store", ""), tt.wantCode, tt.wantBody)
		})
	}
}

func TestService_Nodes(t *testing.T) {
	nodes := []cluster.Node{
		{ID: "2", APIAddr: "http://b:4001", Addr: "b:4002", Version: "v1", Voter: true, Reachable: true, Time: 0.5, TimeS: "500ms"},
		{ID: "1", APIAddr: "http://a:4001", Addr: "a:4002", Voter: true, Leader: true, Error: "timeout waiting for node to respond"},
	}
	n2 := `{"id":"2","api_addr":"http://b:4001","addr":"b:4002","version":"v1","voter":true,"reachable":true,"leader":false,"time":0.5,"time_s":"500ms"}`
	n1 := `{"id":"1","api_addr":"http://a:4001","addr":"a:4002","version":"","voter":true,"reachable":false,"leader":true,"error":"timeout waiting for node to respond"}`
	tests := []struct {
		name          string
		open          bool
		query         string
		nodesErr      error
		wantNonVoters bool
		wantCode      int
		wantBody      string
	}{
		{"default", true, "", nil, false, 200, `{"1":` + n1 + `,"2":` + n2 + `}`},
		{"ver2", true, "?ver=2&nonvoters", nil, true, 200, `{"nodes":[` + n1 + `,` + n2 + `]}`},
		{"ver1", true, "?ver=1", nil, false, 200, `{"1":` + n1 + `,"2":` + n2 + `}`},
		{"not open", false, "", nil, false, 503, "store not open\n"},
		{"error", true, "", errors.New("boom"), false, 500, "list nodes: boom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotNonVoters bool
			f := &fakes{}
			f.store.isOpenFn = func() bool { return tt.open }
			f.cluster.nodesFn = func(_ context.Context, nonVoters bool) ([]cluster.Node, error) {
				gotNonVoters = nonVoters
				return nodes, tt.nodesErr
			}
			s := newTestService(t, testConfig(), f)
			check(t, do(t, s, http.MethodGet, "/nodes"+tt.query, ""), tt.wantCode, tt.wantBody)
			if gotNonVoters != tt.wantNonVoters {
				t.Errorf("nonVoters = %v, want %v", gotNonVoters, tt.wantNonVoters)
			}
		})
	}
}

func TestService_Leader(t *testing.T) {
	leader := cluster.Node{ID: "1", APIAddr: "http://a:4001", Addr: testLeader, Version: "v1", Voter: true, Reachable: true}
	tests := []struct {
		name     string
		leader   string
		nodes    []cluster.Node
		wantCode int
		wantBody string
	}{
		{"by address", testLeader, []cluster.Node{{ID: "2", Addr: "b"}, leader}, 200,
			`{"id":"1","api_addr":"http://a:4001","addr":"localhost:4002","version":"v1","voter":true,"reachable":true,"leader":true}`},
		{"no leader", "", nil, 503, "leader not found\n"},
		{"leader not listed", testLeader, []cluster.Node{{ID: "2", Addr: "b"}}, 503, "leader not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			f.store.leaderAddrFn = func() string { return tt.leader }
			f.cluster.nodesFn = func(context.Context, bool) ([]cluster.Node, error) { return tt.nodes, nil }
			s := newTestService(t, testConfig(), f)
			check(t, do(t, s, http.MethodGet, "/leader", ""), tt.wantCode, tt.wantBody)
		})
	}
}

func TestService_Readyz(t *testing.T) {
	errNope := errors.New("nope")
	tests := []struct {
		name      string
		query     string
		open      bool
		leader    string
		apiErr    error
		ready     bool
		syncErr   error
		pingErr   error
		wantCode  int
		wantBody  string
		wantSyncd bool
	}{
		{"ok", "", true, testLeader, nil, true, nil, nil, 200, "[+]node ok\n[+]leader ok\n[+]store ok\n[+]db ok", false},
		{"noleader", "?noleader", false, "", nil, false, nil, nil, 200, "[+]node ok", false},
		{"store closed", "", false, testLeader, nil, true, nil, nil, 503, "[+]node ok\n[+]leader does not exist", false},
		{"no leader", "", true, "", nil, true, nil, nil, 503, "[+]node ok\n[+]leader does not exist", false},
		{"leader lookup says none", "", true, testLeader, fmt.Errorf("lookup: %w", store.ErrLeaderNotFound), true, nil, nil, 503,
			"[+]node ok\n[+]leader does not exist", false},
		{"leader unreachable", "", true, testLeader, errNope, true, nil, nil, 503, "[+]node ok\n[+]leader not contactable: nope", false},
		{"not ready", "", true, testLeader, nil, false, nil, nil, 503, "[+]node ok\n[+]leader ok\n[+]store not ready", false},
		{"sync ok", "?sync", true, testLeader, nil, true, nil, nil, 200,
			"[+]node ok\n[+]leader ok\n[+]store ok\n[+]sync ok\n[+]db ok", true},
		{"sync timeout", "?sync&timeout=1s", true, testLeader, nil, true, context.DeadlineExceeded, nil, 503,
			"[+]node ok\n[+]leader ok\n[+]store ok\n[+]sync context deadline exceeded", true},
		{"db not ok", "", true, testLeader, nil, true, nil, errNope, 503,
			"[+]node ok\n[+]leader ok\n[+]store ok\n[+]db not ok: nope", false},
		{"sync then db not ok", "?sync", true, testLeader, nil, true, nil, errNope, 503,
			"[+]node ok\n[+]leader ok\n[+]store ok\n[+]sync ok\n[+]db not ok: nope", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synced := false
			f := &fakes{}
			f.store.isOpenFn = func() bool { return tt.open }
			f.store.leaderAddrFn = func() string { return tt.leader }
			f.store.readyFn = func() bool { return tt.ready }
			f.store.waitForSyncFn = func(context.Context) error { synced = true; return tt.syncErr }
			f.store.pingFn = func(context.Context) error { return tt.pingErr }
			f.cluster.leaderAPIAddrFn = func(context.Context) (string, error) { return "http://x", tt.apiErr }
			s := newTestService(t, testConfig(), f)
			w := do(t, s, http.MethodGet, "/readyz"+tt.query, "")
			check(t, w, tt.wantCode, tt.wantBody)
			if synced != tt.wantSyncd {
				t.Errorf("WaitForSync called = %v, want %v", synced, tt.wantSyncd)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestService_DebugVars(t *testing.T) {
	s := newTestService(t, testConfig(), nil)
	do(t, s, http.MethodGet, "/readyz?noleader", "")
	tests := []struct {
		name     string
		query    string
		wantKeys []string
	}{
		{"all", "", []string{"cmdline", "memstats", "http"}},
		{"key", "?key=http", []string{"http"}},
		{"missing key", "?key=nope", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, s, http.MethodGet, "/debug/vars"+tt.query, "")
			var got map[string]json.RawMessage
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode %q: %v", w.Body.String(), err)
			}
			for _, k := range tt.wantKeys {
				if _, ok := got[k]; !ok {
					t.Errorf("key %q missing", k)
				}
			}
			if tt.query != "" && len(got) != len(tt.wantKeys) {
				t.Errorf("got %d keys, want %d", len(got), len(tt.wantKeys))
			}
		})
	}
	t.Run("counters", func(t *testing.T) {
		var got map[string]map[string]int64
		if err := json.Unmarshal(do(t, s, http.MethodGet, "/debug/vars?key=http", "").Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"user_snapshots", "user_reaps", "executions"} {
			if _, ok := got["http"][k]; !ok {
				t.Errorf("http.%s missing in %v", k, got["http"])
			}
		}
		if got["http"]["readyz"] < 1 {
			t.Errorf("http.readyz = %d, want ≥ 1", got["http"]["readyz"])
		}
	})
}
