package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rdb/rdb/store"
)

// raftStates are the values of the state label of rdb_raft_state.
var raftStates = []string{"leader", "follower", "candidate", "shutdown"}

// nodeCollector reads the node's state at scrape time.
type nodeCollector struct {
	cfg Config
	src Sources

	info, open, state, leader, hasLeader, voter, members *prometheus.Desc
	term, commit, applied, lastLog, lastSnap, lag        *prometheus.Desc
	pending, lastContact, leaderChanges                  *prometheus.Desc
	snapsRetained, snapBytes, dbBytes, walBytes          *prometheus.Desc
	readOpen, readInUse, queued, forwarded               *prometheus.Desc
}

func newNodeCollector(cfg Config, src Sources) *nodeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
	}
	return &nodeCollector{
		cfg: cfg, src: src,
		info:          d("node_info", "Always 1; labels identify the node and its version.", "node_id", "version"),
		open:          d("store_open", "1 once the store has opened, 0 before and after."),
		state:         d("raft_state", "1 for this node's current Raft state, 0 for the others.", "state"),
		leader:        d("raft_leader", "1 if this node is the Raft leader."),
		hasLeader:     d("raft_has_leader", "1 if this node knows a leader."),
		voter:         d("raft_voter", "1 if this node is a voter."),
		members:       d("raft_members", "Servers in the latest Raft configuration."),
		term:          d("raft_term", "Current Raft term."),
		commit:        d("raft_commit_index", "Highest log index known to be committed."),
		applied:       d("raft_applied_index", "Index of the last entry applied to the database."),
		lastLog:       d("raft_last_log_index", "Index of the last entry in the Raft log."),
		lastSnap:      d("raft_last_snapshot_index", "Index of the last entry in the newest snapshot."),
		lag:           d("raft_apply_lag_entries", "Committed entries not yet applied to the database (commit index - applied index)."),
		pending:       d("raft_fsm_pending_entries", "Committed entries queued for the FSM."),
		lastContact:   d("raft_last_contact_seconds", "Seconds since this follower last heard from the leader (0 on the leader)."),
		leaderChanges: d("raft_leader_changes_total", "New leaders this node has seen since it opened its store."),
		snapsRetained: d("snapshots_retained", "Snapshots kept in the snapshot store."),
		snapBytes:     d("snapshot_last_size_bytes", "Size of the newest snapshot, in bytes."),
		dbBytes:       d("db_size_bytes", "Size of the SQLite database file, in bytes."),
		walBytes:      d("db_wal_size_bytes", "Size of the SQLite write-ahead log file, in bytes."),
		readOpen:      d("db_read_conns_open", "Read-only SQLite connections open."),
		readInUse:     d("db_read_conns_in_use", "Read-only SQLite connections serving a read."),
		queued:        d("http_queued_writes", "Queued writes (POST /db/execute?queue) waiting to be batched."),
		forwarded:     d("cluster_forwarded_requests_total", "Requests forwarded to the leader (each attempt)."),
	}
}

// Describe implements prometheus.Collector.
func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.info, c.open, c.state, c.leader, c.hasLeader, c.voter,
		c.members, c.term, c.commit, c.applied, c.lastLog, c.lastSnap, c.lag, c.pending,
		c.lastContact, c.leaderChanges, c.snapsRetained, c.snapBytes, c.dbBytes, c.walBytes,
		c.readOpen, c.readInUse, c.queued, c.forwarded} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, c.cfg.NodeID, c.cfg.Version)
	if c.src.QueuedWrites != nil {
		ch <- gauge(c.queued, float64(c.src.QueuedWrites()))
	}
	if c.src.Forwarded != nil {
		ch <- prometheus.MustNewConstMetric(c.forwarded, prometheus.CounterValue, float64(c.src.Forwarded()))
	}
	if c.src.Store == nil {
		return
	}
	m := c.src.Store()
	ch <- gauge(c.open, b2f(m.Open))
	if !m.Open {
		return
	}
	c.collectRaft(ch, m)
	c.collectStorage(ch, m)
}

func (c *nodeCollector) collectRaft(ch chan<- prometheus.Metric, m store.Metrics) {
	state := strings.ToLower(m.State)
	for _, s := range raftStates {
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, b2f(s == state), s)
	}
	ch <- gauge(c.leader, b2f(state == "leader"))
	ch <- gauge(c.hasLeader, b2f(m.HasLeader))
	ch <- gauge(c.voter, b2f(m.Voter))
	ch <- gauge(c.members, float64(m.Members))
	ch <- gauge(c.term, float64(m.Term))
	ch <- gauge(c.commit, float64(m.CommitIndex))
	ch <- gauge(c.applied, float64(m.AppliedIndex))
	ch <- gauge(c.lastLog, float64(m.LastLogIndex))
	ch <- gauge(c.lastSnap, float64(m.LastSnapshotIndex))
	var lag uint64
	if m.CommitIndex > m.AppliedIndex {
		lag = m.CommitIndex - m.AppliedIndex
	}
	ch <- gauge(c.lag, float64(lag))
	ch <- gauge(c.pending, float64(m.FSMPendingEntries))
	ch <- gauge(c.lastContact, m.LastContactSeconds)
	ch <- prometheus.MustNewConstMetric(c.leaderChanges, prometheus.CounterValue, float64(m.LeaderChanges))
}

func (c *nodeCollector) collectStorage(ch chan<- prometheus.Metric, m store.Metrics) {
	ch <- gauge(c.snapsRetained, float64(m.SnapshotsRetained))
	ch <- gauge(c.snapBytes, float64(m.LastSnapshotBytes))
	ch <- gauge(c.dbBytes, float64(m.DBBytes))
	ch <- gauge(c.walBytes, float64(m.WALBytes))
	ch <- gauge(c.readOpen, float64(m.ReadConnsOpen))
	ch <- gauge(c.readInUse, float64(m.ReadConnsInUse))
}

func gauge(d *prometheus.Desc, v float64) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
