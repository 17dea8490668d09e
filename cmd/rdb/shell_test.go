package main

import (
	"io"
	"reflect"
	"testing"
	"time"
)

func TestParseShellFlags(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name       string
		args       []string
		env        func(string) string
		wantAddrs  []string
		wantScheme string
		wantUser   string
		wantPass   string
		wantTO     time.Duration
		wantCmds   []string
	}{
		{"defaults", nil, env(), []string{"127.0.0.1:4001"}, "http", "", "", 30 * time.Second, nil},
		{"short flags", []string{"-H", "db1", "-p", "4011", "-s", "https", "-u", "bob:pa:ss", "-t", "5"}, env(),
			[]string{"db1:4011"}, "https", "bob", "pa:ss", 5 * time.Second, nil},
		{"long flags and alternates", []string{"--host=db1", "--port", "4011", "--alternatives", "db2:4001, db3:4001", "--http-timeout", "2s"}, env(),
			[]string{"db1:4011", "db2:4001", "db3:4001"}, "http", "", "", 2 * time.Second, nil},
		{"RQLITE_HOST", nil, env("RQLITE_HOST", "https://h:9"), []string{"h:9"}, "https", "", "", 30 * time.Second, nil},
		{"RQLITE_HOST without port", nil, env("RQLITE_HOST", "h"), []string{"h:4001"}, "http", "", "", 30 * time.Second, nil},
		{"flags beat RQLITE_HOST", []string{"-p", "5"}, env("RQLITE_HOST", "h:9"), []string{"127.0.0.1:5"}, "http", "", "", 30 * time.Second, nil},
		{"one-shot", []string{"-p", "5", "SELECT 1", ".tables"}, env(), []string{"127.0.0.1:5"}, "http", "", "", 30 * time.Second, []string{"SELECT 1", ".tables"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, version, err := parseShellFlags("rqlite", tt.args, tt.env, io.Discard)
			if err != nil || version {
				t.Fatalf("parse: %v, version %v", err, version)
			}
			c := cfg.Client
			if !reflect.DeepEqual(c.Addrs, tt.wantAddrs) || c.Scheme != tt.wantScheme || c.User != tt.wantUser ||
				c.Password != tt.wantPass || c.Timeout != tt.wantTO || !reflect.DeepEqual(cfg.Commands, tt.wantCmds) {
				t.Errorf("got addrs %v scheme %q user %q/%q timeout %v commands %q", c.Addrs, c.Scheme, c.User, c.Password, c.Timeout, cfg.Commands)
			}
		})
	}
}

func TestParseShellFlags_LineMode(t *testing.T) {
	tests := []struct {
		name string
		prog string
		args []string
		want bool
	}{
		{"rdb shell", "rdb shell", nil, false},
		{"invoked as rqlite", "rqlite", nil, true},
		{"flag", "rdb shell", []string{"--line-mode"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := parseShellFlags(tt.prog, tt.args, func(string) string { return "" }, io.Discard)
			if err != nil || cfg.LineMode != tt.want {
				t.Errorf("LineMode = %v, %v; want %v", cfg.LineMode, err, tt.want)
			}
		})
	}
}

func TestParseShellFlags_Errors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"bad timeout", []string{"-t", "soon"}},
		{"bad scheme", []string{"-s", "ftp"}},
		{"unknown flag", []string{"--frobnicate"}},
		{"cert without key", []string{"-d", "c.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := parseShellFlags("rqlite", tt.args, func(string) string { return "" }, io.Discard); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestRun_ShellVersion(t *testing.T) {
	for _, args := range [][]string{{"rqlite", "-v"}, {"rdb", "shell", "--version"}} {
		var out stringWriter
		if code := run(args, &out, io.Discard); code != 0 || out.s != versionString()+"\n" {
			t.Errorf("%v: exit %d, output %q", args, code, out.s)
		}
	}
}

type stringWriter struct{ s string }

func (w *stringWriter) Write(p []byte) (int, error) { w.s += string(p); return len(p), nil }
