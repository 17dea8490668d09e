package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
)

const (
	// Version is the format of a whole database (Write), its stream
	// checked by CRC-32C.
	Version = 3
	// VersionWAL is the format of an incremental snapshot: the payload is
	// the database's WAL file since the previous snapshot.
	VersionWAL = 4
	// versionSHA and versionWALSHA are the same two formats with a SHA-256
	// trailer, which releases before CRC-32C send; they are still read.
	versionSHA    = 1
	versionWALSHA = 2

	magic      = "RDBSNAP"
	headerSize = len(magic) + 1 + 8 + 8 + 8 // magic, version, index, term, payload length
	copyBuf    = 256 << 10
	// writebackChunk is how much of a large file is written before its
	// pages are handed to the disk (startWriteback).
	writebackChunk = 8 << 20
)

// castagnoli is the CRC-32C table: the hardware-accelerated polynomial.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// newSum returns the trailer's checksum for a stream of version: CRC-32C
// (several times faster than SHA-256, which bounded how fast a joining
// node received a large snapshot; it guards against corruption, not
// tampering, which Raft's transport does not defend against either), or
// SHA-256 for the older versions.
func newSum(version byte) hash.Hash {
	if version == versionSHA || version == versionWALSHA {
		return sha256.New()
	}
	return crc32.New(castagnoli)
}

// sumLen is the length of the trailer of a stream of version.
func sumLen(version byte) int {
	if version == versionSHA || version == versionWALSHA {
		return sha256.Size
	}
	return crc32.Size
}

// wholeDB reports whether version carries a whole database (not a WAL).
func wholeDB(version byte) bool { return version == Version || version == versionSHA }

// Meta is what a snapshot says about itself: the index and term of the
// last log entry applied to the database it holds. It travels inside the
// stream because raft hands the FSM only a reader when it restores.
type Meta struct {
	Index uint64
	Term  uint64
}

// Write streams the file at path to w as one full snapshot: header (with
// meta), file bytes, checksum. The file must not change while Write runs
// (callers pass a private copy); a file that shrinks is reported as an
// error.
func Write(w io.Writer, path string, meta Meta) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open snapshot source: %w", err)
	}
	defer f.Close()
	return WriteFrom(w, f, Version, meta)
}

// WriteFrom is Write from an open file, in format version (Version for a
// whole database, VersionWAL for the WAL frames of an incremental
// snapshot). The file is read from its start.
func WriteFrom(w io.Writer, f *os.File, version byte, meta Meta) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat snapshot source %s: %w", f.Name(), err)
	}
	size := fi.Size()
	h := newSum(version)
	mw := io.MultiWriter(w, h)
	if _, err := mw.Write(encodeHeader(version, meta, uint64(size))); err != nil {
		return fmt.Errorf("write snapshot header: %w", err)
	}
	n, err := io.CopyBuffer(mw, io.NewSectionReader(f, 0, size), make([]byte, copyBuf))
	if err != nil {
		return fmt.Errorf("write snapshot payload: %w", err)
	}
	if n != size {
		return fmt.Errorf("write snapshot payload: %s shrank from %d to %d bytes", f.Name(), size, n)
	}
	if _, err := w.Write(h.Sum(nil)); err != nil {
		return fmt.Errorf("write snapshot checksum: %w", err)
	}
	return nil
}

// Read reads one snapshot from r into a new file at destPath, verifies it
// and returns its meta. On any error, including ErrChecksum and
// ErrTruncated, the partial file is removed. The file is synced before
// Read returns.
func Read(r io.Reader, destPath string) (Meta, error) {
	meta, version, err := readAny(r, destPath)
	if err == nil && !wholeDB(version) {
		os.Remove(destPath)
		return Meta{}, fmt.Errorf("version %d where a whole database was expected: %w", version, ErrVersion)
	}
	return meta, err
}

// readAny is Read for either version, which it returns.
func readAny(r io.Reader, destPath string) (Meta, byte, error) {
	hdr := make([]byte, headerSize)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return Meta{}, 0, fmt.Errorf("read snapshot header: %w", readErr(err))
	}
	meta, size, err := decodeHeader(hdr)
	if err != nil {
		return Meta{}, 0, err
	}
	if err := readFile(r, destPath, hdr, size); err != nil {
		return Meta{}, 0, err
	}
	return meta, hdr[len(magic)], nil
}

// readFile creates destPath from the payload, removing it on error.
func readFile(r io.Reader, destPath string, hdr []byte, size int64) (err error) {
	f, err := os.OpenFile(destPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create snapshot destination: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close snapshot destination %s: %w", destPath, cerr)
		}
		if err != nil {
			os.Remove(destPath)
		}
	}()
	return readPayload(r, f, hdr, size)
}

// readPayload copies size bytes from r to f and checks the trailing sum,
// which covers hdr and the payload.
func readPayload(r io.Reader, f *os.File, hdr []byte, size int64) error {
	version := hdr[len(magic)]
	h := newSum(version)
	h.Write(hdr)
	n, err := io.CopyBuffer(io.MultiWriter(f, h), io.LimitReader(r, size), make([]byte, copyBuf))
	if err != nil {
		return fmt.Errorf("read snapshot payload: %w", err)
	}
	if n != size {
		return fmt.Errorf("read snapshot payload: got %d of %d bytes: %w", n, size, ErrTruncated)
	}
	sum := make([]byte, sumLen(version))
	if _, err := io.ReadFull(r, sum); err != nil {
		return fmt.Errorf("read snapshot checksum: %w", readErr(err))
	}
	if !bytes.Equal(sum, h.Sum(nil)) {
		return ErrChecksum
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync snapshot destination: %w", err)
	}
	return nil
}

func encodeHeader(version byte, meta Meta, size uint64) []byte {
	b := make([]byte, len(magic), headerSize)
	copy(b, magic)
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, meta.Index)
	b = binary.BigEndian.AppendUint64(b, meta.Term)
	return binary.BigEndian.AppendUint64(b, size)
}

func decodeHeader(b []byte) (Meta, int64, error) {
	if string(b[:len(magic)]) != magic {
		return Meta{}, 0, ErrFormat
	}
	b = b[len(magic):]
	if b[0] != Version && b[0] != VersionWAL && b[0] != versionSHA && b[0] != versionWALSHA {
		return Meta{}, 0, fmt.Errorf("version %d: %w", b[0], ErrVersion)
	}
	meta := Meta{Index: binary.BigEndian.Uint64(b[1:]), Term: binary.BigEndian.Uint64(b[9:])}
	size := binary.BigEndian.Uint64(b[17:])
	if size > math.MaxInt64 {
		return Meta{}, 0, fmt.Errorf("payload length %d: %w", size, ErrFormat)
	}
	return meta, int64(size), nil
}

// readErr turns the short-read errors of io.ReadFull into ErrTruncated.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}

// ReadMeta reads only the header of the snapshot in r and returns its
// meta: cheap, whatever the snapshot's size. It verifies nothing beyond
// the header; Read verifies the whole stream.
func ReadMeta(r io.Reader) (Meta, error) {
	meta, _, err := PeekMeta(r)
	return meta, err
}

// PeekMeta reads the header of the snapshot in r and returns its meta and
// a reader that yields the whole stream again, header first, for Read.
func PeekMeta(r io.Reader) (Meta, io.Reader, error) {
	hdr := make([]byte, headerSize)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return Meta{}, nil, fmt.Errorf("read snapshot header: %w", readErr(err))
	}
	meta, _, err := decodeHeader(hdr)
	if err != nil {
		return Meta{}, nil, err
	}
	return meta, io.MultiReader(bytes.NewReader(hdr), r), nil
}
