package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rdb/rdb/disco"
)

const k8sDir = "../../deploy/kubernetes"

// k8sObjects parses every YAML document of deploy/kubernetes/*.yaml.
func k8sObjects(t *testing.T) []map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", k8sDir, err)
	}
	var objs []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o map[string]any
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o != nil {
				objs = append(objs, o)
			}
		}
	}
	return objs
}

// get walks a path of map keys and list indexes (ints) in a YAML tree.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// TestKubernetes_Manifests checks deploy/kubernetes: every object has
// apiVersion, kind and metadata.name; the shape is rqlite's documented one
// (OPS.md §1.4); and the StatefulSet's args are valid `rdb serve` flags,
// parsed with rdb's own parser.
func TestKubernetes_Manifests(t *testing.T) {
	byKind := map[string][]map[string]any{}
	for _, o := range k8sObjects(t) {
		av, kind, name := get(o, "apiVersion"), get(o, "kind"), get(o, "metadata", "name")
		if s, ok := av.(string); !ok || s == "" {
			t.Errorf("object %v: no apiVersion", o)
		}
		if s, ok := kind.(string); !ok || s == "" {
			t.Errorf("object %v: no kind", o)
		}
		if s, ok := name.(string); !ok || s == "" {
			t.Errorf("object %v: no metadata.name", o)
		}
		k, _ := kind.(string)
		byKind[k] = append(byKind[k], o)
	}
	var headless, client string
	for _, svc := range byKind["Service"] {
		name, _ := get(svc, "metadata", "name").(string)
		if get(svc, "spec", "clusterIP") == "None" {
			if get(svc, "spec", "publishNotReadyAddresses") != true {
				t.Errorf("headless Service %s must publish not-ready addresses (discovery runs before readiness)", name)
			}
			headless = name
		} else {
			client = name
		}
	}
	if headless == "" || client == "" {
		t.Fatalf("want a headless Service for discovery and a client Service; got headless %q, client %q", headless, client)
	}
	if len(byKind["PodDisruptionBudget"]) != 1 {
		t.Errorf("want one PodDisruptionBudget, got %d", len(byKind["PodDisruptionBudget"]))
	}
	if len(byKind["StatefulSet"]) != 1 {
		t.Fatalf("want one StatefulSet, got %d", len(byKind["StatefulSet"]))
	}
	checkStatefulSet(t, byKind["StatefulSet"][0], headless)
}

func checkStatefulSet(t *testing.T, ss map[string]any, headless string) {
	t.Helper()
	spec := get(ss, "spec")
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"podManagementPolicy", get(spec, "podManagementPolicy"), "Parallel"},
		{"serviceName", get(spec, "serviceName"), headless},
		{"readiness probe path", get(spec, "template", "spec", "containers", 0, "readinessProbe", "httpGet", "path"), "/readyz"},
		{"liveness probe path", get(spec, "template", "spec", "containers", 0, "livenessProbe", "httpGet", "path"), "/readyz?noleader"},
	} {
		if c.got != c.want {
			t.Errorf("StatefulSet %s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if get(spec, "template", "spec", "containers", 0, "resources", "requests", "memory") == nil {
		t.Error("StatefulSet container has no memory request")
	}
	if get(spec, "volumeClaimTemplates", 0, "metadata", "name") == nil {
		t.Error("StatefulSet has no volume claim template")
	}
	var args []string
	raw, _ := get(spec, "template", "spec", "containers", 0, "args").([]any)
	for _, a := range raw {
		s, ok := a.(string)
		if !ok {
			t.Fatalf("StatefulSet arg %v (%T) is not a string: quote it", a, a)
		}
		args = append(args, s)
	}
	cfg, err := parseServeFlags("rdb serve", append(args, "/rqlite/file/data"), false, io.Discard)
	if err != nil {
		t.Fatalf("StatefulSet args %q: %v", args, err)
	}
	dc, err := cfg.discoConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DiscoMode != disco.ModeDNS || dc.dns.Name != headless || cfg.BootstrapExpect != 3 {
		t.Errorf("StatefulSet args give disco mode %q, name %q, bootstrap-expect %d; want dns, %s, 3",
			cfg.DiscoMode, dc.dns.Name, cfg.BootstrapExpect, headless)
	}
}

// TestKubernetes_Entrypoint runs deploy/docker-entrypoint.sh with a fake
// hostname(1) and rdb, and parses the command it would run with rdb's
// own flag parser.
func TestKubernetes_Entrypoint(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the entrypoint with")
	}
	bin := t.TempDir()
	writeScript(t, filepath.Join(bin, "hostname"), `if [ "$1" = -f ]; then echo rdb-1.rdb-svc-internal.default.svc.cluster.local; else echo rdb-1; fi`)
	writeScript(t, filepath.Join(bin, "rdb"), `for a in "$@"; do printf '%s\n' "$a"; done`)
	k8sArgs := []string{"-disco-mode=dns", `-disco-config={"name":"rdb-svc-internal"}`, "-bootstrap-expect", "3"}
	tests := []struct {
		name  string
		env   []string
		args  []string
		check func(t *testing.T, c *Config)
	}{
		{"defaults", nil, k8sArgs, func(t *testing.T, c *Config) {
			want := Config{NodeID: "rdb-1", HTTPAddr: "0.0.0.0:4001", RaftAddr: "0.0.0.0:4002", DataPath: "/rqlite/file/data",
				HTTPAdvAddr: "rdb-1.rdb-svc-internal.default.svc.cluster.local:4001",
				RaftAdvAddr: "rdb-1.rdb-svc-internal.default.svc.cluster.local:4002"}
			got := Config{NodeID: c.NodeID, HTTPAddr: c.HTTPAddr, RaftAddr: c.RaftAddr, DataPath: c.DataPath,
				HTTPAdvAddr: c.HTTPAdvAddr, RaftAdvAddr: c.RaftAdvAddr}
			if got != want || c.DiscoMode != "dns" || c.BootstrapExpect != 3 || c.FKConstraints {
				t.Errorf("got %+v (disco %q, expect %d, fk %v), want %+v", got, c.DiscoMode, c.BootstrapExpect, c.FKConstraints, want)
			}
		}},
		{"env overrides", []string{"NODE_ID=n9", "HTTP_ADV_ADDR=web:80", "RAFT_ADDR=0.0.0.0:5002", "DATA_DIR=/data", "ENABLE_FK=true",
			"KUBERNETES_SERVICE_HOST=10.0.0.1", "START_DELAY=0"}, k8sArgs, func(t *testing.T, c *Config) {
			if c.NodeID != "n9" || c.HTTPAdvAddr != "web:80" || c.RaftAddr != "0.0.0.0:5002" || c.DataPath != "/data" || !c.FKConstraints {
				t.Errorf("env overrides not applied: %+v", c)
			}
		}},
		{"flags win over defaults", nil, []string{"-node-id", "given", "--http-adv-addr=h:1"}, func(t *testing.T, c *Config) {
			if c.NodeID != "given" || c.HTTPAdvAddr != "h:1" || c.RaftAdvAddr != "rdb-1.rdb-svc-internal.default.svc.cluster.local:4002" {
				t.Errorf("got node ID %q, HTTP adv %q, Raft adv %q", c.NodeID, c.HTTPAdvAddr, c.RaftAdvAddr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(sh, append([]string{"../../deploy/docker-entrypoint.sh"}, tt.args...)...)
			cmd.Env = append([]string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}, tt.env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("entrypoint: %v", err)
			}
			argv := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(argv) == 0 || argv[0] != "serve" {
				t.Fatalf("entrypoint ran rdb %q, want rdb serve …", argv)
			}
			cfg, err := parseServeFlags("rdb serve", argv[1:], false, io.Discard)
			if err != nil {
				t.Fatalf("rdb %q: %v", argv, err)
			}
			if slices.Contains(argv, "") {
				t.Errorf("empty argument in %q", argv)
			}
			tt.check(t, cfg)
		})
	}
}

func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}
