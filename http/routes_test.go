package httpd

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/store"
)

func TestService_Routes_MethodStatus(t *testing.T) {
	s := newTestService(t, testConfig(), nil)
	const (
		G, P, U, D, O = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions
	)
	methods := []string{G, P, U, D, O}
	tests := []struct {
		path string
		want map[string]int // missing methods: 405
	}{
		{"/db/execute", map[string]int{P: 200}},
		{"/db/execute/extra", map[string]int{P: 200}},
		{"/db/executeXYZ", map[string]int{P: 200}},
		{"/db/query", map[string]int{G: 200, P: 200}},
		{"/db/query?q=SELECT+1", map[string]int{G: 200, P: 200}},
		{"/db/request", map[string]int{P: 200}},
		{"/db/sql", map[string]int{G: 200, P: 200}},
		{"/status", map[string]int{G: 200}},
		{"/status/anything", map[string]int{G: 200}},
		{"/nodes", map[string]int{G: 200}},
		{"/leader", map[string]int{G: 200, P: 200}},
		{"/remove", map[string]int{D: 400}},
		{"/readyz", map[string]int{G: 200}},
		{"/debug/vars", map[string]int{G: 200, P: 200, U: 200, D: 200}},
		{"/debug/pprof/", map[string]int{G: 200, P: 200, U: 200, D: 200}},
		{"/debug/pprof/cmdline", map[string]int{G: 200, P: 200, U: 200, D: 200}},
		{"/", map[string]int{G: 302, P: 302, U: 302, D: 302}},
		{"/console", map[string]int{G: 301}},
		{"/console/", map[string]int{G: 200}},
		{"/console/static/js/app.js", map[string]int{G: 200}},
		{"/console/nope.html", map[string]int{G: 404}},
		{"/consolex", map[string]int{G: 404}},
		{"/join", map[string]int{G: 404, P: 404, U: 404, D: 404}},
		{"/nope", map[string]int{G: 404, P: 404, U: 404, D: 404}},
		{"/db", map[string]int{G: 404, P: 404, U: 404, D: 404}},
		{"/db/", map[string]int{G: 404, P: 404, U: 404, D: 404}},
		{"/leader/x", map[string]int{G: 404, P: 404, U: 404, D: 404}},
		{"/debug/vars/x", map[string]int{G: 404, P: 404, U: 404, D: 404}},
		{"/debug", map[string]int{G: 404, P: 404, U: 404, D: 404}},
	}
	for _, tt := range tests {
		for _, m := range methods {
			t.Run(m+" "+tt.path, func(t *testing.T) {
				want, ok := tt.want[m]
				switch {
				case m == O:
					want = 200 // OPTIONS on any path
				case !ok:
					want = 405
				}
				w := do(t, s, m, tt.path, `["SELECT 1"]`)
				if w.Code != want {
					t.Fatalf("status = %d, want %d (body %q)", w.Code, want, w.Body.String())
				}
				if want == 404 || want == 405 || m == O {
					if got := w.Body.String(); got != "" {
						t.Errorf("body = %q, want empty", got)
					}
				}
				if got := w.Header().Get("X-RQLITE-VERSION"); got != testVersion {
					t.Errorf("X-RQLITE-VERSION = %q, want %q", got, testVersion)
				}
			})
		}
	}
}

func TestService_Headers_EveryResponse(t *testing.T) {
	tests := []struct {
		name        string
		origin      string
		version     string
		method      string
		target      string
		wantCode    int
		wantOrigin  string
		wantVersion string
	}{
		{"404", "", testVersion, http.MethodGet, "/nope", 404, "", testVersion},
		{"405", "", testVersion, http.MethodGet, "/db/execute", 405, "", testVersion},
		{"400", "", testVersion, http.MethodGet, "/status?timeout=x", 400, "", testVersion},
		{"options unknown path", "", testVersion, http.MethodOptions, "/nope", 200, "", testVersion},
		{"options skips validation", "", testVersion, http.MethodOptions, "/db/query?q=", 200, "", testVersion},
		{"200 with origin", "https://example.com", testVersion, http.MethodGet, "/status", 200, "https://example.com", testVersion},
		{"404 with origin", "*", testVersion, http.MethodGet, "/nope", 404, "*", testVersion},
		{"unknown version", "", "", http.MethodGet, "/nope", 404, "", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.AllowOrigin, cfg.Version = tt.origin, tt.version
			s := newTestService(t, cfg, nil)
			w := do(t, s, tt.method, tt.target, "")
			if w.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantCode)
			}
			h := w.Header()
			want := map[string]string{
				"X-RQLITE-VERSION":             tt.wantVersion,
				"Access-Control-Allow-Methods": "OPTIONS, GET, POST",
				"Access-Control-Allow-Headers": "Content-Type",
				"Access-Control-Allow-Origin":  tt.wantOrigin,
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if _, ok := h["Access-Control-Allow-Origin"]; ok != (tt.wantOrigin != "") {
				t.Errorf("Access-Control-Allow-Origin present = %v, want %v", ok, tt.wantOrigin != "")
			}
		})
	}
}

func TestService_Panic_Becomes500AndServerKeepsServing(t *testing.T) {
	f := &fakes{}
	f.db.executeFn = func(ctx context.Context, req *store.Request) (store.Response, error) {
		if req.Statements[0].SQL == "PANIC" {
			panic("fake database exploded")
		}
		return store.Response{}, nil
	}
	s := newTestService(t, testConfig(), f)
	base := serve(t, s)
	post := func(body string) (int, string) {
		t.Helper()
		resp, err := http.Post(base+"/db/execute", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return resp.StatusCode, string(b)
	}
	for i := range 3 {
		if code, body := post(`["PANIC"]`); code != 500 || body != "internal server error\n" {
			t.Fatalf("round %d: panic request = %d %q, want 500 %q", i, code, body, "internal server error\n")
		}
		if code, body := post(`["SELECT 1"]`); code != 200 || body != `{"results":[]}` {
			t.Fatalf("round %d: normal request = %d %q, want 200", i, code, body)
		}
	}
}

func TestService_StartClose(t *testing.T) {
	s := newTestService(t, testConfig(), nil)
	base := serve(t, s)
	if code, _ := httpGet(t, base+"/status"); code != 200 {
		t.Fatalf("GET /status = %d, want 200", code)
	}
	if err := s.Serve(nil); err == nil {
		t.Error("second Serve succeeded, want error")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := http.Get(base + "/status"); err == nil {
		t.Error("GET after Close succeeded, want connection error")
	}
	select {
	case <-s.queue.done:
	default:
		t.Error("queue batcher still running after Close")
	}
	if err := s.Serve(nil); err == nil {
		t.Error("Serve after Close succeeded, want error")
	}
}

func TestNew_Invalid(t *testing.T) {
	f := &fakes{}
	bad := testConfig()
	bad.MaxBodySize = 0
	tests := []struct {
		name string
		cfg  Config
		db   Database
	}{
		{"invalid config", bad, &f.db},
		{"nil database", testConfig(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg, tt.db, &f.store, &f.cluster, nil)
			if err == nil {
				_ = s.Close(context.Background())
				t.Fatal("New succeeded, want error")
			}
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "max body size") {
		t.Errorf("Config{}.Validate() = %v, want max body size error", err)
	}
}
