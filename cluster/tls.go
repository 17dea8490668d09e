package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"

	"github.com/rdb/rdb/internal/tlsconf"
)

// TLSConfig is node-to-node TLS on the Raft port (-node-cert, -node-key,
// -node-ca-cert, -node-no-verify, -node-verify-client,
// -node-verify-server-name, -node-verify-common-name). Server goes into
// mux.Config.TLS; Client into mux.Config.DialTLS and ClientConfig.TLS.
type TLSConfig struct {
	// CertFile and KeyFile are this node's certificate and key, presented
	// as server and (for mutual TLS) as client; re-read when they change.
	CertFile string
	KeyFile  string
	// CACertFile verifies peers' certificates; empty means the system
	// roots.
	CACertFile string
	// NoVerify skips verification of the certificates other nodes present
	// when this node dials them.
	NoVerify bool
	// VerifyClient requires dialing nodes to present a certificate signed
	// by CACertFile (mutual TLS).
	VerifyClient bool
	// VerifyServerName, if set, is the name checked on the certificates of
	// dialed nodes instead of the dialed host.
	VerifyServerName string
	// VerifyCommonName, if set, is the common name a dialing node's
	// certificate must carry (needs VerifyClient).
	VerifyCommonName string
}

// Enabled reports whether node-to-node traffic uses TLS.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" }

// Validate reports a TLSConfig that cannot work.
func (t TLSConfig) Validate() error {
	switch {
	case (t.CertFile == "") != (t.KeyFile == ""):
		return errors.New("node TLS: both certificate and key must be set, or neither")
	case !t.Enabled() && (t.CACertFile != "" || t.VerifyClient):
		return errors.New("node TLS: a CA certificate or client verification needs a certificate and key")
	case t.VerifyCommonName != "" && !t.VerifyClient:
		return errors.New("node TLS: verifying the peer common name needs client verification")
	}
	return nil
}

// Build returns the server and client tls.Configs, or nils when TLS is not
// enabled. The key pair is loaded now, so a bad file fails start-up.
func (t TLSConfig) Build() (server, client *tls.Config, err error) {
	if err := t.Validate(); err != nil {
		return nil, nil, err
	}
	if !t.Enabled() {
		return nil, nil, nil
	}
	kp, err := tlsconf.LoadKeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	var pool *x509.CertPool
	if t.CACertFile != "" {
		if pool, err = tlsconf.LoadCertPool(t.CACertFile); err != nil {
			return nil, nil, err
		}
	}
	server = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: kp.GetCertificate, ClientCAs: pool}
	if t.VerifyClient {
		server.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if cn := t.VerifyCommonName; cn != "" {
		server.VerifyConnection = tlsconf.VerifyCommonName(cn)
	}
	client = &tls.Config{
		MinVersion: tls.VersionTLS12, GetClientCertificate: kp.GetClientCertificate,
		RootCAs: pool, InsecureSkipVerify: t.NoVerify, ServerName: t.VerifyServerName,
	}
	return server, client, nil
}
