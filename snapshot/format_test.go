package snapshot

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// writeFile creates a file holding data in a fresh temp dir.
func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "src.db")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var testMeta = Meta{Index: 1234567, Term: 89}

// encode returns the snapshot stream of data, with testMeta.
func encode(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, writeFile(t, data), testMeta); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestWriteRead_RoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("SQLite format 3\x00 page "), 100000) // > copy buffer
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"small", []byte("SQLite format 3\x00")},
		{"large", big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := encode(t, tt.data)
			if got, want := len(stream), headerSize+len(tt.data)+sumLen(Version); got != want {
				t.Fatalf("stream length = %d, want %d", got, want)
			}
			dst := filepath.Join(t.TempDir(), "dst.db")
			meta, err := Read(bytes.NewReader(stream), dst)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if meta != testMeta {
				t.Fatalf("Read meta = %+v, want %+v", meta, testMeta)
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("restored %d bytes, want %d identical bytes", len(got), len(tt.data))
			}
		})
	}
}

// badStream is a damaged snapshot stream and the error reading it gives.
type badStream struct {
	name   string
	stream []byte
	want   error
}

// badStreams are the ways a stream can be damaged, cut or malformed.
func badStreams(t *testing.T) []badStream {
	good := encode(t, []byte("SQLite format 3\x00 some pages"))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0xff
		return b
	}
	return []badStream{
		{"empty stream", nil, ErrTruncated},
		{"short header", good[:headerSize-1], ErrTruncated},
		{"bad magic", flip(0), ErrFormat},
		{"bad version", flip(len(magic)), ErrVersion},
		{"huge length", flip(headerSize - 8), ErrFormat},
		{"index corrupted", flip(len(magic) + 1), ErrChecksum},
		{"term corrupted", flip(len(magic) + 9), ErrChecksum},
		{"payload cut", good[:headerSize+3], ErrTruncated},
		{"checksum cut", good[:len(good)-1], ErrTruncated},
		{"payload corrupted", flip(headerSize + 2), ErrChecksum},
		{"checksum corrupted", flip(len(good) - 1), ErrChecksum},
		{"length corrupted", flip(headerSize - 1), ErrTruncated},
	}
}

func TestRead_Errors(t *testing.T) {
	tests := badStreams(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst.db")
			_, err := Read(bytes.NewReader(tt.stream), dst)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read error = %v, want %v", err, tt.want)
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("partial file left behind: stat error = %v", err)
			}
		})
	}
}

func TestRead_ReaderError(t *testing.T) {
	good := encode(t, []byte("0123456789"))
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(good[:headerSize+2]), &failReader{err: boom})
	dst := filepath.Join(t.TempDir(), "dst.db")
	if _, err := Read(r, dst); !errors.Is(err, boom) {
		t.Fatalf("Read error = %v, want %v", err, boom)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial file left behind: stat error = %v", err)
	}
}

func TestWrite_MissingSource(t *testing.T) {
	err := Write(io.Discard, filepath.Join(t.TempDir(), "nope"), Meta{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Write error = %v, want ErrNotExist", err)
	}
}

func TestWrite_WriterError(t *testing.T) {
	boom := errors.New("boom")
	err := Write(&failWriter{err: boom}, writeFile(t, []byte("data")), Meta{})
	if !errors.Is(err, boom) {
		t.Fatalf("Write error = %v, want %v", err, boom)
	}
}

type failReader struct{ err error }

func (r *failReader) Read([]byte) (int, error) { return 0, r.err }

type failWriter struct{ err error }

func (w *failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestReadMeta(t *testing.T) {
	want := Meta{Index: 12, Term: 3}
	var buf bytes.Buffer
	if err := Write(&buf, writeFile(t, []byte("payload")), want); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"whole stream", buf.Bytes(), nil},
		{"header only", buf.Bytes()[:headerSize], nil},
		{"short header", buf.Bytes()[:headerSize-1], ErrTruncated},
		{"not a snapshot", bytes.Repeat([]byte("x"), headerSize), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadMeta(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got != want {
				t.Errorf("meta = %+v, want %+v", got, want)
			}
		})
	}
}
