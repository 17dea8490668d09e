package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Execute runs write statements through the Raft log (POST /db/execute).
func (c *Client) Execute(ctx context.Context, stmts []Statement, o *Options) (*Response, error) {
	return c.statements(ctx, "/db/execute", stmts, o)
}

// Query runs read statements at o.Level (POST /db/query).
func (c *Client) Query(ctx context.Context, stmts []Statement, o *Options) (*Response, error) {
	return c.statements(ctx, "/db/query", stmts, o)
}

// Request runs a mix of reads and writes (POST /db/request).
func (c *Client) Request(ctx context.Context, stmts []Statement, o *Options) (*Response, error) {
	return c.statements(ctx, "/db/request", stmts, o)
}

func (c *Client) statements(ctx context.Context, path string, stmts []Statement, o *Options) (*Response, error) {
	if stmts == nil {
		stmts = []Statement{}
	}
	body, err := json.Marshal(stmts)
	if err != nil {
		return nil, fmt.Errorf("encode statements: %w", err)
	}
	var resp Response
	r := request{method: http.MethodPost, path: path, query: o.values(),
		body: bytes.NewReader(body), contentType: "application/json"}
	if err := c.doJSON(ctx, r, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Version asks the node for /status and returns the version it reports in
// the X-RQLITE-VERSION header. It is the cheapest "are you there" call.
func (c *Client) Version(ctx context.Context) (string, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/status"})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", statusError(resp)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.Header.Get("X-RQLITE-VERSION"), nil
}

// Status returns /status, or its sub-document key ("store.raft").
func (c *Client) Status(ctx context.Context, key string) (map[string]any, error) {
	return c.document(ctx, "/status", key)
}

// Expvar returns /debug/vars, or one variable.
func (c *Client) Expvar(ctx context.Context, key string) (map[string]any, error) {
	return c.document(ctx, "/debug/vars", key)
}

func (c *Client) document(ctx context.Context, path, key string) (map[string]any, error) {
	q := url.Values{}
	if key != "" {
		q.Set("key", key)
	}
	var doc map[string]any
	if err := c.doJSON(ctx, request{method: http.MethodGet, path: path, query: q}, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// Nodes lists the voters, and the non-voters too if nonVoters, sorted by ID.
func (c *Client) Nodes(ctx context.Context, nonVoters bool) ([]Node, error) {
	q := url.Values{"ver": {"2"}}
	if nonVoters {
		q.Set("nonvoters", "")
	}
	var out struct {
		Nodes []Node `json:"nodes"`
	}
	if err := c.doJSON(ctx, request{method: http.MethodGet, path: "/nodes", query: q}, &out); err != nil {
		return nil, err
	}
	return out.Nodes, nil
}

// Ready reports /readyz: true on 200, false with the node's explanation on
// 503.
func (c *Client) Ready(ctx context.Context) (bool, string, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/readyz"})
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return false, "", fmt.Errorf("read /readyz: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return true, string(b), nil
	case http.StatusServiceUnavailable:
		return false, string(b), nil
	}
	return false, "", &StatusError{Code: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(b))}
}

// Backup streams /db/backup into w and returns the bytes written.
func (c *Client) Backup(ctx context.Context, w io.Writer, o BackupOptions) (int64, error) {
	q := url.Values{}
	if o.Format != "" {
		q.Set("fmt", string(o.Format))
	}
	if len(o.Tables) > 0 {
		q.Set("tables", strings.Join(o.Tables, ","))
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{o.Compress, "compress"}, {o.Vacuum, "vacuum"}, {o.NoLeader, "noleader"}} {
		if f.on {
			q.Set(f.name, "")
		}
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/db/backup", query: q})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, statusError(resp)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("read backup: %w", err)
	}
	return n, nil
}

// Load replaces the database with a SQLite file, or runs SQL text, from r
// (POST /db/load). r is rewound if the call moves to another node.
func (c *Client) Load(ctx context.Context, r io.ReadSeeker) (*Response, error) {
	var resp Response
	req := request{method: http.MethodPost, path: "/db/load", body: r, contentType: "application/octet-stream"}
	if err := c.doJSON(ctx, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Boot streams a SQLite file into a single-node cluster, bypassing the log
// (POST /boot).
func (c *Client) Boot(ctx context.Context, r io.ReadSeeker) error {
	return c.expect(ctx, request{method: http.MethodPost, path: "/boot", body: r,
		contentType: "application/octet-stream"}, http.StatusOK)
}

// Snapshot asks the node for a Raft snapshot, keeping trailingLogs entries.
func (c *Client) Snapshot(ctx context.Context, trailingLogs int) error {
	q := url.Values{}
	if trailingLogs > 0 {
		q.Set("trailing_logs", strconv.Itoa(trailingLogs))
	}
	return c.expect(ctx, request{method: http.MethodPost, path: "/snapshot", query: q},
		http.StatusOK, http.StatusNoContent)
}

// Reap asks the node to delete old snapshots and checkpoint WALs.
func (c *Client) Reap(ctx context.Context) (ReapResult, error) {
	var out ReapResult
	err := c.doJSON(ctx, request{method: http.MethodPost, path: "/reap"}, &out)
	return out, err
}

// Remove removes the node with Raft ID id from the cluster.
func (c *Client) Remove(ctx context.Context, id string) error {
	body, err := json.Marshal(map[string]string{"id": id})
	if err != nil {
		return fmt.Errorf("encode remove: %w", err)
	}
	return c.expect(ctx, request{method: http.MethodDelete, path: "/remove",
		body: bytes.NewReader(body), contentType: "application/json"}, http.StatusOK)
}

// Stepdown makes the leader hand over leadership, to node id if not empty;
// with wait it returns once the transfer is done.
func (c *Client) Stepdown(ctx context.Context, id string, wait bool) error {
	r := request{method: http.MethodPost, path: "/leader"}
	if wait {
		r.query = url.Values{"wait": {"true"}}
	}
	if id != "" {
		body, err := json.Marshal(map[string]string{"id": id})
		if err != nil {
			return fmt.Errorf("encode stepdown: %w", err)
		}
		r.body, r.contentType = bytes.NewReader(body), "application/json"
	}
	return c.expect(ctx, r, http.StatusOK)
}

// Fetch GETs an absolute URL (another node's API, e.g. from Node.APIAddr)
// with the client's credentials and TLS settings, without fail-over, and
// returns the status code and body.
func (c *Client) Fetch(ctx context.Context, rawURL string) (int, []byte, error) {
	req, err := c.newRequest(ctx, rawURL, request{method: http.MethodGet})
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, &explainedError{op: "GET " + rawURL, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read %s: %w", rawURL, err)
	}
	return resp.StatusCode, b, nil
}

// expect sends r and accepts only the given statuses.
func (c *Client) expect(ctx context.Context, r request, codes ...int) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	for _, code := range codes {
		if resp.StatusCode == code {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			return nil
		}
	}
	return statusError(resp)
}
