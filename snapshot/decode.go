package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"hash"
	"os"
)

// errTrailing refuses bytes after a snapshot's checksum.
var errTrailing = errors.New("snapshot: data after the checksum")

// decoder is Read as an io.Writer: fed a snapshot stream in pieces of any
// size, it writes the payload straight into f and checks the header,
// length and checksum, so a sink files a snapshot without first spooling
// the whole stream to a second file. finish says whether the stream was
// whole and intact; until it does, f holds unverified bytes.
type decoder struct {
	f       *os.File
	hdr     []byte // the header, while it is incomplete
	meta    Meta
	version byte
	size    int64 // payload length, from the header
	written int64 // payload bytes written to f
	flushed int64 // payload bytes handed to startWriteback
	sum     []byte
	h       hash.Hash // the trailer's checksum, once the header told which
	err     error     // the first error: every later Write returns it
}

func newDecoder(f *os.File) *decoder {
	return &decoder{f: f, hdr: make([]byte, 0, headerSize), size: -1}
}

func (d *decoder) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := len(p)
	if d.size < 0 {
		k := min(headerSize-len(d.hdr), len(p))
		d.hdr = append(d.hdr, p[:k]...)
		p = p[k:]
		if len(d.hdr) < headerSize {
			return n, nil
		}
		if d.meta, d.size, d.err = decodeHeader(d.hdr); d.err != nil {
			return 0, d.err
		}
		d.version = d.hdr[len(magic)]
		d.h = newSum(d.version)
		d.h.Write(d.hdr)
	}
	if k := min(d.size-d.written, int64(len(p))); k > 0 {
		if _, err := d.f.Write(p[:k]); err != nil {
			d.err = fmt.Errorf("write snapshot payload: %w", err)
			return 0, d.err
		}
		d.h.Write(p[:k])
		d.written += k
		if d.written-d.flushed >= writebackChunk {
			startWriteback(d.f, d.flushed, d.written-d.flushed)
			d.flushed = d.written
		}
		p = p[k:]
	}
	if len(p) > 0 {
		if len(d.sum)+len(p) > d.h.Size() {
			d.err = errTrailing
			return 0, d.err
		}
		d.sum = append(d.sum, p...)
	}
	return n, nil
}

// finish checks that the stream was complete and its checksum matches,
// syncs f and returns the snapshot's meta and format version.
func (d *decoder) finish() (Meta, byte, error) {
	switch {
	case d.err != nil:
		return Meta{}, 0, d.err
	case d.size < 0:
		return Meta{}, 0, fmt.Errorf("read snapshot header: %w", ErrTruncated)
	case d.written < d.size:
		return Meta{}, 0, fmt.Errorf("read snapshot payload: got %d of %d bytes: %w", d.written, d.size, ErrTruncated)
	case len(d.sum) < d.h.Size():
		return Meta{}, 0, fmt.Errorf("read snapshot checksum: %w", ErrTruncated)
	case !bytes.Equal(d.sum, d.h.Sum(nil)):
		return Meta{}, 0, ErrChecksum
	}
	if err := d.f.Sync(); err != nil {
		return Meta{}, 0, fmt.Errorf("sync snapshot data: %w", err)
	}
	return d.meta, d.version, nil
}
