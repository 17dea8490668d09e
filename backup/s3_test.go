package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 serves gofakes3 and counts the multipart upload parts it gets.
func fakeS3(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	var parts atomic.Int32
	h := gofakes3.New(backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") != "" {
			parts.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &parts
}

func TestS3Storage_UploadIDDownload(t *testing.T) {
	ep, parts := fakeS3(t)
	s, err := NewS3Storage(&S3Config{AccessKeyID: "k", SecretAccessKey: "s", Region: "us-east-1", Bucket: "bkt",
		Path: "dir/backup.sqlite", Endpoint: ep, ForcePathStyle: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.CurrentID(ctx); !errors.Is(err, ErrNoStoredID) {
		t.Fatalf("CurrentID before any upload: %v, want ErrNoStoredID", err)
	}
	// Larger than one part: goes up as a multipart upload.
	body := make([]byte, s3PartSize+(1<<20))
	rand.Read(body)
	if err := s.Upload(ctx, bytes.NewReader(body), int64(len(body)), "42", time.Now()); err != nil {
		t.Fatal(err)
	}
	if parts.Load() < 2 {
		t.Errorf("%d parts uploaded, want a multipart upload", parts.Load())
	}
	if id, err := s.CurrentID(ctx); err != nil || id != "42" {
		t.Fatalf("CurrentID = %q, %v; want 42", id, err)
	}
	var got bytes.Buffer
	if err := s.Download(ctx, &got); err != nil || !bytes.Equal(got.Bytes(), body) {
		t.Fatalf("download: %v (%d bytes, want %d)", err, got.Len(), len(body))
	}
	if !strings.HasPrefix(s.String(), ep+"/bkt/dir/backup.sqlite") {
		t.Errorf("destination %q", s.String())
	}
}

func TestS3Storage_Timestamped(t *testing.T) {
	ep, _ := fakeS3(t)
	s, err := NewS3Storage(&S3Config{AccessKeyID: "k", SecretAccessKey: "s", Region: "us-east-1", Bucket: "bkt",
		Path: "dir/backup.sqlite", Endpoint: ep, ForcePathStyle: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC)
	if err := s.Upload(context.Background(), strings.NewReader("x"), 1, "7", at); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(ep + "/bkt/dir/20261205010203_backup.sqlite")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("timestamped object: %v %v", err, resp)
	}
	resp.Body.Close()
	// The ID check reads the plain key, which a timestamped upload
	// does not write.
	if _, err := s.CurrentID(context.Background()); !errors.Is(err, ErrNoStoredID) {
		t.Fatalf("CurrentID: %v", err)
	}
}

func TestS3Host(t *testing.T) {
	for ep, want := range map[string]string{"": "s3.amazonaws.com true", "minio:9000": "minio:9000 true",
		"http://127.0.0.1:9000": "127.0.0.1:9000 false", "https://r2.example.com/": "r2.example.com true"} {
		h, secure, err := s3Host(ep)
		if err != nil || h+" "+map[bool]string{true: "true", false: "false"}[secure] != want {
			t.Errorf("s3Host(%q) = %s %v %v, want %s", ep, h, secure, err, want)
		}
	}
}

func TestUnpack(t *testing.T) {
	dir := t.TempDir()
	if _, err := unpack(strings.NewReader("not sqlite at all"), dir); !errors.Is(err, ErrNotSQLite) {
		t.Fatalf("plain text: %v", err)
	}
	db := append([]byte("SQLite format 3\x00"), make([]byte, 100)...)
	p, err := unpack(bytes.NewReader(db), dir)
	if err != nil || p == "" {
		t.Fatalf("SQLite file: %v", err)
	}
}
