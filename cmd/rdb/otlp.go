package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// otlpFlags are the OTLP metrics push flags of OPS.md §5 (rqlite v10.3).
type otlpFlags struct {
	Endpoint string
	Interval time.Duration
	Insecure bool
	NoVerify bool
	CACert   string
	Cert     string
	Key      string
}

// errOTLPNeedsEndpoint is rqlite's message for OTLP options given without
// an endpoint.
var errOTLPNeedsEndpoint = errors.New("OTLP options require -otlp-endpoint")

func registerOTLPFlags(fs *flag.FlagSet, o *otlpFlags) {
	fs.StringVar(&o.Endpoint, "otlp-endpoint", "", "OTLP/gRPC collector address (host:port, no scheme) to push metrics to. If not set, not enabled")
	fs.DurationVar(&o.Interval, "otlp-interval", 30*time.Second, "Interval between OTLP metric pushes")
	fs.BoolVar(&o.Insecure, "otlp-insecure", false, "Push OTLP metrics over plaintext gRPC")
	fs.BoolVar(&o.NoVerify, "otlp-no-verify", false, "Skip verification of the OTLP collector's certificate")
	fs.StringVar(&o.CACert, "otlp-ca-cert", "", "Path to X.509 CA certificate for the OTLP collector")
	fs.StringVar(&o.Cert, "otlp-cert", "", "Path to X.509 client certificate for the OTLP collector")
	fs.StringVar(&o.Key, "otlp-key", "", "Path to X.509 private key for the OTLP collector")
}

// validate checks the flag combinations (OPS.md §5) and that the files
// named can be read.
func (o otlpFlags) validate() error {
	if o.Endpoint == "" {
		if o.Insecure || o.NoVerify || o.CACert != "" || o.Cert != "" || o.Key != "" {
			return errOTLPNeedsEndpoint
		}
		return nil
	}
	if strings.Contains(o.Endpoint, "://") {
		return fmt.Errorf("-otlp-endpoint %q must be host:port, without a scheme", o.Endpoint)
	}
	if _, port, err := net.SplitHostPort(o.Endpoint); err != nil || port == "" {
		return fmt.Errorf("-otlp-endpoint %q is not a host:port address", o.Endpoint)
	}
	if o.Interval <= 0 {
		return fmt.Errorf("-otlp-interval must be positive, got %s", o.Interval)
	}
	if (o.Cert == "") != (o.Key == "") {
		return errors.New("both -otlp-cert and -otlp-key must be set, or neither")
	}
	if o.Insecure && (o.CACert != "" || o.Cert != "" || o.NoVerify) {
		return errors.New("-otlp-insecure (plaintext) cannot be combined with -otlp-ca-cert, -otlp-cert, -otlp-key or -otlp-no-verify")
	}
	for _, f := range []struct{ flag, path string }{{"-otlp-ca-cert", o.CACert}, {"-otlp-cert", o.Cert}, {"-otlp-key", o.Key}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	return nil
}
