package shell

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// requireEndpoint skips when the node does not serve path yet (the backup
// and load endpoints land with their own issue).
func requireEndpoint(t *testing.T, n *node, path string) {
	t.Helper()
	resp, err := http.Get("http://" + n.HTTPAddr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		t.Skipf("node does not serve %s yet", path)
	}
}

func TestShell_BackupRestore_TwoNodes(t *testing.T) {
	src := startNode(t, "")
	requireEndpoint(t, src, "/db/backup")
	if _, code := runShell(t, fooSetup, src.HTTPAddr); code != 0 {
		t.Fatal("setup failed")
	}
	const query = ".mode csv\nSELECT * FROM foo ORDER BY id;\n"
	want, _ := runShell(t, query, src.HTTPAddr)
	dir := t.TempDir()
	tests := []struct {
		name, save, saved string
	}{
		{"binary", ".backup", "backup file written successfully\n"},
		{"sql", ".dump", "SQL text file written successfully\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, tt.name)
			if out, _ := runShell(t, tt.save+" "+file+"\n", src.HTTPAddr); body(t, out) != tt.saved {
				t.Fatalf("%s: %q", tt.save, out)
			}
			dst := startNode(t, "")
			out, code := runShell(t, ".restore "+file+"\n", dst.HTTPAddr)
			if code != 0 || !strings.HasSuffix(body(t, out), "Database restored successfully.\n") {
				t.Fatalf(".restore: exit %d, %q", code, out)
			}
			if got, _ := runShell(t, query, dst.HTTPAddr); body(t, got) != body(t, want) {
				t.Errorf("restored rows\n%s\nwant\n%s", body(t, got), body(t, want))
			}
		})
	}
}

func TestShell_BootSnapshotReap_RealNode(t *testing.T) {
	src := startNode(t, "")
	for _, p := range []string{"/boot", "/snapshot", "/reap", "/db/backup"} {
		requireEndpoint(t, src, p)
	}
	if _, code := runShell(t, fooSetup, src.HTTPAddr); code != 0 {
		t.Fatal("setup failed")
	}
	file := filepath.Join(t.TempDir(), "boot.db")
	if out, code := runShell(t, ".backup "+file+"\n", src.HTTPAddr); code != 0 {
		t.Fatalf(".backup: %s", out)
	}
	dst := startNode(t, "")
	tests := []struct {
		name, input string
		check       check
	}{
		{"boot", ".boot " + file + "\n", exact("Node booted successfully.\n")},
		{"booted content", ".mode csv\nSELECT name FROM foo ORDER BY id;\n", exact("name\nfiona\n日本語\n")},
		{"snapshot", ".snapshot\n", exact("")},
		{"reap", ".reap\n", matches(`^snapshots reaped: \d+, WALs checkpointed: \d+\n$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runShell(t, tt.input, dst.HTTPAddr)
			if code != 0 {
				t.Errorf("exit %d: %s", code, out)
			}
			tt.check(t, body(t, out))
		})
	}
}
