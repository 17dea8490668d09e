package cluster

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdb/rdb/store"
)

func joinConfig(addrs ...string) JoinConfig {
	cfg := DefaultJoinConfig()
	cfg.Addresses, cfg.ID, cfg.Addr = addrs, "me", "127.0.0.1:1"
	cfg.Interval = 10 * time.Millisecond
	cfg.CallTimeout, cfg.HTTPProbeTimeout = 2*time.Second, 500*time.Millisecond
	return cfg
}

func newTestJoiner(t *testing.T, cfg JoinConfig) *Joiner {
	t.Helper()
	j, err := NewJoiner(cfg, newTestClient(t), nil)
	if err != nil {
		t.Fatalf("new joiner: %v", err)
	}
	return j
}

func TestJoiner_RefusesHTTP(t *testing.T) {
	var hits atomic.Int64
	for _, tls := range []bool{false, true} {
		h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusUnauthorized) // any answer counts
		})
		srv := httptest.NewUnstartedServer(h)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the plain-HTTP probe of a TLS server is expected
		if tls {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		t.Cleanup(srv.Close)
		addr := strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https://"), "http://")
		raft := startNode(t, listen(t), "raft", &fakeLocal{}, nil)

		cfg := joinConfig(raft.addr, addr)
		cfg.Interval = time.Hour // the refusal must not wait for a retry
		_, err := newTestJoiner(t, cfg).Join(t.Context())
		want := "join address " + addr + " appears to be serving HTTP when it should be Raft"
		if !errors.Is(err, ErrServingHTTP) || err.Error() != want {
			t.Errorf("tls=%v: got %v, want %q", tls, err, want)
		}
	}
	if hits.Load() == 0 {
		t.Error("the HTTP servers were never probed")
	}
}

func TestJoiner_RetriesThenFails(t *testing.T) {
	var calls atomic.Int64
	boom := errors.New("raft busy")
	n := startNode(t, listen(t), "leader", &fakeLocal{joinFn: func(string, string, bool) error {
		calls.Add(1)
		return boom
	}}, nil)
	dead := closedAddr(t)

	cfg := joinConfig(dead, n.addr)
	cfg.Attempts = 3
	_, err := newTestJoiner(t, cfg).Join(t.Context())
	if !errors.Is(err, ErrJoinFailed) {
		t.Fatalf("got %v, want ErrJoinFailed", err)
	}
	if !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), boom.Error()) {
		t.Errorf("error text %q lacks the attempts or the last cause", err)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("join requests reaching the leader: got %d, want 3", got)
	}
}

func TestJoiner_SucceedsAfterRetries(t *testing.T) {
	var calls atomic.Int64
	ln := listen(t)
	n := startNode(t, ln, "leader", &fakeLocal{
		leaderAddr: constant(ln.Addr().String()),
		joinFn: func(id, addr string, voter bool) error {
			if calls.Add(1) < 3 {
				return store.ErrNotReady
			}
			if id != "me" || addr != "127.0.0.1:1" || voter {
				return errors.New("wrong join request")
			}
			return nil
		},
	}, nil)
	cfg := joinConfig(n.addr)
	cfg.Voter = false
	cfg.Credentials = &Credentials{Username: "u", Password: "p"}
	got, err := newTestJoiner(t, cfg).Join(t.Context())
	if err != nil || got != n.addr {
		t.Fatalf("got %q, %v; want %q, nil", got, err, n.addr)
	}
	if c := calls.Load(); c != 3 {
		t.Errorf("join requests: got %d, want 3", c)
	}
}

func TestJoinConfig_Validate(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*JoinConfig)
	}{
		{"no addresses", func(c *JoinConfig) { c.Addresses = nil }},
		{"no ID", func(c *JoinConfig) { c.ID = "" }},
		{"zero attempts", func(c *JoinConfig) { c.Attempts = 0 }},
		{"negative interval", func(c *JoinConfig) { c.Interval = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := joinConfig("a:1")
			tt.tweak(&c)
			if err := c.Validate(); err == nil {
				t.Error("Validate: got nil, want an error")
			}
		})
	}
	if err := joinConfig("a:1").Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
