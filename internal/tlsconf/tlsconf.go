// Package tlsconf holds the TLS building blocks the HTTP API and the
// node-to-node channel share: a key pair that reloads when its files
// change, CA pool loading, and the common-name check. It knows nothing of
// flags or of either server.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// reloadCheckInterval bounds how often the key pair files are looked at.
const reloadCheckInterval = time.Second

// KeyPair serves a certificate and key from PEM files, re-reading them
// when their modification times change (looked at most once a second). A
// pair that fails to load, e.g. written half-way, keeps the previous one
// in service.
type KeyPair struct {
	certFile, keyFile string

	mu       sync.Mutex
	cert     *tls.Certificate
	modTimes [2]time.Time
	checked  time.Time
}

// LoadKeyPair loads the pair now, so a bad file fails start-up.
func LoadKeyPair(certFile, keyFile string) (*KeyPair, error) {
	kp := &KeyPair{certFile: certFile, keyFile: keyFile}
	mt, err := kp.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair %s, %s: %w", certFile, keyFile, err)
	}
	kp.cert, kp.modTimes, kp.checked = &cert, mt, time.Now()
	return kp, nil
}

func (kp *KeyPair) stat() ([2]time.Time, error) {
	var out [2]time.Time
	for i, p := range []string{kp.certFile, kp.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return out, fmt.Errorf("stat %s: %w", p, err)
		}
		out[i] = fi.ModTime()
	}
	return out, nil
}

// Current returns the pair in service, reloading it first if its files
// changed.
func (kp *KeyPair) Current() *tls.Certificate {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if time.Since(kp.checked) < reloadCheckInterval {
		return kp.cert
	}
	kp.checked = time.Now()
	mt, err := kp.stat()
	if err != nil || mt == kp.modTimes {
		return kp.cert
	}
	if cert, err := tls.LoadX509KeyPair(kp.certFile, kp.keyFile); err == nil {
		kp.cert, kp.modTimes = &cert, mt
	}
	return kp.cert
}

// GetCertificate is for tls.Config.GetCertificate.
func (kp *KeyPair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return kp.Current(), nil
}

// GetClientCertificate is for tls.Config.GetClientCertificate.
func (kp *KeyPair) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return kp.Current(), nil
}

// LoadCertPool reads a PEM CA certificate file into a pool.
func LoadCertPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate %s: %w", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA certificate %s: no PEM certificate found", path)
	}
	return pool, nil
}

// VerifyCommonName returns a tls.Config.VerifyConnection that requires the
// peer's certificate to carry common name cn.
func VerifyCommonName(cn string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 || cs.PeerCertificates[0].Subject.CommonName != cn {
			return fmt.Errorf("peer certificate common name is not %q", cn)
		}
		return nil
	}
}
