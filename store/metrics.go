package store

import (
	"strconv"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// Observer is told about work on the store's hot paths, for metrics
// (package metrics implements it). Calls come from raft's goroutines
// while they work, so each must be cheap (a few atomic operations) and
// safe for concurrent use; none may block.
type Observer interface {
	// FSMApplied: the FSM applied entries (one ApplyBatch call) in d.
	FSMApplied(entries int, d time.Duration)
	// LogStored: entries were appended to the Raft log, fsync included,
	// in d.
	LogStored(entries int, d time.Duration)
	// SnapshotTaken: a snapshot was captured and persisted in d.
	SnapshotTaken(d time.Duration)
}

// nopObserver is the Observer of a store configured without one.
type nopObserver struct{}

func (nopObserver) FSMApplied(int, time.Duration) {}
func (nopObserver) LogStored(int, time.Duration)  {}
func (nopObserver) SnapshotTaken(time.Duration)   {}

func (c Config) observer() Observer {
	if c.Observer == nil {
		return nopObserver{}
	}
	return c.Observer
}

// Metrics is a point-in-time reading of a node's state for metrics.
// Collecting it reads counters and file sizes; it runs no SQL and takes
// no lock the write path holds for long.
type Metrics struct {
	Open      bool
	NodeID    string
	State     string // raft's state: Leader, Follower, Candidate or Shutdown
	HasLeader bool
	Voter     bool
	Members   int // servers in the latest configuration

	Term              uint64
	CommitIndex       uint64
	AppliedIndex      uint64 // the FSM's: the last entry in the database
	LastLogIndex      uint64
	LastSnapshotIndex uint64
	LeaderChanges     uint64 // new leaders this node has seen since Open

	SnapshotsRetained  int
	LastSnapshotBytes  int64
	DBBytes, WALBytes  int64
	ReadConnsOpen      int
	ReadConnsInUse     int
	FSMPendingEntries  uint64 // committed entries raft has not yet handed to the FSM
	LastContactSeconds float64
}

// readPooler is what *db.DB (through sqliteDB) offers beyond database for
// metrics; test fakes need not implement it.
type readPooler interface {
	ReadPool() (db.PoolStats, error)
	FileSize() (int64, error)
}

// Metrics reads the node's state; before Open (or after Close) only Open
// and NodeID are set.
func (s *Store) Metrics() Metrics {
	m := Metrics{NodeID: s.cfg.NodeID}
	if !s.IsOpen() {
		return m
	}
	m.Open = true
	rs := s.raft.Stats()
	m.State = rs["state"]
	m.Term = parseUint(rs["term"])
	m.LastLogIndex = parseUint(rs["last_log_index"])
	m.LastSnapshotIndex = parseUint(rs["last_snapshot_index"])
	m.FSMPendingEntries = parseUint(rs["fsm_pending"])
	if d, err := time.ParseDuration(rs["last_contact"]); err == nil {
		m.LastContactSeconds = d.Seconds()
	}
	m.CommitIndex = s.raft.CommitIndex()
	m.AppliedIndex = s.AppliedIndex()
	m.HasLeader = s.LeaderAddr() != ""
	m.Voter = s.isVoter()
	if servers, err := s.servers(); err == nil {
		m.Members = len(servers)
	}
	m.LeaderChanges = s.leaderChanges.Load()
	s.snapshotMetrics(&m)
	s.dbMetrics(&m)
	return m
}

func (s *Store) snapshotMetrics(m *Metrics) {
	metas, err := s.snaps.List()
	if err != nil {
		return
	}
	m.SnapshotsRetained = len(metas)
	if len(metas) > 0 {
		m.LastSnapshotBytes = metas[0].Size
	}
}

func (s *Store) dbMetrics(m *Metrics) {
	if n, err := s.db.WALSize(); err == nil {
		m.WALBytes = n
	}
	p, ok := s.db.(readPooler)
	if !ok {
		return
	}
	if n, err := p.FileSize(); err == nil {
		m.DBBytes = n
	}
	if ps, err := p.ReadPool(); err == nil {
		m.ReadConnsOpen, m.ReadConnsInUse = ps.Open, ps.InUse
	}
}

func parseUint(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// watchLeader counts the leaders this node sees (leaderChanges) until
// the store closes. raft drops observations when the channel is full,
// so the channel is roomy and the loop does nothing but count.
func (s *Store) watchLeader() {
	defer s.wg.Done()
	ch := make(chan raft.Observation, 16)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	s.raft.RegisterObserver(obs)
	defer s.raft.DeregisterObserver(obs)
	var last raft.ServerID
	for {
		select {
		case <-s.done:
			return
		case o := <-ch:
			lo := o.Data.(raft.LeaderObservation)
			if lo.LeaderID != "" && lo.LeaderID != last {
				s.leaderChanges.Add(1)
			}
			if lo.LeaderID != "" {
				last = lo.LeaderID
			}
		}
	}
}

// timedLog reports how long appends to the Raft log take (raft-wal and
// boltdb fsync before returning) to an Observer.
type timedLog struct {
	raft.LogStore
	obs Observer
}

func (l timedLog) StoreLog(log *raft.Log) error {
	start := time.Now()
	err := l.LogStore.StoreLog(log)
	l.obs.LogStored(1, time.Since(start))
	return err
}

func (l timedLog) StoreLogs(logs []*raft.Log) error {
	start := time.Now()
	err := l.LogStore.StoreLogs(logs)
	l.obs.LogStored(len(logs), time.Since(start))
	return err
}

// IsMonotonic passes the wrapped store's answer on: raft asks the log
// (through its cache) whether it refuses gaps.
func (l timedLog) IsMonotonic() bool {
	m, ok := l.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}
