package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/rdb/rdb/internal/loadgen"
	"github.com/rdb/rdb/internal/testcert"
)

func TestParseBenchFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, cfg loadgen.Config, f benchFlags)
	}{
		{"defaults", nil, func(t *testing.T, cfg loadgen.Config, f benchFlags) {
			want := loadgen.DefaultConfig()
			if !reflect.DeepEqual(cfg, want) || f.jsonOut || f.progress != "auto" {
				t.Fatalf("cfg = %+v, flags %+v; want the defaults %+v", cfg, f, want)
			}
		}},
		{"urls", []string{"-u", "http://a:1,b:2", "--url", "https://c:3/"}, func(t *testing.T, cfg loadgen.Config, _ benchFlags) {
			if want := []string{"http://a:1", "http://b:2", "https://c:3/"}; !reflect.DeepEqual(cfg.URLs, want) {
				t.Fatalf("URLs = %q, want %q", cfg.URLs, want)
			}
		}},
		{"workloads", []string{"-w", "write,read", "-l", "strong", "--workload", "bulk,mixed-none"}, func(t *testing.T, cfg loadgen.Config, _ benchFlags) {
			want := []loadgen.Workload{{Kind: "bulk"}, {Kind: "mixed", Level: "none"}}
			if !reflect.DeepEqual(cfg.Workloads, want) {
				t.Fatalf("workloads = %+v, want the last flag's %+v", cfg.Workloads, want)
			}
		}},
		{"read level", []string{"--workload", "read", "--level", "linearizable"}, func(t *testing.T, cfg loadgen.Config, _ benchFlags) {
			if want := []loadgen.Workload{{Kind: "read", Level: "linearizable"}}; !reflect.DeepEqual(cfg.Workloads, want) {
				t.Fatalf("workloads = %+v, want %+v", cfg.Workloads, want)
			}
		}},
		{"numbers", []string{"-c", "3", "-n", "50", "-d", "2s", "-t", "1s", "--batch", "10", "--rows", "20", "--read-ratio", "0.25", "--seed", "9"},
			func(t *testing.T, cfg loadgen.Config, _ benchFlags) {
				got := []any{cfg.Concurrency, cfg.Requests, cfg.Duration, cfg.Timeout, cfg.Batch, cfg.Rows, cfg.ReadRatio, cfg.Seed}
				want := []any{3, 50, 2 * time.Second, time.Second, 10, 20, 0.25, uint64(9)}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
			}},
		{"output and table", []string{"--json", "--progress", "never", "--table", "t9", "--keep", "--user", "bob:pw:x"},
			func(t *testing.T, cfg loadgen.Config, f benchFlags) {
				if !f.jsonOut || f.progress != "never" || cfg.Table != "t9" || !cfg.Keep || cfg.User != "bob" || cfg.Password != "pw:x" {
					t.Fatalf("cfg = %+v, flags %+v", cfg, f)
				}
			}},
		{"insecure", []string{"--insecure"}, func(t *testing.T, cfg loadgen.Config, _ benchFlags) {
			if cfg.TLS == nil || !cfg.TLS.InsecureSkipVerify {
				t.Fatalf("TLS = %+v, want InsecureSkipVerify", cfg.TLS)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, f, err := parseBenchFlags("rdb bench", tt.args, io.Discard)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			tt.check(t, cfg, f)
		})
	}
}

func TestParseBenchFlags_Errors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-w", "scan"}, `unknown workload "scan"`},
		{[]string{"-l", "eventual", "-w", "read"}, `level "eventual"`},
		{[]string{"-c", "0"}, "concurrency"},
		{[]string{"-n", "-1"}, "requests"},
		{[]string{"--progress", "sometimes"}, "--progress"},
		{[]string{"--ca-cert", "/nonexistent.pem"}, "/nonexistent.pem"},
		{[]string{"-u", "ftp://x"}, "want http://host:port"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			_, _, err := parseBenchFlags("rdb bench", tt.args, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestProgressWriter(t *testing.T) {
	var out, errw bytes.Buffer
	if w := progressWriter("auto", &out, &errw); w != nil {
		t.Errorf("auto without a terminal = %v, want none", w)
	}
	if w := progressWriter("never", &out, &errw); w != nil {
		t.Errorf("never = %v, want none", w)
	}
	if w := progressWriter("always", &out, &errw); w != &errw {
		t.Errorf("always = %v, want stderr", w)
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if w := progressWriter("auto", tty, tty); w != tty {
		t.Errorf("auto on a terminal = %v, want stderr", w)
	}
	if w := progressWriter("auto", &out, tty); w != nil {
		t.Errorf("auto with stdout piped = %v, want none", w)
	}
	if w := progressWriter("never", tty, tty); w != nil {
		t.Errorf("never on a terminal = %v, want none", w)
	}
}

// fakeRqlite answers every statement with success and every SELECT with
// one row holding n.
func fakeRqlite(t *testing.T, n int) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(fakeRqliteHandler(n))
	t.Cleanup(s.Close)
	return s
}

func fakeRqliteHandler(n int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var stmts []json.RawMessage
		json.NewDecoder(r.Body).Decode(&stmts)
		one := `{"rows_affected":1}`
		if r.URL.Path == "/db/query" {
			one = `{"columns":["c"],"values":[[` + itoa(n) + `]]}`
		}
		res := make([]string, len(stmts))
		for i := range res {
			res[i] = one
		}
		io.WriteString(w, `{"results":[`+strings.Join(res, ",")+`]}`)
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestBenchMain(t *testing.T) {
	s := fakeRqlite(t, 50)
	var stdout, stderr bytes.Buffer
	code := run([]string{"rdb", "bench", "-u", s.URL, "-w", "write,bulk,read-strong", "-n", "30", "-c", "3", "--rows", "50", "--batch", "4", "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout.String())
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Workload)
		if r.OK != 30 || r.Errors != 0 {
			t.Errorf("%s: %d ok, %d errors; want 30, 0", r.Workload, r.OK, r.Errors)
		}
	}
	if want := []string{"write", "bulk", "read-strong"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("workloads = %v, want %v", names, want)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing (no progress when not a terminal)", stderr.String())
	}
}

func TestBenchMain_Table(t *testing.T) {
	s := fakeRqlite(t, 1)
	var stdout, stderr bytes.Buffer
	code := run([]string{"rdb", "bench", "-u", s.URL, "-n", "10"}, &stdout, &stderr)
	out := stdout.String()
	if code != 0 || !strings.Contains(out, "workload") || !strings.Contains(out, "\n  write ") || strings.Contains(out, "\r") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr.String())
	}
}

func TestBenchMain_ProgressAlways(t *testing.T) {
	s := fakeRqlite(t, 1)
	var stdout, stderr bytes.Buffer
	code := run([]string{"rdb", "bench", "-u", s.URL, "-n", "1000000", "-d", "600ms", "-c", "2", "--progress", "always"}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "\rwrite  ") || strings.Contains(stdout.String(), "\r") {
		t.Fatalf("exit %d, stderr %q; want a progress line on stderr only", code, stderr.String())
	}
}

func TestBenchMain_Failures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	html := httptest.NewServer(http.NotFoundHandler())
	defer html.Close()
	// failing creates tables but fails every INSERT, or every statement
	// when the request names table t2.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case strings.Contains(r.URL.Path, "query"):
			io.WriteString(w, `{"results":[{"values":[[1]]}]}`)
		case strings.Contains(string(body), "INSERT") || strings.Contains(string(body), "t2"):
			io.WriteString(w, `{"results":[{"error":"disk I/O error"}]}`)
		default:
			io.WriteString(w, `{"results":[{}]}`)
		}
	}))
	defer failing.Close()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unreachable", []string{"-u", closed}, 1, "rdb bench: http://" + closed + ": unreachable: dial tcp"},
		{"not rqlite", []string{"-u", html.URL}, 1, "not an rqlite-compatible HTTP API: status 404"},
		{"setup failed", []string{"-u", failing.URL, "-n", "5", "--table", "t2"}, 1, "rdb bench: create table t2: disk I/O error"},
		{"all failed", []string{"-u", failing.URL, "-n", "5"}, 1, "rdb bench: workload write: every request failed"},
		{"bad flag", []string{"-c", "x"}, 2, "invalid value"},
		{"help", []string{"--help"}, 0, "Load generator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"rdb", "bench"}, tt.args...), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr.String(), tt.stderr)
			}
			if tt.name == "all failed" && !strings.Contains(stdout.String(), "write error: disk I/O error") {
				t.Errorf("stdout %q lacks the table with the error sample", stdout.String())
			}
			if strings.Contains(stderr.String(), "goroutine ") {
				t.Fatalf("a Go stack on stderr: %s", stderr.String())
			}
		})
	}
}

// writePEM writes data to name in dir and returns the path.
func writePEM(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBenchMain_MutualTLS(t *testing.T) {
	ca, err := testcert.NewCA("bench test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err1 := ca.Issue("server", "127.0.0.1")
	cli, err2 := ca.Issue("client")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	dir := t.TempDir()
	caFile := writePEM(t, dir, "ca.pem", ca.CertPEM)
	certFile, keyFile := writePEM(t, dir, "client.pem", cli.CertPEM), writePEM(t, dir, "client.key", cli.KeyPEM)
	pair, err := tls.X509KeyPair(srv.CertPEM, srv.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	s := httptest.NewUnstartedServer(fakeRqliteHandler(1))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	s.StartTLS()
	defer s.Close()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"verified both ways", []string{"--ca-cert", caFile, "--client-cert", certFile, "--client-key", keyFile}, 0, ""},
		{"unknown CA", []string{"--client-cert", certFile, "--client-key", keyFile}, 1, "certificate"},
		{"no client certificate", []string{"--ca-cert", caFile}, 1, "rdb bench: " + s.URL + ": "},
		{"key without certificate", []string{"--client-key", keyFile}, 2, "go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"rdb", "bench", "-u", s.URL, "-n", "5"}, tt.args...), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) || strings.Count(stderr.String(), "\n") > 1 {
				t.Fatalf("exit %d (want %d), stderr %q (want one line with %q)", code, tt.code, stderr.String(), tt.stderr)
			}
		})
	}
}
