package hrana

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// stream is one Hrana stream: its stored SQL texts and its open
// transaction. One pipeline runs on it at a time (mu).
type stream struct {
	mu    sync.Mutex
	baton string // the only baton that reaches it now
	sqls  map[int32]string
	tx    *store.Tx
	// rtx is an open read-only transaction (BEGIN TRANSACTION READONLY,
	// @libsql/client's "read" mode): a snapshot on a read connection,
	// without the write slot.
	rtx *db.ReadTx
	// closed: the client sent close (or the stream was dropped); dead:
	// its transaction ended without the client (leadership lost, idle,
	// preempted): every later pipeline gets an HTTP error saying why.
	closed bool
	dead   error
	idle   *time.Timer
}

// endTx rolls back an open transaction (the stream is going away).
func (st *stream) endTx() {
	if st.tx != nil {
		st.tx.Rollback()
		st.tx = nil
	}
	if st.rtx != nil {
		st.rtx.End()
		st.rtx = nil
	}
}

// inTx reports whether a transaction is open (not autocommit).
func (st *stream) inTx() bool { return st.tx != nil || st.rtx != nil }

// streams is the table of open streams, by current baton, plus the
// batons of recently ended streams (answered with STREAM_EXPIRED rather
// than "invalid baton").
type streams struct {
	idleTimeout time.Duration
	keepExpired time.Duration
	maxStreams  int

	mu      sync.Mutex
	byBaton map[string]*stream
	expired map[string]string // baton -> why the stream ended
	order   []expiredBaton    // expired batons, oldest first
	opened  uint64
	expires uint64
}

type expiredBaton struct {
	baton string
	at    time.Time
}

func newStreams(idle, keep time.Duration, maxStreams int) *streams {
	return &streams{idleTimeout: idle, keepExpired: keep, maxStreams: maxStreams,
		byBaton: map[string]*stream{}, expired: map[string]string{}}
}

// newBaton is 24 random bytes, base64url: unguessable and single-use.
func newBaton() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("hrana: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// open creates a stream and returns it locked.
func (ss *streams) open() (*stream, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.byBaton) >= ss.maxStreams {
		return nil, &httpError{status: 503, message: "too many open streams", code: codeBusy}
	}
	st := &stream{sqls: map[int32]string{}}
	st.mu.Lock()
	st.baton = newBaton()
	ss.byBaton[st.baton] = st
	ss.opened++
	return st, nil
}

// take finds the stream of baton and returns it locked, with its idle
// timer stopped; the baton stays valid until renew.
func (ss *streams) take(baton string) (*stream, error) {
	ss.mu.Lock()
	st, ok := ss.byBaton[baton]
	why, gone := ss.expired[baton]
	ss.mu.Unlock()
	if !ok {
		if gone {
			return nil, &httpError{status: 500, message: why, code: codeStreamExpired}
		}
		return nil, &httpError{status: 400, message: errBadBaton.Error(), code: codeProtocol}
	}
	st.mu.Lock()
	if st.baton != baton { // a concurrent pipeline renewed or dropped it
		st.mu.Unlock()
		return nil, &httpError{status: 400, message: errBadBaton.Error(), code: codeProtocol}
	}
	if st.idle != nil {
		st.idle.Stop()
	}
	return st, nil
}

// has reports whether baton is an open stream's current baton.
func (ss *streams) has(baton string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	_, ok := ss.byBaton[baton]
	return ok
}

// renew gives st a new baton (the old one stops working), arms its idle
// timer and unlocks it.
func (ss *streams) renew(st *stream) string {
	ss.mu.Lock()
	delete(ss.byBaton, st.baton)
	st.baton = newBaton()
	ss.byBaton[st.baton] = st
	ss.mu.Unlock()
	baton := st.baton
	st.idle = time.AfterFunc(ss.idleTimeout, func() { ss.expire(st, baton) })
	st.mu.Unlock()
	return baton
}

// expire ends st if its baton is still baton (no pipeline since).
func (ss *streams) expire(st *stream, baton string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.baton != baton || st.closed {
		return
	}
	ss.drop(st, "The stream has expired due to inactivity")
	ss.mu.Lock()
	ss.expires++
	ss.mu.Unlock()
}

// drop ends st (locked by the caller): its transaction is rolled back and
// its baton is remembered as expired.
func (ss *streams) drop(st *stream, why string) {
	st.endTx()
	st.closed = true
	if st.idle != nil {
		st.idle.Stop()
	}
	now := time.Now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byBaton, st.baton)
	for len(ss.order) > 0 && now.Sub(ss.order[0].at) > ss.keepExpired {
		delete(ss.expired, ss.order[0].baton)
		ss.order = ss.order[1:]
	}
	if len(ss.order) < 4*ss.maxStreams {
		ss.expired[st.baton] = why
		ss.order = append(ss.order, expiredBaton{baton: st.baton, at: now})
	}
}

// stats counts streams for /status.
func (ss *streams) stats() map[string]any {
	open, opened, expired := ss.counts()
	return map[string]any{"open": open, "opened": opened, "expired": expired}
}

// counts returns the streams open, opened and expired.
func (ss *streams) counts() (open int, opened, expired uint64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.byBaton), ss.opened, ss.expires
}

// closeAll drops every stream (shutdown).
func (ss *streams) closeAll() {
	ss.mu.Lock()
	all := make([]*stream, 0, len(ss.byBaton))
	for _, st := range ss.byBaton {
		all = append(all, st)
	}
	ss.mu.Unlock()
	for _, st := range all {
		st.mu.Lock()
		if !st.closed {
			ss.drop(st, "the server shut down")
		}
		st.mu.Unlock()
	}
}
