package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"
)

// MaxRedirects is how many 301/302/307/308 hops a call follows, as the
// rqlite shell does (21 requests in all).
const MaxRedirects = 20

// Config says where the nodes are and how to talk to them.
type Config struct {
	// Addrs are node addresses, "host:port" or "scheme://host:port". The
	// first is used first; the others are fail-over alternates.
	Addrs []string
	// Scheme ("http" or "https") applies to addresses given without one.
	Scheme string
	// Prefix is prepended to every API path, for nodes behind a proxy.
	Prefix string
	// User and Password are sent as HTTP Basic auth when User is set.
	User, Password string
	// Insecure skips verification of the server's certificate.
	Insecure bool
	// CACert is a PEM file of CAs trusted for the server's certificate.
	CACert string
	// ClientCert and ClientKey are PEM files for mutual TLS.
	ClientCert, ClientKey string
	// Timeout bounds each HTTP request (0 = none).
	Timeout time.Duration
	// OnFailover, if set, is called when an address cannot be reached and
	// the client moves to the next one (from and to are base URLs).
	OnFailover func(from, to string, err error)
}

// DefaultConfig is one node on localhost:4001 over plain HTTP, 30 s timeout.
func DefaultConfig() Config {
	return Config{Addrs: []string{"127.0.0.1:4001"}, Scheme: "http", Prefix: "/", Timeout: 30 * time.Second}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if len(c.Addrs) == 0 {
		return ErrNoAddress
	}
	if c.Scheme != "" && c.Scheme != "http" && c.Scheme != "https" {
		return fmt.Errorf("%w: %q", ErrBadScheme, c.Scheme)
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		return fmt.Errorf("client certificate and key must be given together")
	}
	return nil
}

// baseURLs turns the addresses into "scheme://host:port" strings.
func (c Config) baseURLs() []string {
	scheme := c.Scheme
	if scheme == "" {
		scheme = "http"
	}
	out := make([]string, 0, len(c.Addrs))
	for _, a := range c.Addrs {
		a = strings.TrimRight(strings.TrimSpace(a), "/")
		if a == "" {
			continue
		}
		if !strings.Contains(a, "://") {
			a = scheme + "://" + a
		}
		out = append(out, a)
	}
	return out
}

// prefix returns the path prefix without a trailing slash ("" for "/").
func (c Config) prefix() string {
	p := strings.Trim(c.Prefix, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// tlsConfig builds the TLS settings from the file options.
func (c Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: c.Insecure} //nolint:gosec // the user asked for it (-i)
	if c.CACert != "" {
		pem, err := os.ReadFile(c.CACert)
		if err != nil {
			return nil, fmt.Errorf("read CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA certificate %s holds no PEM certificate", c.CACert)
		}
		tc.RootCAs = pool
	}
	if c.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
