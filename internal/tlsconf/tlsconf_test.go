package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/testcert"
)

func issue(t *testing.T, ca *testcert.CA, cn, dir string) (string, string) {
	t.Helper()
	p, err := ca.Issue(cn, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := p.Write(dir, "node")
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func commonName(t *testing.T, c *tls.Certificate) string {
	t.Helper()
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return x.Subject.CommonName
}

// TestKeyPair_Reload: a rewritten pair is picked up, a broken one is not.
func TestKeyPair_Reload(t *testing.T) {
	ca, err := testcert.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := issue(t, ca, "first", dir)
	kp, err := LoadKeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := commonName(t, kp.Current()); got != "first" {
		t.Fatalf("got %q, want first", got)
	}

	issue(t, ca, "second", dir)
	later := time.Now().Add(2 * time.Second)
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	kp.mu.Lock()
	kp.checked = time.Time{} // as if the check interval had passed
	kp.mu.Unlock()
	if got := commonName(t, kp.Current()); got != "second" {
		t.Fatalf("after rewrite got %q, want second", got)
	}

	if err := os.WriteFile(keyFile, []byte("half-written"), 0o600); err != nil {
		t.Fatal(err)
	}
	evenLater := later.Add(2 * time.Second)
	os.Chtimes(keyFile, evenLater, evenLater)
	kp.mu.Lock()
	kp.checked = time.Time{}
	kp.mu.Unlock()
	if got := commonName(t, kp.Current()); got != "second" {
		t.Fatalf("a broken pair replaced the working one: got %q", got)
	}
}

func TestLoadKeyPair_Errors(t *testing.T) {
	if _, err := LoadKeyPair("/nonexistent/cert", "/nonexistent/key"); err == nil {
		t.Fatal("missing files: want an error")
	}
	if _, err := LoadCertPool(os.DevNull); err == nil {
		t.Fatal("empty CA file: want an error")
	}
}

func TestVerifyCommonName(t *testing.T) {
	check := VerifyCommonName("node1")
	if err := check(tls.ConnectionState{}); err == nil {
		t.Fatal("no peer certificate: want an error")
	}
	good := tls.ConnectionState{PeerCertificates: []*x509.Certificate{{}}}
	good.PeerCertificates[0].Subject.CommonName = "node1"
	if err := check(good); err != nil {
		t.Fatalf("matching name: %v", err)
	}
	good.PeerCertificates[0].Subject.CommonName = "node2"
	if err := check(good); err == nil {
		t.Fatal("other name: want an error")
	}
}
