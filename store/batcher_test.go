package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
)

// TestBatcher_ConcurrentWritesGetTheirOwnResults: concurrent writes share
// log entries, and each caller still gets the results of its own request
// (its row's last_insert_id, its own statement error), with the entry's
// index; requests that must run alone (a PRAGMA) are served too.
func TestBatcher_ConcurrentWritesGetTheirOwnResults(t *testing.T) {
	n := newTestStore(t, false)
	if _, err := n.Execute(context.Background(), stmts("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER UNIQUE)", "INSERT INTO t(v) VALUES(-1)")); err != nil {
		t.Fatal(err)
	}
	const writers = 64
	type got struct {
		resp Response
		err  error
	}
	out := make([]got, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := &Request{Request: db.Request{Statements: []db.Statement{
				{SQL: "INSERT INTO t(v) VALUES(?)", Parameters: []db.Parameter{{Value: int64(i)}}},
			}}}
			switch i % 8 {
			case 7: // fails alone, batched with the others
				req.Statements = append(req.Statements, db.Statement{SQL: "INSERT INTO t(v) VALUES(-1)"})
			case 5: // runs in an entry of its own
				req.Statements = append(req.Statements, db.Statement{SQL: "PRAGMA user_version"})
			}
			resp, err := n.Execute(context.Background(), req)
			out[i] = got{resp, err}
		}()
	}
	wg.Wait()
	for i, g := range out {
		if g.err != nil {
			t.Fatalf("writer %d: %v", i, g.err)
		}
		r := g.resp.Results
		if len(r) == 0 || r[0].Error != "" || g.resp.RaftIndex == 0 {
			t.Fatalf("writer %d: %+v", i, g.resp)
		}
		v := queryValues(t, n.Store, LevelNone, fmt.Sprintf("SELECT v FROM t WHERE id = %d", r[0].LastInsertID))
		if len(v) != 1 || v[0][0] != int64(i) {
			t.Errorf("writer %d: last_insert_id %d holds %v, not its row", i, r[0].LastInsertID, v)
		}
		if i%8 == 7 && (len(r) != 2 || r[1].Error == "") {
			t.Errorf("writer %d: the duplicate insert should fail in its slot: %+v", i, r)
		}
	}
	if v := queryValues(t, n.Store, LevelNone, "SELECT COUNT(*) FROM t"); v[0][0] != int64(writers+1) {
		t.Errorf("%v rows, want %d", v[0][0], writers+1)
	}
}

// TestStore_StrongReadsRunOnlyOnTheLeader: a strong read is a log entry,
// but only the leader that logged it runs its statements; followers skip
// it (it cannot change the database) and still reach the same position.
func TestStore_StrongReadsRunOnlyOnTheLeader(t *testing.T) {
	nodes := newTestCluster(t, 3, true, steady)
	leader := waitLeader(t, nodes)
	mustExecute(t, leader.Store, "INSERT INTO t VALUES(1)")
	const reads = 5
	for range reads {
		req := stmts("SELECT COUNT(*) FROM t")
		req.Level = LevelStrong
		if _, err := leader.Query(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	last := leader.raft.LastIndex()
	for _, n := range followers(nodes, leader) {
		waitFor(t, waitTimeout, "the follower to apply every entry", func() bool {
			st, _ := n.proc.applied()
			return st.Index >= last
		})
		n.fake.mu.Lock()
		got := n.fake.reads
		n.fake.mu.Unlock()
		if got != 0 {
			t.Errorf("follower %s ran %d strong-read statements, want 0", n.cfg.NodeID, got)
		}
	}
	leader.fake.mu.Lock()
	defer leader.fake.mu.Unlock()
	if leader.fake.reads != reads {
		t.Errorf("leader ran %d strong-read statements, want %d", leader.fake.reads, reads)
	}
}

// TestBatcher_EntryBounds: one entry takes the requests that wait, up to
// maxEntryRequests and about maxEntryBytes, and leaves the rest queued.
func TestBatcher_EntryBounds(t *testing.T) {
	pending := func(sqlBytes int) *pendingRequest {
		sql := strings.Repeat(" ", sqlBytes) + "SELECT 1"
		return &pendingRequest{ctx: context.Background(), cr: commandRequest{Statements: []commandStatement{{SQL: sql}}},
			done: make(chan entryResult, 1)}
	}
	tests := []struct {
		name      string
		queued    int
		sqlBytes  int
		wantTaken int
	}{
		{"small requests fill the count", maxEntryRequests + 10, 10, maxEntryRequests},
		{"big requests fill the bytes", 5, maxEntryBytes / 2, 2},
		{"one huge request goes alone", 3, 2 * maxEntryBytes, 1},
		{"a lone request", 1, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &batcher{ch: make(chan *pendingRequest, tt.queued)}
			for range tt.queued - 1 {
				b.ch <- pending(tt.sqlBytes)
			}
			got := b.take(pending(tt.sqlBytes))
			if len(got) != tt.wantTaken {
				t.Errorf("took %d requests, want %d", len(got), tt.wantTaken)
			}
			if left := len(b.ch); left != tt.queued-tt.wantTaken {
				t.Errorf("%d left queued, want %d", left, tt.queued-tt.wantTaken)
			}
		})
	}
}

// TestBatcher_NextEntryWaitsForTheOneInFlight: while an entry is in
// flight the batcher logs nothing; the requests that arrive meanwhile all
// go into the next entry.
func TestBatcher_NextEntryWaitsForTheOneInFlight(t *testing.T) {
	n := newTestStore(t, false)
	if _, err := n.Execute(context.Background(), stmts("CREATE TABLE t (v INTEGER)")); err != nil {
		t.Fatal(err)
	}
	n.batch.inflight <- struct{}{} // an entry in flight
	const writers = 10
	idx := make([]uint64, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := n.Execute(context.Background(), stmts(fmt.Sprintf("INSERT INTO t VALUES(%d)", i)))
			idx[i], errs[i] = resp.RaftIndex, err
		}()
	}
	// The batcher holds the first request and waits; the rest queue.
	waitFor(t, 10*time.Second, "all writers queued", func() bool { return len(n.batch.ch) == writers-1 })
	before := n.raft.LastIndex()
	<-n.batch.inflight // the entry in flight is applied
	wg.Wait()
	for i := range writers {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		if idx[i] != idx[0] {
			t.Errorf("writer %d logged at %d, writer 0 at %d: want one shared entry", i, idx[i], idx[0])
		}
	}
	if after := n.raft.LastIndex(); after != before+1 {
		t.Errorf("log grew from %d to %d, want one entry", before, after)
	}
	if v := queryValues(t, n.Store, LevelNone, "SELECT COUNT(*) FROM t"); v[0][0] != int64(writers) {
		t.Errorf("%v rows, want %d", v[0][0], writers)
	}
}
