package hrana

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestStreams_BatonsAndExpiry(t *testing.T) {
	ss := newStreams(50*time.Millisecond, time.Minute, 2)
	st, err := ss.open()
	if err != nil {
		t.Fatal(err)
	}
	first := ss.renew(st)
	st2, err := ss.take(first)
	if err != nil || st2 != st {
		t.Fatalf("take: %v", err)
	}
	second := ss.renew(st)
	var he *httpError
	if _, err := ss.take(first); !errors.As(err, &he) || he.status != http.StatusBadRequest {
		t.Fatalf("reused baton: %v, want 400", err)
	}
	if _, err := ss.take("forged"); !errors.As(err, &he) || he.status != http.StatusBadRequest {
		t.Fatalf("forged baton: %v, want 400", err)
	}
	// Idle past the timeout: the baton answers STREAM_EXPIRED (500).
	deadline := time.Now().Add(10 * time.Second)
	for ss.stats()["open"] != 0 {
		if time.Now().After(deadline) {
			t.Fatal("stream did not expire")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := ss.take(second); !errors.As(err, &he) || he.status != http.StatusInternalServerError || he.code != codeStreamExpired {
		t.Fatalf("expired baton: %v, want 500 STREAM_EXPIRED", err)
	}
	// The bound on open streams.
	for i := 0; i < 2; i++ {
		st, err := ss.open()
		if err != nil {
			t.Fatal(err)
		}
		ss.renew(st)
	}
	if _, err := ss.open(); !errors.As(err, &he) || he.status != http.StatusServiceUnavailable {
		t.Fatalf("third stream: %v, want 503", err)
	}
	ss.closeAll()
	if got := ss.stats()["open"]; got != 0 {
		t.Fatalf("open streams after closeAll: %v", got)
	}
}
