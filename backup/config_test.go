package backup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfig_Errors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      error  // sentinel, or nil to match text
		text      string // substring of the error when want is nil
	}{
		{name: "version 2", doc: `{"version":2,"type":"file","interval":"1s","sub":{"dir":"/tmp/x","name":"b"}}`, want: ErrInvalidVersion},
		{name: "unknown type", doc: `{"version":1,"type":"ftp","interval":"1s","sub":{}}`, want: ErrUnsupportedType},
		{name: "empty type", doc: `{"version":1,"interval":"1s","sub":{}}`, want: ErrUnsupportedType},
		{name: "zero interval", doc: `{"version":1,"type":"file","interval":"0s","sub":{"dir":"/tmp/x","name":"b"}}`, want: ErrInvalidInterval},
		{name: "negative interval", doc: `{"version":1,"type":"file","interval":"-1m","sub":{"dir":"/tmp/x","name":"b"}}`, want: ErrInvalidInterval},
		{name: "negative ns interval", doc: `{"version":1,"type":"file","interval":-5,"sub":{"dir":"/tmp/x","name":"b"}}`, want: ErrInvalidInterval},
		{name: "missing interval", doc: `{"version":1,"type":"file","sub":{"dir":"/tmp/x","name":"b"}}`, want: ErrInvalidInterval},
		{name: "garbage interval", doc: `{"version":1,"type":"file","interval":"soon","sub":{"dir":"/tmp/x","name":"b"}}`, want: ErrInvalidInterval},
		{name: "relative dir", doc: `{"version":1,"type":"file","interval":"1s","sub":{"dir":"backups","name":"b"}}`, text: "directory path must be absolute: backups"},
		{name: "name with slash", doc: `{"version":1,"type":"file","interval":"1s","sub":{"dir":"/tmp/x","name":"a/b"}}`, text: "bare file name"},
		{name: "missing sub", doc: `{"version":1,"type":"file","interval":"1s"}`, text: "missing sub section"},
		{name: "s3 without bucket", doc: `{"version":1,"type":"s3","interval":"1s","sub":{"path":"p"}}`, text: "s3: bucket is required"},
		{name: "s3 without path", doc: `{"version":1,"type":"s3","interval":"1s","sub":{"bucket":"b"}}`, text: "s3: path is required"},
		{name: "s3 half keys", doc: `{"version":1,"type":"s3","interval":"1s","sub":{"bucket":"b","path":"p","access_key_id":"a"}}`, text: "must both be set"},
		{name: "gcs without bucket", doc: `{"version":1,"type":"gcs","interval":"1s","sub":{"name":"n","credentials_path":"/c"}}`, text: "gcs: bucket is required"},
		{name: "gcs without name", doc: `{"version":1,"type":"gcs","interval":"1s","sub":{"bucket":"b","credentials_path":"/c"}}`, text: "gcs: name is required"},
		{name: "gcs without credentials", doc: `{"version":1,"type":"gcs","interval":"1s","sub":{"bucket":"b","name":"n"}}`, text: "gcs: credentials_path is required"},
		{name: "not JSON", doc: `{version: 1}`, text: "parse config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.doc))
			switch {
			case err == nil:
				t.Fatalf("accepted %s", tt.doc)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("error %q, want %q", err, tt.want)
			case tt.want == nil && !strings.Contains(err.Error(), tt.text):
				t.Fatalf("error %q, want it to contain %q", err, tt.text)
			}
		})
	}
}

func TestParseConfig_Accepts(t *testing.T) {
	c, err := ParseConfig([]byte(`{"version":1,"type":"file","interval":1000000000,"compress":false,"vacuum":true,"timestamp":true,"unknown":1,"sub":{"dir":"/tmp/x","name":"b.sqlite"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != time.Second || c.NoCompress || !c.Vacuum || !c.Timestamp || c.File.Name != "b.sqlite" {
		t.Fatalf("got %+v %+v", c, c.File)
	}
	c, err = ParseConfig([]byte(`{"type":"s3","interval":"5m","no_compress":true,"sub":{"bucket":"b","path":"x/y","endpoint":"localhost:9000","force_path_style":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != 5*time.Minute || !c.NoCompress || !c.S3.ForcePathStyle || c.S3.Endpoint != "localhost:9000" {
		t.Fatalf("got %+v %+v", c, c.S3)
	}
}

func TestReadConfig_ExpandsEnvironment(t *testing.T) {
	t.Setenv("RDB_TEST_BUCKET", "mybucket")
	t.Setenv("RDB_TEST_KEY", "AKIA")
	os.Unsetenv("RDB_TEST_UNSET")
	p := filepath.Join(t.TempDir(), "c.json")
	doc := `{"version":1,"type":"s3","interval":"1s","sub":{"bucket":"$RDB_TEST_BUCKET","path":"p${RDB_TEST_UNSET}","access_key_id":"${RDB_TEST_KEY}","secret_access_key":"s"}}`
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.S3.Bucket != "mybucket" || c.S3.AccessKeyID != "AKIA" || c.S3.Path != "p" {
		t.Fatalf("not expanded: %+v", c.S3)
	}
	if _, err := ReadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestParseRestoreConfig(t *testing.T) {
	tests := []struct {
		name, doc string
		want      error
	}{
		{"version 2", `{"version":2,"type":"s3","sub":{"bucket":"b","path":"p"}}`, ErrInvalidVersion},
		{"file type", `{"version":1,"type":"file","sub":{"dir":"/tmp","name":"b"}}`, ErrUnsupportedType},
		{"zero timeout", `{"version":1,"type":"s3","timeout":"0s","sub":{"bucket":"b","path":"p"}}`, ErrInvalidTimeout},
		{"bad timeout", `{"version":1,"type":"s3","timeout":"x","sub":{"bucket":"b","path":"p"}}`, ErrInvalidTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseRestoreConfig([]byte(tt.doc)); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	c, err := ParseRestoreConfig([]byte(`{"version":1,"type":"gcs","continue_on_failure":true,"sub":{"bucket":"b","name":"n","credentials_path":"/c"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeout != DefaultRestoreTimeout || !c.ContinueOnFailure || c.GCS.Bucket != "b" {
		t.Fatalf("got %+v", c)
	}
}

func TestFileStorage_DirCannotBeCreated(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileStorage(&FileConfig{Dir: filepath.Join(file, "sub"), Name: "b"}, false); err == nil {
		t.Fatal("directory under a regular file accepted")
	}
}
