package store

import "errors"

var (
	// ErrLeadershipLost means leadership was lost while an entry was being
	// committed: it may or may not be applied. Callers must not retry it
	// blindly (unlike ErrNotLeader, where the entry never reached the log).
	// So do ErrApplyTimeout and a cancelled request after logging.
	ErrLeadershipLost = errors.New("leadership lost while committing log")
	// ErrNotLeader means the request needs the leader and this node is not
	// it; cluster forwards it.
	ErrNotLeader = errors.New("not leader")
	// ErrNotOpen means the store has not finished opening (or is closed).
	ErrNotOpen = errors.New("store not open")
	// ErrNotReady means the store is open but cannot serve yet.
	ErrNotReady = errors.New("store not ready")
	// ErrStaleRead rejects a level=none read beyond its freshness bound.
	ErrStaleRead = errors.New("stale read")
	// ErrApplyTimeout means the entry was handed to Raft but not applied
	// within the apply timeout or before the caller's deadline. Its
	// outcome is unknown: it may still commit, so it must not be sent
	// again.
	ErrApplyTimeout = errors.New("timeout waiting for raft apply")
	// ErrEnqueueTimeout means Raft did not accept the entry in time: it
	// never reached the log, so sending it again is safe.
	ErrEnqueueTimeout = errors.New("timeout enqueuing operation")
	// ErrLeaderNotFound means no leader is known.
	ErrLeaderNotFound = errors.New("leader not found")
	// ErrFSMTimeout means a linearizable read timed out waiting for the
	// FSM to apply its read index; the returned error reads
	// "index N: timeout waiting for fsm".
	ErrFSMTimeout = errors.New("timeout waiting for fsm")
	// ErrNothingNewToSnapshot means a forced snapshot found nothing applied
	// since the last one (/snapshot answers 204).
	ErrNothingNewToSnapshot = errors.New("nothing new to snapshot")
	// ErrBadCommand means a log entry is not a command this build can
	// decode. The FSM panics on it: skipping it would let replicas diverge.
	ErrBadCommand = errors.New("store: undecodable command")
	// ErrNodeNotFound means a membership operation named an ID that is not
	// in the Raft configuration.
	ErrNodeNotFound = errors.New("node not found")
	// ErrStepdownSelf means a leadership transfer named the current leader.
	ErrStepdownSelf = errors.New("cannot transfer leadership to the current leader")
	// ErrDirLocked means another process (or store) holds the data
	// directory's Raft log open.
	ErrDirLocked = errors.New("store: data directory in use by another process")
)

// Interactive transactions (tx.go).
var (
	// ErrBusy is SQLite's SQLITE_BUSY text: a write waited the busy
	// timeout for an interactive transaction to end, or a transaction
	// for another one. Nothing was logged.
	ErrBusy = errors.New("database is locked")
	// ErrTxAborted ends a transaction the leader could not keep
	// consistent (leadership lost, another change applied, a restore,
	// shutdown); nothing of it was committed.
	ErrTxAborted = errors.New("transaction aborted")
	// ErrTxIdle ends a transaction left idle past the idle timeout.
	ErrTxIdle = errors.New("transaction rolled back after being idle too long")
	// ErrTxConflict is the commit failure of a transaction whose entry
	// reached the log after another change: every node refuses it alike,
	// nothing of it is applied.
	ErrTxConflict = errors.New("transaction aborted: another change was committed first")
	// ErrTxUnsupported means the database cannot run interactive
	// transactions (a test fake).
	ErrTxUnsupported = errors.New("interactive transactions not supported")
)

var (
	// ErrNotSingleNode refuses /boot on a node that is not the only
	// member of its cluster.
	ErrNotSingleNode = errors.New("not single-node")
	// ErrLoadTooLarge refuses a database upload bigger than MaxLoadSize.
	ErrLoadTooLarge = errors.New("database file too large to load")
)

// errFSMStopped refuses snapshots and restores once Config.Fatal has
// returned.
var errFSMStopped = errors.New("store: FSM stopped after a fatal error")
