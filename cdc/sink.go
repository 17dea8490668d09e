package cdc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
)

// sink delivers one envelope; an error means it must be sent again.
type sink interface {
	send(ctx context.Context, body []byte) error
	String() string
}

// newSink returns the sink of cfg.Endpoint; out is stdout's writer.
func newSink(cfg *Config, out io.Writer) (sink, error) {
	if cfg.Endpoint == EndpointStdout {
		return &stdoutSink{w: out}, nil
	}
	return newHTTPSink(cfg)
}

// stdoutSink writes each envelope on its own line.
type stdoutSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *stdoutSink) send(_ context.Context, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.w.Write(append(body, '\n'))
	return err
}

func (s *stdoutSink) String() string { return EndpointStdout }

// httpSink POSTs envelopes; 200 and 202 mean delivered.
type httpSink struct {
	url        string
	user, pass string
	hasAuth    bool
	shown      string // the URL without credentials
	client     *http.Client
}

func newHTTPSink(cfg *Config) (*httpSink, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("cdc: endpoint: %w", err)
	}
	s := &httpSink{}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		s.hasAuth = true
		u.User = nil
	}
	s.url, s.shown = u.String(), u.String()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLS != nil {
		if tr.TLSClientConfig, err = cfg.TLS.build(); err != nil {
			return nil, err
		}
	}
	s.client = &http.Client{Transport: tr, Timeout: cfg.TransmitTimeout}
	return s, nil
}

func (t *TLSConfig) build() (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify, ServerName: t.ServerName} //nolint:gosec // operator's choice
	if t.CACertFile != "" {
		pem, err := os.ReadFile(t.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("cdc: tls ca_cert_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cdc: tls ca_cert_file %s holds no certificate", t.CACertFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cdc: tls cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (s *httpSink) send(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.hasAuth {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return nil
}

func (s *httpSink) String() string { return s.shown }
