package backup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Storage types (the config's "type").
const (
	TypeFile = "file"
	TypeS3   = "s3"
	TypeGCS  = "gcs"
)

// Config is an -auto-backup file (OPS.md §2.1).
type Config struct {
	Version    int
	Type       string
	Interval   time.Duration
	NoCompress bool
	Vacuum     bool
	Timestamp  bool
	// Exactly one of these is set, by Type.
	File *FileConfig
	S3   *S3Config
	GCS  *GCSConfig
}

// FileConfig is the "sub" of type file.
type FileConfig struct {
	Dir  string `json:"dir"`
	Name string `json:"name"`
}

// S3Config is the "sub" of type s3. With both keys empty the AWS default
// credential chain applies (environment, shared config, instance role).
type S3Config struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	Region          string `json:"region"`
	Bucket          string `json:"bucket"`
	Path            string `json:"path"`
	Endpoint        string `json:"endpoint"`
	ForcePathStyle  bool   `json:"force_path_style"`
}

// GCSConfig is the "sub" of type gcs.
type GCSConfig struct {
	ProjectID       string `json:"project_id"`
	Bucket          string `json:"bucket"`
	Name            string `json:"name"`
	CredentialsPath string `json:"credentials_path"`
	Endpoint        string `json:"endpoint"`
	// TokenURL is where the signed JWT is exchanged for a bearer token
	// (default Google's); rdb-only, for tests and private deployments.
	TokenURL string `json:"token_url"`
}

// RestoreConfig is an -auto-restore file (OPS.md §2.4).
type RestoreConfig struct {
	Version           int
	Type              string
	Timeout           time.Duration
	ContinueOnFailure bool
	S3                *S3Config
	GCS               *GCSConfig
}

// DefaultRestoreTimeout bounds a restore download when the file sets none.
const DefaultRestoreTimeout = 30 * time.Second

// rawConfig is the JSON shape shared by both files; unknown keys are
// ignored.
type rawConfig struct {
	Version           int             `json:"version"`
	Type              string          `json:"type"`
	Interval          json.RawMessage `json:"interval"`
	Timeout           json.RawMessage `json:"timeout"`
	NoCompress        bool            `json:"no_compress"`
	Vacuum            bool            `json:"vacuum"`
	Timestamp         bool            `json:"timestamp"`
	ContinueOnFailure bool            `json:"continue_on_failure"`
	Sub               json.RawMessage `json:"sub"`
}

// readExpanded reads path and expands $VAR and ${VAR} in it (unset
// variables become empty), as rqlite does before parsing.
func readExpanded(path string) (*rawConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parseRaw([]byte(os.ExpandEnv(string(b))))
}

func parseRaw(b []byte) (*rawConfig, error) {
	var rc rawConfig
	if err := json.Unmarshal(b, &rc); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if rc.Version > 1 {
		return nil, ErrInvalidVersion
	}
	return &rc, nil
}

// ReadConfig reads and checks an -auto-backup file.
func ReadConfig(path string) (*Config, error) {
	rc, err := readExpanded(path)
	if err != nil {
		return nil, err
	}
	return newConfig(rc)
}

// ParseConfig checks an -auto-backup document (already expanded).
func ParseConfig(b []byte) (*Config, error) {
	rc, err := parseRaw(b)
	if err != nil {
		return nil, err
	}
	return newConfig(rc)
}

func newConfig(rc *rawConfig) (*Config, error) {
	c := &Config{Version: rc.Version, Type: rc.Type, NoCompress: rc.NoCompress, Vacuum: rc.Vacuum, Timestamp: rc.Timestamp}
	iv, err := parseDuration(rc.Interval)
	if err != nil || iv <= 0 {
		return nil, ErrInvalidInterval
	}
	c.Interval = iv
	switch rc.Type {
	case TypeFile:
		c.File = &FileConfig{}
		err = decodeChecked(rc.Sub, c.File)
	case TypeS3:
		c.S3 = &S3Config{}
		err = decodeChecked(rc.Sub, c.S3)
	case TypeGCS:
		c.GCS = &GCSConfig{}
		err = decodeChecked(rc.Sub, c.GCS)
	default:
		return nil, ErrUnsupportedType
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ReadRestoreConfig reads and checks an -auto-restore file.
func ReadRestoreConfig(path string) (*RestoreConfig, error) {
	rc, err := readExpanded(path)
	if err != nil {
		return nil, err
	}
	return newRestoreConfig(rc)
}

// ParseRestoreConfig checks an -auto-restore document (already expanded).
func ParseRestoreConfig(b []byte) (*RestoreConfig, error) {
	rc, err := parseRaw(b)
	if err != nil {
		return nil, err
	}
	return newRestoreConfig(rc)
}

func newRestoreConfig(rc *rawConfig) (*RestoreConfig, error) {
	c := &RestoreConfig{Version: rc.Version, Type: rc.Type, Timeout: DefaultRestoreTimeout, ContinueOnFailure: rc.ContinueOnFailure}
	if len(rc.Timeout) > 0 && string(rc.Timeout) != "null" {
		t, err := parseDuration(rc.Timeout)
		if err != nil || t <= 0 {
			return nil, ErrInvalidTimeout
		}
		c.Timeout = t
	}
	var err error
	switch rc.Type {
	case TypeS3:
		c.S3 = &S3Config{}
		err = decodeChecked(rc.Sub, c.S3)
	case TypeGCS:
		c.GCS = &GCSConfig{}
		err = decodeChecked(rc.Sub, c.GCS)
	default:
		return nil, ErrUnsupportedType
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parseDuration reads a Go duration string ("5m") or a number of
// nanoseconds.
func parseDuration(raw json.RawMessage) (time.Duration, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("missing duration")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return time.ParseDuration(s)
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("duration %s: %w", raw, err)
	}
	return time.Duration(n), nil
}

// decodeChecked decodes the sub section into a storage config and checks
// it.
func decodeChecked(raw json.RawMessage, into interface{ Validate() error }) error {
	if err := decodeSub(raw, into); err != nil {
		return err
	}
	return into.Validate()
}

func decodeSub(raw json.RawMessage, into any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return fmt.Errorf("missing sub section")
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("parse sub section: %w", err)
	}
	return nil
}

// Validate checks a file destination: an absolute directory and a bare
// file name.
func (c *FileConfig) Validate() error {
	if !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("directory path must be absolute: %s", c.Dir)
	}
	if c.Name == "" || strings.ContainsRune(c.Name, '/') || c.Name == "." || c.Name == ".." {
		return fmt.Errorf("file name must be a bare file name: %q", c.Name)
	}
	return nil
}

// Validate checks an S3 destination.
func (c *S3Config) Validate() error {
	if c.Bucket == "" {
		return fmt.Errorf("s3: bucket is required")
	}
	if c.Path == "" {
		return fmt.Errorf("s3: path is required")
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return fmt.Errorf("s3: access_key_id and secret_access_key must both be set, or neither")
	}
	return nil
}

// Validate checks a GCS destination.
func (c *GCSConfig) Validate() error {
	switch {
	case c.Bucket == "":
		return fmt.Errorf("gcs: bucket is required")
	case c.Name == "":
		return fmt.Errorf("gcs: name is required")
	case c.CredentialsPath == "":
		return fmt.Errorf("gcs: credentials_path is required")
	}
	return nil
}
