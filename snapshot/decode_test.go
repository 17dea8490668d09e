package snapshot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// decodeAll feeds stream to a decoder in pieces of chunk bytes and
// returns what finish says and the file's contents.
func decodeAll(t *testing.T, stream []byte, chunk int) (Meta, byte, []byte, error) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := newDecoder(f)
	for len(stream) > 0 {
		k := min(chunk, len(stream))
		n, err := d.Write(stream[:k])
		if err != nil {
			return Meta{}, 0, nil, err
		}
		if n != k {
			t.Fatalf("Write(%d bytes) = %d without an error", k, n)
		}
		stream = stream[k:]
	}
	meta, version, err := d.finish()
	if err != nil {
		return Meta{}, 0, nil, err
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return meta, version, got, nil
}

func TestDecoder_AnyChunking(t *testing.T) {
	data := bytes.Repeat([]byte("SQLite format 3\x00 page "), 2000) // longer than the 32 KiB chunk
	stream := encode(t, data)
	for _, chunk := range []int{1, 7, headerSize, headerSize + 1, 32 << 10, len(stream)} {
		meta, version, got, err := decodeAll(t, stream, chunk)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		if meta != testMeta || version != Version || !bytes.Equal(got, data) {
			t.Fatalf("chunk %d: meta %+v version %d, %d bytes; want %+v, %d, %d bytes",
				chunk, meta, version, len(got), testMeta, Version, len(data))
		}
	}
}

func TestDecoder_Refuses(t *testing.T) {
	good := encode(t, []byte("SQLite format 3\x00 some pages"))
	tests := append(badStreams(t), badStream{"data after the checksum", append(bytes.Clone(good), 0), errTrailing})
	for _, tt := range tests {
		for _, chunk := range []int{1, len(good) + 1} {
			if _, _, _, err := decodeAll(t, tt.stream, chunk); !errors.Is(err, tt.want) {
				t.Errorf("%s, chunk %d: error = %v, want %v", tt.name, chunk, err, tt.want)
			}
		}
	}
}
