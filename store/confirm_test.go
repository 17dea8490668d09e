package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConfirmer_ReadersShareRoundsThatStartAfterThem: readers that
// arrive while a round runs, after the join window, are not answered by
// it (it started too long before they noted their index) but all share
// the next round.
func TestConfirmer_ReadersShareRoundsThatStartAfterThem(t *testing.T) {
	var rounds atomic.Int32
	release := make(chan struct{})
	started := make(chan int32, 10)
	c := &confirmer{verify: func() error {
		n := rounds.Add(1)
		started <- n
		<-release
		return fmt.Errorf("round %d", n)
	}} // window 0: no reader joins a running round
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- c.confirm(ctx) }()
	if n := <-started; n != 1 {
		t.Fatalf("first round is %d", n)
	}
	const late = 10
	var wg sync.WaitGroup
	errs := make([]error, late)
	for i := range late {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.confirm(ctx) }()
	}
	waitFor(t, 10*time.Second, "late readers queued for the next round", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.next != nil && c.next.waiters == late
	})
	release <- struct{}{} // round 1 ends: it must not answer them
	if err := <-first; err == nil || err.Error() != "round 1" {
		t.Fatalf("first reader got %v, want round 1", err)
	}
	if n := <-started; n != 2 {
		t.Fatalf("second round is %d", n)
	}
	release <- struct{}{}
	wg.Wait()
	for i, err := range errs {
		if err == nil || err.Error() != "round 2" {
			t.Errorf("late reader %d got %v, want round 2", i, err)
		}
	}
	if n := rounds.Load(); n != 2 {
		t.Errorf("%d rounds for 11 readers in two waves, want 2", n)
	}
	// Idle again: a lone reader starts its own round at once.
	go func() { <-started; release <- struct{}{} }()
	if err := c.confirm(ctx); err == nil || err.Error() != "round 3" {
		t.Fatalf("lone reader got %v, want round 3", err)
	}
}

// A reader whose context ends stops waiting; the round still completes
// for the others.
func TestConfirmer_ContextEnds(t *testing.T) {
	release := make(chan struct{})
	c := &confirmer{verify: func() error { <-release; return nil }}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	other := make(chan error, 1)
	go func() { other <- c.confirm(context.Background()) }()
	if err := c.confirm(ctx); !errors.Is(err, ErrApplyTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("confirm with an expired context = %v", err)
	}
	close(release)
	if err := <-other; err != nil {
		t.Fatalf("the other reader got %v", err)
	}
}

// TestConfirmer_JoinsARoundWithinTheWindow: a reader arriving while a
// round that started within the window runs is answered by it.
func TestConfirmer_JoinsARoundWithinTheWindow(t *testing.T) {
	var rounds atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	c := &confirmer{window: time.Hour, verify: func() error {
		rounds.Add(1)
		started <- struct{}{}
		<-release
		return nil
	}}
	ctx := context.Background()
	errs := make(chan error, 5)
	go func() { errs <- c.confirm(ctx) }()
	<-started
	for range 4 {
		go func() { errs <- c.confirm(ctx) }()
	}
	waitFor(t, 10*time.Second, "readers joined the running round", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.current != nil && c.current.waiters == 5
	})
	close(release)
	for range 5 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := rounds.Load(); n != 1 {
		t.Errorf("%d rounds, want 1", n)
	}
}
