package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// errDiskFull is the commit failure the tests inject.
var errDiskFull = errors.New("disk full")

// failingDB is a fakeDB whose commits fail once failing is set.
type failingDB struct {
	*fakeDB
	failing atomic.Bool
}

func (f *failingDB) ApplyBatch(ctx context.Context, entries []db.Entry) ([][][]db.Result, error) {
	if f.failing.Load() {
		return nil, errDiskFull
	}
	return f.fakeDB.ApplyBatch(ctx, entries)
}

// fatalRecorder is a Config.Fatal that records its errors and returns.
type fatalRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *fatalRecorder) fatal(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *fatalRecorder) got() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func commandLog(t *testing.T, index uint64, sql string) *raft.Log {
	t.Helper()
	b, err := encodeCommand(&command{Type: cmdExecute, Requests: []commandRequest{{Statements: []commandStatement{{SQL: sql}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: b}
}

func TestProcessor_FatalOnCommitFailure(t *testing.T) {
	d := &failingDB{fakeDB: newFakeDB()}
	var rec fatalRecorder
	p := newProcessor(d, t.TempDir(), testLogger(), rec.fatal)
	p.applyBatch([]*raft.Log{commandLog(t, 1, "INSERT 1")})

	d.failing.Store(true)
	resp := p.applyBatch([]*raft.Log{commandLog(t, 2, "INSERT 2"), commandLog(t, 3, "INSERT 3")})
	errs := rec.got()
	if len(errs) != 1 || !errors.Is(errs[0], errDiskFull) {
		t.Fatalf("fatal called with %v, want one error wrapping %v", errs, errDiskFull)
	}
	for i, r := range resp {
		if r != nil {
			t.Errorf("response %d = %v, want nil after a fatal failure", i, r)
		}
	}

	// Stopped: a later batch, a configuration entry, a snapshot and a
	// restore do nothing, even once the database works again.
	d.failing.Store(false)
	p.applyBatch([]*raft.Log{commandLog(t, 4, "INSERT 4"), {Index: 5, Term: 1, Type: raft.LogConfiguration}})
	if st, _ := p.applied(); st.Index != 1 {
		t.Errorf("applied index = %d, want 1", st.Index)
	}
	if got := d.snapshotRows(); len(got) != 1 {
		t.Errorf("database rows = %v, want only the first", got)
	}
	if _, err := p.snapshot(); !errors.Is(err, errFSMStopped) {
		t.Errorf("snapshot error = %v, want %v", err, errFSMStopped)
	}
	if err := p.restore(nil); !errors.Is(err, errFSMStopped) {
		t.Errorf("restore error = %v, want %v", err, errFSMStopped)
	}
	if n := len(rec.got()); n != 1 {
		t.Errorf("fatal called %d times, want 1", n)
	}
}

func TestProcessor_PanicsOnCommitFailureWithoutFatal(t *testing.T) {
	d := &failingDB{fakeDB: newFakeDB()}
	d.failing.Store(true)
	p := newProcessor(d, t.TempDir(), testLogger(), nil)
	defer func() {
		err, ok := recover().(error)
		if !ok || !errors.Is(err, errDiskFull) {
			t.Fatalf("panic value %v, want an error wrapping %v", err, errDiskFull)
		}
	}()
	p.applyBatch([]*raft.Log{commandLog(t, 1, "INSERT 1")})
}

func TestStore_Execute_FatalOnCommitFailure(t *testing.T) {
	var rec fatalRecorder
	var d *failingDB
	n := newTestCluster(t, 1, false, func(c *Config) {
		c.Fatal = rec.fatal
		c.openDB = func(db.Config) (database, error) {
			d = &failingDB{fakeDB: newFakeDB()}
			return d, nil
		}
	})[0]
	if _, err := n.Execute(context.Background(), stmts("INSERT 1")); err != nil {
		t.Fatalf("Execute before the failure: %v", err)
	}
	applied := n.AppliedIndex()

	d.failing.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := n.Execute(ctx, stmts("INSERT 2")); err == nil {
		t.Fatal("Execute after the failure succeeded")
	}
	errs := rec.got()
	if len(errs) != 1 || !errors.Is(errs[0], errDiskFull) {
		t.Fatalf("fatal called with %v, want one error wrapping %v", errs, errDiskFull)
	}
	if got := n.AppliedIndex(); got != applied {
		t.Errorf("applied index = %d, want %d (unchanged)", got, applied)
	}
}
