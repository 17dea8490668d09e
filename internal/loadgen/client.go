package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// maxBody bounds how much of a response is read.
const maxBody = 64 << 20

// client sends statement arrays to the URLs in turn over kept-alive
// connections, at least one per concurrent client per URL.
type client struct {
	hc         *http.Client
	urls       []string
	user, pass string
	next       atomic.Uint64
}

func newClient(cfg Config) *client {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency * len(cfg.URLs),
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		TLSClientConfig:     cfg.TLS,
	}
	urls := make([]string, len(cfg.URLs))
	for i, u := range cfg.URLs {
		urls[i] = strings.TrimRight(u, "/")
	}
	return &client{
		hc:   &http.Client{Transport: tr},
		urls: urls,
		user: cfg.User, pass: cfg.Password,
	}
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// result is one entry of an rqlite response's results array.
type result struct {
	Error  string            `json:"error"`
	Values []json.RawMessage `json:"values"`
}

// response is rqlite's reply to /db/execute and /db/query.
type response struct {
	Results []result `json:"results"`
	Error   string   `json:"error"`
}

// post sends body to the next URL in turn; see postTo.
func (c *client) post(ctx context.Context, path string, body []byte) (*response, error) {
	i := (c.next.Add(1) - 1) % uint64(len(c.urls))
	return c.postTo(ctx, c.urls[i], path, body)
}

// postTo POSTs body to base+path and returns the decoded reply. Any
// error, top-level or per statement, is returned as an error.
func (c *client) postTo(ctx context.Context, base, path string, body []byte) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, transportError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return decode(resp.StatusCode, b)
}

// transportError drops net/http's `Post "url":` prefix (the URL is
// reported once by the caller) and marks connection failures.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return err
}

// decode checks the status and every error field of a reply.
func decode(status int, b []byte) (*response, error) {
	var r response
	jsonErr := json.Unmarshal(b, &r)
	if status != http.StatusOK {
		if jsonErr == nil && r.Error != "" {
			return nil, fmt.Errorf("status %d: %s", status, clip(r.Error))
		}
		switch status {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			// No such route: whatever answers is not rqlite's API.
			return nil, fmt.Errorf("%w: status %d: %s", ErrNotRqlite, status, clip(string(b)))
		}
		return nil, fmt.Errorf("status %d: %s", status, clip(string(b)))
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotRqlite, clip(string(b)))
	}
	if r.Error != "" {
		return nil, errors.New(clip(r.Error))
	}
	if r.Results == nil {
		return nil, fmt.Errorf("%w: no results in %s", ErrNotRqlite, clip(string(b)))
	}
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, errors.New(clip(res.Error))
		}
	}
	return &r, nil
}

// clip makes a message one short line for an error sample.
func clip(s string) string {
	const n = 200
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
