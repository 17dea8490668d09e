package httpd

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/internal/auth"
	"github.com/rdb/rdb/store"
)

// testCredentials loads internal/auth/testdata/auth.json: /readyz for
// everyone and one area each for the other users; "bob" has a
// bcrypt-hashed password ("bobpw").
func testCredentials(t *testing.T) *auth.CredentialStore {
	t.Helper()
	cs, err := auth.LoadCredentials("../internal/auth/testdata/auth.json")
	if err != nil {
		t.Fatalf("LoadCredentials: %v", err)
	}
	return cs
}

// TestService_Auth_Routes checks every route × {no credentials, wrong
// password, a user lacking the permission, a user holding it} (API.md §6).
func TestService_Auth_Routes(t *testing.T) {
	cfg := testConfig()
	cfg.Auth = testCredentials(t)
	s := newTestService(t, cfg, nil)
	const G, P, D = http.MethodGet, http.MethodPost, http.MethodDelete
	tests := []struct {
		method, path string
		lacking      string // user:password lacking the permission
		having       string // user:password holding it
		okCode       int    // status when allowed
	}{
		{P, "/db/execute", "reader:readerpw", "writer:writerpw", 200},
		{G, "/db/query?q=SELECT+1", "writer:writerpw", "reader:readerpw", 200},
		{P, "/db/query", "ops:opspw", "bob:bobpw", 200},
		{P, "/db/request", "reader:readerpw", "bob:bobpw", 200},
		{P, "/db/request", "writer:writerpw", "admin:adminpw", 200},
		{G, "/db/sql?q=SELECT+1", "writer:writerpw", "reader:readerpw", 200},
		{G, "/status", "reader:readerpw", "ops:opspw", 200},
		{G, "/nodes", "bob:bobpw", "ops:opspw", 200},
		{G, "/leader", "reader:readerpw", "ops:opspw", 200},
		{P, "/leader", "writer:writerpw", "ops:opspw", 200},
		{D, "/remove", "bob:bobpw", "ops:opspw", 400},
		{G, "/debug/vars", "reader:readerpw", "ops:opspw", 200},
		{G, "/debug/pprof/cmdline", "reader:readerpw", "admin:adminpw", 200},
	}
	for _, tt := range tests {
		cases := []struct {
			name, creds string
			want        int
		}{
			{"none", "", http.StatusUnauthorized},
			{"wrong password", "admin:nope", http.StatusUnauthorized},
			{"unknown user", "mallory:adminpw", http.StatusUnauthorized},
			{"lacking", tt.lacking, http.StatusUnauthorized},
			{"having", tt.having, tt.okCode},
		}
		for _, c := range cases {
			t.Run(tt.method+" "+tt.path+" "+c.name, func(t *testing.T) {
				w := doAuth(t, s, tt.method, tt.path, c.creds)
				if w.Code != c.want {
					t.Fatalf("status = %d, want %d (body %q)", w.Code, c.want, w.Body.String())
				}
				if c.want == http.StatusUnauthorized && w.Body.Len() != 0 {
					t.Errorf("401 body = %q, want empty", w.Body.String())
				}
				if got := w.Header().Get("WWW-Authenticate"); got != `Basic realm="rqlite"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
			})
		}
	}
}

func TestService_Auth_StarUserAndHeaders(t *testing.T) {
	cfg := testConfig()
	cfg.Auth = testCredentials(t)
	s := newTestService(t, cfg, nil)
	tests := []struct {
		name, method, path, creds string
		want                      int
	}{
		{"readyz anonymous via *", http.MethodGet, "/readyz", "", 200},
		{"readyz wrong password via *", http.MethodGet, "/readyz", "admin:nope", 200},
		{"401 beats 405", http.MethodPut, "/db/execute", "", 401},
		{"405 when allowed", http.MethodPut, "/db/execute", "admin:adminpw", 405},
		{"OPTIONS needs nothing", http.MethodOptions, "/status", "", 200},
		{"unknown path", http.MethodGet, "/nope", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := doAuth(t, s, tt.method, tt.path, tt.creds)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			h := w.Header()
			if got, want := h.Get("Access-Control-Allow-Headers"), "Content-Type, Authorization"; got != want {
				t.Errorf("Access-Control-Allow-Headers = %q, want %q", got, want)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); got != "true" {
				t.Errorf("Access-Control-Allow-Credentials = %q, want true", got)
			}
		})
	}
}

func TestService_NoAuth_NoAuthHeaders(t *testing.T) {
	s := newTestService(t, testConfig(), nil)
	w := doAuth(t, s, http.MethodGet, "/status", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	for _, h := range []string{"WWW-Authenticate", "Access-Control-Allow-Credentials"} {
		if got := w.Header().Get(h); got != "" {
			t.Errorf("%s = %q, want none without -auth", h, got)
		}
	}
}

// doAuth sends a request with Basic credentials "user:password" (none if
// empty).
func doAuth(t *testing.T, s *Service, method, path, creds string) *httptest.ResponseRecorder {
	t.Helper()
	var hdr []string
	if creds != "" {
		user, pass, _ := strings.Cut(creds, ":")
		r, _ := http.NewRequest(method, "/", nil)
		r.SetBasicAuth(user, pass)
		hdr = []string{"Authorization", r.Header.Get("Authorization")}
	}
	body := ""
	if method == http.MethodPost {
		body = `["SELECT 1"]`
	}
	return do(t, s, method, path, body, hdr...)
}

// TestService_LeaderRefusesForwarded: when the leader refuses forwarded
// credentials the client gets 401 with an empty body.
func TestService_LeaderRefusesForwarded(t *testing.T) {
	refuse := func() error { return fmt.Errorf("forward to leader: %w", cluster.ErrUnauthorized) }
	f := &fakes{}
	f.db.executeFn = func(context.Context, *store.Request) (store.Response, error) { return store.Response{}, refuse() }
	f.db.removeFn = func(context.Context, string) (string, error) { return "", refuse() }
	s := newTestService(t, testConfig(), f)
	tests := []struct{ method, path, body string }{
		{http.MethodPost, "/db/execute", `["INSERT INTO t VALUES(1)"]`},
		{http.MethodDelete, "/remove", `{"id":"n2"}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			check(t, do(t, s, tt.method, tt.path, tt.body), http.StatusUnauthorized, "")
		})
	}
}
