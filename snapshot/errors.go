package snapshot

import "errors"

var (
	// ErrChecksum means a snapshot's payload does not match its trailing
	// checksum. Read removes the partial file.
	ErrChecksum = errors.New("snapshot: checksum mismatch")
	// ErrTruncated means the stream ended before the header, payload or
	// checksum was complete.
	ErrTruncated = errors.New("snapshot: truncated stream")
	// ErrFormat means the stream does not start with the snapshot magic or
	// its header is malformed.
	ErrFormat = errors.New("snapshot: not an rdb snapshot")
	// ErrVersion means the stream was written by a format version this
	// build cannot read.
	ErrVersion = errors.New("snapshot: unsupported format version")
)
