package store

import (
	"context"
	"crypto/sha256"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// chunkedSource writes a SQLite file of about kb KiB (kb rows in big).
func chunkedSource(t *testing.T, kb int) string {
	return blobDatabase(t, kb, 1000)
}

// TestStore_LoadChunked loads a file in many small chunks on a 3-node
// cluster: every node ends with the file's content, and the load took
// several log entries.
func TestStore_LoadChunked(t *testing.T) {
	nodes := newTestCluster(t, 3, false, func(c *Config) { steady(c); c.loadChunkSize = 16 << 10 })
	leader := waitLeader(t, nodes)
	mustExecute(t, leader.Store, "CREATE TABLE old (x)")
	path := chunkedSource(t, 200)
	before := leader.AppliedIndex()
	if err := leader.Load(context.Background(), path); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if entries := leader.AppliedIndex() - before; entries < 10 {
		t.Fatalf("load took %d entries, want one per 16 KiB chunk", entries)
	}
	resp := mustExecute(t, leader.Store, "SELECT 1")
	waitAllApplied(t, nodes, resp.RaftIndex)
	want := [][]any{{int64(200), int64(0)}}
	for _, n := range nodes {
		got := queryValues(t, n.Store, LevelNone, "SELECT COUNT(*), (SELECT COUNT(*) FROM sqlite_master WHERE name = 'old') FROM big")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %v, want %v", n.cfg.NodeID, got, want)
		}
		if n.proc.stage != nil {
			t.Fatalf("%s: load still staged after it finished", n.cfg.NodeID)
		}
	}
}

// chunkCmd applies one hand-made load chunk entry through s's log.
func chunkCmd(t *testing.T, s *Store, at time.Time, c *loadChunk) error {
	t.Helper()
	return s.applyLoadCommand(context.Background(), &command{Type: cmdLoadChunk, Time: at.UnixNano(), Chunk: c})
}

// TestStore_LoadChunked_StageRules: while a load is staged no snapshot is
// taken; a chunk out of sequence fails the load; a staged load survives a
// restart and completes; a load whose chunks stop is dropped by the first
// entry stamped an hour later.
func TestStore_LoadChunked_StageRules(t *testing.T) {
	dir := t.TempDir()
	c := fileConfig(t, dir, nil)
	addr := raft.NewInmemAddr()
	n := startNode(t, c, addr, false)
	mustExecute(t, n.Store, "CREATE TABLE old (x)", "INSERT INTO old VALUES(1)")
	src, err := os.ReadFile(chunkedSource(t, 50))
	if err != nil {
		t.Fatal(err)
	}
	half := len(src) / 2
	now := time.Now()

	if err := chunkCmd(t, n.Store, now, &loadChunk{ID: "a", Seq: 0, Data: src[:half]}); err != nil {
		t.Fatalf("chunk 0: %v", err)
	}
	// raft reports the FSM's refusal as text.
	if err := n.Snapshot(0); err == nil || !strings.Contains(err.Error(), errLoadInProgress.Error()) {
		t.Fatalf("snapshot while staged: %v, want %q", err, errLoadInProgress)
	}
	if err := chunkCmd(t, n.Store, now, &loadChunk{ID: "a", Seq: 5, Data: src[half:]}); err == nil {
		t.Fatal("a chunk out of sequence was accepted")
	}
	if n.proc.stage != nil {
		t.Fatal("a failed load stayed staged")
	}

	// Stage the first half again, restart, then send the rest.
	if err := chunkCmd(t, n.Store, now, &loadChunk{ID: "b", Seq: 0, Data: src[:half]}); err != nil {
		t.Fatalf("chunk 0: %v", err)
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n = startNode(t, c, addr, false)
	if n.proc.stage == nil || n.proc.stage.Next != 1 || n.proc.stage.Size != int64(half) {
		t.Fatalf("stage after restart: %+v", n.proc.stage)
	}
	sum := sha256.Sum256(src)
	if err := chunkCmd(t, n.Store, now, &loadChunk{ID: "b", Seq: 1, Data: src[half:], Last: true, Sum: sum[:]}); err != nil {
		t.Fatalf("last chunk: %v", err)
	}
	if got := queryValues(t, n.Store, LevelNone, "SELECT COUNT(*) FROM big"); got[0][0] != int64(50) {
		t.Fatalf("after the resumed load: %v rows, want 50", got)
	}

	// Abandoned: chunk 0 of a load, then an ordinary entry an hour later.
	if err := chunkCmd(t, n.Store, now, &loadChunk{ID: "c", Seq: 0, Data: src[:half]}); err != nil {
		t.Fatal(err)
	}
	later := &command{Type: cmdExecute, Time: now.Add(loadAbandonAfter + time.Minute).UnixNano(),
		Requests: []commandRequest{{Statements: []commandStatement{{SQL: "INSERT INTO big(data) VALUES(x'00')"}}}}}
	if err := n.applyLoadCommand(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	if n.proc.stage != nil {
		t.Fatal("an abandoned load is still staged")
	}
	if err := n.Snapshot(0); err != nil {
		t.Fatalf("snapshot after the abandoned load was dropped: %v", err)
	}
}
