package system_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// families is one parsed /metrics scrape.
type families map[string]*dto.MetricFamily

// scrape fetches n's /metrics and parses it with the Prometheus text
// parser, failing the test if either fails.
func scrape(t *testing.T, n *Node) families {
	t.Helper()
	code, body, err := n.Do("GET", "/metrics", "", "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics on %s: status %d, err %v, body %.200q", n.ID(), code, err, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics of %s: %v", n.ID(), err)
	}
	return fams
}

// value sums the samples of name whose labels include want (gauges,
// counters and untyped); ok is false if there is none.
func (f families) value(name string, want map[string]string) (sum float64, ok bool) {
	fam := f[name]
	if fam == nil {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
		ok = true
	}
	return sum, ok
}

// keySeries must be in every node's scrape.
var keySeries = []string{
	"rdb_node_info", "rdb_raft_state", "rdb_raft_leader", "rdb_raft_term", "rdb_raft_commit_index",
	"rdb_raft_applied_index", "rdb_raft_last_log_index", "rdb_raft_apply_lag_entries",
	"rdb_raft_leader_changes_total", "rdb_raft_log_append_duration_seconds",
	"rdb_fsm_apply_duration_seconds", "rdb_fsm_apply_batch_entries", "rdb_snapshot_duration_seconds",
	"rdb_snapshot_last_size_bytes", "rdb_http_requests_total", "rdb_http_request_duration_seconds",
	"rdb_http_queued_writes", "rdb_cluster_forwarded_requests_total", "rdb_db_size_bytes",
	"rdb_db_wal_size_bytes", "rdb_db_read_conns_in_use", "go_goroutines", "process_resident_memory_bytes",
}

// sent counts the requests a load sent, by node, endpoint and status.
type sent struct {
	mu sync.Mutex
	n  map[string]int // "<node id> <endpoint> <code>"
}

func (s *sent) add(node, endpoint string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n[fmt.Sprintf("%s %s %d", node, endpoint, code)]++
}

// loadCluster sends writes and reads to every node from several clients
// at once and records what it sent.
func loadCluster(t *testing.T, nodes []*Node, clients, perClient int) *sent {
	t.Helper()
	s := &sent{n: map[string]int{}}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				n := nodes[(c+i)%len(nodes)]
				body := fmt.Sprintf(`[["INSERT INTO m(c, i) VALUES(?, ?)", %d, %d]]`, c, i)
				code, _, err := n.Do("POST", "/db/execute", "application/json", body)
				if err != nil {
					t.Errorf("write to %s: %v", n.ID(), err)
					return
				}
				s.add(n.ID(), "/db/execute", code)
				code, _, err = n.Do("POST", "/db/query", "application/json", `["SELECT COUNT(*) FROM m"]`)
				if err != nil {
					t.Errorf("read from %s: %v", n.ID(), err)
					return
				}
				s.add(n.ID(), "/db/query", code)
			}
		}()
	}
	wg.Wait()
	return s
}

func TestMetrics_Cluster_UnderLoad(t *testing.T) {
	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes, readyTimeout)
	leader.Execute("/db/execute", `["CREATE TABLE m(c INTEGER, i INTEGER)"]`)
	before := scrape(t, leader)
	startApplied, _ := before.value("rdb_raft_applied_index", nil)
	// The baseline counts of each node: the CREATE above, and whatever
	// the harness sent while starting the cluster.
	baseline := map[string]families{}
	for _, n := range nodes {
		baseline[n.ID()] = scrape(t, n)
	}

	// Scrape the leader while the load runs: every scrape must parse and
	// the applied index must never go back.
	stop := make(chan struct{})
	var applied []float64
	var scraper sync.WaitGroup
	scraper.Add(1)
	go func() {
		defer scraper.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			code, body, err := leader.Do("GET", "/metrics", "", "")
			if err != nil || code != http.StatusOK {
				t.Errorf("scrape during load: status %d, err %v", code, err)
				return
			}
			parser := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
			if err != nil {
				t.Errorf("parse scrape during load: %v", err)
				return
			}
			v, _ := families(fams).value("rdb_raft_applied_index", nil)
			applied = append(applied, v)
		}
	}()
	const clients, perClient = 4, 30
	load := loadCluster(t, nodes, clients, perClient)
	close(stop)
	scraper.Wait()
	if t.Failed() {
		return
	}
	t.Logf("leader's applied index over %d scrapes during the load: %v", len(applied), applied)
	for i := 1; i < len(applied); i++ {
		if applied[i] < applied[i-1] {
			t.Errorf("applied index went back during load: %v", applied)
			break
		}
	}

	checkAppliedEverywhere(t, nodes, startApplied)
	checkOneLeader(t, nodes, leader)
	checkHTTPCounts(t, nodes, baseline, load)
	followerForwards := 0.0
	for _, n := range others(nodes, leader) {
		v, _ := scrape(t, n).value("rdb_cluster_forwarded_requests_total", nil)
		followerForwards += v
	}
	if want := float64(clients * perClient * 2 / 3); followerForwards < want {
		t.Errorf("followers forwarded %v requests, want at least the %v writes sent to them", followerForwards, want)
	}
}

// checkAppliedEverywhere waits until every node has applied all the
// leader committed, which must be past where the load started, and
// checks the key series are there.
func checkAppliedEverywhere(t *testing.T, nodes []*Node, start float64) {
	t.Helper()
	var commit float64
	waitUntil(t, readyTimeout, "every node to apply the committed log", func() (bool, string) {
		var got []string
		done := true
		for _, n := range nodes {
			f := scrape(t, n)
			c, _ := f.value("rdb_raft_commit_index", nil)
			a, _ := f.value("rdb_raft_applied_index", nil)
			commit = max(commit, c)
			done = done && a >= commit
			got = append(got, fmt.Sprintf("%s applied %v commit %v", n.ID(), a, c))
		}
		return done, strings.Join(got, "; ")
	})
	if commit <= start {
		t.Errorf("commit index %v did not rise past %v under load", commit, start)
	}
	for _, n := range nodes {
		f := scrape(t, n)
		for _, name := range keySeries {
			if f[name] == nil {
				t.Errorf("%s: series %s missing", n.ID(), name)
			}
		}
		if lag, _ := f.value("rdb_raft_apply_lag_entries", nil); lag != 0 {
			t.Errorf("%s: apply lag %v after the load was applied", n.ID(), lag)
		}
	}
}

// checkOneLeader checks rdb_raft_leader is 1 on the leader only, and
// that rdb_raft_state agrees.
func checkOneLeader(t *testing.T, nodes []*Node, leader *Node) {
	t.Helper()
	leaders := 0.0
	for _, n := range nodes {
		f := scrape(t, n)
		l, ok := f.value("rdb_raft_leader", nil)
		if !ok {
			t.Fatalf("%s: no rdb_raft_leader", n.ID())
		}
		leaders += l
		if want := n == leader; (l == 1) != want {
			t.Errorf("%s: rdb_raft_leader = %v, want leader %v", n.ID(), l, want)
		}
		s, _ := f.value("rdb_raft_state", map[string]string{"state": "leader"})
		if s != l {
			t.Errorf("%s: rdb_raft_state{state=leader} = %v, rdb_raft_leader = %v", n.ID(), s, l)
		}
		if hl, _ := f.value("rdb_raft_has_leader", nil); hl != 1 {
			t.Errorf("%s: rdb_raft_has_leader = %v", n.ID(), hl)
		}
	}
	if leaders != 1 {
		t.Errorf("rdb_raft_leader sums to %v over the cluster, want 1", leaders)
	}
}

// checkHTTPCounts checks each node counted exactly the requests the load
// sent it, by endpoint and status code.
func checkHTTPCounts(t *testing.T, nodes []*Node, baseline map[string]families, load *sent) {
	t.Helper()
	total := 0
	for key, want := range load.n {
		var id, endpoint string
		var code int
		if _, err := fmt.Sscanf(key, "%s %s %d", &id, &endpoint, &code); err != nil {
			t.Fatalf("bad key %q: %v", key, err)
		}
		labels := map[string]string{"endpoint": endpoint, "method": "POST", "code": fmt.Sprint(code)}
		for _, n := range nodes {
			if n.ID() != id {
				continue
			}
			before, _ := baseline[id].value("rdb_http_requests_total", labels)
			after, _ := scrape(t, n).value("rdb_http_requests_total", labels)
			if got := after - before; got != float64(want) {
				t.Errorf("%s: rdb_http_requests_total%v rose by %v, want %d", id, labels, got, want)
			}
		}
		total += want
	}
	if total != 4*30*2 {
		t.Errorf("load recorded %d requests, want %d", total, 4*30*2)
	}
}

func TestMetrics_Auth(t *testing.T) {
	authFile := filepath.Join(t.TempDir(), "auth.json")
	users := `[{"username": "*", "perms": ["ready"]},
		{"username": "ops", "password": "pw", "perms": ["status"]},
		{"username": "app", "password": "pw", "perms": ["query"]}]`
	if err := os.WriteFile(authFile, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		extra []string
		anon  int
	}{
		{"guarded", nil, http.StatusUnauthorized},
		{"open", []string{"-metrics-no-auth"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := StartNode(t, append([]string{"-auth", authFile}, tc.extra...)...)
			for _, c := range []struct {
				user string
				want int
			}{{"", tc.anon}, {"app", tc.anon}, {"ops", http.StatusOK}} {
				req, err := http.NewRequest("GET", n.URL()+"/metrics", nil)
				if err != nil {
					t.Fatal(err)
				}
				if c.user != "" {
					req.SetBasicAuth(c.user, "pw")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Errorf("GET /metrics as %q: status %d, want %d", c.user, resp.StatusCode, c.want)
				}
			}
		})
	}
}
