package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// JoinConfig configures a Joiner (-join, -join-attempts, -join-interval,
// -join-as, -raft-non-voter).
type JoinConfig struct {
	// Addresses are the Raft addresses to try, in order, each attempt.
	Addresses []string
	// ID and Addr identify the joining node; Voter is false for a
	// read-only node.
	ID    string
	Addr  string
	Voter bool
	// Attempts and Interval are the retry policy.
	Attempts int
	Interval time.Duration
	// Credentials, when set, go with every join request (-join-as).
	Credentials *Credentials
	// CallTimeout bounds one join request; HTTPProbeTimeout bounds the
	// check that an address is not an HTTP server.
	CallTimeout      time.Duration
	HTTPProbeTimeout time.Duration
}

// DefaultJoinConfig returns rqlite's retry policy: 5 attempts, 3 s apart.
func DefaultJoinConfig() JoinConfig {
	return JoinConfig{Attempts: 5, Interval: 3 * time.Second, Voter: true,
		CallTimeout: 10 * time.Second, HTTPProbeTimeout: time.Second}
}

// Validate reports a JoinConfig that cannot work.
func (c JoinConfig) Validate() error {
	switch {
	case len(c.Addresses) == 0:
		return errors.New("join config: no join addresses")
	case c.ID == "" || c.Addr == "":
		return errors.New("join config: empty node ID or address")
	case c.Attempts <= 0:
		return fmt.Errorf("join config: attempts %d: must be positive", c.Attempts)
	case c.Interval < 0 || c.CallTimeout <= 0 || c.HTTPProbeTimeout <= 0:
		return errors.New("join config: interval must not be negative, timeouts must be positive")
	}
	return nil
}

// Joiner makes this node join an existing cluster.
type Joiner struct {
	cfg    JoinConfig
	client *Client
	logger *slog.Logger
}

// NewJoiner returns a Joiner that sends join requests with client.
func NewJoiner(cfg JoinConfig, client *Client, logger *slog.Logger) (*Joiner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Joiner{cfg: cfg, client: client, logger: logger.With("component", "joiner")}, nil
}

// Join tries every address, Attempts times with Interval between rounds,
// and returns the Raft address of the leader that added this node. An
// address that answers HTTP ends it at once with ErrServingHTTP.
func (j *Joiner) Join(ctx context.Context) (string, error) {
	var lastErr error
	for attempt := range j.cfg.Attempts {
		if attempt > 0 {
			if err := wait(ctx, j.cfg.Interval); err != nil {
				return "", fmt.Errorf("join: %w", err)
			}
		}
		for _, addr := range j.cfg.Addresses {
			if servesHTTP(ctx, addr, j.cfg.HTTPProbeTimeout) {
				return "", fmt.Errorf("join address %s %w", addr, ErrServingHTTP)
			}
		}
		leader, err := j.once(ctx, "")
		if err == nil {
			return leader, nil
		}
		lastErr = err
		j.logger.Warn("join attempt failed", "attempt", attempt+1, "of", j.cfg.Attempts, "err", err)
	}
	return "", fmt.Errorf("%w after %d attempts: %w", ErrJoinFailed, j.cfg.Attempts, lastErr)
}

// once sends one join request to each address but skip, until one
// succeeds.
func (j *Joiner) once(ctx context.Context, skip string) (string, error) {
	if c := j.cfg.Credentials; c != nil {
		ctx = WithCredentials(ctx, c.Username, c.Password)
	}
	req := JoinRequest{ID: j.cfg.ID, Addr: j.cfg.Addr, Voter: j.cfg.Voter}
	var errs []error
	for _, addr := range j.cfg.Addresses {
		if addr == skip {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, j.cfg.CallTimeout)
		leader, err := j.client.Join(cctx, addr, req)
		cancel()
		if err == nil {
			j.logger.Info("joined cluster", "via", addr, "leader", leader)
			return leader, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return "", fmt.Errorf("no join address but this node's own: %w", ErrJoinFailed)
	}
	return "", errors.Join(errs...)
}

// servesHTTP reports whether addr answers an HTTP or HTTPS GET /status.
// A Raft/mux port never does: it closes a connection whose first byte is
// not a known header.
func servesHTTP(ctx context.Context, addr string, timeout time.Duration) bool {
	hc := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			// Any TLS server counts; its certificate does not matter here.
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer hc.CloseIdleConnections()
	for _, scheme := range []string{"http", "https"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+"/status", nil)
		if err != nil {
			return false
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			return true
		}
	}
	return false
}

// wait blocks for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
