package httpd

import (
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/testcert"
)

// tlsFiles writes a CA and a 127.0.0.1 server pair named cn into dir.
func tlsFiles(t *testing.T, ca *testcert.CA, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	pair, err := ca.Issue(cn, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatalf("issue %s: %v", cn, err)
	}
	certFile, keyFile, err = pair.Write(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func newCA(t *testing.T, cn string) *testcert.CA {
	t.Helper()
	ca, err := testcert.NewCA(cn)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func clientCert(t *testing.T, ca *testcert.CA, cn string) tls.Certificate {
	t.Helper()
	pair, err := ca.Issue(cn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pair.TLS()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startTLS serves a Service with tc over HTTPS and returns its address.
func startTLS(t *testing.T, tc TLSConfig) string {
	t.Helper()
	cfg := testConfig()
	cfg.TLS = tc
	s := newTestService(t, cfg, nil)
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s.Addr().String()
}

func httpsClient(ca *testcert.CA, certs ...tls.Certificate) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: certs},
	}}
}

func TestService_TLS(t *testing.T) {
	ca, other := newCA(t, "test CA"), newCA(t, "other CA")
	dir := t.TempDir()
	certFile, keyFile := tlsFiles(t, ca, dir, "server")
	caFile, err := ca.WriteCert(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	plain := startTLS(t, TLSConfig{CertFile: certFile, KeyFile: keyFile})
	mutual := startTLS(t, TLSConfig{CertFile: certFile, KeyFile: keyFile, CACertFile: caFile, VerifyClient: true})
	named := startTLS(t, TLSConfig{CertFile: certFile, KeyFile: keyFile, CACertFile: caFile,
		VerifyClient: true, VerifyCommonName: "alice"})
	tests := []struct {
		name    string
		client  *http.Client
		url     string
		wantErr bool
		want    int
	}{
		{"https", httpsClient(ca), "https://" + plain + "/status", false, 200},
		{"untrusted server", httpsClient(other), "https://" + plain + "/status", true, 0},
		{"plain http to https", http.DefaultClient, "http://" + plain + "/status", false, 400},
		{"mtls without cert", httpsClient(ca), "https://" + mutual + "/status", true, 0},
		{"mtls with cert", httpsClient(ca, clientCert(t, ca, "bob")), "https://" + mutual + "/status", false, 200},
		{"mtls untrusted cert", httpsClient(ca, clientCert(t, other, "bob")), "https://" + mutual + "/status", true, 0},
		{"common name ok", httpsClient(ca, clientCert(t, ca, "alice")), "https://" + named + "/status", false, 200},
		{"common name wrong", httpsClient(ca, clientCert(t, ca, "bob")), "https://" + named + "/status", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(tt.url)
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("GET %s succeeded with %d, want an error", tt.url, resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", tt.url, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 400 {
				b, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(b), "HTTP request to an HTTPS server") {
					t.Errorf("body = %q, want the HTTPS hint", b)
				}
			}
		})
	}
}

func TestService_TLS_Reload(t *testing.T) {
	ca := newCA(t, "test CA")
	dir := t.TempDir()
	certFile, keyFile := tlsFiles(t, ca, dir, "first")
	addr := startTLS(t, TLSConfig{CertFile: certFile, KeyFile: keyFile})
	servedCN := func() string {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := servedCN(); got != "first" {
		t.Fatalf("served CN = %q, want first", got)
	}
	tlsFiles(t, ca, dir, "second")
	later := time.Now().Add(time.Minute)
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "the new certificate", func() bool { return servedCN() == "second" })
}

func TestTLSConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		tc   TLSConfig
		ok   bool
	}{
		{"none", TLSConfig{}, true},
		{"pair", TLSConfig{CertFile: "c", KeyFile: "k"}, true},
		{"cert only", TLSConfig{CertFile: "c"}, false},
		{"verify with system roots", TLSConfig{CertFile: "c", KeyFile: "k", VerifyClient: true}, true},
		{"CN without verify", TLSConfig{CertFile: "c", KeyFile: "k", CACertFile: "a", VerifyCommonName: "x"}, false},
		{"verify without cert", TLSConfig{CACertFile: "a", VerifyClient: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.tc.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
