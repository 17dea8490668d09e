package shell

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key,
// and returns their paths.
func writeCert(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rdb test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func TestShell_HTTPS_RealNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rdb processes")
	}
	certFile, keyFile := writeCert(t)
	n := startNode(t, "", "-http-cert", certFile, "-http-key", keyFile)
	tests := []struct {
		name     string
		caCert   string
		insecure bool
		wantCode int
		want     string
	}{
		{"trusted CA", certFile, false, 0, "ready\n"},
		{"insecure", "", true, 0, "ready\n"},
		{"unknown CA", "", false, 1, "the server's TLS certificate is signed by an unknown authority " +
			"(trust its CA with -c/--ca-cert, or skip verification with -i/--insecure)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(n.HTTPAddr)
			cfg.Client.Scheme, cfg.Client.CACert, cfg.Client.Insecure = "https", tt.caCert, tt.insecure
			cfg.Commands = []string{".ready"}
			out, code := runShellConfig(t, cfg, "")
			if code != tt.wantCode || !strings.HasSuffix(out, tt.want) {
				t.Errorf("exit %d output %q, want exit %d and output ending %q", code, out, tt.wantCode, tt.want)
			}
		})
	}
}
