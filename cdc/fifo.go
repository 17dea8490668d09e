package cdc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The queue is a directory of append-only segment files, <first>.seg,
// named by the first index they may hold (zero-padded, so names sort).
// A record is: index (8 bytes, big-endian), data length (4), CRC-32C of
// the data (4), data. One apply batch is one write(2) of its records, with
// no fsync: a killed process loses nothing (the page cache keeps it);
// sync() flushes the active segment (every second, and at close). At open
// every segment is scanned; a torn or corrupt tail (power loss) is cut
// off. The newest segment is never deleted, so the highest index ever
// enqueued survives pruning. How far the queue was pruned is kept in the
// file "pruned" (8 bytes, replaced by rename), so delivered records of
// the active segment do not come back at open.
const (
	prunedName = "pruned"
	segSuffix  = ".seg"
	headerSize = 16
)

// segMax is the size after which a new segment is started; delivered
// segments are deleted whole. A variable for tests.
var segMax int64 = 8 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// segment is one file of the queue.
type segment struct {
	first uint64 // from the name
	last  uint64 // highest index in it, 0 if empty
	path  string
	f     *os.File
	size  int64
}

// recRef locates one queued record.
type recRef struct {
	index uint64
	seg   *segment
	off   int64 // of the data
	n     uint32
}

// fifo is the durable per-node queue of payload elements, ordered by
// index. Safe for concurrent use.
type fifo struct {
	dir string

	mu      sync.Mutex
	segs    []*segment // oldest first; the last is the one appended to
	recs    []recRef   // queued records, ascending
	highest uint64     // highest index ever enqueued
	pruned  uint64     // records at or below this are gone
}

// queued is one element read from the queue.
type queued struct {
	index uint64
	data  []byte
}

// openFIFO opens (creating) the queue in dir.
func openFIFO(dir string) (*fifo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cdc: create %s: %w", dir, err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		return nil, fmt.Errorf("cdc: list queue %s: %w", dir, err)
	}
	sort.Strings(names)
	q := &fifo{dir: dir}
	if b, err := os.ReadFile(filepath.Join(dir, prunedName)); err == nil && len(b) == 8 {
		q.pruned = binary.BigEndian.Uint64(b)
	}
	for _, p := range names {
		first, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(p), segSuffix), 10, 64)
		if err != nil {
			continue // not ours
		}
		s, err := q.load(p, first)
		if err != nil {
			q.close()
			return nil, err
		}
		q.segs = append(q.segs, s)
	}
	if len(q.segs) == 0 {
		if err := q.rotate(1); err != nil {
			return nil, err
		}
	}
	q.recs = q.recs[q.firstAfter(q.pruned):]
	return q, nil
}

// load opens segment p and indexes its records, cutting off a bad tail.
func (q *fifo) load(p string, first uint64) (*segment, error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cdc: open queue segment: %w", err)
	}
	s := &segment{first: first, path: p, f: f}
	var hdr [headerSize]byte
	for {
		if _, err := f.ReadAt(hdr[:], s.size); err != nil {
			break // end, or a torn header
		}
		idx := binary.BigEndian.Uint64(hdr[0:8])
		n := binary.BigEndian.Uint32(hdr[8:12])
		sum := binary.BigEndian.Uint32(hdr[12:16])
		data := make([]byte, n)
		if _, err := f.ReadAt(data, s.size+headerSize); err != nil || crc32.Checksum(data, crcTable) != sum || idx <= q.highest {
			break
		}
		q.recs = append(q.recs, recRef{index: idx, seg: s, off: s.size + headerSize, n: n})
		q.highest, s.last = idx, idx
		s.size += headerSize + int64(n)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > s.size {
		if err := f.Truncate(s.size); err != nil {
			f.Close()
			return nil, fmt.Errorf("cdc: cut torn queue tail %s: %w", p, err)
		}
	}
	return s, nil
}

// rotate starts a new active segment for indexes from first on.
func (q *fifo) rotate(first uint64) error {
	p := filepath.Join(q.dir, fmt.Sprintf("%020d%s", first, segSuffix))
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("cdc: create queue segment: %w", err)
	}
	if n := len(q.segs); n > 0 {
		q.segs[n-1].f.Sync() // the previous segment is complete
	}
	if d, err := os.Open(q.dir); err == nil {
		d.Sync()
		d.Close()
	}
	q.segs = append(q.segs, &segment{first: first, path: p, f: f})
	return nil
}

// enqueue appends items (ascending) in one write, ignoring any at or
// below the highest index ever enqueued or floor (replays after a
// restart, events already delivered). It returns how many it added.
func (q *fifo) enqueue(items []queued, floor uint64) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	hi := max(q.highest, floor)
	var buf []byte
	var refs []recRef
	s := q.segs[len(q.segs)-1]
	for _, it := range items {
		if it.index <= hi {
			continue
		}
		var hdr [headerSize]byte
		binary.BigEndian.PutUint64(hdr[0:8], it.index)
		binary.BigEndian.PutUint32(hdr[8:12], uint32(len(it.data)))
		binary.BigEndian.PutUint32(hdr[12:16], crc32.Checksum(it.data, crcTable))
		refs = append(refs, recRef{index: it.index, seg: s, off: s.size + int64(len(buf)) + headerSize, n: uint32(len(it.data))})
		buf = append(append(buf, hdr[:]...), it.data...)
		hi = it.index
	}
	if len(refs) == 0 {
		return 0, nil
	}
	if _, err := s.f.WriteAt(buf, s.size); err != nil {
		s.f.Truncate(s.size)
		return 0, fmt.Errorf("cdc: enqueue: %w", err)
	}
	s.size += int64(len(buf))
	s.last, q.highest = hi, hi
	q.recs = append(q.recs, refs...)
	if s.size >= segMax {
		if err := q.rotate(hi + 1); err != nil {
			return len(refs), err
		}
	}
	return len(refs), nil
}

// firstAfter is the position in recs of the first record with index >
// from.
func (q *fifo) firstAfter(from uint64) int {
	return sort.Search(len(q.recs), func(i int) bool { return q.recs[i].index > from })
}

// after returns up to n elements with index > from, in order.
func (q *fifo) after(from uint64, n int) ([]queued, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []queued
	for i := q.firstAfter(from); i < len(q.recs) && len(out) < n; i++ {
		r := q.recs[i]
		data := make([]byte, r.n)
		if _, err := r.seg.f.ReadAt(data, r.off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("cdc: read queue: %w", err)
		}
		out = append(out, queued{index: r.index, data: data})
	}
	return out, nil
}

// prune forgets every element at or below upTo and deletes the segments
// that hold nothing else (never the active one).
func (q *fifo) prune(upTo uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if upTo <= q.pruned {
		return nil
	}
	k := q.firstAfter(upTo)
	q.recs = append(q.recs[:0:0], q.recs[k:]...)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], upTo)
	tmp := filepath.Join(q.dir, prunedName+".tmp")
	var errs []error
	if err := os.WriteFile(tmp, b[:], 0o600); err != nil {
		errs = append(errs, err)
	} else if err := os.Rename(tmp, filepath.Join(q.dir, prunedName)); err != nil {
		errs = append(errs, err)
	} else {
		q.pruned = upTo
	}
	for len(q.segs) > 1 && q.segs[0].last <= upTo {
		s := q.segs[0]
		s.f.Close()
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		q.segs = q.segs[1:]
	}
	return errors.Join(errs...)
}

// bounds returns the first queued index (0 if empty), the queue length
// and the highest index ever enqueued.
func (q *fifo) bounds() (first uint64, length int, highest uint64, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.recs) > 0 {
		first = q.recs[0].index
	}
	return first, len(q.recs), q.highest, nil
}

// countAfter counts the elements with index > from.
func (q *fifo) countAfter(from uint64) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.recs) - q.firstAfter(from), nil
}

// sync flushes the active segment to disk.
func (q *fifo) sync() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.segs[len(q.segs)-1].f.Sync()
}

func (q *fifo) close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	var errs []error
	for i, s := range q.segs {
		if i == len(q.segs)-1 {
			errs = append(errs, s.f.Sync())
		}
		errs = append(errs, s.f.Close())
	}
	q.segs = nil
	return errors.Join(errs...)
}
