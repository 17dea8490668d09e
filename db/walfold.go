package db

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"
)

// SQLite's WAL file format (https://www.sqlite.org/fileformat.html#the_write_ahead_log).
const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
	walMagicLE         = 0x377f0682 // checksums over little-endian words
	walMagicBE         = 0x377f0683 // checksums over big-endian words
	walFormatVersion   = 3007000
)

// errWALUnusual sends foldWAL's caller to SQLite's own checkpoint: the
// file is not the plain case foldWAL handles (see foldWAL).
var errWALUnusual = errors.New("db: WAL needs SQLite's checkpoint")

// foldWAL does what a checkpoint of the WAL file walPath into the database
// file dbPath does, without SQLite: it validates the frames as SQLite's
// recovery does (salts and the running checksum; the log ends at the first
// frame that fails), writes into dbPath the newest image of every page
// changed by a committed transaction, sets the file to the size the last
// commit gives the database and syncs it. SQLite would first rebuild the
// WAL index by reading and checksumming the file in its C-to-Go
// translation, then checkpoint: several times the CPU, which mattered
// because every incremental snapshot is folded into the base on every node.
//
// It returns errWALUnusual, having written nothing, for anything but the
// plain case: a header SQLite would not accept, a page size other than the
// database's, or a dbPath-wal file beside the database (left by a crash
// inside SQLite's checkpoint, which must recover it first).
func foldWAL(dbPath, walPath string) error {
	if _, err := os.Stat(dbPath + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		return errWALUnusual
	}
	wal, release, err := readWAL(walPath)
	if err != nil {
		return err
	}
	defer release()
	if len(wal) == 0 {
		return nil // no changes since the previous snapshot
	}
	pages, pageSize, nPage, err := walPages(wal)
	if err != nil {
		return err
	}
	db, err := os.OpenFile(dbPath, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	if err := checkPageSize(db, pageSize); err != nil {
		db.Close()
		return err
	}
	if nPage == 0 {
		return db.Close() // no committed transaction
	}
	if err := writePages(db, wal, pages, pageSize, nPage); err != nil {
		db.Close()
		return err
	}
	if err := db.Truncate(int64(nPage) * int64(pageSize)); err != nil {
		db.Close()
		return fmt.Errorf("set database size: %w", err)
	}
	return errors.Join(db.Sync(), db.Close())
}

// walBufs recycles the buffers WALs are read into: a fold reads a whole
// WAL (a few MB) and a fresh buffer of that size is cleared before use.
var walBufs sync.Pool

// readWAL returns the contents of the WAL file at path in a recycled
// buffer, and the function that gives the buffer back.
func readWAL(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read WAL: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("read WAL: %w", err)
	}
	bp, _ := walBufs.Get().(*[]byte)
	if bp == nil || int64(cap(*bp)) < fi.Size() {
		b := make([]byte, fi.Size())
		bp = &b
	}
	b := (*bp)[:fi.Size()]
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, fmt.Errorf("read WAL: %w", err)
	}
	return b, func() { walBufs.Put(bp) }, nil
}

// writePages writes the page images at the offsets pages gives into db,
// skipping pages beyond nPage; runs of consecutive pages go in one write.
func writePages(db *os.File, wal []byte, pages map[uint32]int, pageSize int, nPage uint32) error {
	order := make([]uint32, 0, len(pages))
	for pgno := range pages {
		if pgno <= nPage { // beyond the database's end after the last commit
			order = append(order, pgno)
		}
	}
	slices.Sort(order)
	const maxRun = 1 << 20
	run := make([]byte, 0, min(maxRun, len(order)*pageSize))
	var first uint32
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		if _, err := db.WriteAt(run, int64(first-1)*int64(pageSize)); err != nil {
			return fmt.Errorf("write pages from %d: %w", first, err)
		}
		run = run[:0]
		return nil
	}
	for i, pgno := range order {
		if len(run) > 0 && (pgno != order[i-1]+1 || len(run)+pageSize > maxRun) {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(run) == 0 {
			first = pgno
		}
		off := pages[pgno]
		run = append(run, wal[off:off+pageSize]...)
	}
	return flush()
}

// walPages returns, for each page changed by a committed transaction of
// the WAL in b, the offset in b of its newest image, along with the page
// size and the database size in pages after the last commit (0 if there
// is none).
func walPages(b []byte) (pages map[uint32]int, pageSize int, nPage uint32, err error) {
	if len(b) < walHeaderSize {
		return nil, 0, 0, errWALUnusual
	}
	magic := binary.BigEndian.Uint32(b[0:])
	if magic != walMagicLE && magic != walMagicBE {
		return nil, 0, 0, errWALUnusual
	}
	bigEndian := magic == walMagicBE
	pageSize = int(binary.BigEndian.Uint32(b[8:]))
	if binary.BigEndian.Uint32(b[4:]) != walFormatVersion ||
		pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return nil, 0, 0, errWALUnusual
	}
	s0, s1 := walChecksum(0, 0, b[:24], bigEndian)
	if s0 != binary.BigEndian.Uint32(b[24:]) || s1 != binary.BigEndian.Uint32(b[28:]) {
		return nil, 0, 0, errWALUnusual
	}
	salt1, salt2 := binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:])
	pages = make(map[uint32]int)
	pending := make(map[uint32]int) // the open transaction's pages
	frameSize := walFrameHeaderSize + pageSize
	for off := walHeaderSize; off+frameSize <= len(b); off += frameSize {
		h := b[off : off+walFrameHeaderSize]
		pgno, commit := binary.BigEndian.Uint32(h[0:]), binary.BigEndian.Uint32(h[4:])
		if pgno == 0 || binary.BigEndian.Uint32(h[8:]) != salt1 || binary.BigEndian.Uint32(h[12:]) != salt2 {
			break
		}
		s0, s1 = walChecksum(s0, s1, h[:8], bigEndian)
		s0, s1 = walChecksum(s0, s1, b[off+walFrameHeaderSize:off+frameSize], bigEndian)
		if s0 != binary.BigEndian.Uint32(h[16:]) || s1 != binary.BigEndian.Uint32(h[20:]) {
			break
		}
		pending[pgno] = off + walFrameHeaderSize
		if commit != 0 {
			maps.Copy(pages, pending)
			clear(pending)
			nPage = commit
		}
	}
	return pages, pageSize, nPage, nil
}

// walChecksum continues SQLite's WAL checksum (s0, s1) over b, whose
// length is a multiple of 8, reading 32-bit words in the byte order the
// WAL's magic number names.
func walChecksum(s0, s1 uint32, b []byte, bigEndian bool) (uint32, uint32) {
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}

// checkPageSize returns errWALUnusual unless the database file's header
// gives pageSize.
func checkPageSize(db *os.File, pageSize int) error {
	var hdr [18]byte
	if _, err := db.ReadAt(hdr[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return errWALUnusual
		}
		return fmt.Errorf("read database header: %w", err)
	}
	got := int(binary.BigEndian.Uint16(hdr[16:]))
	if got == 1 {
		got = 65536
	}
	if got != pageSize {
		return errWALUnusual
	}
	return nil
}
