package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// writeSlot is the leader's write slot: an interactive transaction holds
// it from BEGIN to its end, and while it is held no other write is
// handed to Raft (DESIGN.md, "Interactive transactions"). Writers call
// enter before raft.Apply and leave after it; holders call acquire and
// release. When no transaction is open, enter costs one uncontended
// mutex and one atomic load.
type writeSlot struct {
	// mu is held by a writer from its check to the end of raft.Apply, and
	// by acquire: a transaction never starts between a writer's check and
	// its entry reaching Raft, so the barrier at BEGIN covers that entry.
	mu    sync.Mutex
	held  atomic.Bool
	freed chan struct{} // closed on release; replaced by acquire (under mu)
}

func newWriteSlot() *writeSlot {
	c := make(chan struct{})
	close(c)
	return &writeSlot{freed: c}
}

// enter waits until the slot is free, at most timeout and while ctx and
// done live, and returns holding mu: the caller hands its entry to Raft,
// then calls leave. ErrBusy when the slot stayed held.
func (w *writeSlot) enter(ctx context.Context, timeout time.Duration, done <-chan struct{}) error {
	var t *time.Timer
	for {
		w.mu.Lock()
		if !w.held.Load() {
			if t != nil {
				t.Stop()
			}
			return nil
		}
		ch := w.freed
		w.mu.Unlock()
		if t == nil {
			t = time.NewTimer(timeout)
			defer t.Stop()
		}
		select {
		case <-ch:
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return ErrNotOpen
		}
	}
}

func (w *writeSlot) leave() { w.mu.Unlock() }

// acquire takes the slot, waiting for the holder at most timeout.
func (w *writeSlot) acquire(ctx context.Context, timeout time.Duration, done <-chan struct{}) error {
	if err := w.enter(ctx, timeout, done); err != nil {
		return err
	}
	defer w.mu.Unlock()
	w.held.Store(true)
	w.freed = make(chan struct{})
	return nil
}

// release frees the slot; only its holder calls it, once.
func (w *writeSlot) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held.Store(false)
	close(w.freed)
}
