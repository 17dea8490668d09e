package cluster

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/store"
)

// fakeRaft simulates what cluster needs of Raft across several nodes:
// bootstrap configurations, a leader (the lowest ID of the first
// configuration) and joins on that leader.
type fakeRaft struct {
	mu         sync.Mutex
	bootstraps map[string][]store.Server // by the node that bootstrapped
	members    []store.Server
}

func (w *fakeRaft) leader(id string) (store.Server, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !slices.ContainsFunc(w.members, func(s store.Server) bool { return s.ID == id }) {
		return store.Server{}, false
	}
	return w.members[0], true
}

func (w *fakeRaft) local(id string) *fakeLocal {
	return &fakeLocal{
		leaderAddr: func() string { l, _ := w.leader(id); return l.Addr },
		leaderID:   func() string { l, _ := w.leader(id); return l.ID },
		hasStateFn: func() (bool, error) {
			_, ok := w.leader(id)
			return ok, nil
		},
		bootstrapFn: func(servers ...store.Server) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			if _, ok := w.bootstraps[id]; ok {
				return fmt.Errorf("node %s bootstrapped twice", id)
			}
			w.bootstraps[id] = servers
			if w.members == nil {
				w.members = slices.Clone(servers)
			}
			return nil
		},
		joinFn: func(jid, jaddr string, voter bool) error {
			if l, ok := w.leader(id); !ok || l.ID != id {
				return store.ErrNotLeader
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			if !slices.ContainsFunc(w.members, func(s store.Server) bool { return s.ID == jid }) {
				w.members = append(w.members, store.Server{ID: jid, Addr: jaddr, Voter: voter})
			}
			return nil
		},
	}
}

func bootstrapConfig(id, addr string, addrs []string) BootstrapConfig {
	cfg := DefaultBootstrapConfig()
	cfg.Join = joinConfig(addrs...)
	cfg.Join.ID, cfg.Join.Addr = id, addr
	cfg.Interval, cfg.Timeout = 20*time.Millisecond, 20*time.Second
	return cfg
}

func TestBootstrapper_ThreeNodes(t *testing.T) {
	for round := range 3 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			w := &fakeRaft{bootstraps: map[string][]store.Server{}}
			ids := []string{"n1", "n2", "n3"}
			lns := make([]net.Listener, len(ids))
			addrs := make([]string, len(ids))
			for i := range ids {
				lns[i] = listen(t)
				addrs[i] = lns[i].Addr().String()
			}
			boots := make([]*Bootstrapper, len(ids))
			for i, id := range ids {
				local := w.local(id)
				n := startNode(t, lns[i], id, local, func(c *Config) { c.BootstrapExpect = 3 })
				b, err := NewBootstrapper(bootstrapConfig(id, n.addr, addrs), local, n.client, nil)
				if err != nil {
					t.Fatal(err)
				}
				boots[i] = b
			}

			errs := make([]error, len(ids))
			var wg sync.WaitGroup
			for i, b := range boots {
				wg.Go(func() { errs[i] = b.Boot(t.Context()) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("node %s: %v", ids[i], err)
				}
			}

			want := []store.Server{{ID: "n1", Addr: addrs[0], Voter: true}, {ID: "n2", Addr: addrs[1], Voter: true},
				{ID: "n3", Addr: addrs[2], Voter: true}}
			w.mu.Lock()
			defer w.mu.Unlock()
			if len(w.bootstraps) == 0 {
				t.Fatal("nobody bootstrapped")
			}
			for id, got := range w.bootstraps {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("node %s bootstrapped %v, want %v", id, got, want)
				}
			}
			if len(w.members) != 3 {
				t.Errorf("cluster members: got %v, want all three", w.members)
			}
		})
	}
}

func TestBootstrapper_Timeout(t *testing.T) {
	w := &fakeRaft{bootstraps: map[string][]store.Server{}}
	local := w.local("n1")
	ln := listen(t)
	n := startNode(t, ln, "n1", local, func(c *Config) { c.BootstrapExpect = 3 })
	cfg := bootstrapConfig("n1", n.addr, []string{n.addr, closedAddr(t)})
	cfg.Timeout = 300 * time.Millisecond
	b, err := NewBootstrapper(cfg, local, n.client, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = b.Boot(t.Context())
	if !errors.Is(err, ErrBootstrapTimeout) {
		t.Errorf("got %v, want ErrBootstrapTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Boot took %v with a 300ms timeout", d)
	}
	if len(w.bootstraps) != 0 {
		t.Errorf("bootstrapped with one of three voters: %v", w.bootstraps)
	}
}

func TestService_NotifyIgnoredWithoutExpect(t *testing.T) {
	w := &fakeRaft{bootstraps: map[string][]store.Server{}}
	n := startNode(t, listen(t), "n1", w.local("n1"), nil)
	for i := range 3 {
		if err := n.client.Notify(t.Context(), n.addr, NotifyRequest{ID: fmt.Sprint("x", i), Addr: fmt.Sprint("h:", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.bootstraps) != 0 {
		t.Errorf("bootstrapped without -bootstrap-expect: %v", w.bootstraps)
	}
}

func TestService_NotifySkipsWhenStateExists(t *testing.T) {
	bootstrapped := false
	local := &fakeLocal{
		hasStateFn:  func() (bool, error) { return true, nil },
		bootstrapFn: func(...store.Server) error { bootstrapped = true; return nil },
	}
	n := startNode(t, listen(t), "n1", local, func(c *Config) { c.BootstrapExpect = 2 })
	for _, id := range []string{"n1", "n2"} {
		if err := n.svc.Handler().Notify(t.Context(), NotifyRequest{ID: id, Addr: id + ":1"}); err != nil {
			t.Fatal(err)
		}
	}
	if bootstrapped {
		t.Error("bootstrapped a node that already has state")
	}
}

func TestService_NotifyIgnoredWithLeader(t *testing.T) {
	bootstrapped := false
	local := &fakeLocal{
		leaderAddr:  func() string { return "leader:1" },
		hasStateFn:  func() (bool, error) { return false, nil },
		bootstrapFn: func(...store.Server) error { bootstrapped = true; return nil },
	}
	n := startNode(t, listen(t), "n1", local, func(c *Config) { c.BootstrapExpect = 2 })
	for _, id := range []string{"n1", "n2", "n3"} {
		if err := n.svc.Handler().Notify(t.Context(), NotifyRequest{ID: id, Addr: id + ":1"}); err != nil {
			t.Fatal(err)
		}
	}
	if bootstrapped {
		t.Error("bootstrapped a node that knows a leader")
	}
}
