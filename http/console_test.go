package httpd

import (
	"net/http"
	"strings"
	"testing"
)

func TestService_Console_Files(t *testing.T) {
	s := newTestService(t, testConfig(), nil)
	for _, c := range []struct {
		path, ctype, contains string
	}{
		{"/console/", "text/html; charset=utf-8", `<script src="static/js/app.js"`},
		{"/console/index.html", "text/html; charset=utf-8", `role="tablist"`},
		{"/console/static/css/style.css", "text/css; charset=utf-8", "@media (max-width: 640px)"},
		{"/console/static/js/app.js", "text/javascript; charset=utf-8", "/db/request?timings"},
		{"/console/static/favicon.ico", "image/x-icon", "PNG"},
	} {
		w := do(t, s, "GET", c.path, "")
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: status %d", c.path, w.Code)
			continue
		}
		if got := w.Header().Get("Content-Type"); got != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if !strings.Contains(w.Body.String(), c.contains) {
			t.Errorf("GET %s: body lacks %q", c.path, c.contains)
		}
		if w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", c.path)
		}
	}
	for _, c := range []struct{ path, location string }{{"/", "/console/"}, {"/console", "/console/"}} {
		if got := do(t, s, "GET", c.path, "").Header().Get("Location"); got != c.location {
			t.Errorf("GET %s: Location %q, want %q", c.path, got, c.location)
		}
	}
	if w := do(t, s, "HEAD", "/console/", ""); w.Code != http.StatusOK {
		t.Errorf("HEAD /console/: status %d", w.Code)
	}
}

// TestService_Console_Assets_SelfContained: nothing the page loads comes
// from another origin (it must work offline).
func TestService_Console_Assets_SelfContained(t *testing.T) {
	for name := range consoleFiles {
		b, err := consoleFS.ReadFile("console/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

func TestService_Console_Auth(t *testing.T) {
	cfg := testConfig()
	cfg.Auth = testCredentials(t)
	s := newTestService(t, cfg, nil)
	for _, c := range []struct {
		path, creds string
		want        int
	}{
		{"/console/", "", http.StatusUnauthorized},
		{"/console/", "reader:readerpw", http.StatusUnauthorized},
		{"/console/", "admin:adminpw", http.StatusOK},
		{"/console/static/js/app.js", "", http.StatusUnauthorized},
		{"/", "", http.StatusFound}, // the redirect needs no permission; its target does
	} {
		w := doAuth(t, s, "GET", c.path, c.creds)
		if w.Code != c.want {
			t.Errorf("GET %s as %q: status %d, want %d", c.path, c.creds, w.Code, c.want)
		}
		if c.want == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s: 401 without WWW-Authenticate (the browser would not ask for credentials)", c.path)
		}
	}
}
