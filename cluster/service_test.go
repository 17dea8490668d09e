package cluster

import (
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/mux"
	"github.com/rdb/rdb/store"
)

// silentAddr returns the address of a listener that accepts connections
// and never answers.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln := listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestService_Nodes(t *testing.T) {
	peer := startNode(t, listen(t), "b", &fakeLocal{}, nil)
	silent, refused := silentAddr(t), closedAddr(t)
	ln := listen(t)
	servers := []store.Server{
		{ID: "e", Addr: refused, Voter: true},
		{ID: "d", Addr: silent, Voter: true},
		{ID: "c", Addr: peer.addr, Voter: false},
		{ID: "b", Addr: peer.addr, Voter: true},
		{ID: "a", Addr: ln.Addr().String(), Voter: true},
	}
	local := &fakeLocal{
		serversFn: func() ([]store.Server, error) { return servers, nil },
		leaderID:  constant("b"), leaderAddr: constant(peer.addr),
	}
	const probe = 300 * time.Millisecond
	n := startNode(t, ln, "a", local, func(c *Config) { c.ProbeTimeout = probe })

	start := time.Now()
	all, err := n.svc.Nodes(t.Context(), true)
	if elapsed := time.Since(start); elapsed > 10*probe {
		t.Errorf("Nodes took %v with a %v probe timeout: probes not parallel or not bounded", elapsed, probe)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := []Node{
		{ID: "a", Addr: n.addr, APIAddr: "http://api-a", Version: "v-a", Voter: true, Reachable: true},
		{ID: "b", Addr: peer.addr, APIAddr: "http://api-b", Version: "v-b", Voter: true, Reachable: true, Leader: true},
		{ID: "c", Addr: peer.addr, APIAddr: "http://api-b", Version: "v-b", Voter: false, Reachable: true},
		{ID: "d", Addr: silent, Voter: true, Error: "timeout waiting for node to respond"},
		{ID: "e", Addr: refused, Voter: true},
	}
	if len(all) != len(want) {
		t.Fatalf("nodes: got %d, want %d: %+v", len(all), len(want), all)
	}
	for i, got := range all {
		if got.TimeS == "" || got.Time < 0 || got.Time > 5 {
			t.Errorf("%s: time %v / %q not filled", got.ID, got.Time, got.TimeS)
		}
		if got.ID == "d" && got.Time < probe.Seconds()/2 {
			t.Errorf("silent node answered in %v, before the probe timeout", got.TimeS)
		}
		got.Time, got.TimeS = 0, ""
		if got.ID == "e" {
			if !strings.Contains(got.Error, "refused") {
				t.Errorf("refused node error: got %q", got.Error)
			}
			got.Error = ""
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("node %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}

	voters, err := n.svc.Nodes(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range voters {
		ids = append(ids, v.ID)
	}
	if want := []string{"a", "b", "d", "e"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("voters: got %v, want %v", ids, want)
	}
}

func TestService_NodesConfigError(t *testing.T) {
	boom := errors.New("store closed")
	local := &fakeLocal{serversFn: func() ([]store.Server, error) { return nil, boom }}
	n := startNode(t, listen(t), "a", local, nil)
	if _, err := n.svc.Nodes(t.Context(), true); !errors.Is(err, boom) {
		t.Errorf("got %v, want %v", err, boom)
	}
}

func TestService_LeaderAPIAddr(t *testing.T) {
	peerLn := listen(t)
	peer := startNode(t, peerLn, "b", &fakeLocal{}, nil)
	before := statValue(numMetaReq)

	var leader atomic.Value
	leader.Store("")
	ln := listen(t)
	local := &fakeLocal{leaderAddr: func() string { return leader.Load().(string) }}
	n := startNode(t, ln, "a", local, func(c *Config) { c.LeaderCacheTTL = time.Hour })

	tests := []struct {
		name    string
		leader  string
		want    string
		wantErr error
	}{
		{"no leader", "", "", store.ErrLeaderNotFound},
		{"this node leads", n.addr, "http://api-a", nil},
		{"another node leads", peer.addr, "http://api-b", nil},
		{"cached", peer.addr, "http://api-b", nil},
		{"unreachable leader", closedAddr(t), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leader.Store(tt.leader)
			got, err := n.svc.LeaderAPIAddr(t.Context())
			if tt.name == "unreachable leader" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if !errorsIs(err, tt.wantErr) || got != tt.want {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if got := statValue(numMetaReq) - before; got != 1 {
		t.Errorf("meta requests served: got %d, want 1 (the second lookup is cached)", got)
	}
}

func TestHandler_JoinViaFollower(t *testing.T) {
	joined := &recorder[JoinRequest]{}
	ln := listen(t)
	leaderAddr := ln.Addr().String()
	startNode(t, ln, "leader", &fakeLocal{
		leaderAddr: constant(leaderAddr),
		joinFn:     func(id, addr string, voter bool) error { joined.add(JoinRequest{id, addr, voter}); return nil },
	}, nil)
	fln := listen(t)
	startNode(t, fln, "follower", &fakeLocal{
		leaderAddr: constant(leaderAddr),
		joinFn:     func(string, string, bool) error { return store.ErrNotLeader },
	}, nil)

	before := statValue(numJoinReq)
	ctx := WithCredentials(t.Context(), "joiner", "pw")
	got, err := newTestClient(t).Join(ctx, fln.Addr().String(), JoinRequest{ID: "new", Addr: "10.0.0.9:4002", Voter: false})
	if err != nil {
		t.Fatalf("join via follower: %v", err)
	}
	if got != leaderAddr {
		t.Errorf("leader: got %q, want %q", got, leaderAddr)
	}
	if want := []JoinRequest{{"new", "10.0.0.9:4002", false}}; !reflect.DeepEqual(joined.get(), want) {
		t.Errorf("leader joined %v, want %v", joined.get(), want)
	}
	if d := statValue(numJoinReq) - before; d != 2 {
		t.Errorf("num_join_req: got +%d, want +2 (follower and leader)", d)
	}

	t.Run("credentials reach the leader", func(t *testing.T) {
		rec := &recorder[call]{}
		m := startMux(t, listen(t), mux.DefaultConfig())
		startServer(t, m, recordingHandler(rec))
		fln := listen(t)
		startNode(t, fln, "follower2", &fakeLocal{
			leaderAddr: constant(m.Addr().String()),
			joinFn:     func(string, string, bool) error { return store.ErrNotLeader },
		}, nil)
		if _, err := newTestClient(t).Join(ctx, fln.Addr().String(), JoinRequest{ID: "n", Addr: "h:1", Voter: true}); err != nil {
			t.Fatal(err)
		}
		want := []call{{"join", JoinRequest{ID: "n", Addr: "h:1", Voter: true}, Credentials{"joiner", "pw"}}}
		if got := rec.get(); !reflect.DeepEqual(got, want) {
			t.Errorf("leader saw %+v, want %+v", got, want)
		}
	})
}

func TestHandler_InvalidRequests(t *testing.T) {
	ln := listen(t)
	startNode(t, ln, "a", &fakeLocal{leaderAddr: constant(ln.Addr().String())}, nil)
	c := newTestClient(t)
	addr := ln.Addr().String()
	tests := []struct {
		name string
		err  error
	}{
		{"join without ID", func() error { _, err := c.Join(t.Context(), addr, JoinRequest{Addr: "x:1"}); return err }()},
		{"join without address", func() error { _, err := c.Join(t.Context(), addr, JoinRequest{ID: "x"}); return err }()},
		{"notify without ID", c.Notify(t.Context(), addr, NotifyRequest{Addr: "x:1"})},
		{"remove without ID", c.Remove(t.Context(), addr, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, ErrInvalidRequest) {
				t.Errorf("got %v, want ErrInvalidRequest", tt.err)
			}
		})
	}
}

func TestConfig_Validate(t *testing.T) {
	good := DefaultConfig()
	good.NodeID, good.RaftAddr, good.APIURL = "a", "h:1", "http://h:2"
	tests := []struct {
		name   string
		tweak  func(*Config)
		wantOK bool
	}{
		{"valid", func(*Config) {}, true},
		{"no node ID", func(c *Config) { c.NodeID = "" }, false},
		{"no Raft address", func(c *Config) { c.RaftAddr = "" }, false},
		{"no API URL", func(c *Config) { c.APIURL = "" }, false},
		{"negative bootstrap-expect", func(c *Config) { c.BootstrapExpect = -1 }, false},
		{"zero probe timeout", func(c *Config) { c.ProbeTimeout = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.tweak(&c)
			if err := c.Validate(); (err == nil) != tt.wantOK {
				t.Errorf("Validate: got %v, want ok=%v", err, tt.wantOK)
			}
		})
	}
	if _, err := NewService(good, nil, nil); err == nil {
		t.Error("NewService with a nil proxy: want an error")
	}
	if _, err := NewService(good, NewProxy(nil, nil), nil); err == nil {
		t.Error("NewService with nil local and client: want an error")
	}
}
