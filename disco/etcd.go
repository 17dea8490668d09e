package disco

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Etcd keeps the leader record under /<key>/leader in etcd, over etcd's v3
// JSON gateway (POST /v3/kv/range, /v3/kv/put, /v3/kv/txn; keys and
// values base64). Endpoints are tried in order until one answers.
type Etcd struct {
	endpoints []string // base URLs
	key       string
	user      string
	password  string
	hc        *http.Client

	mu    sync.Mutex
	token string // from /v3/auth/authenticate, when user is set
}

// NewEtcd returns the etcd client for key prefix key (-disco-key).
func NewEtcd(cfg EtcdConfig, key string) (*Etcd, error) {
	e := &Etcd{key: "/" + key + "/leader", user: cfg.Username, password: cfg.Password}
	for _, ep := range cfg.Endpoints {
		ep = strings.TrimRight(strings.TrimSpace(ep), "/")
		if ep == "" {
			continue
		}
		if !strings.Contains(ep, "://") {
			ep = "http://" + ep
		}
		e.endpoints = append(e.endpoints, ep)
	}
	if len(e.endpoints) == 0 {
		return nil, errors.New("etcd-kv disco config: no endpoints")
	}
	timeout := 10 * time.Second
	if cfg.DialTimeout > 0 {
		timeout = cfg.DialTimeout + 5*time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.DialTimeout > 0 {
		tr.TLSHandshakeTimeout = cfg.DialTimeout
	}
	e.hc = &http.Client{Timeout: timeout, Transport: tr}
	return e, nil
}

type etcdKV struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value,omitempty"`
}

// GetLeader implements KV.
func (e *Etcd) GetLeader(ctx context.Context) (LeaderRecord, bool, error) {
	var rec LeaderRecord
	var resp struct {
		KVs []etcdKV `json:"kvs"`
	}
	if err := e.call(ctx, "/v3/kv/range", etcdKV{Key: []byte(e.key)}, &resp); err != nil {
		return rec, false, err
	}
	if len(resp.KVs) == 0 || len(resp.KVs[0].Value) == 0 {
		return rec, false, nil
	}
	if err := json.Unmarshal(resp.KVs[0].Value, &rec); err != nil {
		return rec, false, fmt.Errorf("etcd: decode leader record %q: %w", resp.KVs[0].Value, err)
	}
	return rec, true, nil
}

// InitializeLeader implements KV with a transaction on version(key) == 0.
func (e *Etcd) InitializeLeader(ctx context.Context, rec LeaderRecord) (bool, error) {
	v, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	type compare struct {
		Key     []byte `json:"key"`
		Target  string `json:"target"`
		Result  string `json:"result"`
		Version string `json:"version"`
	}
	txn := struct {
		Compare []compare        `json:"compare"`
		Success []map[string]any `json:"success"`
	}{
		Compare: []compare{{Key: []byte(e.key), Target: "VERSION", Result: "EQUAL", Version: "0"}},
		Success: []map[string]any{{"request_put": etcdKV{Key: []byte(e.key), Value: v}}},
	}
	var resp struct {
		Succeeded bool `json:"succeeded"`
	}
	if err := e.call(ctx, "/v3/kv/txn", txn, &resp); err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// SetLeader implements KV.
func (e *Etcd) SetLeader(ctx context.Context, rec LeaderRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return e.call(ctx, "/v3/kv/put", etcdKV{Key: []byte(e.key), Value: v}, nil)
}

// call posts req to path on the first endpoint that answers, logging in
// first (and once more if the token is refused) when a user is set.
func (e *Etcd) call(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var errs []error
	for _, ep := range e.endpoints {
		err := e.callEndpoint(ctx, ep, path, body, resp)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("etcd %s: %w: %w", path, ErrKVUnavailable, errors.Join(errs...))
}

func (e *Etcd) callEndpoint(ctx context.Context, ep, path string, body []byte, resp any) error {
	for try := 0; ; try++ {
		token, err := e.authToken(ctx, ep)
		if err != nil {
			return err
		}
		code, b, err := e.post(ctx, ep+path, token, body)
		if err != nil {
			return err
		}
		if code == http.StatusUnauthorized && e.user != "" && try == 0 {
			e.setToken("")
			continue
		}
		if code != http.StatusOK {
			return fmt.Errorf("%s: status %d: %s", ep, code, bytes.TrimSpace(b))
		}
		if resp == nil {
			return nil
		}
		if err := json.Unmarshal(b, resp); err != nil {
			return fmt.Errorf("%s: decode answer: %w", ep, err)
		}
		return nil
	}
}

// authToken logs in when a user is configured and no token is held.
func (e *Etcd) authToken(ctx context.Context, ep string) (string, error) {
	if e.user == "" {
		return "", nil
	}
	e.mu.Lock()
	token := e.token
	e.mu.Unlock()
	if token != "" {
		return token, nil
	}
	body, err := json.Marshal(map[string]string{"name": e.user, "password": e.password})
	if err != nil {
		return "", err
	}
	code, b, err := e.post(ctx, ep+"/v3/auth/authenticate", "", body)
	if err != nil {
		return "", err
	}
	var r struct {
		Token string `json:"token"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &r) != nil || r.Token == "" {
		return "", fmt.Errorf("%s: authenticate as %s: status %d: %s", ep, e.user, code, bytes.TrimSpace(b))
	}
	e.setToken(r.Token)
	return r.Token, nil
}

func (e *Etcd) setToken(t string) {
	e.mu.Lock()
	e.token = t
	e.mu.Unlock()
}

func (e *Etcd) post(ctx context.Context, url, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("etcd request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("etcd %s: read answer: %w", url, err)
	}
	return resp.StatusCode, b, nil
}
