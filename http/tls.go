package httpd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/rdb/rdb/internal/tlsconf"
)

// TLSConfig is the HTTPS side of Config (-http-cert, -http-key,
// -http-ca-cert, -http-verify-client, -http-verify-common-name).
type TLSConfig struct {
	// CertFile and KeyFile are the server's PEM certificate (chain) and
	// key; both or neither. They are re-read when either file changes.
	CertFile string
	KeyFile  string
	// CACertFile verifies client certificates when VerifyClient is set;
	// empty means the system roots.
	CACertFile string
	// PeerCACertFile verifies other nodes' API certificates when this
	// node forwards a request to the leader over HTTPS (backups, loads);
	// empty means CACertFile, and the system roots if that is empty too.
	PeerCACertFile string
	// VerifyClient requires a client certificate signed by CACertFile
	// (mutual TLS).
	VerifyClient bool
	// VerifyCommonName, if set, is the common name a client certificate
	// must carry (needs VerifyClient).
	VerifyCommonName string
}

// Enabled reports whether the API is served over HTTPS.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" }

// Validate reports a TLSConfig that cannot work.
func (t TLSConfig) Validate() error {
	switch {
	case (t.CertFile == "") != (t.KeyFile == ""):
		return errors.New("httpd: both TLS certificate and key must be set, or neither")
	case !t.Enabled() && (t.VerifyClient || t.CACertFile != ""):
		return errors.New("httpd: client verification and CA certificate need a TLS certificate and key")
	case t.VerifyCommonName != "" && !t.VerifyClient:
		return errors.New("httpd: verifying the client common name needs client verification")
	}
	return nil
}

// tlsConfigs builds the server's tls.Config, and the client side this
// node uses to reach another node's API (backups and loads forwarded to
// the leader): it trusts CACertFile (the system roots if empty) and
// presents this node's certificate for mutual TLS. The key pair is loaded
// now (so a bad file fails start-up) and reloaded on a handshake after
// either file's modification time changes.
func (t TLSConfig) tlsConfigs() (server, client *tls.Config, err error) {
	kp, err := tlsconf.LoadKeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: kp.GetCertificate}
	client = &tls.Config{MinVersion: tls.VersionTLS12, GetClientCertificate: kp.GetClientCertificate}
	if t.CACertFile != "" {
		pool, err := tlsconf.LoadCertPool(t.CACertFile)
		if err != nil {
			return nil, nil, err
		}
		cfg.ClientCAs, client.RootCAs = pool, pool
	}
	if t.PeerCACertFile != "" {
		if client.RootCAs, err = tlsconf.LoadCertPool(t.PeerCACertFile); err != nil {
			return nil, nil, err
		}
	}
	if t.VerifyClient {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if cn := t.VerifyCommonName; cn != "" {
		cfg.VerifyConnection = tlsconf.VerifyCommonName(cn)
	}
	return cfg, client, nil
}

// wrapTLS returns ln serving TLS when the config asks for it.
func (s *Service) wrapTLS(ln net.Listener) (net.Listener, error) {
	if !s.cfg.TLS.Enabled() {
		return ln, nil
	}
	cfg, client, err := s.cfg.TLS.tlsConfigs()
	if err != nil {
		return nil, fmt.Errorf("https: %w", err)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = client
	s.leaderTransport = t
	return tls.NewListener(ln, cfg), nil
}
