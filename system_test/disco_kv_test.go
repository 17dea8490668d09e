package system_test

import (
	"fmt"
	"testing"
)

// TestDisco_Etcd runs the key-value scenario against a real etcd.
func TestDisco_Etcd(t *testing.T) {
	e := startEtcd(t)
	config := fmt.Sprintf(`{"endpoints":[%q]}`, e.ClientAddr)
	t.Run("join one by one", func(t *testing.T) { kvScenario(t, "etcd-kv", config, e.record) })
	t.Run("lone non-voter", func(t *testing.T) { loneNonVoter(t, "etcd-kv", config, e.record) })
}

// TestDisco_Consul runs the key-value scenario against a fake of Consul's
// KV HTTP API (no Consul server is installable here).
func TestDisco_Consul(t *testing.T) {
	c := startFakeConsul(t)
	config := fmt.Sprintf(`{"address":%q}`, c.Addr())
	t.Run("join one by one", func(t *testing.T) {
		kvScenario(t, "consul-kv", config, c.record)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.casOK != 1 {
			t.Errorf("%d create-only writes succeeded, want 1 (the first node's)", c.casOK)
		}
	})
	t.Run("lone non-voter", func(t *testing.T) { loneNonVoter(t, "consul-kv", config, c.record) })
}
