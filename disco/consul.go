package disco

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Consul keeps the leader record under <key>/leader in Consul's KV store,
// over its HTTP API (GET and PUT /v1/kv/<key>, ?cas=0 to create only).
type Consul struct {
	base  string // scheme://address
	key   string
	query url.Values
	token string
	user  *url.Userinfo
	hc    *http.Client
}

// NewConsul returns the Consul client for key prefix key (-disco-key).
func NewConsul(cfg ConsulConfig, key string) (*Consul, error) {
	c := &Consul{base: cfg.Scheme + "://" + cfg.Address, key: key + "/leader", query: url.Values{}, token: cfg.Token}
	if cfg.Token == "" && cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("consul token file: %w", err)
		}
		c.token = strings.TrimSpace(string(b))
	}
	for k, v := range map[string]string{"dc": cfg.Datacenter, "ns": cfg.Namespace, "partition": cfg.Partition} {
		if v != "" {
			c.query.Set(k, v)
		}
	}
	if ba := cfg.BasicAuth; ba != nil {
		c.user = url.UserPassword(ba.Username, ba.Password)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.Scheme == "https" {
		tc, err := cfg.TLS.build()
		if err != nil {
			return nil, fmt.Errorf("consul tls_config: %w", err)
		}
		tr.TLSClientConfig = tc
	}
	c.hc = &http.Client{Timeout: 10 * time.Second, Transport: tr}
	return c, nil
}

// build turns tls_config into a client TLS configuration.
func (t TLSConfig) build() (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // the operator's choice
	if t.Address != "" {
		tc.ServerName = t.Address
		if h, _, ok := strings.Cut(t.Address, ":"); ok {
			tc.ServerName = h
		}
	}
	var cas [][]byte
	if t.CAPEM != "" {
		cas = append(cas, []byte(t.CAPEM))
	}
	files := []string{}
	if t.CAFile != "" {
		files = append(files, t.CAFile)
	}
	if t.CAPath != "" {
		m, err := filepath.Glob(filepath.Join(t.CAPath, "*"))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		cas = append(cas, b)
	}
	if len(cas) > 0 {
		pool := x509.NewCertPool()
		for _, b := range cas {
			if !pool.AppendCertsFromPEM(b) {
				return nil, errors.New("no certificate in CA PEM")
			}
		}
		tc.RootCAs = pool
	}
	certPEM, keyPEM := []byte(t.CertPEM), []byte(t.KeyPEM)
	var err error
	if t.CertFile != "" {
		if certPEM, err = os.ReadFile(t.CertFile); err != nil {
			return nil, fmt.Errorf("read client certificate: %w", err)
		}
	}
	if t.KeyFile != "" {
		if keyPEM, err = os.ReadFile(t.KeyFile); err != nil {
			return nil, fmt.Errorf("read client key: %w", err)
		}
	}
	if len(certPEM) > 0 || len(keyPEM) > 0 {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// GetLeader implements KV.
func (c *Consul) GetLeader(ctx context.Context) (LeaderRecord, bool, error) {
	var rec LeaderRecord
	code, body, err := c.do(ctx, http.MethodGet, nil, nil)
	if err != nil {
		return rec, false, err
	}
	if code == http.StatusNotFound {
		return rec, false, nil
	}
	var entries []struct {
		Value []byte `json:"Value"` // base64 in JSON
	}
	if err := json.Unmarshal(body, &entries); err != nil {
		return rec, false, fmt.Errorf("consul: decode KV entry %s: %w", c.key, err)
	}
	if len(entries) == 0 || len(entries[0].Value) == 0 {
		return rec, false, nil
	}
	if err := json.Unmarshal(entries[0].Value, &rec); err != nil {
		return rec, false, fmt.Errorf("consul: decode leader record %q: %w", entries[0].Value, err)
	}
	return rec, true, nil
}

// InitializeLeader implements KV with a check-and-set on index 0.
func (c *Consul) InitializeLeader(ctx context.Context, rec LeaderRecord) (bool, error) {
	return c.put(ctx, rec, url.Values{"cas": {"0"}})
}

// SetLeader implements KV.
func (c *Consul) SetLeader(ctx context.Context, rec LeaderRecord) error {
	ok, err := c.put(ctx, rec, nil)
	if err == nil && !ok {
		err = fmt.Errorf("consul: write of %s refused: %w", c.key, ErrKVUnavailable)
	}
	return err
}

func (c *Consul) put(ctx context.Context, rec LeaderRecord, q url.Values) (bool, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	_, body, err := c.do(ctx, http.MethodPut, q, b)
	if err != nil {
		return false, err
	}
	switch strings.TrimSpace(string(body)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("consul: unexpected answer to PUT %s: %q: %w", c.key, body, ErrKVUnavailable)
}

// do sends one request for the key; statuses other than 200 (and 404 on
// GET) are errors.
func (c *Consul) do(ctx context.Context, method string, q url.Values, body []byte) (int, []byte, error) {
	u, err := url.Parse(c.base + "/v1/kv/" + c.key)
	if err != nil {
		return 0, nil, fmt.Errorf("consul URL: %w", err)
	}
	qs := url.Values{}
	for k, v := range c.query {
		qs[k] = v
	}
	for k, v := range q {
		qs[k] = v
	}
	u.RawQuery, u.User = qs.Encode(), c.user
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("consul request: %w", err)
	}
	if c.token != "" {
		req.Header.Set("X-Consul-Token", c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("consul %s %s: %w: %w", method, c.key, ErrKVUnavailable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("consul %s %s: read answer: %w", method, c.key, err)
	}
	if resp.StatusCode != http.StatusOK && !(method == http.MethodGet && resp.StatusCode == http.StatusNotFound) {
		return resp.StatusCode, b, fmt.Errorf("consul %s %s: status %d: %s: %w", method, c.key, resp.StatusCode, bytes.TrimSpace(b), ErrKVUnavailable)
	}
	return resp.StatusCode, b, nil
}
