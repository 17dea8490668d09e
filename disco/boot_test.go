package disco

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rdb/rdb/cluster"
)

func testBootConfig(voter bool) BootConfig {
	c := DefaultBootConfig()
	c.Self = Self{ID: "n1", RaftAddr: "10.0.0.1:4002", Voter: voter}
	c.Timeout, c.FirstTick, c.Interval, c.Jitter = 2*time.Second, 0, 10*time.Millisecond, 5*time.Millisecond
	return c
}

// TestBooter_NotifiesUntilLeader: a voter notifies every target each
// round, in order, until its node knows a leader.
func TestBooter_NotifiesUntilLeader(t *testing.T) {
	node, cl := &fakeNode{}, &fakeCluster{}
	lookup := &fakeLookup{addrs: []string{"a:1", "b:1", "c:1"}}
	rounds := 0
	cl.notifyFn = func(addr string) error {
		if addr == "c:1" {
			if rounds++; rounds == 3 {
				node.setLeader("a:1", false)
			}
		}
		return nil
	}
	b, err := NewBooter(testBootConfig(true), lookup, node, cl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Boot(context.Background()); err != nil {
		t.Fatalf("Boot: %v", err)
	}
	joins, notifies := cl.counts()
	if want := slices.Repeat([]string{"a:1", "b:1", "c:1"}, 3); !slices.Equal(notifies, want) {
		t.Errorf("notified %v, want %v", notifies, want)
	}
	if len(joins) != 9 {
		t.Errorf("%d joins, want 3 rounds of 3", len(joins))
	}
	if got := lookup.calls.Load(); got != 3 {
		t.Errorf("%d lookups, want one per round (3)", got)
	}
}

// TestBooter_NotifyStopsAtFirstFailure follows rqlite: a failed notify
// ends the round.
func TestBooter_NotifyStopsAtFirstFailure(t *testing.T) {
	node, cl := &fakeNode{}, &fakeCluster{}
	cl.notifyFn = func(addr string) error {
		if addr == "b:1" {
			node.setLeader("x", false)
			return errors.New("not up")
		}
		return nil
	}
	b, _ := NewBooter(testBootConfig(true), &fakeLookup{addrs: []string{"a:1", "b:1", "c:1"}}, node, cl, nil)
	if err := b.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, notifies := cl.counts(); !slices.Equal(notifies, []string{"a:1", "b:1"}) {
		t.Errorf("notified %v, want a:1, b:1", notifies)
	}
}

// TestBooter_JoinEnds: a successful join ends Boot; a non-voter never
// notifies.
func TestBooter_JoinEnds(t *testing.T) {
	node, cl := &fakeNode{}, &fakeCluster{}
	tries := 0
	cl.joinFn = func(addr string, req cluster.JoinRequest) error {
		if req.Voter || req.ID != "n1" {
			t.Errorf("join request %+v, want non-voter n1", req)
		}
		if tries++; tries < 4 {
			return errors.New("no leader yet")
		}
		return nil
	}
	b, _ := NewBooter(testBootConfig(false), &fakeLookup{addrs: []string{"a:1", "b:1"}}, node, cl, nil)
	if err := b.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	joins, notifies := cl.counts()
	if len(joins) != 4 || len(notifies) != 0 {
		t.Errorf("joins %v, notifies %v; want 4 joins and no notify", joins, notifies)
	}
}

// TestBooter_Timeout: no leader, lookups failing → ErrBootTimeout.
func TestBooter_Timeout(t *testing.T) {
	cfg := testBootConfig(true)
	cfg.Timeout = 100 * time.Millisecond
	lookup := &fakeLookup{err: errors.New("nxdomain")}
	cl := &fakeCluster{}
	b, _ := NewBooter(cfg, lookup, &fakeNode{}, cl, nil)
	err := b.Boot(context.Background())
	if !errors.Is(err, ErrBootTimeout) {
		t.Fatalf("Boot = %v, want ErrBootTimeout", err)
	}
	if lookup.calls.Load() < 2 {
		t.Errorf("%d lookups in 100 ms of 10-15 ms rounds", lookup.calls.Load())
	}
	if joins, notifies := cl.counts(); len(joins)+len(notifies) != 0 {
		t.Errorf("requests sent without addresses: %v %v", joins, notifies)
	}
}
