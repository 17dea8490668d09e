package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// MaxFrameSize bounds one RPC frame (a request or a response body).
const MaxFrameSize = 64 << 20

const (
	frameHeaderLen = 4
	// smallFrame is the largest body read into a buffer of its announced
	// size; larger bodies grow with the bytes that actually arrive, so a
	// peer announcing 64 MiB and sending nothing costs nothing.
	smallFrame = 64 << 10
)

// msgpackHandle is shared by every encoder and decoder; a configured
// handle is safe for concurrent use. WriteExt keeps strings and byte
// slices apart on the wire.
var msgpackHandle = func() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.WriteExt = true
	return h
}()

// encoders and decoders are reused: setting one up costs several
// allocations, and every forwarded request needs one of each per side.
var (
	encoders = sync.Pool{New: func() any { return codec.NewEncoderBytes(nil, msgpackHandle) }}
	decoders = sync.Pool{New: func() any { return codec.NewDecoderBytes(nil, msgpackHandle) }}
)

func encodeMsg(v any) ([]byte, error) {
	var b []byte
	e := encoders.Get().(*codec.Encoder)
	defer encoders.Put(e)
	e.ResetBytes(&b)
	if err := e.Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

func decodeMsg(b []byte, v any) error {
	d := decoders.Get().(*codec.Decoder)
	defer decoders.Put(d)
	d.ResetBytes(b)
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// writeFrame writes body with its big-endian uint32 length in front.
func writeFrame(w io.Writer, body []byte) error {
	if len(body) > MaxFrameSize {
		return fmt.Errorf("write frame of %d bytes: %w", len(body), ErrFrameTooLarge)
	}
	var hdr [frameHeaderLen]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	bufs := net.Buffers{hdr[:], body}
	if _, err := bufs.WriteTo(w); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// readFrame reads one frame body. io.EOF means the peer closed cleanly
// between frames.
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read frame header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrameSize {
		return nil, fmt.Errorf("read frame of %d bytes: %w", n, ErrFrameTooLarge)
	}
	if n <= smallFrame {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("read frame body: %w", unexpectedEOF(err))
		}
		return b, nil
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		return nil, fmt.Errorf("read frame body: %w", unexpectedEOF(err))
	}
	return buf.Bytes(), nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
