package snapshot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
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

// appendWAL is a stand-in for SQLite's checkpoint: it appends the "WAL"
// bytes to the "database".
func appendWAL(dbPath, walPath string) error {
	w, err := os.ReadFile(walPath)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dbPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(w); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// persistVersion writes one snapshot of data in format version into s.
func persistVersion(t *testing.T, s *Store, version byte, index uint64, data []byte) (string, error) {
	t.Helper()
	_, tn := raft.NewInmemTransport("")
	sink, err := s.Create(raft.SnapshotVersionMax, index, 1, raft.Configuration{}, 1, tn)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	f, err := os.Open(writeFile(t, data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WriteFrom(sink, f, version, Meta{Index: index, Term: 1}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return sink.ID(), sink.Close()
}

// opened reads snapshot id back as a whole database.
func opened(t *testing.T, s *Store, id string) (Meta, string) {
	t.Helper()
	rmeta, rc, err := s.Open(id)
	if err != nil {
		t.Fatalf("Open(%s): %v", id, err)
	}
	defer rc.Close()
	var stream bytes.Buffer
	if _, err := stream.ReadFrom(rc); err != nil {
		t.Fatalf("read snapshot %s: %v", id, err)
	}
	if int64(stream.Len()) != rmeta.Size {
		t.Fatalf("Open(%s): meta.Size %d, stream has %d bytes", id, rmeta.Size, stream.Len())
	}
	dst := filepath.Join(t.TempDir(), "dst")
	meta, err := Read(&stream, dst)
	if err != nil {
		t.Fatalf("Read of snapshot %s: %v", id, err)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return meta, string(b)
}

func newChainStore(t *testing.T, retain int) *Store {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Dir, cfg.Retain, cfg.ApplyWAL = t.TempDir(), retain, appendWAL
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func listIndexes(t *testing.T, s *Store) []uint64 {
	t.Helper()
	metas, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, m := range metas {
		out = append(out, m.Index)
	}
	return out
}

func TestStore_FullReplacesBase(t *testing.T) {
	s := newChainStore(t, 2)
	if got, want := s.Dir(), filepath.Join(filepath.Dir(s.Dir()), "snapshots"); got != want {
		t.Fatalf("Dir() = %q, want %q", got, want)
	}
	var id string
	for i := uint64(1); i <= 3; i++ {
		id = persist(t, s, i*10, []byte{byte('a' + i)})
	}
	if got := listIndexes(t, s); !slices.Equal(got, []uint64{30}) {
		t.Fatalf("List() indexes = %v, want [30]", got)
	}
	meta, data := opened(t, s, id)
	if meta.Index != 30 || data != "d" {
		t.Fatalf("Open = %+v %q, want index 30 and %q", meta, data, "d")
	}
}

func TestStore_IncrementalChain(t *testing.T) {
	s := newChainStore(t, 2)
	if _, err := persistVersion(t, s, VersionWAL, 5, []byte("X")); !errors.Is(err, errNoBase) {
		t.Fatalf("incremental without a base: %v, want %v", err, errNoBase)
	}
	persist(t, s, 10, []byte("A"))
	ids := map[uint64]string{}
	for i, w := range []string{"B", "C", "D"} {
		index := uint64(20 + 10*i)
		id, err := persistVersion(t, s, VersionWAL, index, []byte(w))
		if err != nil {
			t.Fatalf("incremental %d: %v", index, err)
		}
		ids[index] = id
	}
	if got, want := listIndexes(t, s), []uint64{40, 30, 20}; !slices.Equal(got, want) {
		t.Fatalf("List() = %v, want %v (the oldest incremental folded into the base)", got, want)
	}
	if m, err := s.ReadMeta(ids[40]); err != nil || m.Index != 40 {
		t.Errorf("ReadMeta = %+v, %v", m, err)
	}
	// An older snapshot is rebuilt in a copy: the chain stays.
	if meta, got := opened(t, s, ids[30]); got != "ABC" || meta.Index != 30 {
		t.Errorf("Open(30) = %+v %q, want %q", meta, got, "ABC")
	}
	if got, want := listIndexes(t, s), []uint64{40, 30, 20}; !slices.Equal(got, want) {
		t.Fatalf("List() after Open(30) = %v, want %v", got, want)
	}
	// The newest is folded into the base in place and streamed from it.
	if meta, got := opened(t, s, ids[40]); got != "ABCD" || meta.Index != 40 {
		t.Errorf("Open(40) = %+v %q, want %q", meta, got, "ABCD")
	}
	if got := listIndexes(t, s); !slices.Equal(got, []uint64{40}) {
		t.Fatalf("List() after Open(40) = %v, want [40] (folded into the base)", got)
	}
	if n, err := s.Reap(); err != nil || n != 0 {
		t.Fatalf("Reap after the fold = %d, %v; want 0", n, err)
	}
	metas, _ := s.List()
	if _, got := opened(t, s, metas[0].ID); got != "ABCD" {
		t.Errorf("base = %q, want ABCD", got)
	}
}

func TestStore_CorruptStreamRefused(t *testing.T) {
	s := newChainStore(t, 2)
	persist(t, s, 10, []byte("A"))
	_, tn := raft.NewInmemTransport("")
	sink, err := s.Create(raft.SnapshotVersionMax, 20, 1, raft.Configuration{}, 1, tn)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, writeFile(t, []byte("BBBB")), Meta{Index: 20, Term: 1}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	b[headerSize+1] ^= 0xff
	if _, err := sink.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); !errors.Is(err, ErrChecksum) {
		t.Fatalf("Close of a corrupt stream: %v, want %v", err, ErrChecksum)
	}
	if got := listIndexes(t, s); !slices.Equal(got, []uint64{10}) {
		t.Fatalf("List() = %v, want the old base only", got)
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

func TestStore_ReadMeta(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := persist(t, s, 17, []byte("some database bytes"))
	tests := []struct {
		name    string
		id      string
		want    Meta
		wantErr bool
	}{
		{"existing", id, Meta{Index: 17, Term: 1}, false},
		{"missing", "no-such-snapshot", Meta{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ReadMeta(tt.id)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ReadMeta(%s) = %+v, %v; want %+v (error %v)", tt.id, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// A stream of the base reads the base's own file, so nothing may fold
// into it while the stream is open: the reader gets the base as it was at
// Open, and the folds wait for the next snapshot or reap after Close.
func TestStore_OpenBaseHoldsFolds(t *testing.T) {
	s := newChainStore(t, 1) // the older of two incrementals is folded, unless held
	base := persist(t, s, 10, []byte("A"))
	_, rc, err := s.Open(base)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"B", "C"} {
		if _, err := persistVersion(t, s, VersionWAL, uint64(20+10*i), []byte(w)); err != nil {
			t.Fatal(err)
		}
	}
	if got := listIndexes(t, s); !slices.Equal(got, []uint64{30, 20, 10}) {
		t.Fatalf("List() with the base open = %v, want [30 20 10] (fold held)", got)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	meta, err := Read(rc, dst)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "A" || meta.Index != 10 {
		t.Fatalf("base stream = %q at %d, want %q at 10", b, meta.Index, "A")
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Reap(); err != nil || n != 2 {
		t.Fatalf("Reap after Close = %d, %v; want 2", n, err)
	}
	metas, _ := s.List()
	if _, got := opened(t, s, metas[0].ID); got != "ABC" {
		t.Fatalf("base after the held folds = %q, want ABC", got)
	}
}

// A new base filed while the old one is being streamed replaces it by
// rename: the open stream still reads the old file whole.
func TestStore_OpenBaseSurvivesNewBase(t *testing.T) {
	s := newChainStore(t, 2)
	old := persist(t, s, 10, bytes.Repeat([]byte("o"), 1<<20))
	_, rc, err := s.Open(old)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	persist(t, s, 20, []byte("new"))
	dst := filepath.Join(t.TempDir(), "dst")
	if _, err := Read(rc, dst); err != nil {
		t.Fatalf("reading the replaced base: %v", err)
	}
	if b, _ := os.ReadFile(dst); !bytes.Equal(b, bytes.Repeat([]byte("o"), 1<<20)) {
		t.Fatalf("replaced base read back as %d bytes of something else", len(b))
	}
}
