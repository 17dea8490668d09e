package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/snapshot"
)

const (
	raftDirName = "raft"
	raftDBName  = "raft.db"
	peersFile   = "peers.json"
	sqliteName  = "db.sqlite"
	// logCacheSize is how many recent log entries stay in memory for
	// replication and the FSM. It holds whole entries, so its memory is
	// this times the entry size: with 1 MiB entries (bulk loads, load
	// chunks) 512 cost half a gigabyte on every node. 64 covers raft's
	// largest AppendEntries batch (MaxAppendEntries).
	logCacheSize   = 64
	retainSnapshot = 2
	// tempPrefix names the snapshot and restore copies in the data dir.
	tempPrefix = "rdb-tmp-"
	// lockTimeout bounds the wait for the raft dir's lock.
	lockTimeout = time.Second
)

// Store is one node's Raft-replicated database. Create it with New, start
// it with Open, and stop it with Close. Its methods are safe for
// concurrent use.
type Store struct {
	cfg    Config
	logger *slog.Logger
	tn     raft.Transport

	open     atomic.Bool
	hasState bool
	// openIndex is the last command in the log at Open: the replay the
	// database needs before the store is Ready. synced latches once done.
	openIndex uint64
	synced    atomic.Bool

	// Set by Open, read-only afterwards.
	raft    *raft.Raft
	db      database
	proc    *processor
	snaps   *snapshot.Store
	logs    raft.LogStore // the cached log, for read-index scans
	closers []io.Closer   // raft log/stable stores, closed last
	done    chan struct{}
	wg      sync.WaitGroup
	snapMu  sync.Mutex // serializes forced snapshots (they reload config)
	batch   *batcher   // packs concurrent writes into shared entries
	confirm confirmer  // shares leadership confirmations among reads
	// slot is the write slot an interactive transaction holds (tx.go);
	// txs counts transactions.
	slot *writeSlot
	txs  txState
	// walNudge asks monitorWAL for an early check; appliedSinceNudge is
	// the FSM goroutine's count of bytes since the last nudge.
	walNudge          chan struct{}
	appliedSinceNudge uint64
	openOnce          sync.Once
	// leaderChanges counts the leaders this node has seen (watchLeader).
	leaderChanges atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// New returns a store that will run Raft over tn. It checks cfg but
// touches nothing on disk: call Open.
func New(cfg Config, tn raft.Transport) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tn == nil {
		return nil, errors.New("store: nil transport")
	}
	counters() // publish the "store" counters (at zero) for /debug/vars
	if cfg.RaftAddr == "" {
		cfg.RaftAddr = string(tn.LocalAddr())
	}
	logger := orDefault(cfg.Logger).With("component", "store", "node_id", cfg.NodeID)
	s := &Store{cfg: cfg, logger: logger, tn: tn, done: make(chan struct{}), walNudge: make(chan struct{}, 1)}
	s.batch = newBatcher(s)
	s.confirm.verify = func() error { return raftError(s.raft.VerifyLeader().Error()) }
	s.confirm.window = joinWindow
	s.slot = newWriteSlot()
	return s, nil
}

// Open prepares the data directory, opens the database and the Raft log,
// and starts Raft. The database file records the last entry it reflects;
// it is kept, restored from the newest snapshot only if it is older than
// that snapshot, and the committed entries it lacks are replayed once the
// commit index is known (see DESIGN.md). A node with no state must then
// be bootstrapped or joined.
func (s *Store) Open(ctx context.Context) error {
	err := errors.New("store: already opened")
	s.openOnce.Do(func() { err = s.doOpen(ctx) })
	return err
}

func (s *Store) doOpen(context.Context) (err error) {
	raftDir := filepath.Join(s.cfg.Dir, raftDirName)
	if err := os.MkdirAll(raftDir, 0o755); err != nil {
		return fmt.Errorf("create raft dir %s: %w", raftDir, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.closeStores())
		}
	}()
	// The log first: its lock keeps a second process off this data dir
	// before openDB touches anything.
	logs, stable, err := s.openLog(raftDir)
	if err != nil {
		return err
	}
	if err := s.openDB(); err != nil {
		return err
	}
	if err := s.openSnapshots(raftDir); err != nil {
		return err
	}
	if err := s.syncDB(logs); err != nil {
		return err
	}
	if s.hasState, err = raft.HasExistingState(logs, stable, s.snaps); err != nil {
		return fmt.Errorf("check existing raft state: %w", err)
	}
	if err := s.recoverPeers(raftDir, logs, stable); err != nil {
		return err
	}
	if s.openIndex, err = lastCommandIndex(logs); err != nil {
		return err
	}
	if err := s.newRaft(logs, stable); err != nil {
		return err
	}
	s.startReaper()
	s.wg.Add(3)
	go s.monitorWAL()
	go s.batch.run()
	go s.watchLeader()
	if s.hasState {
		s.wg.Add(1)
		go s.electEarly()
	}
	s.open.Store(true)
	s.logger.Info("store open", "dir", s.cfg.Dir, "raft_addr", s.cfg.RaftAddr, "has_state", s.hasState)
	return nil
}

// openLog opens the Raft log and stable store (see openLogStore), or
// memory for tests. The log is fronted by a cache
// of recent entries.
func (s *Store) openLog(raftDir string) (raft.LogStore, raft.StableStore, error) {
	var (
		logs   raft.LogStore
		stable raft.StableStore
	)
	if s.cfg.inmemRaft {
		m := raft.NewInmemStore()
		logs, stable = m, m
	} else {
		w, err := openLogStore(raftDir, s.raftLogger())
		if err != nil {
			return nil, nil, err
		}
		s.closers = append(s.closers, w)
		logs, stable = w, w
	}
	if s.cfg.Observer != nil {
		logs = timedLog{LogStore: logs, obs: s.cfg.Observer}
	}
	cache, err := raft.NewLogCache(logCacheSize, logs)
	if err != nil {
		return nil, nil, fmt.Errorf("raft log cache: %w", err)
	}
	s.logs = cache
	return cache, stable, nil
}

func (s *Store) openSnapshots(raftDir string) error {
	cfg := snapshot.DefaultConfig()
	cfg.Dir = raftDir
	cfg.Retain = retainSnapshot
	cfg.Logger = s.raftLogger().Named("snapshot")
	cfg.ApplyWAL = func(dbPath, walPath string) error {
		return db.ApplyWAL(context.Background(), dbPath, walPath)
	}
	snaps, err := snapshot.NewStore(cfg)
	if err != nil {
		return err
	}
	s.snaps = snaps
	s.proc.hasBase = snaps.HasBase
	s.proc.copyBase = snaps.CopyBase
	return nil
}

// recoverPeers applies <raft dir>/peers.json, if present: the operator's
// way to force a new configuration on a cluster that lost its quorum
// (hashicorp-raft peers JSON, as rqlite). The file is moved aside once
// applied so a later restart does not apply it again.
func (s *Store) recoverPeers(raftDir string, logs raft.LogStore, stable raft.StableStore) error {
	p := filepath.Join(raftDir, peersFile)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	conf, err := raft.ReadConfigJSON(p)
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	s.logger.Warn("recovering cluster configuration from peers.json", "path", p, "servers", len(conf.Servers))
	s.proc.starting.Store(true)
	defer s.proc.starting.Store(false)
	if err := raft.RecoverCluster(s.raftConfig(), fsm{s.proc}, logs, stable, s.snaps, s.tn, conf); err != nil {
		return fmt.Errorf("recover cluster from %s: %w", p, err)
	}
	s.hasState = true
	if err := os.Rename(p, p+".recovered"); err != nil {
		return fmt.Errorf("move %s aside: %w", p, err)
	}
	// Once applied, peers.json must stay applied: a rename undone by a
	// power loss would force the old configuration again at the next start.
	if err := syncDir(raftDir); err != nil {
		return err
	}
	return nil
}

// newRaft starts Raft. The database is already at least as new as the
// newest snapshot (syncDB), so raft restores nothing.
func (s *Store) newRaft(logs raft.LogStore, stable raft.StableStore) error {
	s.proc.starting.Store(true)
	defer s.proc.starting.Store(false)
	r, err := raft.NewRaft(s.raftConfig(), fsm{s.proc}, logs, stable, s.snaps, s.tn)
	if err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	s.raft = r
	s.proc.node.Store(r)
	return nil
}

func (s *Store) raftConfig() *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(s.cfg.NodeID)
	c.HeartbeatTimeout = s.cfg.HeartbeatTimeout
	c.ElectionTimeout = s.cfg.ElectionTimeout
	c.CommitTimeout = s.cfg.CommitTimeout
	c.SnapshotThreshold = s.cfg.SnapshotThreshold
	c.SnapshotInterval = s.cfg.SnapshotInterval
	c.TrailingLogs = s.cfg.TrailingLogs
	c.NoSnapshotRestoreOnStart = true // syncDB did what is needed
	c.Logger = s.raftLogger().Named("raft")
	if s.cfg.LeaderLeaseTimeout > 0 {
		c.LeaderLeaseTimeout = s.cfg.LeaderLeaseTimeout
	}
	// raft refuses a lease longer than the heartbeat timeout.
	c.LeaderLeaseTimeout = min(c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	return c
}

func (s *Store) raftLogger() *hcLogger {
	level, _ := parseLogLevel(s.cfg.RaftLogLevel) // checked by Validate
	return newHCLogger(s.logger, level)
}

// lastCommandIndex is the index of the newest command entry in logs, 0 if
// there is none.
func lastCommandIndex(logs raft.LogStore) (uint64, error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return 0, fmt.Errorf("read first log index: %w", err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		return 0, fmt.Errorf("read last log index: %w", err)
	}
	var l raft.Log
	for i := last; i >= first && i > 0; i-- {
		if err := logs.GetLog(i, &l); err != nil {
			return 0, fmt.Errorf("read log entry %d: %w", i, err)
		}
		if l.Type == raft.LogCommand {
			return i, nil
		}
	}
	return 0, nil
}

// HasState reports whether the node found Raft state (log entries or
// snapshots) at Open, i.e. whether it is restarting rather than new.
func (s *Store) HasState() (bool, error) {
	if !s.open.Load() {
		return false, ErrNotOpen
	}
	return s.hasState, nil
}

// Bootstrap makes servers the initial configuration of a new cluster.
// cmd/rdb calls it on a fresh node started without -join, passing itself
// as the only voter.
func (s *Store) Bootstrap(servers ...Server) error {
	if !s.open.Load() {
		return ErrNotOpen
	}
	cfg := raft.Configuration{Servers: make([]raft.Server, len(servers))}
	for i, srv := range servers {
		cfg.Servers[i] = raft.Server{ID: raft.ServerID(srv.ID), Address: raft.ServerAddress(srv.Addr), Suffrage: raft.Nonvoter}
		if srv.Voter {
			cfg.Servers[i].Suffrage = raft.Voter
		}
	}
	if err := s.raft.BootstrapCluster(cfg).Error(); err != nil {
		return fmt.Errorf("bootstrap cluster: %w", err)
	}
	// A new cluster, like a restarted one, need not wait a heartbeat
	// timeout for its first election (a lone node elects itself at once).
	s.wg.Add(1)
	go s.electEarly()
	return nil
}

// Close stops the store: a leader with other voters first hands over
// leadership (if ShutdownStepdown), then Raft shuts down and the database,
// the Raft log and the transport are closed. Close is idempotent.
func (s *Store) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.doClose(ctx) })
	return s.closeErr
}

func (s *Store) doClose(ctx context.Context) error {
	s.openOnce.Do(func() {}) // a later Open fails
	// Hand leadership over while the store still counts as open: the
	// transfer needs the configuration (Servers refuses once closed).
	if s.cfg.ShutdownStepdown && s.IsOpen() {
		s.stepdown(ctx)
	}
	if !s.open.Swap(false) {
		return s.closeTransport() // never opened, or Open failed
	}
	close(s.done)
	s.wg.Wait()
	var errs []error
	if err := s.raft.Shutdown().Error(); err != nil {
		errs = append(errs, fmt.Errorf("shut down raft: %w", err))
	}
	errs = append(errs, s.closeStores(), s.closeTransport())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	s.logger.Info("store closed")
	return nil
}

// stepdown transfers leadership if this node leads other voters.
func (s *Store) stepdown(ctx context.Context) {
	if s.raft.State() != raft.Leader || s.otherVoters() == 0 {
		return
	}
	if err := waitFuture(ctx, s.raft.LeadershipTransfer(), 0); err != nil {
		s.logger.Warn("leadership transfer on close", "error", err)
	}
}

// closeStores closes the database and the Raft log and stable store.
func (s *Store) closeStores() error {
	var errs []error
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	for _, c := range s.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close raft log: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (s *Store) closeTransport() error {
	if c, ok := s.tn.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("close raft transport: %w", err)
		}
	}
	return nil
}
