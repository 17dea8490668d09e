package disco

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rdb/rdb/cluster"
)

func testKVConfig(id string, voter bool) KVConfig {
	c := DefaultKVConfig()
	c.Mode = ModeEtcd
	c.Self = Self{ID: id, RaftAddr: id + ":4002", APIURL: "http://" + id + ":4001", Voter: voter}
	c.JoinAttempts, c.JoinInterval = 2, time.Millisecond
	c.RegisterInterval, c.RetryPause, c.ReportInterval, c.LeaderPoll = 5*time.Millisecond, time.Millisecond, 50*time.Millisecond, time.Millisecond
	return c
}

// TestKVService_Register: the first voter claims the record and
// bootstraps itself; the next joins the recorded leader.
func TestKVService_Register(t *testing.T) {
	kv := &memKV{}
	n1, c1 := &fakeNode{}, &fakeCluster{}
	s1, err := NewKVService(testKVConfig("n1", true), kv, n1, c1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(n1.bootstraps) != 1 || len(n1.bootstraps[0]) != 1 || n1.bootstraps[0][0].ID != "n1" || !n1.bootstraps[0][0].Voter {
		t.Errorf("n1 bootstraps %v, want one of itself", n1.bootstraps)
	}
	if rec, _ := kv.get(); rec == nil || *rec != (LeaderRecord{ID: "n1", APIAddr: "http://n1:4001", Addr: "n1:4002"}) {
		t.Errorf("record %+v", rec)
	}
	if s1.Stats()["last_contact"] == nil {
		t.Error("no last_contact after talking to the store")
	}

	n2 := &fakeNode{}
	var joined cluster.JoinRequest
	c2 := &fakeCluster{joinFn: func(addr string, req cluster.JoinRequest) error {
		if addr != "n1:4002" {
			return errors.New("wrong address")
		}
		joined = req
		return nil
	}}
	s2, _ := NewKVService(testKVConfig("n2", true), kv, n2, c2, nil)
	if err := s2.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	if joined.ID != "n2" || joined.Addr != "n2:4002" || !joined.Voter || len(n2.bootstraps) != 0 {
		t.Errorf("n2 join %+v, bootstraps %v", joined, n2.bootstraps)
	}
}

// TestKVService_RetriesStaleRecord: a failed join of the recorded leader
// is retried with a fresh read of the record.
func TestKVService_RetriesStaleRecord(t *testing.T) {
	kv := &memKV{rec: &LeaderRecord{ID: "dead", Addr: "dead:4002"}}
	c := &fakeCluster{}
	c.joinFn = func(addr string, _ cluster.JoinRequest) error {
		if addr == "dead:4002" {
			kv.SetLeader(context.Background(), LeaderRecord{ID: "new", Addr: "new:4002"})
			return errors.New("connection refused")
		}
		return nil
	}
	cfg := testKVConfig("n3", true)
	cfg.JoinAttempts = 1
	s, _ := NewKVService(cfg, kv, &fakeNode{}, c, nil)
	if err := s.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	if joins, _ := c.counts(); len(joins) != 2 || joins[1] != "new:4002" {
		t.Errorf("joins %v, want dead then new", joins)
	}
}

// TestKVService_NonVoterWaits: a non-voter never claims the record, so
// alone it never forms a cluster.
func TestKVService_NonVoterWaits(t *testing.T) {
	kv, node := &memKV{}, &fakeNode{}
	s, _ := NewKVService(testKVConfig("nv", false), kv, node, &fakeCluster{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Register(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Register = %v, want it to wait until ctx ends", err)
	}
	if rec, _ := kv.get(); rec != nil || len(node.bootstraps) != 0 {
		t.Errorf("non-voter wrote %+v or bootstrapped %v", rec, node.bootstraps)
	}
}

// TestKVService_WithState: a node with Raft state does not register.
func TestKVService_WithState(t *testing.T) {
	kv := &memKV{getErr: errors.New("must not be asked")}
	s, _ := NewKVService(testKVConfig("n1", true), kv, &fakeNode{has: true}, &fakeCluster{}, nil)
	if err := s.Register(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestKVService_Report: the record is written on becoming leader and
// every ReportInterval while leading, and not while following.
func TestKVService_Report(t *testing.T) {
	kv, node := &memKV{}, &fakeNode{}
	s, _ := NewKVService(testKVConfig("n1", true), kv, node, &fakeCluster{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Report(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(20 * time.Millisecond)
	if rec, _ := kv.get(); rec != nil {
		t.Fatalf("follower wrote %+v", rec)
	}
	node.setLeader("n1:4002", true)
	waitTest(t, func() bool { rec, _ := kv.get(); return rec != nil && rec.ID == "n1" })
	waitTest(t, func() bool { _, sets := kv.get(); return sets >= 3 }) // rewritten every 50 ms
}

func waitTest(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
