package httpd

import (
	"context"
	"net/http"
	"testing"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

func TestService_Remove(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		body     string
		err      error
		servedBy string
		code     int
		wantBody string
		wantID   string
		header   string
	}{
		{name: "removed locally", target: "/remove", body: `{"id":"n2"}`, code: 200, wantID: "n2", header: testAdvAddr},
		{name: "forwarded", target: "/remove", body: `{"id":"n2"}`, servedBy: "10.0.0.1:4002", code: 200, wantID: "n2", header: "10.0.0.1:4002"},
		{name: "not found", target: "/remove", body: `{"id":"zz"}`, err: store.ErrNodeNotFound, code: 404, wantBody: "node not found\n", wantID: "zz"},
		{name: "no leader", target: "/remove", body: `{"id":"n2"}`, err: store.ErrLeaderNotFound, code: 503, wantBody: "leader not found\n", wantID: "n2"},
		{name: "redirect", target: "/remove?redirect", body: `{"id":"n2"}`, err: store.ErrNotLeader, code: 301, wantID: "n2"},
		{name: "two keys", target: "/remove", body: `{"id":"n2","x":"y"}`, code: 400, wantBody: errBadRemoveBody.Error() + "\n"},
		{name: "no id", target: "/remove", body: `{"name":"n2"}`, code: 400, wantBody: errBadRemoveBody.Error() + "\n"},
		{name: "not JSON", target: "/remove", body: `n2`, code: 400, wantBody: errBadRemoveBody.Error() + "\n"},
		{name: "empty", target: "/remove", body: ``, code: 400, wantBody: errBadRemoveBody.Error() + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotID string
			var forwarding bool
			f := &fakes{}
			f.db.removeFn = func(ctx context.Context, id string) (string, error) {
				gotID, forwarding = id, cluster.ForwardingAllowed(ctx)
				return tt.servedBy, tt.err
			}
			s := newTestService(t, testConfig(), f)
			w := do(t, s, http.MethodDelete, tt.target, tt.body)
			if w.Code != tt.code || (tt.code != 301 && w.Body.String() != tt.wantBody) {
				t.Fatalf("got %d %q, want %d %q", w.Code, w.Body.String(), tt.code, tt.wantBody)
			}
			if gotID != tt.wantID {
				t.Fatalf("removed %q, want %q", gotID, tt.wantID)
			}
			if tt.code == 301 && (forwarding || w.Header().Get("Location") == "") {
				t.Fatalf("redirect: forwarding allowed %v, Location %q", forwarding, w.Header().Get("Location"))
			}
			if got := w.Header().Get("X-RQLITE-SERVED-BY"); got != tt.header {
				t.Fatalf("X-RQLITE-SERVED-BY = %q, want %q", got, tt.header)
			}
		})
	}
}

func TestService_Stepdown(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		ctype    string
		body     string
		err      error
		code     int
		wantID   string
		wantWait bool
	}{
		{name: "any node", target: "/leader", code: 200},
		{name: "named node", target: "/leader", ctype: "application/json", body: `{"id":"n3"}`, code: 200, wantID: "n3"},
		{name: "body ignored without exact JSON content type", target: "/leader", ctype: "application/json; charset=utf-8", body: `{"id":"n3"}`, code: 200},
		{name: "wait", target: "/leader?wait", code: 200, wantWait: true},
		{name: "bad JSON", target: "/leader", ctype: "application/json", body: `{"id":`, code: 400},
		{name: "self", target: "/leader", ctype: "application/json", body: `{"id":"n1"}`, err: store.ErrStepdownSelf, code: 400, wantID: "n1"},
		{name: "no leader", target: "/leader", err: store.ErrLeaderNotFound, code: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotID string
			var gotWait bool
			f := &fakes{}
			f.db.stepdownFn = func(ctx context.Context, id string, wait bool) (string, error) {
				gotID, gotWait = id, wait
				return "", tt.err
			}
			s := newTestService(t, testConfig(), f)
			var hdr []string
			if tt.ctype != "" {
				hdr = []string{"Content-Type", tt.ctype}
			}
			w := do(t, s, http.MethodPost, tt.target, tt.body, hdr...)
			if w.Code != tt.code {
				t.Fatalf("got %d %q, want %d", w.Code, w.Body.String(), tt.code)
			}
			if gotID != tt.wantID || gotWait != tt.wantWait {
				t.Fatalf("stepdown(%q, %v), want (%q, %v)", gotID, gotWait, tt.wantID, tt.wantWait)
			}
		})
	}
}

func TestService_ForwardsCredentialsAndRedirectFlag(t *testing.T) {
	var creds cluster.Credentials
	var haveCreds, forwarding bool
	f := &fakes{}
	f.db.executeFn = func(ctx context.Context, _ *store.Request) (store.Response, error) {
		creds, haveCreds = cluster.CredentialsFrom(ctx)
		forwarding = cluster.ForwardingAllowed(ctx)
		return store.Response{}, nil
	}
	s := newTestService(t, testConfig(), f)
	w := do(t, s, http.MethodPost, "/db/execute", `["SELECT 1"]`, "Authorization", "Basic YWxpY2U6c2VjcmV0") // alice:secret
	if w.Code != 200 || !haveCreds || creds.Username != "alice" || creds.Password != "secret" || !forwarding {
		t.Fatalf("code %d, creds %+v (%v), forwarding %v", w.Code, creds, haveCreds, forwarding)
	}
	do(t, s, http.MethodPost, "/db/execute?redirect", `["SELECT 1"]`)
	if forwarding {
		t.Fatal("?redirect must turn forwarding off")
	}
}
