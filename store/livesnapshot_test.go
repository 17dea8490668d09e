package store

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestProcessor_RestoreOvertakesLiveSnapshot: a restore that arrives
// while a full snapshot of the live file is captured but not yet
// persisted must not wait for it. Raft's snapshot goroutine holds the
// capture while it waits for the main loop, and the main loop waits for
// the restore when it installs a snapshot from the leader: the fault
// suite's long run deadlocked a follower this way. The overtaken
// snapshot's Persist fails instead of filing a file that changed under
// it, and the next snapshot is a full one again.
func TestProcessor_RestoreOvertakesLiveSnapshot(t *testing.T) {
	src, _ := newSQLiteProcessor(t)
	src.applyBatch(determinismEntries(t, time.Unix(1_700_000_000, 0)))
	dst, _ := newSQLiteProcessor(t)
	dst.applyBatch(determinismEntries(t, time.Unix(1_600_000_000, 0))[:5])

	snap := &memSink{}
	srcSnap, err := fsm{src}.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := srcSnap.Persist(snap); err != nil {
		t.Fatal(err)
	}
	srcSnap.Release()

	live, err := fsm{dst}.Snapshot() // dst's first snapshot: full, of the live file
	if err != nil {
		t.Fatal(err)
	}
	if !live.(*fsmSnapshot).live {
		t.Fatal("the first snapshot did not stream the live file")
	}
	restored := make(chan error, 1)
	go func() { restored <- fsm{dst}.Restore(snap.reader()) }()
	select {
	case err := <-restored:
		if err != nil {
			t.Fatalf("Restore: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Restore waited for a snapshot that was captured but not persisted")
	}

	sink := &memSink{}
	err = live.Persist(sink)
	live.Release()
	if !errors.Is(err, errSnapshotOvertaken) || !sink.cancelled || sink.closed {
		t.Errorf("Persist of the overtaken snapshot: %v (cancelled %v, closed %v), want errSnapshotOvertaken and a cancelled sink",
			err, sink.cancelled, sink.closed)
	}
	if !dst.fullNeeded.Load() {
		t.Error("after a restore the next snapshot must be a full one")
	}
	// The next snapshot streams the restored database and succeeds.
	next, err := fsm{dst}.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer next.Release()
	if err := next.Persist(&memSink{}); err != nil {
		t.Errorf("Persist after the restore: %v", err)
	}
	var _ raft.FSMSnapshot = next
}
