package system_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// leaderRecord is the value discovery keeps under <key>/leader.
type leaderRecord struct {
	ID      string `json:"id"`
	APIAddr string `json:"api_addr"`
	Addr    string `json:"addr"`
}

// etcdServer is a real etcd process (Debian's etcd-server) on free
// loopback ports.
type etcdServer struct {
	ClientAddr string
	cmd        *exec.Cmd
	logs       rdbtest.Buffer
}

// startEtcd starts etcd with its data in t.TempDir(), or skips the test
// when the etcd binary is absent, unless RDB_REQUIRE_ETCD is set (.ci/run
// installs etcd and sets it), which makes absence a failure.
func startEtcd(t *testing.T) *etcdServer {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("RDB_REQUIRE_ETCD") != "" {
			t.Fatalf("etcd not found and RDB_REQUIRE_ETCD is set: %v", err)
		}
		t.Skip("etcd not installed (Debian package etcd-server); skipping etcd discovery test")
	}
	e := &etcdServer{ClientAddr: rdbtest.UnusedAddr(t)}
	peer := rdbtest.UnusedAddr(t)
	e.cmd = exec.Command(bin, "--name", "rdbtest", "--data-dir", filepath.Join(t.TempDir(), "etcd"),
		"--listen-client-urls", "http://"+e.ClientAddr, "--advertise-client-urls", "http://"+e.ClientAddr,
		"--listen-peer-urls", "http://"+peer, "--initial-advertise-peer-urls", "http://"+peer,
		"--initial-cluster", "rdbtest=http://"+peer, "--log-level", "warn")
	e.cmd.Stdout, e.cmd.Stderr = &e.logs, &e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(func() {
		e.cmd.Process.Kill()
		e.cmd.Wait()
		if t.Failed() {
			t.Logf("etcd logs:\n%s", e.logs.String())
		}
	})
	waitFor(t, readyTimeout, "etcd to answer on "+e.ClientAddr, func() bool {
		_, _, err := e.record("probe")
		return err == nil
	})
	return e
}

// record reads /<key>/leader through etcd's JSON gateway.
func (e *etcdServer) record(key string) (leaderRecord, bool, error) {
	var rec leaderRecord
	body, _ := json.Marshal(map[string][]byte{"key": []byte("/" + key + "/leader")})
	resp, err := http.Post("http://"+e.ClientAddr+"/v3/kv/range", "application/json", bytes.NewReader(body))
	if err != nil {
		return rec, false, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return rec, false, fmt.Errorf("etcd range: status %d: %s", resp.StatusCode, b)
	}
	var r struct {
		KVs []struct {
			Value []byte `json:"value"`
		} `json:"kvs"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return rec, false, fmt.Errorf("decode etcd range %s: %w", b, err)
	}
	if len(r.KVs) == 0 {
		return rec, false, nil
	}
	return rec, true, json.Unmarshal(r.KVs[0].Value, &rec)
}

// fakeConsul serves Consul's KV HTTP API as far as discovery uses it: GET
// /v1/kv/<key> (404 when absent), PUT /v1/kv/<key> (answering true), and
// PUT with ?cas=0 (true only if the key is absent). It counts requests.
type fakeConsul struct {
	srv *httptest.Server

	mu    sync.Mutex
	kv    map[string][]byte
	index uint64
	casOK int // successful ?cas=0 writes
}

func startFakeConsul(t *testing.T) *fakeConsul {
	t.Helper()
	c := &fakeConsul{kv: map[string][]byte{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

// Addr is host:port, for the "address" config key.
func (c *fakeConsul) Addr() string { return strings.TrimPrefix(c.srv.URL, "http://") }

func (c *fakeConsul) serve(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, "/v1/kv/")
	if !ok || key == "" {
		http.Error(w, "no such endpoint", http.StatusNotFound)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		v, ok := c.kv[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode([]map[string]any{{"Key": key, "Value": base64.StdEncoding.EncodeToString(v),
			"Flags": 0, "CreateIndex": c.index, "ModifyIndex": c.index, "LockIndex": 0}})
	case http.MethodPut:
		v, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if cas := r.URL.Query().Get("cas"); cas != "" {
			if _, exists := c.kv[key]; cas != "0" || exists {
				io.WriteString(w, "false")
				return
			}
			c.casOK++
		}
		c.index++
		c.kv[key] = v
		io.WriteString(w, "true")
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// record reads <key>/leader.
func (c *fakeConsul) record(key string) (leaderRecord, bool, error) {
	c.mu.Lock()
	v, ok := c.kv[key+"/leader"]
	c.mu.Unlock()
	var rec leaderRecord
	if !ok {
		return rec, false, nil
	}
	return rec, true, json.Unmarshal(v, &rec)
}

// kvScenario is rqlite's TestAutoClusteringKVStores for one key-value
// mode (issue 13, acceptance 2 and 3): nodes join one by one through the
// leader record and read the replicated rows at level none; the leader is
// SIGKILLed, and a node started afterwards with -join-attempts 1 still
// joins (the new leader rewrites the record); a non-voter joins too.
func kvScenario(t *testing.T, mode, config string, record func(key string) (leaderRecord, bool, error)) {
	key := discoKey()
	flags := append([]string{"-disco-mode", mode, "-disco-key", key, "-disco-config", config}, fastRaft...)
	start := func(extra ...string) *Node {
		n := newNode(t, append(append([]string{}, flags...), extra...)...)
		n.Start()
		n.WaitReady(readyTimeout)
		return n
	}
	first := start()
	waitRecord(t, record, key, first)
	d, err := statusSection(first, "disco")
	if err != nil {
		t.Fatal(err)
	}
	if d["mode"] != mode || d["register_interval"] != float64(3e9) || d["report_interval"] != float64(10e9) || d["last_contact"] == nil {
		t.Errorf("/status disco = %v, want mode %s, register_interval 3e9, report_interval 1e10, last_contact", d, mode)
	}
	first.Execute("/db/execute", fooSchema)
	first.Execute("/db/execute", `["INSERT INTO foo(id, name) VALUES(1, 'fiona')"]`)
	nodes := []*Node{first}
	for range 2 {
		n := start()
		nodes = append(nodes, n)
		waitCount(t, n, "foo", 1, readyTimeout)
	}
	t.Cleanup(func() { stopAll(nodes) })
	waitMembers(t, first, ids(nodes...))

	// The node starts at once, while the record still names the dead
	// leader: its one join attempt fails, and it must read the record
	// again until the new leader has rewritten it.
	first.Kill()
	late := start("-join-attempts", "1", "-join-interval", "1s")
	nodes = append(nodes, late)
	survivors := nodes[1:3]
	leader := waitLeader(t, survivors, readyTimeout)
	waitRecord(t, record, key, leader)
	waitCount(t, late, "foo", 1, readyTimeout)
	t.Logf("DEBUGLATE %s", late.Logs())

	nv := start("-raft-non-voter")
	nodes = append(nodes, nv)
	if v, err := isVoter(nv); err != nil || v {
		t.Fatalf("non-voter %s: store.raft.voter = %v (%v), want false", nv.ID(), v, err)
	}
	waitCount(t, nv, "foo", 1, readyTimeout)
	waitMembers(t, leader, ids(first, survivors[0], survivors[1], late, nv))
}

// waitRecord waits until the leader record names n, with its addresses.
func waitRecord(t *testing.T, record func(string) (leaderRecord, bool, error), key string, n *Node) {
	t.Helper()
	want := leaderRecord{ID: n.ID(), APIAddr: "http://" + n.HTTPAddr, Addr: n.RaftAddr}
	waitUntil(t, readyTimeout, fmt.Sprintf("leader record %s/leader to name %s", key, n.ID()), func() (bool, string) {
		rec, ok, err := record(key)
		return ok && err == nil && rec == want, fmt.Sprintf("%+v %v %v", rec, ok, err)
	})
}

// loneNonVoter starts a non-voter alone with a fresh key: it must never
// get a leader (no voter claims the record), and keep running.
func loneNonVoter(t *testing.T, mode, config string, record func(string) (leaderRecord, bool, error)) {
	key := discoKey()
	n := newNode(t, "-disco-mode", mode, "-disco-key", key, "-disco-config", config, "-raft-non-voter")
	n.Start()
	deadline := time.Now().Add(10 * time.Second)
	checks := 0
	for time.Now().Before(deadline) {
		if n.Exited() {
			t.Fatalf("lone non-voter exited:\n%s", n.Logs())
		}
		if s, err := n.Status(); err == nil {
			checks++
			if s.Leader.NodeID != "" || s.Ready {
				t.Fatalf("lone non-voter has leader %q (ready %v)", s.Leader.NodeID, s.Ready)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if checks == 0 {
		t.Fatal("lone non-voter never answered /status")
	}
	if _, ok, err := record(key); ok || err != nil {
		t.Errorf("a leader record exists for the lone non-voter's key (%v)", err)
	}
}
