package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseServeFlags_OTLP(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(pem, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" means valid
	}{
		{"none", nil, ""},
		{"endpoint", []string{"-otlp-endpoint", "collector:4317"}, ""},
		{"endpoint insecure", []string{"-otlp-endpoint", "collector:4317", "-otlp-insecure"}, ""},
		{"endpoint tls", []string{"-otlp-endpoint", "collector:4317", "-otlp-ca-cert", pem, "-otlp-cert", pem, "-otlp-key", pem}, ""},
		{"insecure without endpoint", []string{"-otlp-insecure"}, "OTLP options require -otlp-endpoint"},
		{"ca without endpoint", []string{"-otlp-ca-cert", pem}, "OTLP options require -otlp-endpoint"},
		{"no-verify without endpoint", []string{"-otlp-no-verify"}, "OTLP options require -otlp-endpoint"},
		{"scheme", []string{"-otlp-endpoint", "http://collector:4317"}, "without a scheme"},
		{"no port", []string{"-otlp-endpoint", "collector"}, "not a host:port"},
		{"zero interval", []string{"-otlp-endpoint", "c:4317", "-otlp-interval", "0s"}, "must be positive"},
		{"cert without key", []string{"-otlp-endpoint", "c:4317", "-otlp-cert", pem}, "both -otlp-cert and -otlp-key"},
		{"insecure with tls", []string{"-otlp-endpoint", "c:4317", "-otlp-insecure", "-otlp-ca-cert", pem}, "cannot be combined"},
		{"missing file", []string{"-otlp-endpoint", "c:4317", "-otlp-ca-cert", missing}, "-otlp-ca-cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServeFlags("rdb serve", append(tt.args, "d"), false, &bytes.Buffer{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if cfg.OTLP.Interval != 30*time.Second {
					t.Errorf("interval %s, want the 30s default", cfg.OTLP.Interval)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	_, err := parseServeFlags("rdb serve", []string{"-otlp-key", pem, "d"}, false, &bytes.Buffer{})
	if !errors.Is(err, errOTLPNeedsEndpoint) {
		t.Errorf("key without endpoint: %v, want errOTLPNeedsEndpoint", err)
	}
}

func TestOTLPFlags_Status(t *testing.T) {
	off, _ := otlpFlags{Interval: 30 * time.Second}.status()
	if off["enabled"] != false || off["error"] != nil || off["interval"] != "30s" {
		t.Errorf("status without endpoint = %v", off)
	}
	on, _ := otlpFlags{Endpoint: "c:4317", Interval: time.Minute}.status()
	if on["enabled"] != false || on["endpoint"] != "c:4317" || on["error"] != otlpNotBuilt {
		t.Errorf("status with endpoint = %v", on)
	}
}
