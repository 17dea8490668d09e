package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/rdb/rdb/store"
)

// dashboardDir holds the Grafana dashboards shipped with rdb.
const dashboardDir = "../deploy/grafana"

var (
	promString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promLabels = regexp.MustCompile(`\{[^}]*\}`)
	promRange  = regexp.MustCompile(`\[[^\]]*\]`)
	promGroup  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent  = regexp.MustCompile(`[$0-9.]?[A-Za-z_:][A-Za-z0-9_:]*\s*\(?`)
)

// promKeywords are PromQL words that are neither metrics nor functions.
var promKeywords = []string{"and", "or", "unless", "offset", "bool", "by", "without", "on",
	"ignoring", "group_left", "group_right", "inf", "nan"}

// metricNames lists the metric names a PromQL expression (or a Grafana
// variable query) reads: identifiers outside strings, label matchers,
// ranges and grouping clauses that are not functions or keywords.
func metricNames(expr string) []string {
	expr = promString.ReplaceAllString(expr, `""`)
	expr = promLabels.ReplaceAllString(expr, " ")
	expr = promRange.ReplaceAllString(expr, " ")
	expr = promGroup.ReplaceAllString(expr, " ")
	var out []string
	for _, m := range promIdent.FindAllString(expr, -1) {
		if strings.ContainsAny(m[:1], "$0123456789.") || strings.HasSuffix(m, "(") {
			continue // a variable, a number with a unit, or a function call
		}
		name := strings.TrimSpace(m)
		if !slices.Contains(promKeywords, strings.ToLower(name)) {
			out = append(out, name)
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`sum by (endpoint) (rate(rdb_http_requests_total{endpoint=~"/db/.*"}[$__rate_interval]))`, []string{"rdb_http_requests_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(rdb_x_bucket{a="b"}[5m])))`, []string{"rdb_x_bucket"}},
		{`rdb_a{instance=~"$instance"} - rdb_b and on(instance) rdb_c > 1e3`, []string{"rdb_a", "rdb_b", "rdb_c"}},
		{`time() - max by (instance) (process_start_time_seconds)`, []string{"process_start_time_seconds"}},
		{`label_values(rdb_node_info, instance)`, []string{"rdb_node_info", "instance"}},
	} {
		if got := metricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// exportedNames is every series name a node exports once each kind of
// event has happened, histograms with their _bucket, _sum and _count.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	r := newTestRegistry(t, Sources{
		Store:        func() store.Metrics { return store.Metrics{Open: true, State: "Leader"} },
		QueuedWrites: func() int { return 0 },
		Forwarded:    func() int64 { return 0 },
	})
	r.FSMApplied(1, time.Millisecond)
	r.LogStored(1, time.Millisecond)
	r.SnapshotTaken(time.Second)
	r.Endpoint("/db/execute").Observe("POST", 200, time.Millisecond)
	fams, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// dashboardQueries walks a Grafana dashboard for PromQL: panel (and
// nested row) target expressions, and template variable queries.
func dashboardQueries(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		Expr string `json:"expr"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var dash struct {
		Title      string  `json:"title"`
		UID        string  `json:"uid"`
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Errorf("%s: dashboard without title or uid", path)
	}
	out := map[string]string{}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for i, tg := range p.Targets {
				out[p.Title+" #"+string(rune('A'+i))] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("%s: variable %s: %v", path, v.Name, err)
		}
		// label_values(metric, label): only the metric is a series name.
		names := metricNames(q.Query)
		if len(names) > 0 {
			out["variable "+v.Name] = names[0]
		}
	}
	return out
}

func TestDashboards_UseExportedMetrics(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(dashboardDir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards in %s (%v)", dashboardDir, err)
	}
	exported := exportedNames(t)
	for _, path := range paths {
		queries := dashboardQueries(t, path)
		if len(queries) < 10 {
			t.Errorf("%s: only %d queries found", path, len(queries))
		}
		for where, expr := range queries {
			names := metricNames(expr)
			if len(names) == 0 {
				t.Errorf("%s: %s: no metric in %q", path, where, expr)
			}
			for _, n := range names {
				if !exported[n] {
					t.Errorf("%s: %s uses %s, which rdb does not export", path, where, n)
				}
			}
		}
	}
}
