package cdc

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestHTTPSink_TLSOptions(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tls  *TLSConfig
		ok   bool
	}{
		{"no trust", nil, false},
		{"ca file", &TLSConfig{CACertFile: ca}, true},
		{"ca file, wrong server name", &TLSConfig{CACertFile: ca, ServerName: "other.example"}, false},
		{"insecure", &TLSConfig{InsecureSkipVerify: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(srv.URL)
			cfg.TLS = tt.tls
			s, err := newHTTPSink(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = s.send(context.Background(), []byte(`{}`))
			if (err == nil) != tt.ok {
				t.Fatalf("send: %v, want ok=%v", err, tt.ok)
			}
		})
	}
	cfg := DefaultConfig(srv.URL)
	cfg.TLS = &TLSConfig{CACertFile: filepath.Join(t.TempDir(), "missing.pem")}
	if _, err := newHTTPSink(cfg); err == nil {
		t.Fatal("missing CA file accepted")
	}
}

func TestHTTPSink_BasicAuthAndStatus(t *testing.T) {
	var mu sync.Mutex
	var user, pass string
	var ok bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		user, pass, ok = r.BasicAuth()
		mu.Unlock()
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)
	s, err := newHTTPSink(DefaultConfig(u + "/cdc"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.send(context.Background(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !ok || user != "alice" || pass != "s3cret" {
		t.Errorf("basic auth %v %q %q", ok, user, pass)
	}
	mu.Unlock()
	if strings.Contains(s.String(), "s3cret") || s.String() != srv.URL+"/cdc" {
		t.Errorf("shown endpoint %q leaks or differs", s.String())
	}
	f, _ := newHTTPSink(DefaultConfig(srv.URL + "/fail"))
	if err := f.send(context.Background(), []byte(`{}`)); err == nil {
		t.Error("a 418 counted as delivered")
	}
}

func TestStdoutSink_OneLinePerEnvelope(t *testing.T) {
	var buf bytes.Buffer
	cl := &fakeCluster{}
	cl.leader.Store(true)
	cfg := DefaultConfig(EndpointStdout)
	cfg.MaxBatchDelay, cfg.MaxBatchSize = 1, 1
	s, err := New(cfg, "n1", t.TempDir(), cl, nil, nil, &syncWriter{w: &buf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	s.Capture(changes(1, 2))
	waitUntil(t, "two envelopes", func() bool { return s.hwm.Load() == 2 })
	s.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"node_id":"n1","payload":[{"index":1,`) {
		t.Fatalf("stdout:\n%s", buf.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
