package cdc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFlag_Forms(t *testing.T) {
	for _, v := range []string{"stdout", "http://localhost:8000/cdc", "https://user:pw@example.com/x"} {
		c, err := ParseFlag(v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if c.Endpoint != v || c.MaxBatchSize != 10 || c.MaxBatchDelay != 200*time.Millisecond ||
			c.HighWatermarkInterval != time.Second || c.TransmitTimeout != 5*time.Second ||
			c.TransmitMaxRetries != nil || c.TransmitMinBackoff != time.Second || c.TransmitMaxBackoff != 30*time.Second {
			t.Errorf("%s: defaults not applied: %+v", v, c)
		}
	}
	if _, err := ParseFlag("ftp://example.com/x"); !errors.Is(err, ErrUnsupportedScheme) {
		t.Errorf("ftp: %v, want %v", err, ErrUnsupportedScheme)
	}
	if _, err := ParseFlag(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseFlag_FileNotExpanded(t *testing.T) {
	t.Setenv("RDB_CDC_SVC", "expanded")
	p := filepath.Join(t.TempDir(), "cdc.json")
	doc := `{"endpoint":"stdout","service_id":"$RDB_CDC_SVC","max_batch_size":5,"transmit_max_retries":3,"transmit_retry_policy":"exponential","transmit_min_backoff":1000000,"unknown":true}`
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ParseFlag(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.ServiceID != "$RDB_CDC_SVC" || c.MaxBatchSize != 5 || *c.TransmitMaxRetries != 3 ||
		c.TransmitRetryPolicy != RetryExponential || c.TransmitMinBackoff != time.Millisecond {
		t.Fatalf("got %+v", c)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"no endpoint", `{}`, ErrNoEndpoint.Error()},
		{"bad scheme", `{"endpoint":"kafka://x"}`, ErrUnsupportedScheme.Error()},
		{"plain word", `{"endpoint":"stderr"}`, ErrUnsupportedScheme.Error()},
		{"string duration", `{"endpoint":"stdout","max_batch_delay":"200ms"}`, "parse config"},
		{"zero batch", `{"endpoint":"stdout","max_batch_size":0}`, "max_batch_size must be positive"},
		{"negative delay", `{"endpoint":"stdout","max_batch_delay":-1}`, "max_batch_delay must be a positive"},
		{"zero hwm", `{"endpoint":"stdout","high_watermark_interval":0}`, "high_watermark_interval must be a positive"},
		{"zero timeout", `{"endpoint":"stdout","transmit_timeout":0}`, "transmit_timeout must be a positive"},
		{"max below min", `{"endpoint":"stdout","transmit_min_backoff":2000000000,"transmit_max_backoff":1000000000}`, "below transmit_min_backoff"},
		{"zero retries", `{"endpoint":"stdout","transmit_max_retries":0}`, "transmit_max_retries must be at least 1"},
		{"bad policy number", `{"endpoint":"stdout","transmit_retry_policy":2}`, "is not 0 (linear) or 1"},
		{"bad policy word", `{"endpoint":"stdout","transmit_retry_policy":"random"}`, "is not linear or exponential"},
		{"bad filter", `{"endpoint":"stdout","table_filter":"("}`, "table_filter"},
		{"cert without key", `{"endpoint":"https://x","tls":{"cert_file":"/c"}}`, "cert_file and key_file"},
		{"not JSON", `endpoint=stdout`, "parse config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConfig_Backoff(t *testing.T) {
	c := DefaultConfig("stdout")
	c.TransmitMinBackoff, c.TransmitMaxBackoff = time.Second, 5*time.Second
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 3 * time.Second, 9: 5 * time.Second} {
		if got := c.backoff(n); got != want {
			t.Errorf("linear backoff(%d) = %s, want %s", n, got, want)
		}
	}
	c.TransmitRetryPolicy = RetryExponential
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second} {
		if got := c.backoff(n); got != want {
			t.Errorf("exponential backoff(%d) = %s, want %s", n, got, want)
		}
	}
}
