package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"syscall"
)

// Explain turns a transport error into words a user understands, keeping
// the detail that helps fix it.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		recErr    tls.RecordHeaderError
		dnsErr    *net.DNSError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &unknownCA):
		return "the server's TLS certificate is signed by an unknown authority (trust its CA with -c/--ca-cert, or skip verification with -i/--insecure)"
	case errors.As(err, &hostErr):
		return "the server's TLS certificate is not valid for this host name: " + hostErr.Error()
	case errors.As(err, &invalid):
		return "the server's TLS certificate is not valid: " + invalid.Error()
	case errors.As(err, &recErr):
		return "the server did not answer with TLS (is it serving plain http? try -s http)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is the node running?)"
	case errors.As(err, &dnsErr):
		return "cannot resolve host name " + dnsErr.Name
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out waiting for the server (raise -t/--http-timeout if it is just slow)"
	}
	return err.Error()
}
