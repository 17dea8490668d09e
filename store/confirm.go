package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// joinWindow is how long after a confirmation round started a reader may
// still join it. raft itself answers a VerifyLeader with the response to
// a heartbeat already in flight when it was called (store/DESIGN.md,
// Reads); joining a round that started at most joinWindow before the
// reader noted its index widens that by joinWindow, negligible against
// the election timeout (a deposed leader's followers waited at least
// that long without hearing from it before electing another). Joining
// saves the reader most of a round: a read that had to wait for the next
// round waited for the rest of the current one first.
const joinWindow = 2 * time.Millisecond

// confirmer shares leadership confirmations (raft's VerifyLeader, a
// heartbeat round to every voter) among concurrent linearizable reads.
// One round runs at a time. A reader joins the running round if it
// started less than joinWindow ago, else the next one, which starts as
// soon as the running one ends and answers everyone waiting for it. Under
// load one round serves many reads instead of each read paying raft's
// leader loop (twice), a future and a goroutine for a round of its own; a
// lone read starts its round at once.
type confirmer struct {
	verify func() error  // one confirmation round
	window time.Duration // joinWindow; tests change it

	mu      sync.Mutex
	current *confirmRound // the running round, nil if none
	next    *confirmRound // the round that starts when current ends
	running bool          // a goroutine is running rounds
}

// confirmRound is one confirmation; err is set before done closes.
type confirmRound struct {
	done    chan struct{}
	err     error
	started time.Time // when its VerifyLeader was called
	waiters int       // readers that joined (under confirmer.mu)
}

// confirm returns the outcome of a confirmation round that started at
// most c.window before the call, or ctx's error if ctx ends first.
func (c *confirmer) confirm(ctx context.Context) error {
	c.mu.Lock()
	r := c.current
	if r == nil || time.Since(r.started) > c.window {
		if c.next == nil {
			c.next = &confirmRound{done: make(chan struct{})}
		}
		r = c.next
	}
	r.waiters++
	if !c.running {
		c.running = true
		go c.run()
	}
	c.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("%w: %w", ErrApplyTimeout, ctx.Err())
		}
		return fmt.Errorf("read cancelled while confirming leadership: %w", ctx.Err())
	}
}

// run starts rounds while readers wait for one.
func (c *confirmer) run() {
	for {
		c.mu.Lock()
		r := c.next
		if r == nil {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.current, c.next = r, nil
		r.started = time.Now()
		c.mu.Unlock()
		r.err = c.verify()
		c.mu.Lock()
		c.current = nil
		c.mu.Unlock()
		close(r.done)
	}
}
