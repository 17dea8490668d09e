package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// checksumLocal is a fakeLocal that also digests: sums maps a marker
// index to this node's digest there.
type checksumLocal struct {
	fakeLocal
	sums map[uint64]string
}

func (c *checksumLocal) MarkChecksum(ctx context.Context) (db.Checksum, error) {
	return c.ChecksumAt(ctx, 7)
}

func (c *checksumLocal) ChecksumAt(_ context.Context, index uint64) (db.Checksum, error) {
	s, ok := c.sums[index]
	if !ok {
		return db.Checksum{}, fmt.Errorf("index %d: %w", index, store.ErrChecksumUnavailable)
	}
	return db.Checksum{Index: index, Sum: s}, nil
}

// TestVerifier_Check: the leader compares every other node's digest at
// its marker over RPC; a node with another digest is a mismatch, named
// with the index, in Status; one that cannot answer is not.
func TestVerifier_Check(t *testing.T) {
	same := &checksumLocal{sums: map[uint64]string{7: "aaa"}}
	diverged := &checksumLocal{sums: map[uint64]string{7: "bbb"}}
	missing := &checksumLocal{sums: map[uint64]string{}}
	nodes := map[string]*testNode{}
	for id, l := range map[string]*checksumLocal{"same": same, "diverged": diverged, "missing": missing} {
		nodes[id] = startNode(t, listen(t), id, l, nil)
	}
	leader := &checksumLocal{sums: map[uint64]string{7: "aaa"}}
	leader.serversFn = func() ([]store.Server, error) {
		out := []store.Server{{ID: "leader", Addr: "unused"}}
		for id, n := range nodes {
			out = append(out, store.Server{ID: id, Addr: n.addr})
		}
		return out, nil
	}
	cfg := DefaultVerifierConfig()
	cfg.NodeID, cfg.Timeout = "leader", 10*time.Second
	v, err := NewVerifier(cfg, leader, newTestClient(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if r.Index != 7 || r.Checksum != "aaa" {
		t.Errorf("round at %d with %q, want 7 and aaa", r.Index, r.Checksum)
	}
	if r.Nodes["same"] != "match" || r.Nodes["diverged"] != "mismatch" || r.Nodes["missing"] == "match" || r.Nodes["missing"] == "mismatch" {
		t.Errorf("verdicts %v, want same=match, diverged=mismatch, missing unanswered", r.Nodes)
	}
	st, _ := v.Status()
	ms := st["mismatches"].([]Mismatch)
	if len(ms) != 1 || ms[0].NodeID != "diverged" || ms[0].Index != 7 || ms[0].NodeChecksum != "bbb" {
		t.Errorf("mismatches %+v, want one for node diverged at index 7", ms)
	}
}
