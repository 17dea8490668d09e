package mux

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"reflect"
	"testing"
	"time"
)

// acceptOne accepts one connection from l, or fails after d.
func acceptOne(t *testing.T, l interface{ Accept() (net.Conn, error) }, d time.Duration) (net.Conn, error) {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.Accept()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-time.After(d):
		t.Fatalf("no connection accepted within %v", d)
		return nil, nil
	}
}

// closedByPeer reports whether the peer closes c within d.
func closedByPeer(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	_, err := c.Read(b[:])
	return errors.Is(err, io.EOF)
}

func TestMux_Routing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HeaderTimeout = 200 * time.Millisecond
	m := startMux(t, listen(t), cfg)
	raft := m.RaftLayer()
	rpc := m.Listener(HeaderRPC)
	addr := m.Addr().String()

	tests := []struct {
		name   string
		header byte
		ln     interface{ Accept() (net.Conn, error) }
	}{
		{"raft", HeaderRaft, raft},
		{"rpc", HeaderRPC, rpc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dialer{Header: tt.header}.Dial(addr, time.Second)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatalf("write: %v", err)
			}
			sc, err := acceptOne(t, tt.ln, 5*time.Second)
			if err != nil {
				t.Fatalf("accept: %v", err)
			}
			defer sc.Close()
			got := make([]byte, 4)
			if _, err := io.ReadFull(sc, got); err != nil || string(got) != "ping" {
				t.Fatalf("payload after header: got %q, %v; want %q", got, err, "ping")
			}
		})
	}

	t.Run("unknown header is closed", func(t *testing.T) {
		for _, h := range []byte{0, 3, 'G', 0x16, 255} {
			c, err := Dialer{Header: h}.Dial(addr, time.Second)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if !closedByPeer(c, 5*time.Second) {
				t.Errorf("header %d: connection not closed", h)
			}
			c.Close()
		}
	})

	t.Run("silent connection does not block others", func(t *testing.T) {
		silent, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer silent.Close()
		start := time.Now()
		c, err := Dialer{Header: HeaderRaft}.Dial(addr, time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		sc, err := acceptOne(t, raft, 5*time.Second)
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		sc.Close()
		if !closedByPeer(silent, 5*time.Second) {
			t.Fatal("silent connection not closed after the header timeout")
		}
		if got := time.Since(start); got < cfg.HeaderTimeout/2 {
			t.Errorf("silent connection closed after %v, before the header timeout %v", got, cfg.HeaderTimeout)
		}
	})
}

func TestMux_Close(t *testing.T) {
	ln := listen(t)
	m, err := New(ln, DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Serve() }()
	rpc := m.Listener(HeaderRPC)
	if got := m.Listener(HeaderRPC); got != rpc {
		t.Errorf("Listener twice for one header: got a different listener")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after Close: got %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
	if _, err := rpc.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: got %v, want net.ErrClosed", err)
	}
	if _, err := m.Listener(7).Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a listener made after Close: got %v, want net.ErrClosed", err)
	}
}

func TestLayer_Addr(t *testing.T) {
	tests := []struct {
		name string
		adv  string
		want func(m *Mux) string
	}{
		{"listener address", "", func(m *Mux) string { return m.Addr().String() }},
		{"advertised address kept verbatim", "node1.example:4002", func(*Mux) string { return "node1.example:4002" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.AdvAddr = tt.adv
			m := startMux(t, listen(t), cfg)
			l := m.RaftLayer()
			if got, want := l.Addr().String(), tt.want(m); got != want {
				t.Errorf("Addr: got %q, want %q", got, want)
			}
			if got := l.Addr().Network(); got != "tcp" {
				t.Errorf("Network: got %q, want tcp", got)
			}
		})
	}
}

func TestMux_Stats(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AdvAddr = "node1.example:4002"
	m := startMux(t, listen(t), cfg)
	want := map[string]any{"addr": "node1.example:4002", "timeout": "10s", "encrypted": "false"}
	if got := m.Stats(); !reflect.DeepEqual(got, want) {
		t.Errorf("Stats: got %v, want %v", got, want)
	}
}

// selfSigned returns a server config and a client config trusting it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rdb-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func TestMux_TLS(t *testing.T) {
	srvTLS, cliTLS := selfSigned(t)
	cfg := DefaultConfig()
	cfg.TLS, cfg.DialTLS = srvTLS, cliTLS
	cfg.HeaderTimeout = 500 * time.Millisecond
	m := startMux(t, listen(t), cfg)
	raft := m.RaftLayer()

	c, err := raft.Dial(m.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial over TLS: %v", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	sc, err := acceptOne(t, raft, 5*time.Second)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer sc.Close()
	if _, ok := sc.(*tls.Conn); !ok {
		t.Errorf("accepted connection is %T, want *tls.Conn", sc)
	}
	got := make([]byte, 1)
	if _, err := io.ReadFull(sc, got); err != nil || got[0] != 'x' {
		t.Fatalf("payload: got %q, %v", got, err)
	}

	plain, err := Dialer{Header: HeaderRaft}.Dial(m.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if !closedByPeer(plain, 5*time.Second) {
		t.Error("plain-text connection to a TLS mux not closed")
	}
}
