package httpd

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// recordingObserver records what each endpoint observed.
type recordingObserver struct {
	mu  sync.Mutex
	got []string // "<endpoint> <method> <code>"
}

type endpointRecorder struct {
	r    *recordingObserver
	name string
}

func (e endpointRecorder) Observe(method string, code int, d time.Duration) {
	e.r.mu.Lock()
	defer e.r.mu.Unlock()
	e.r.got = append(e.r.got, e.name+" "+method+" "+http.StatusText(code))
}

func (r *recordingObserver) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		return ""
	}
	return r.got[len(r.got)-1]
}

func TestService_ObserveRequests(t *testing.T) {
	rec := &recordingObserver{}
	cfg := testConfig()
	cfg.ObserveEndpoint = func(name string) EndpointObserver { return endpointRecorder{rec, name} }
	s := newTestService(t, cfg, nil)
	for _, c := range []struct {
		method, target, body string
		want                 string
	}{
		{"POST", "/db/execute", `["CREATE TABLE t(a)"]`, "/db/execute POST OK"},
		{"POST", "/db/execute/extra", `["CREATE TABLE t(a)"]`, "/db/execute POST OK"},
		{"GET", "/db/execute", "", "/db/execute GET Method Not Allowed"},
		{"POST", "/db/query?timeout=xyz", `["SELECT 1"]`, "/db/query POST Bad Request"},
		{"GET", "/nope", "", "other GET Not Found"},
		{"GET", "/leader/x", "", "other GET Not Found"},
		{"GET", "/metrics", "", "/metrics GET Not Found"},
	} {
		w := do(t, s, c.method, c.target, c.body)
		if got := rec.last(); got != c.want {
			t.Errorf("%s %s (status %d): observed %q, want %q", c.method, c.target, w.Code, got, c.want)
		}
	}
}

func TestService_Metrics_Auth(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("rdb_up 1\n")) })
	for _, c := range []struct {
		name  string
		open  bool
		creds string
		want  int
	}{
		{"guarded, anonymous", false, "", http.StatusUnauthorized},
		{"guarded, no status perm", false, "reader:readerpw", http.StatusUnauthorized},
		{"guarded, status perm", false, "ops:opspw", http.StatusOK},
		{"open, anonymous", true, "", http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Auth = testCredentials(t)
			cfg.Metrics, cfg.MetricsOpen = page, c.open
			s := newTestService(t, cfg, nil)
			w := doAuth(t, s, "GET", "/metrics", c.creds)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d", w.Code, c.want)
			}
			if c.want == http.StatusOK && w.Body.String() != "rdb_up 1\n" {
				t.Errorf("body %q", w.Body.String())
			}
		})
	}
}
