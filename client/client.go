package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Client talks to one node at a time and fails over to the next address
// when the current one cannot be reached. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
	urls []string

	mu  sync.Mutex
	cur int
}

// New checks cfg and builds a Client. It does not contact any node.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	hc := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// Redirects are followed by send, which keeps method and body.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	urls := cfg.baseURLs()
	if len(urls) == 0 {
		return nil, ErrNoAddress
	}
	return &Client{cfg: cfg, http: hc, urls: urls}, nil
}

// URL is the base URL of the node the client currently talks to, e.g.
// "http://127.0.0.1:4001".
func (c *Client) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.urls[c.cur]
}

// Host is the current node's "host:port".
func (c *Client) Host() string {
	u, err := url.Parse(c.URL())
	if err != nil {
		return c.URL()
	}
	return u.Host
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// request is one API call before an address is chosen.
type request struct {
	method, path string
	query        url.Values
	body         io.ReadSeeker // nil for none; rewound for each attempt
	contentType  string
}

// do sends r to the current node, then to each alternate in turn while the
// address cannot be reached at all (a failed dial: the request was not
// delivered, so resending it elsewhere cannot apply a write twice). The
// caller closes the response body.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	c.mu.Lock()
	start := c.cur
	c.mu.Unlock()
	tried := make([]string, 0, len(c.urls))
	var last error
	for i := range c.urls {
		idx := (start + i) % len(c.urls)
		base := c.urls[idx]
		resp, err := c.send(ctx, base+c.cfg.prefix()+r.path, r)
		if err == nil {
			c.setCurrent(idx)
			return resp, nil
		}
		if ctx.Err() != nil || !isDialError(err) {
			return nil, &explainedError{op: r.method + " " + base + r.path, err: err}
		}
		tried, last = append(tried, base), err
		if i+1 < len(c.urls) && c.cfg.OnFailover != nil {
			c.cfg.OnFailover(base, c.urls[(idx+1)%len(c.urls)], err)
		}
	}
	return nil, &UnreachableError{URLs: tried, Err: last}
}

func (c *Client) setCurrent(idx int) {
	c.mu.Lock()
	c.cur = idx
	c.mu.Unlock()
}

// send performs one call on one node, following redirects with the same
// method and body, as rqlite's shell does.
func (c *Client) send(ctx context.Context, target string, r request) (*http.Response, error) {
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	for hop := 0; ; hop++ {
		req, err := c.newRequest(ctx, target, r)
		if err != nil {
			return nil, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, err
		}
		if !isRedirect(resp.StatusCode) {
			return resp, nil
		}
		loc, err := resp.Location()
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("redirect without location: %w", err)
		}
		if hop >= MaxRedirects {
			return nil, ErrTooManyRedirects
		}
		target = loc.String()
	}
}

func (c *Client) newRequest(ctx context.Context, target string, r request) (*http.Request, error) {
	var body io.Reader
	if r.body != nil {
		if _, err := r.body.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewind request body: %w", err)
		}
		body = io.NopCloser(r.body) // keep net/http from closing the caller's file
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if c.cfg.User != "" {
		req.SetBasicAuth(c.cfg.User, c.cfg.Password)
	}
	return req, nil
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// isDialError is true when the connection could not even be opened.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// doJSON sends r and decodes a 200 JSON body into out. Numbers decode as
// json.Number so 64-bit integers survive.
func (c *Client) doJSON(ctx context.Context, r request, out any) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("decode %s response: %w", r.path, err)
	}
	return nil
}

// statusError reads a bounded part of the body into a *StatusError.
func statusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return &StatusError{Code: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(b))}
}
