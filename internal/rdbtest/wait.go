package rdbtest

import (
	"testing"
	"time"
)

// pollInterval is how often WaitFor and WaitUntil test their condition.
const pollInterval = 20 * time.Millisecond

// WaitFor polls cond until it holds, and fails the test if d passes first.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	WaitUntil(t, d, what, func() (bool, string) { return cond(), "" })
}

// WaitUntil is WaitFor for a cond that also describes what it saw; the
// last description goes into the failure message.
func WaitUntil(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if last != "" {
				t.Fatalf("timed out after %s waiting for %s; last seen: %s", d, what, last)
			}
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(pollInterval)
	}
}
