package main

import (
	"encoding/json"
	"net"
	"path/filepath"
	"testing"

	"github.com/rdb/rdb/internal/mux"
)

// TestStatusReporters checks the /status sections wired in main: "mux"
// from the inter-node mux and "extensions" as rqlite reports a node with
// none loaded (names an empty list, not null).
func TestStatusReporters(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mc := mux.DefaultConfig()
	mc.AdvAddr = "node1:4002"
	m, err := mux.New(ln, mc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := t.TempDir()
	want := map[string]string{
		"mux":        `{"addr":"node1:4002","encrypted":"false","timeout":"10s"}`,
		"extensions": `{"dir":` + quote(t, filepath.Join(dir, "extensions")) + `,"names":[]}`,
	}
	got := statusReporters(m, dir)
	if len(got) != len(want) {
		t.Errorf("%d reporters, want %d", len(got), len(want))
	}
	for name, w := range want {
		m, err := got[name]()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b, _ := json.Marshal(m); string(b) != w {
			t.Errorf("%s: got %s, want %s", name, b, w)
		}
	}
}

func quote(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
