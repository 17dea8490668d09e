package snapshot

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
)

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"default with dir", Config{Dir: "/x", Retain: 2}, false},
		{"no dir", Config{Retain: 2}, true},
		{"no retain", Config{Dir: "/x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.Validate() != nil; got != tt.wantErr {
				t.Fatalf("Validate() error = %v, want error %v", tt.cfg.Validate(), tt.wantErr)
			}
		})
	}
}

// persist writes one snapshot of data into s as raft would.
func persist(t *testing.T, s *Store, index uint64, data []byte) string {
	t.Helper()
	_, tn := raft.NewInmemTransport("")
	sink, err := s.Create(raft.SnapshotVersionMax, index, 1, raft.Configuration{}, 1, tn)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := Write(sink, writeFile(t, data), Meta{Index: index, Term: 1}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatalf("sink Close: %v", err)
	}
	return sink.ID()
}

func TestStore_CreateOpenRetain(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Dir(), filepath.Join(cfg.Dir, "snapshots"); got != want {
		t.Fatalf("Dir() = %q, want %q", got, want)
	}
	for i := uint64(1); i <= 3; i++ {
		persist(t, s, i*10, []byte{byte(i)})
	}
	metas, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(metas), cfg.Retain; got != want {
		t.Fatalf("List() has %d snapshots, want %d", got, want)
	}
	if got, want := metas[0].Index, uint64(30); got != want {
		t.Fatalf("newest snapshot index = %d, want %d", got, want)
	}
	_, rc, err := s.Open(metas[0].ID)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	meta, err := Read(&buf, dst)
	if err != nil {
		t.Fatalf("Read of stored snapshot: %v", err)
	}
	if got, want := meta.Index, metas[0].Index; got != want {
		t.Fatalf("stream's index = %d, want raft's %d", got, want)
	}
}

func TestStore_OpenMissing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open("no-such-id"); err == nil {
		t.Fatal("Open of a missing snapshot succeeded, want error")
	}
}
