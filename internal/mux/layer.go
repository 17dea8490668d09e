package mux

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// Dialer opens connections to a Mux for one service: it dials TCP, wraps
// the connection in TLS when configured, and sends the header byte.
type Dialer struct {
	Header byte
	TLS    *tls.Config
}

// Dial connects to address within timeout.
func (d Dialer) Dial(address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, address)
}

// DialContext connects to address before ctx ends.
func (d Dialer) DialContext(ctx context.Context, address string) (net.Conn, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			conn.Close()
			return nil, fmt.Errorf("set deadline on %s: %w", address, err)
		}
	}
	if d.TLS != nil {
		tc := tls.Client(conn, tlsFor(d.TLS, address))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", address, err)
		}
		conn = tc
	}
	if _, err := conn.Write([]byte{d.Header}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("send header to %s: %w", address, err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clear deadline on %s: %w", address, err)
	}
	return conn, nil
}

// tlsFor returns cfg with ServerName defaulted to address's host, as
// tls.Dial does.
func tlsFor(cfg *tls.Config, address string) *tls.Config {
	if cfg.ServerName != "" {
		return cfg
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	c := cfg.Clone()
	c.ServerName = host
	return c
}

// Layer is the Raft side of a Mux, with the method set of
// raft.StreamLayer: store wraps it in a raft.NetworkTransport.
type Layer struct {
	ln     net.Listener
	addr   net.Addr
	dialer Dialer
}

// RaftLayer returns the Raft side of m. Its Addr is Config.AdvAddr when
// set (Raft advertises it to peers), else the listener's address.
func (m *Mux) RaftLayer() *Layer {
	var addr net.Addr = m.ln.Addr()
	if m.cfg.AdvAddr != "" {
		addr = advAddr(m.cfg.AdvAddr)
	}
	return &Layer{ln: m.Listener(HeaderRaft), addr: addr, dialer: Dialer{Header: HeaderRaft, TLS: m.cfg.DialTLS}}
}

// Accept waits for the next incoming Raft connection.
func (l *Layer) Accept() (net.Conn, error) { return l.ln.Accept() }

// Close stops accepting Raft connections.
func (l *Layer) Close() error { return l.ln.Close() }

// Addr is the advertised Raft address.
func (l *Layer) Addr() net.Addr { return l.addr }

// Dial opens a Raft connection to address.
func (l *Layer) Dial(address string, timeout time.Duration) (net.Conn, error) {
	return l.dialer.Dial(address, timeout)
}

// advAddr is an advertised address kept verbatim (it may be a host name).
type advAddr string

func (a advAddr) Network() string { return "tcp" }
func (a advAddr) String() string  { return string(a) }
