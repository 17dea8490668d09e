package system_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/testcert"
)

// Passwords of secAuthFile; TestSecurity_* grep every log for them.
const (
	secAdminPW  = "Adm1n-pw-7f3c9e"
	secReaderPW = "R3ader-pw-b81d2a"
	secWriterPW = "Wr1ter-pw-4c6e0f"
	secJoinerPW = "J01ner-pw-9a2b7d"
)

// secAuthFile is the -auth file of the secured cluster: everyone may ask
// /readyz; each other user holds one area.
const secAuthFile = `[
	{"username": "*", "perms": ["ready"]},
	{"username": "admin", "password": "` + secAdminPW + `", "perms": ["all"]},
	{"username": "reader", "password": "` + secReaderPW + `", "perms": ["query", "status"]},
	{"username": "writer", "password": "` + secWriterPW + `", "perms": ["execute"]},
	{"username": "joiner", "password": "` + secJoinerPW + `", "perms": ["join", "remove"]}
]`

// secPKI is a throw-away CA with its certificate and the auth file on
// disk.
type secPKI struct {
	ca       *testcert.CA
	dir      string
	caFile   string
	authFile string
	client   *http.Client // HTTPS, trusting ca
}

func newSecPKI(t *testing.T) *secPKI {
	t.Helper()
	ca, err := testcert.NewCA("rdb test CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile, err := ca.WriteCert(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	authFile := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(authFile, []byte(secAuthFile), 0o600); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}},
	}
	return &secPKI{ca: ca, dir: dir, caFile: caFile, authFile: authFile, client: client}
}

// pair issues a 127.0.0.1 certificate named name and returns its files.
func (p *secPKI) pair(t *testing.T, name string) (certFile, keyFile string) {
	t.Helper()
	pair, err := p.ca.Issue(name, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err = pair.Write(p.dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// secureFlags are the HTTPS, node mTLS and auth flags of a node whose
// certificates come from p (a rogue PKI gives a rogue node), trusting the
// CA in caFile for peers.
func (p *secPKI) secureFlags(t *testing.T, name, caFile string) []string {
	t.Helper()
	cert, key := p.pair(t, name)
	return []string{
		"-http-cert", cert, "-http-key", key,
		"-node-cert", cert, "-node-key", key, "-node-ca-cert", caFile, "-node-verify-client",
		"-auth", p.authFile, "-join-as", "joiner",
	}
}

// startSecNode starts a node with args without waiting for it.
func startSecNode(t *testing.T, args ...string) *Node {
	t.Helper()
	n := newNode(t, args...)
	n.Start()
	return n
}

// secDo sends one HTTPS request as user ("" for none) with password.
func secDo(c *http.Client, n *Node, method, path, user, pass, body string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "https://"+n.HTTPAddr+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// secWaitReady polls /readyz over HTTPS, failing fast if the node exits.
func secWaitReady(t *testing.T, c *http.Client, n *Node, d time.Duration) {
	t.Helper()
	waitFor(t, d, "node "+n.HTTPAddr+" ready over HTTPS", func() bool {
		if n.Exited() {
			t.Fatalf("node %s exited during start-up:\n%s", n.HTTPAddr, n.Logs())
		}
		code, _, err := secDo(c, n, http.MethodGet, "/readyz", "", "", "")
		return err == nil && code == http.StatusOK
	})
}

// secPasswords is every password of secAuthFile.
var secPasswords = []string{secAdminPW, secReaderPW, secWriterPW, secJoinerPW}
