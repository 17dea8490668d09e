package disco

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

// fakeNode is a Node whose leader and state the test sets.
type fakeNode struct {
	mu         sync.Mutex
	leader     string
	isLeader   bool
	has        bool
	bootstraps [][]store.Server
}

func (n *fakeNode) LeaderAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leader
}

func (n *fakeNode) IsLeader() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.isLeader
}

func (n *fakeNode) HasState() (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.has, nil
}

func (n *fakeNode) Bootstrap(servers ...store.Server) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.bootstraps = append(n.bootstraps, servers)
	return nil
}

func (n *fakeNode) setLeader(addr string, self bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.leader, n.isLeader = addr, self
}

// fakeCluster records requests; joinFn and notifyFn decide the answers.
type fakeCluster struct {
	mu       sync.Mutex
	joins    []string
	notifies []string
	joinFn   func(addr string, req cluster.JoinRequest) error
	notifyFn func(addr string) error
}

func (c *fakeCluster) Join(_ context.Context, addr string, req cluster.JoinRequest) (string, error) {
	c.mu.Lock()
	c.joins = append(c.joins, addr)
	fn := c.joinFn
	c.mu.Unlock()
	if fn == nil {
		return "", errors.New("no leader")
	}
	return addr, fn(addr, req)
}

func (c *fakeCluster) Notify(_ context.Context, addr string, _ cluster.NotifyRequest) error {
	c.mu.Lock()
	c.notifies = append(c.notifies, addr)
	fn := c.notifyFn
	c.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(addr)
}

func (c *fakeCluster) counts() (joins, notifies []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.joins...), append([]string(nil), c.notifies...)
}

// fakeLookup returns addrs, counting calls.
type fakeLookup struct {
	addrs []string
	err   error
	calls atomic.Int32
}

func (l *fakeLookup) Lookup(context.Context) ([]string, error) {
	l.calls.Add(1)
	return l.addrs, l.err
}

// memKV is a KV in memory, shared by several KVServices as one store.
type memKV struct {
	mu     sync.Mutex
	rec    *LeaderRecord
	sets   int
	getErr error
}

func (m *memKV) GetLeader(context.Context) (LeaderRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.getErr != nil {
		return LeaderRecord{}, false, m.getErr
	}
	if m.rec == nil {
		return LeaderRecord{}, false, nil
	}
	return *m.rec, true, nil
}

func (m *memKV) InitializeLeader(_ context.Context, rec LeaderRecord) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rec != nil {
		return false, nil
	}
	m.rec = &rec
	return true, nil
}

func (m *memKV) SetLeader(_ context.Context, rec LeaderRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec = &rec
	m.sets++
	return nil
}

func (m *memKV) get() (*LeaderRecord, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rec, m.sets
}
