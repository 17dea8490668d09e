package snapshot

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// encodeVersion returns the stream of data in format version.
func encodeVersion(t *testing.T, version byte, data []byte) []byte {
	t.Helper()
	f, err := os.Open(writeFile(t, data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := WriteFrom(&buf, f, version, testMeta); err != nil {
		t.Fatalf("WriteFrom version %d: %v", version, err)
	}
	return buf.Bytes()
}

// Streams are written with a CRC-32C trailer; the SHA-256 versions that
// older releases send are still read, by Read and by a sink's decoder,
// and still verified.
func TestVersions_ChecksumPerVersion(t *testing.T) {
	data := bytes.Repeat([]byte("SQLite format 3\x00 page "), 3000)
	if got, want := len(encode(t, data)), headerSize+len(data)+4; got != want {
		t.Fatalf("a new stream is %d bytes, want %d (CRC-32C trailer)", got, want)
	}
	tests := []struct {
		version byte
		sumLen  int
		whole   bool
	}{
		{Version, 4, true},
		{VersionWAL, 4, false},
		{versionSHA, sha256.Size, true},
		{versionWALSHA, sha256.Size, false},
	}
	for _, tt := range tests {
		stream := encodeVersion(t, tt.version, data)
		if got, want := len(stream), headerSize+len(data)+tt.sumLen; got != want {
			t.Errorf("version %d: stream of %d bytes, want %d", tt.version, got, want)
		}
		meta, version, got, err := decodeAll(t, stream, 1000)
		if err != nil || meta != testMeta || version != tt.version || !bytes.Equal(got, data) {
			t.Errorf("version %d: decoder gave %+v, %d, %d bytes, %v", tt.version, meta, version, len(got), err)
		}
		dst := filepath.Join(t.TempDir(), "db")
		_, err = Read(bytes.NewReader(stream), dst)
		if tt.whole && err != nil {
			t.Errorf("version %d: Read: %v", tt.version, err)
		}
		if !tt.whole && !errors.Is(err, ErrVersion) {
			t.Errorf("version %d: Read of a WAL stream = %v, want ErrVersion", tt.version, err)
		}
		for _, at := range []int{headerSize + 5, len(stream) - 1} {
			bad := bytes.Clone(stream)
			bad[at] ^= 0x01
			if _, _, _, err := decodeAll(t, bad, 1000); !errors.Is(err, ErrChecksum) {
				t.Errorf("version %d, byte %d flipped: decoder error %v, want ErrChecksum", tt.version, at, err)
			}
		}
	}
}
