package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// CopyBase copies only a base this process received and verified, and
// only for the meta it holds.
func TestStore_CopyBase(t *testing.T) {
	s := newChainStore(t, 2)
	data := bytes.Repeat([]byte("0123456789abcdef"), (writebackChunk+12345)/16) // more than one chunk
	persist(t, s, 10, data)

	copyTo := func(meta Meta) (bool, []byte) {
		t.Helper()
		dst := filepath.Join(t.TempDir(), "db")
		ok, err := s.CopyBase(meta, dst)
		if err != nil {
			t.Fatalf("CopyBase(%+v): %v", meta, err)
		}
		b, err := os.ReadFile(dst)
		if ok && err != nil {
			t.Fatalf("CopyBase(%+v) said ok but: %v", meta, err)
		}
		if !ok && err == nil {
			t.Fatalf("CopyBase(%+v) said not ok but wrote %s", meta, dst)
		}
		return ok, b
	}
	if ok, b := copyTo(Meta{Index: 10, Term: 1}); !ok || !bytes.Equal(b, data) {
		t.Fatalf("CopyBase of the verified base: ok=%v, %d bytes (want %d, equal)", ok, len(b), len(data))
	}
	if ok, _ := copyTo(Meta{Index: 11, Term: 1}); ok {
		t.Fatal("CopyBase copied a base for another index")
	}

	// Folding an incremental snapshot into the base makes it a base this
	// process did not receive as such.
	if _, err := persistVersion(t, s, VersionWAL, 20, []byte("W")); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Reap(); err != nil || n != 1 {
		t.Fatalf("Reap = %d, %v; want 1", n, err)
	}
	if ok, _ := copyTo(Meta{Index: 20, Term: 1}); ok {
		t.Fatal("CopyBase copied a base with an incremental snapshot folded in")
	}

	// A base found on disk at start was not verified by this process.
	persist(t, s, 30, []byte("fresh"))
	cfg := DefaultConfig()
	cfg.Dir, cfg.ApplyWAL = filepath.Dir(s.Dir()), appendWAL
	reopened, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := reopened.CopyBase(Meta{Index: 30, Term: 1}, filepath.Join(t.TempDir(), "db")); ok || err != nil {
		t.Fatalf("CopyBase after reopening = %v, %v; want false, nil", ok, err)
	}
	if ok, b := copyTo(Meta{Index: 30, Term: 1}); !ok || string(b) != "fresh" {
		t.Fatalf("CopyBase of the new verified base: ok=%v, %q", ok, b)
	}
	if s.readers != 0 {
		t.Fatalf("readers = %d after the copies, want 0", s.readers)
	}
}

func TestPeekMeta(t *testing.T) {
	var stream bytes.Buffer
	if err := Write(&stream, writeFile(t, []byte("payload")), Meta{Index: 7, Term: 3}); err != nil {
		t.Fatal(err)
	}
	meta, whole, err := PeekMeta(&stream)
	if err != nil || meta != (Meta{Index: 7, Term: 3}) {
		t.Fatalf("PeekMeta = %+v, %v", meta, err)
	}
	dst := filepath.Join(t.TempDir(), "db")
	if m, err := Read(whole, dst); err != nil || m != meta {
		t.Fatalf("Read after PeekMeta = %+v, %v", m, err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "payload" {
		t.Fatalf("payload = %q", b)
	}
	if _, _, err := PeekMeta(bytes.NewReader([]byte("RDBSNAP"))); err == nil {
		t.Fatal("PeekMeta of a truncated header succeeded")
	}
}
