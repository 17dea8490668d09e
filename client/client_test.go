package client_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/client"
)

func TestStatement_MarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		stmt client.Statement
		want string
	}{
		{"bare", client.SQL("SELECT 1"), `"SELECT 1"`},
		{"positional", client.SQL("INSERT INTO t VALUES(?, ?, ?)", "a", 1, nil), `["INSERT INTO t VALUES(?, ?, ?)","a",1,null]`},
		{"blob", client.SQL("INSERT INTO t VALUES(?)", []byte{0xde, 0xad}), `["INSERT INTO t VALUES(?)",[222,173]]`},
		{"named", client.Statement{SQL: "SELECT :a", Named: map[string]any{"a": 2}}, `["SELECT :a",{"a":2}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.stmt)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// recorder is a fake node that records the requests it gets.
type recorder struct {
	mu     sync.Mutex
	reqs   []string // "METHOD /path?query body"
	handle func(w http.ResponseWriter, r *http.Request)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r.Method+" "+r.URL.RequestURI()+" "+string(b))
	rec.mu.Unlock()
	if rec.handle != nil {
		rec.handle(w, r)
		return
	}
	io.WriteString(w, `{"results":[{"last_insert_id":1,"rows_affected":1}]}`)
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.reqs...)
}

func newFake(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) (*recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{handle: h}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return strings.TrimPrefix(srv.URL, "http://")
}

func newClient(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var ctx = context.Background()

func TestClient_Failover(t *testing.T) {
	rec, srv := newFake(t, nil)
	dead := deadAddr(t)
	var moves []string
	c := newClient(t, client.Config{Addrs: []string{dead, srv.URL}, OnFailover: func(from, to string, err error) {
		moves = append(moves, from+" -> "+to)
	}})
	if _, err := c.Execute(ctx, []client.Statement{client.SQL("INSERT INTO t VALUES(1)")}, nil); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if got, want := c.URL(), srv.URL; got != want {
		t.Errorf("URL after fail-over = %s, want %s", got, want)
	}
	if got, want := strings.Join(moves, ";"), "http://"+dead+" -> "+srv.URL; got != want {
		t.Errorf("fail-over callbacks %q, want %q", got, want)
	}
	if got := rec.requests(); len(got) != 1 || got[0] != `POST /db/execute ["INSERT INTO t VALUES(1)"]` {
		t.Errorf("requests %q", got)
	}
}

func TestClient_Unreachable(t *testing.T) {
	a, b := deadAddr(t), deadAddr(t)
	c := newClient(t, client.Config{Addrs: []string{a, b}})
	_, err := c.Query(ctx, []client.Statement{client.SQL("SELECT 1")}, nil)
	var ue *client.UnreachableError
	if !errors.As(err, &ue) || len(ue.URLs) != 2 {
		t.Fatalf("err = %v, want an UnreachableError for both addresses", err)
	}
	if want := "connection refused (is the node running?)"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to say %q", err, want)
	}
}

func TestClient_RedirectKeepsMethodAndBody(t *testing.T) {
	leaderRec, leader := newFake(t, nil)
	_, follower := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, leader.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
	c := newClient(t, client.Config{Addrs: []string{follower.URL}})
	resp, err := c.Execute(ctx, []client.Statement{client.SQL("INSERT INTO t VALUES(?)", 5)}, &client.Options{Transaction: true})
	if err != nil || resp.Results[0].RowsAffected != 1 {
		t.Fatalf("Execute: %+v, %v", resp, err)
	}
	want := `POST /db/execute?transaction= [["INSERT INTO t VALUES(?)",5]]`
	if got := leaderRec.requests(); len(got) != 1 || got[0] != want {
		t.Errorf("leader got %q, want %q", got, want)
	}
}

func TestClient_TooManyRedirects(t *testing.T) {
	_, loop := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusMovedPermanently)
	})
	c := newClient(t, client.Config{Addrs: []string{loop.URL}})
	if _, err := c.Status(ctx, ""); !errors.Is(err, client.ErrTooManyRedirects) {
		t.Errorf("err = %v, want ErrTooManyRedirects", err)
	}
}

func TestClient_BasicAuth(t *testing.T) {
	_, srv := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "bob" || p != "s:cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"results":[]}`)
	})
	tests := []struct {
		name, user, pass string
		wantUnauthorized bool
	}{
		{"right", "bob", "s:cret", false},
		{"wrong", "bob", "nope", true},
		{"none", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, client.Config{Addrs: []string{srv.URL}, User: tt.user, Password: tt.pass})
			_, err := c.Request(ctx, []client.Statement{client.SQL("SELECT 1")}, nil)
			if got := errors.Is(err, client.ErrUnauthorized); got != tt.wantUnauthorized {
				t.Errorf("err = %v, unauthorized %v, want %v", err, got, tt.wantUnauthorized)
			}
		})
	}
}

func TestClient_StatusError(t *testing.T) {
	_, srv := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "leader not found", http.StatusServiceUnavailable)
	})
	c := newClient(t, client.Config{Addrs: []string{srv.URL}})
	_, err := c.Execute(ctx, []client.Statement{client.SQL("INSERT INTO t VALUES(1)")}, nil)
	var se *client.StatusError
	if !errors.As(err, &se) || se.Code != 503 || err.Error() != "server responded with 503 Service Unavailable: leader not found" {
		t.Errorf("err = %v", err)
	}
}

func TestClient_Timeout(t *testing.T) {
	_, srv := newFake(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := newClient(t, client.Config{Addrs: []string{srv.URL}, Timeout: 50 * time.Millisecond})
	_, err := c.Status(ctx, "")
	if err == nil || !strings.Contains(err.Error(), "timed out waiting for the server") {
		t.Errorf("err = %v, want a timeout explained", err)
	}
}

func TestClient_TLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RQLITE-VERSION", "v9")
		io.WriteString(w, "{}")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     client.Config
		wantErr string
	}{
		{"trusted CA", client.Config{CACert: ca}, ""},
		{"insecure", client.Config{Insecure: true}, ""},
		{"unknown CA", client.Config{}, "signed by an unknown authority (trust its CA with -c/--ca-cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Addrs = []string{strings.TrimPrefix(srv.URL, "https://")}
			tt.cfg.Scheme = "https"
			c := newClient(t, tt.cfg)
			v, err := c.Version(ctx)
			switch {
			case tt.wantErr == "" && (err != nil || v != "v9"):
				t.Errorf("Version = %q, %v; want v9", v, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  client.Config
		want error
	}{
		{"default", client.DefaultConfig(), nil},
		{"no address", client.Config{}, client.ErrNoAddress},
		{"bad scheme", client.Config{Addrs: []string{"a:1"}, Scheme: "ftp"}, client.ErrBadScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.Validate(); !errors.Is(got, tt.want) {
				t.Errorf("Validate() = %v, want %v", got, tt.want)
			}
		})
	}
}
