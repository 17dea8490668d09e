package mux

import (
	"net"
	"testing"
)

// listen returns a listener on a free loopback port, closed at cleanup.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// startMux serves a Mux on ln until cleanup.
func startMux(t *testing.T, ln net.Listener, cfg Config) *Mux {
	t.Helper()
	m, err := New(ln, cfg, nil)
	if err != nil {
		t.Fatalf("new mux: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Serve() }()
	t.Cleanup(func() {
		m.Close()
		if err := <-done; err != nil {
			t.Errorf("mux serve: %v", err)
		}
	})
	return m
}
