package main

import (
	"io"
	"testing"
	"time"
)

// TestParseServeFlags_DiscoAccepted lists combinations rqlited accepts.
func TestParseServeFlags_DiscoAccepted(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"dns voter", []string{"-disco-mode", "dns", "-bootstrap-expect", "3"}},
		{"dns non-voter without bootstrap-expect", []string{"-disco-mode", "dns", "-raft-non-voter"}},
		{"dns-srv inline config", []string{"-disco-mode=dns-srv", `-disco-config={"name":"svc","service":"raft"}`, "-bootstrap-expect", "3"}},
		{"etcd", []string{"-disco-mode", "etcd-kv", "-disco-key", "k", "-disco-config", `{"endpoints":["localhost:2379"]}`}},
		{"consul non-voter", []string{"-disco-mode", "consul-kv", "-raft-non-voter", "-disco-config", `{"address":"localhost:8500"}`}},
		{"reap timeouts", []string{"-raft-reap-node-timeout", "1h", "-raft-reap-read-only-node-timeout", "30s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseServeFlags("rdb serve", append(tt.args, "d"), false, io.Discard); err != nil {
				t.Fatal(err)
			}
		})
	}
	cfg, err := parseServeFlags("rdb serve", []string{"-raft-reap-node-timeout", "1h", "d"}, false, io.Discard)
	if err != nil || cfg.RaftReapNodeTimeout != time.Hour || cfg.RaftReapReadOnlyTimeout != 0 {
		t.Errorf("reap flags: %+v, %v", cfg, err)
	}
	if sc := storeConfig(cfg, "/d", nil); sc.ReapTimeout != time.Hour || sc.ReapReadOnlyTimeout != 0 {
		t.Errorf("store config reap timeouts %v, %v", sc.ReapTimeout, sc.ReapReadOnlyTimeout)
	}
	for _, f := range cfg.ignoredFlags() {
		if f == "-raft-reap-node-timeout" {
			t.Error("-raft-reap-node-timeout still reported as ignored")
		}
	}
}

// TestDiscoConfig_DNSPort: the dns port defaults to -raft-addr's, which
// is taken when the node is wired (newDiscovery); the config may set it.
func TestDiscoConfig_DNSPort(t *testing.T) {
	cfg, err := parseServeFlags("rdb serve", []string{"-disco-mode", "dns", "-bootstrap-expect", "3",
		"-disco-config", `{"name":"x","port":5002}`, "d"}, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := cfg.discoConfig()
	if err != nil || dc.dns.Name != "x" || dc.dns.Port != 5002 {
		t.Errorf("dns config %+v, %v", dc.dns, err)
	}
}
