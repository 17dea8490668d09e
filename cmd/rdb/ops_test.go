package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cfg.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParseServeFlags_OpsErrors checks that each operations file mistake
// of OPS.md §2 and §3.1 stops the node at flag parsing with its message.
func TestParseServeFlags_OpsErrors(t *testing.T) {
	good := `{"version":1,"type":"s3","sub":{"bucket":"b","path":"p"}}`
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"extensions", []string{"-extensions-path", "/tmp/ext"}, "cannot load native SQLite extensions"},
		{"backup version", []string{"-auto-backup", writeFile(t, `{"version":2,"type":"file","interval":"1s","sub":{"dir":"/tmp","name":"b"}}`)}, "failed to start auto-backups: invalid version"},
		{"backup type", []string{"-auto-backup", writeFile(t, `{"version":1,"type":"azure","interval":"1s","sub":{}}`)}, "failed to start auto-backups: unsupported storage type"},
		{"backup interval", []string{"-auto-backup", writeFile(t, `{"version":1,"type":"file","interval":"0s","sub":{"dir":"/tmp","name":"b"}}`)}, "failed to start auto-backups: invalid interval"},
		{"backup relative dir", []string{"-auto-backup", writeFile(t, `{"version":1,"type":"file","interval":"1s","sub":{"dir":"rel","name":"b"}}`)}, "directory path must be absolute: rel"},
		{"backup missing file", []string{"-auto-backup", "/nonexistent/backup.json"}, "failed to start auto-backups: read /nonexistent/backup.json"},
		{"restore file type", []string{"-auto-restore", writeFile(t, `{"version":1,"type":"file","sub":{"dir":"/tmp","name":"b"}}`)}, "failed to start auto-restore: unsupported storage type"},
		{"restore version", []string{"-auto-restore", writeFile(t, `{"version":3,"type":"s3","sub":{"bucket":"b","path":"p"}}`)}, "invalid version"},
		{"restore with join", []string{"-auto-restore", writeFile(t, good), "-join", "127.0.0.1:4002"}, "auto-restoring cannot be used when joining a cluster"},
		{"cdc scheme", []string{"-cdc-config", "ftp://example.com/x"}, "cdc: unsupported scheme"},
		{"cdc file scheme", []string{"-cdc-config", writeFile(t, `{"endpoint":"kafka://x"}`)}, "cdc: unsupported scheme"},
		{"cdc missing file", []string{"-cdc-config", "/nonexistent/cdc.json"}, "cdc: read config"},
		{"cdc non-voter", []string{"-cdc-config", "stdout", "-raft-non-voter", "-join", "127.0.0.1:4002"}, "CDC cannot be enabled on non-voting nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServeFlags("rdb serve", append(tt.args, t.TempDir()), false, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseServeFlags_OpsAccepted(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseServeFlags("rdb serve", []string{
		"-auto-backup", writeFile(t, `{"version":1,"type":"file","interval":"1s","sub":{"dir":"`+dir+`","name":"b"}}`),
		"-auto-restore", writeFile(t, `{"version":1,"type":"s3","sub":{"bucket":"b","path":"p"}}`),
		"-bootstrap-expect", "3", "-join", "127.0.0.1:4002",
		"-cdc-config", "http://127.0.0.1:9/cdc", t.TempDir()}, false, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ops.backup == nil || cfg.ops.restore == nil || cfg.ops.cdc == nil {
		t.Fatalf("configs not kept: %+v", cfg.ops)
	}
	for _, f := range cfg.ignoredFlags() {
		if f == "-auto-backup" || f == "-cdc-config" {
			t.Errorf("%s still reported as ignored", f)
		}
	}
}
