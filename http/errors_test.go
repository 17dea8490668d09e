package httpd

import (
	"net/http"
	"strings"
	"testing"
)

// TestService_StatusError checks that statuses a handler chooses travel
// as errors and are rendered by handleError as text bodies.
func TestService_StatusError(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		target   string
		body     string
		code     int
		wantBody string
	}{
		{name: "backup unavailable", method: http.MethodGet, target: "/db/backup", code: 503, wantBody: errNoBackups.Error() + "\n"},
		{name: "load unavailable", method: http.MethodPost, target: "/db/load", code: 503, wantBody: errNoBackups.Error() + "\n"},
		{name: "boot unavailable", method: http.MethodPost, target: "/boot", code: 503, wantBody: errNoBackups.Error() + "\n"},
		{name: "snapshot unavailable", method: http.MethodPost, target: "/snapshot", code: 503, wantBody: errNoBackups.Error() + "\n"},
		{name: "reap unavailable", method: http.MethodPost, target: "/reap", code: 503, wantBody: errNoBackups.Error() + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, testConfig(), &fakes{})
			w := do(t, s, tt.method, tt.target, tt.body)
			check(t, w, tt.code, tt.wantBody)
			if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", got)
			}
		})
	}
}
