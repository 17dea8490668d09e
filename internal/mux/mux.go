package mux

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
)

// Connection headers: the first byte of every connection to -raft-addr
// (after TLS, when enabled) names the service it is for.
const (
	HeaderRaft byte = 1
	HeaderRPC  byte = 2
	HeaderCDC  byte = 3 // CDC high-water marks (package cdc)
)

// Config configures a Mux.
type Config struct {
	// AdvAddr is the advertised Raft address reported by RaftLayer's Addr;
	// empty means the listener's address.
	AdvAddr string
	// HeaderTimeout bounds how long a new connection may take to complete
	// TLS and send its header byte.
	HeaderTimeout time.Duration
	// TLS, when set, wraps every accepted connection in a TLS server before
	// the header is read. DialTLS, when set, wraps every outgoing Raft
	// connection of RaftLayer. Both come from TLSConfig.Build and are nil
	// without node-to-node TLS.
	TLS     *tls.Config
	DialTLS *tls.Config
}

// DefaultConfig returns a Config with a 10 s header timeout.
func DefaultConfig() Config {
	return Config{HeaderTimeout: 10 * time.Second}
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.HeaderTimeout <= 0 {
		return fmt.Errorf("mux header timeout %v: must be positive", c.HeaderTimeout)
	}
	return nil
}

// Mux accepts connections on one listener and hands each to the virtual
// listener registered for its header byte. A connection with an unknown
// header, or none within HeaderTimeout, is closed; each is read in its own
// goroutine so a silent peer never holds up the accept loop.
type Mux struct {
	ln     net.Listener
	cfg    Config
	logger *slog.Logger

	mu   sync.Mutex
	lns  map[byte]*muxListener
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// New returns a Mux over ln; call Listener or RaftLayer for each
// service, then Serve.
func New(ln net.Listener, cfg Config, logger *slog.Logger) (*Mux, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Mux{
		ln: ln, cfg: cfg, logger: logger.With("component", "mux"),
		lns: make(map[byte]*muxListener), done: make(chan struct{}),
	}, nil
}

// Addr is the address the Mux listens on.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// Stats is the "mux" section of /status, in rqlite's shape: the advertised
// address, the header timeout and whether connections are TLS, all as
// strings.
func (m *Mux) Stats() map[string]any {
	addr := m.cfg.AdvAddr
	if addr == "" {
		addr = m.ln.Addr().String()
	}
	return map[string]any{
		"addr":      addr,
		"timeout":   m.cfg.HeaderTimeout.String(),
		"encrypted": strconv.FormatBool(m.cfg.TLS != nil),
	}
}

// Listener returns the virtual listener for header; asking twice for the
// same header returns the same listener.
func (m *Mux) Listener(header byte) net.Listener {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.lns[header]; ok {
		return l
	}
	l := &muxListener{addr: m.ln.Addr(), ch: make(chan net.Conn), done: make(chan struct{})}
	select {
	case <-m.done:
		l.Close()
	default:
	}
	m.lns[header] = l
	return l
}

// Serve accepts connections until Close; it returns nil after Close.
func (m *Mux) Serve() error {
	backoff := 5 * time.Millisecond
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			if m.closed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Transient (e.g. out of file descriptors): back off and retry.
			m.logger.Warn("accept failed, retrying", "backoff", backoff, "err", err)
			select {
			case <-time.After(backoff):
			case <-m.done:
				return nil
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		m.wg.Add(1)
		go m.route(conn)
	}
}

// route reads conn's header and delivers it to its listener.
func (m *Mux) route(conn net.Conn) {
	defer m.wg.Done()
	conn, header, err := m.readHeader(conn)
	if err != nil {
		m.logger.Debug("closing connection without a header", "remote", conn.RemoteAddr(), "err", err)
		conn.Close()
		return
	}
	m.mu.Lock()
	l := m.lns[header]
	m.mu.Unlock()
	if l == nil {
		m.logger.Warn("closing connection with unknown header", "remote", conn.RemoteAddr(), "header", header)
		conn.Close()
		return
	}
	select {
	case l.ch <- conn:
	case <-l.done:
		conn.Close()
	case <-m.done:
		conn.Close()
	}
}

func (m *Mux) readHeader(conn net.Conn) (net.Conn, byte, error) {
	if err := conn.SetDeadline(time.Now().Add(m.cfg.HeaderTimeout)); err != nil {
		return conn, 0, fmt.Errorf("set header deadline: %w", err)
	}
	if m.cfg.TLS != nil {
		conn = tls.Server(conn, m.cfg.TLS)
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return conn, 0, fmt.Errorf("read header: %w", err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return conn, 0, fmt.Errorf("clear header deadline: %w", err)
	}
	return conn, b[0], nil
}

func (m *Mux) closed() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// Close stops the Mux and every virtual listener; connections already
// handed out stay open (their owners close them).
func (m *Mux) Close() error {
	var err error
	m.once.Do(func() {
		close(m.done)
		if cerr := m.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = fmt.Errorf("close mux listener: %w", cerr)
		}
		m.mu.Lock()
		for _, l := range m.lns {
			l.Close()
		}
		m.mu.Unlock()
		m.wg.Wait()
	})
	return err
}

// muxListener is the net.Listener of one header.
type muxListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

// Accept waits for the next connection with this listener's header.
func (l *muxListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, fmt.Errorf("accept on mux listener %s: %w", l.addr, net.ErrClosed)
	}
}

// Close stops Accept; connections with this header are then refused.
func (l *muxListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr is the Mux's address.
func (l *muxListener) Addr() net.Addr { return l.addr }
