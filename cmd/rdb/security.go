package main

import (
	"fmt"

	"github.com/rdb/rdb/cluster"
	httpd "github.com/rdb/rdb/http"
	"github.com/rdb/rdb/internal/auth"
)

// httpTLS is the HTTPS configuration of the -http-* TLS flags. To verify
// the leader's API when forwarding a backup or load, a node trusts
// -http-ca-cert, else the CA it already trusts for its peers
// (-node-ca-cert).
func (c *Config) httpTLS() httpd.TLSConfig {
	peerCA := c.HTTPCACert
	if peerCA == "" {
		peerCA = c.NodeCACert
	}
	return httpd.TLSConfig{
		CertFile: c.HTTPCert, KeyFile: c.HTTPKey, CACertFile: c.HTTPCACert, PeerCACertFile: peerCA,
		VerifyClient: c.HTTPVerifyClient, VerifyCommonName: c.HTTPVerifyCommonName,
	}
}

// nodeTLS is the node-to-node TLS configuration of the -node-* flags.
func (c *Config) nodeTLS() cluster.TLSConfig {
	return cluster.TLSConfig{
		CertFile: c.NodeCert, KeyFile: c.NodeKey, CACertFile: c.NodeCACert,
		NoVerify: c.NodeNoVerify, VerifyClient: c.NodeVerifyClient,
		VerifyServerName: c.NodeVerifyServerName, VerifyCommonName: c.NodeVerifyCommonName,
	}
}

// apiURL is the advertised HTTP API address with its scheme.
func (c *Config) apiURL() string {
	if c.HTTPCert != "" {
		return "https://" + c.HTTPAdvAddr
	}
	return "http://" + c.HTTPAdvAddr
}

// security is what the -auth file gives a node: the credential store both
// the HTTP and cluster layers check (a nil interface without -auth, so
// both layers see authentication off), and the credentials of -join-as
// sent on join, notify and self-removal.
type security struct {
	auth   auth.Authorizer
	joinAs *cluster.Credentials
}

func loadSecurity(cfg *Config) (security, error) {
	if cfg.AuthFile == "" {
		return security{}, nil
	}
	cs, err := auth.LoadCredentials(cfg.AuthFile)
	if err != nil {
		return security{}, err
	}
	sec := security{auth: cs}
	if cfg.JoinAs != "" {
		pw, ok := cs.Password(cfg.JoinAs)
		if !ok {
			return security{}, fmt.Errorf("-join-as user %q is not in the auth file %s", cfg.JoinAs, cfg.AuthFile)
		}
		sec.joinAs = &cluster.Credentials{Username: cfg.JoinAs, Password: pw}
	}
	return sec, nil
}

// httpAuth and clusterAuth are the Authorizer of each layer: the same
// one, nil (everything allowed) without -auth.
func (s security) httpAuth() auth.Authorizer { return s.auth }

func (s security) clusterAuth() auth.Authorizer { return s.auth }
