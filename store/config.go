package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/rdb/rdb/db"
)

// Config says how to run a store. Durations and thresholds mirror the
// rqlited flags named in the comments.
type Config struct {
	// Dir is the node's data directory (raft/ and db.sqlite live there).
	Dir string
	// NodeID is the immutable Raft server ID (-node-id).
	NodeID string
	// RaftAddr is the advertised Raft address (-raft-adv-addr); empty
	// means the transport's local address.
	RaftAddr string

	// FKConstraints enables foreign keys (-fk); MaxReadConns bounds the
	// read pool (-db-max-ro-conns).
	FKConstraints bool
	MaxReadConns  int
	// MaxResultBytes bounds one query's rows in memory
	// (-db-max-result-size; 0 = no bound).
	MaxResultBytes int64
	// Changes receives the row changes of every applied entry (change
	// data capture); nil captures nothing. See db.ChangeSink.
	Changes db.ChangeSink

	SnapshotThreshold  uint64        // -raft-snap
	SnapshotInterval   time.Duration // -raft-snap-int; also the WAL size check period
	SnapshotWALSize    uint64        // -raft-snap-wal-size; 0 disables the check
	HeartbeatTimeout   time.Duration // -raft-heartbeat-timeout
	ElectionTimeout    time.Duration // -raft-election-timeout
	CommitTimeout      time.Duration // -raft-commit-timeout
	ApplyTimeout       time.Duration // -raft-apply-timeout
	LeaderLeaseTimeout time.Duration // -raft-leader-lease-timeout; 0 = raft's default
	TrailingLogs       uint64        // logs kept after a snapshot
	RaftLogLevel       string        // -raft-log-level: ERROR, WARN, INFO, DEBUG or TRACE
	ShutdownStepdown   bool          // -raft-shutdown-stepdown
	NonVoter           bool          // -raft-non-voter
	// ReapTimeout and ReapReadOnlyTimeout: the leader removes a voter,
	// resp. non-voter, it has not reached for longer (0 = never;
	// -raft-reap-node-timeout, -raft-reap-read-only-node-timeout).
	ReapTimeout         time.Duration
	ReapReadOnlyTimeout time.Duration

	// TxBusyTimeout bounds how long a write (or a second transaction)
	// waits for an interactive transaction to end before failing with
	// ErrBusy; TxIdleTimeout rolls back a transaction idle that long.
	// Zero means DefaultTxBusyTimeout, DefaultTxIdleTimeout.
	TxBusyTimeout time.Duration
	TxIdleTimeout time.Duration

	// Logger receives the store's and raft's messages; nil means
	// slog.Default().
	Logger *slog.Logger

	// Fatal is called, on raft's FSM goroutine, when the database cannot
	// record a committed entry (a failed commit, a full disk): the node
	// must stop, since applying later entries would leave the file
	// without this one under a later index, and a restart replays it
	// from the log. It should end the process (cmd/rdb: log and exit).
	// If it returns (tests), the FSM stays stopped: it applies no more
	// entries (their responses are nil), refuses snapshots and restores.
	// Nil panics with the error. Entries that do not decode always
	// panic: they are a broken invariant, not a failure of the node.
	Fatal func(error)

	// Observer, if set, is told about FSM applies, log appends and
	// snapshots as they happen (metrics); nil observes nothing.
	Observer Observer

	// inmemRaft keeps the Raft log and stable store in memory, and
	// openDB, if set, replaces db.Open (tests).
	inmemRaft bool
	openDB    func(db.Config) (database, error)
	// dialPeer checks that a peer accepts connections on its Raft
	// address (early election); nil dials TCP. Tests with in-memory
	// transports set it.
	dialPeer func(ctx context.Context, addr string) error
	// loadChunkSize overrides loadChunkSize in tests.
	loadChunkSize int
}

// DefaultConfig returns rqlited's defaults. Dir and NodeID must still be
// set.
func DefaultConfig() Config {
	return Config{
		MaxReadConns:      256,
		SnapshotThreshold: 8192,
		SnapshotInterval:  10 * time.Second,
		SnapshotWALSize:   4194304,
		HeartbeatTimeout:  time.Second,
		ElectionTimeout:   time.Second,
		CommitTimeout:     50 * time.Millisecond,
		ApplyTimeout:      10 * time.Second,
		TrailingLogs:      10240,
		RaftLogLevel:      "WARN",
		ShutdownStepdown:  true,
	}
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("empty data dir"))
	}
	if c.NodeID == "" {
		errs = append(errs, errors.New("empty node ID"))
	}
	if c.SnapshotThreshold == 0 || c.SnapshotInterval <= 0 {
		errs = append(errs, errors.New("snapshot threshold and interval must be positive"))
	}
	if c.HeartbeatTimeout <= 0 || c.ElectionTimeout <= 0 || c.CommitTimeout <= 0 || c.ApplyTimeout <= 0 {
		errs = append(errs, errors.New("heartbeat, election, commit and apply timeouts must be positive"))
	}
	if c.LeaderLeaseTimeout < 0 || c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("leader lease timeout %s must be between 0 and the heartbeat timeout %s",
			c.LeaderLeaseTimeout, c.HeartbeatTimeout))
	}
	if c.ReapTimeout < 0 || c.ReapReadOnlyTimeout < 0 {
		errs = append(errs, errors.New("reap timeouts must not be negative"))
	}
	if _, err := parseLogLevel(c.RaftLogLevel); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store config: %w", err)
	}
	return nil
}

// parseLogLevel accepts the -raft-log-level names, case-insensitively.
func parseLogLevel(s string) (hclog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRACE":
		return hclog.Trace, nil
	case "DEBUG":
		return hclog.Debug, nil
	case "INFO":
		return hclog.Info, nil
	case "WARN", "WARNING":
		return hclog.Warn, nil
	case "ERROR":
		return hclog.Error, nil
	}
	return hclog.NoLevel, fmt.Errorf("invalid raft log level %q", s)
}
