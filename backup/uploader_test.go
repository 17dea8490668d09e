package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeProvider struct {
	leader bool
	index  uint64
	fail   error
}

func (p *fakeProvider) IsLeader() bool         { return p.leader }
func (p *fakeProvider) DBAppliedIndex() uint64 { return p.index }
func (p *fakeProvider) Backup(_ context.Context, w io.Writer, _ bool) error {
	if p.fail != nil {
		return p.fail
	}
	_, err := w.Write([]byte("SQLite format 3\x00 fake"))
	return err
}

type fakeStorage struct {
	mu        sync.Mutex
	uploads   []string // ids
	body      []byte
	id        string
	idErr     error
	uploadErr error
}

func (s *fakeStorage) Upload(_ context.Context, r io.Reader, _ int64, id string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.uploadErr != nil {
		return s.uploadErr
	}
	s.body, _ = io.ReadAll(r)
	s.uploads = append(s.uploads, id)
	s.id = id
	return nil
}

func (s *fakeStorage) CurrentID(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idErr != nil {
		return "", s.idErr
	}
	if s.id == "" {
		return "", ErrNoStoredID
	}
	return s.id, nil
}

func (s *fakeStorage) String() string { return "fake" }

// delta reads the uploader counters' change across f.
func delta(f func()) map[string]int64 {
	keys := []string{numUploadsOK, numUploadsFail, numUploadsSkipped, numUploadsSkippedID, numSumGetFail}
	get := func() map[string]int64 {
		m := map[string]int64{}
		for _, k := range keys {
			if v, ok := uploaderStats().Get(k).(interface{ Value() int64 }); ok {
				m[k] = v.Value()
			}
		}
		return m
	}
	before := get()
	f()
	after := get()
	for k := range after {
		after[k] -= before[k]
	}
	return after
}

func TestUploader_Cycle(t *testing.T) {
	p := &fakeProvider{}
	st := &fakeStorage{}
	u := NewUploader(&Config{Interval: time.Hour}, st, p, t.TempDir(), nil)
	ctx := context.Background()
	tick := func() map[string]int64 { return delta(func() { u.Tick(ctx) }) }

	if d := tick(); d[numUploadsOK]+d[numUploadsSkipped] != 0 {
		t.Fatalf("follower tick counted %v", d)
	}
	p.leader = true
	if d := tick(); d[numUploadsSkipped] != 1 {
		t.Fatalf("empty database: %v, want one skip", d)
	}
	p.index = 5
	if d := tick(); d[numUploadsOK] != 1 {
		t.Fatalf("first change: %v", d)
	}
	zr, err := gzip.NewReader(bytes.NewReader(st.body))
	if err != nil {
		t.Fatalf("upload not gzipped: %v", err)
	}
	if b, _ := io.ReadAll(zr); !strings.HasPrefix(string(b), "SQLite format 3") {
		t.Fatalf("uploaded %q", b)
	}
	if d := tick(); d[numUploadsSkipped] != 1 || d[numUploadsOK] != 0 {
		t.Fatalf("no change: %v", d)
	}
	if st := u.Status(); st["last_index"] != "5" || st["upload_interval"] != "1h0m0s" || st["last_upload_time"] == nil {
		t.Fatalf("status %v", st)
	}

	// A new uploader (restart, or another leader) finds ID 5 stored.
	u2 := NewUploader(&Config{Interval: time.Hour, NoCompress: true}, st, p, t.TempDir(), nil)
	if d := delta(func() { u2.Tick(ctx) }); d[numUploadsSkippedID] != 1 || d[numUploadsOK] != 0 {
		t.Fatalf("restart: %v", d)
	}
	p.index = 6
	if d := delta(func() { u2.Tick(ctx) }); d[numUploadsOK] != 1 || !strings.HasPrefix(string(st.body), "SQLite") {
		t.Fatalf("no_compress upload: %v %q", d, st.body)
	}
	if strings.Join(st.uploads, ",") != "5,6" {
		t.Fatalf("uploads %v", st.uploads)
	}
}

func TestUploader_Failures(t *testing.T) {
	p := &fakeProvider{leader: true, index: 3}
	st := &fakeStorage{idErr: errors.New("403"), uploadErr: errors.New("network down")}
	u := NewUploader(&Config{Interval: time.Hour}, st, p, t.TempDir(), nil)
	d := delta(func() { u.Tick(context.Background()) })
	if d[numSumGetFail] != 1 || d[numUploadsFail] != 1 || d[numUploadsOK] != 0 {
		t.Fatalf("failing storage: %v", d)
	}
	// Not recorded as uploaded: the next tick tries again.
	st.uploadErr, st.idErr = nil, nil
	if d := delta(func() { u.Tick(context.Background()) }); d[numUploadsOK] != 1 {
		t.Fatalf("retry after failure: %v", d)
	}
	// A backup that cannot be written fails after its retries (cancelled
	// here to keep the test short).
	p.index, p.fail = 4, errors.New("database closed")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d := delta(func() { u.Tick(ctx) }); d[numUploadsFail] != 1 {
		t.Fatalf("backup failure: %v", d)
	}
}
