package cdc

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// EndpointStdout sends each envelope to standard output, one per line.
const EndpointStdout = "stdout"

// Retry policies (transmit_retry_policy).
const (
	RetryLinear      = 0
	RetryExponential = 1
)

// Config is a -cdc-config file (OPS.md §3.1). Durations are integer
// nanoseconds in the file.
type Config struct {
	Endpoint              string        `json:"endpoint"`
	ServiceID             string        `json:"service_id"`
	RowIDsOnly            bool          `json:"row_ids_only"`
	TableFilter           string        `json:"table_filter"`
	TLS                   *TLSConfig    `json:"tls"`
	MaxBatchSize          int           `json:"max_batch_size"`
	MaxBatchDelay         time.Duration `json:"max_batch_delay"`
	HighWatermarkInterval time.Duration `json:"high_watermark_interval"`
	TransmitTimeout       time.Duration `json:"transmit_timeout"`
	// TransmitMaxRetries is how many attempts a batch gets before it is
	// dropped; nil retries forever.
	TransmitMaxRetries  *int          `json:"transmit_max_retries"`
	TransmitRetryPolicy RetryPolicy   `json:"transmit_retry_policy"`
	TransmitMinBackoff  time.Duration `json:"transmit_min_backoff"`
	TransmitMaxBackoff  time.Duration `json:"transmit_max_backoff"`

	filter *regexp.Regexp
}

// TLSConfig configures the HTTPS client of the sink.
type TLSConfig struct {
	CACertFile         string `json:"ca_cert_file"`
	CertFile           string `json:"cert_file"`
	KeyFile            string `json:"key_file"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
	ServerName         string `json:"server_name"`
}

// RetryPolicy is 0 (linear) or 1 (exponential); the words "linear" and
// "exponential" are accepted too.
type RetryPolicy int

// UnmarshalJSON accepts a number or a word.
func (p *RetryPolicy) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if n != RetryLinear && n != RetryExponential {
			return fmt.Errorf("transmit_retry_policy %d is not 0 (linear) or 1 (exponential)", n)
		}
		*p = RetryPolicy(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("transmit_retry_policy: %w", err)
	}
	switch strings.ToLower(s) {
	case "linear":
		*p = RetryLinear
	case "exponential":
		*p = RetryExponential
	default:
		return fmt.Errorf("transmit_retry_policy %q is not linear or exponential", s)
	}
	return nil
}

// DefaultConfig returns the defaults of OPS.md §3.1 for endpoint.
func DefaultConfig(endpoint string) *Config {
	return &Config{
		Endpoint:              endpoint,
		MaxBatchSize:          10,
		MaxBatchDelay:         200 * time.Millisecond,
		HighWatermarkInterval: time.Second,
		TransmitTimeout:       5 * time.Second,
		TransmitRetryPolicy:   RetryLinear,
		TransmitMinBackoff:    time.Second,
		TransmitMaxBackoff:    30 * time.Second,
	}
}

// ParseFlag reads the -cdc-config value: "stdout", an http(s) URL (both
// with defaults), or the path of a JSON file, which is not
// environment-expanded.
func ParseFlag(v string) (*Config, error) {
	if v == EndpointStdout || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		c := DefaultConfig(v)
		return c, c.Validate()
	}
	b, err := os.ReadFile(v)
	if err != nil {
		if strings.Contains(v, "://") {
			return nil, ErrUnsupportedScheme
		}
		return nil, fmt.Errorf("cdc: read config %s: %w", v, err)
	}
	return Parse(b)
}

// Parse reads a JSON config; missing keys keep their defaults.
func Parse(b []byte) (*Config, error) {
	c := DefaultConfig("")
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("cdc: parse config: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the config and compiles the table filter.
func (c *Config) Validate() error {
	switch {
	case c.Endpoint == "":
		return ErrNoEndpoint
	case c.Endpoint == EndpointStdout:
	case strings.HasPrefix(c.Endpoint, "http://"), strings.HasPrefix(c.Endpoint, "https://"):
		if _, err := url.Parse(c.Endpoint); err != nil {
			return fmt.Errorf("cdc: endpoint: %w", err)
		}
	default:
		return ErrUnsupportedScheme
	}
	if c.MaxBatchSize <= 0 {
		return fmt.Errorf("cdc: max_batch_size must be positive, got %d", c.MaxBatchSize)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"max_batch_delay", c.MaxBatchDelay}, {"high_watermark_interval", c.HighWatermarkInterval},
		{"transmit_timeout", c.TransmitTimeout}, {"transmit_min_backoff", c.TransmitMinBackoff},
		{"transmit_max_backoff", c.TransmitMaxBackoff},
	} {
		if d.v <= 0 {
			return fmt.Errorf("cdc: %s must be a positive number of nanoseconds, got %d", d.name, d.v)
		}
	}
	if c.TransmitMaxBackoff < c.TransmitMinBackoff {
		return fmt.Errorf("cdc: transmit_max_backoff (%s) is below transmit_min_backoff (%s)", c.TransmitMaxBackoff, c.TransmitMinBackoff)
	}
	if c.TransmitMaxRetries != nil && *c.TransmitMaxRetries < 1 {
		return fmt.Errorf("cdc: transmit_max_retries must be at least 1, got %d", *c.TransmitMaxRetries)
	}
	if c.TableFilter != "" {
		re, err := regexp.Compile(c.TableFilter)
		if err != nil {
			return fmt.Errorf("cdc: table_filter: %w", err)
		}
		c.filter = re
	}
	if t := c.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("cdc: tls cert_file and key_file must both be set, or neither")
	}
	return nil
}

// backoff is the delay before retry attempt n (1 for the first retry).
func (c *Config) backoff(n int) time.Duration {
	d := c.TransmitMinBackoff
	if c.TransmitRetryPolicy == RetryExponential {
		for i := 1; i < n && d < c.TransmitMaxBackoff; i++ {
			d *= 2
		}
	} else {
		d = c.TransmitMinBackoff * time.Duration(n)
	}
	return min(d, c.TransmitMaxBackoff)
}
