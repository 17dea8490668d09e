package cdc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FIFO file layout: bucket "events" maps the big-endian entry index to
// its encoded payload element; bucket "meta" holds the highest index
// ever enqueued, which survives pruning.
var (
	bucketEvents = []byte("events")
	bucketMeta   = []byte("meta")
	keyHighest   = []byte("highest")
)

// fifo is the durable per-node queue of payload elements, ordered by
// index. Safe for concurrent use (bolt serializes writers).
type fifo struct {
	db   *bolt.DB
	path string
}

// queued is one element read from the queue.
type queued struct {
	index uint64
	data  []byte
}

// openFIFO opens (creating) dir/fifo.db. The file is written without
// fsync per commit (a write reaches the page cache, which a killed
// process cannot lose); it is synced every second. A file that does not
// open is set aside and a new one started.
func openFIFO(dir string) (*fifo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cdc: create %s: %w", dir, err)
	}
	path := filepath.Join(dir, "fifo.db")
	opts := &bolt.Options{Timeout: time.Second, NoFreelistSync: true}
	b, err := bolt.Open(path, 0o600, opts)
	if err != nil && !errors.Is(err, bolt.ErrTimeout) {
		aside := path + ".broken-" + time.Now().UTC().Format("20060102150405")
		if rerr := os.Rename(path, aside); rerr == nil {
			b, err = bolt.Open(path, 0o600, opts)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cdc: open queue %s: %w", path, err)
	}
	b.NoSync = true
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEvents, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("cdc: init queue %s: %w", path, err)
	}
	return &fifo{db: b, path: path}, nil
}

func key(i uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], i)
	return k[:]
}

// enqueue appends elements in index order, ignoring any at or below the
// highest index ever enqueued or floor (replays after a restart, events
// already delivered).
func (f *fifo) enqueue(items []queued, floor uint64) (int, error) {
	added := 0
	err := f.db.Update(func(tx *bolt.Tx) error {
		ev, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketMeta)
		hi := max(readUint(meta.Get(keyHighest)), floor)
		for _, it := range items {
			if it.index <= hi {
				continue
			}
			if err := ev.Put(key(it.index), it.data); err != nil {
				return err
			}
			hi = it.index
			added++
		}
		return meta.Put(keyHighest, key(hi))
	})
	if err != nil {
		return 0, fmt.Errorf("cdc: enqueue: %w", err)
	}
	return added, nil
}

func readUint(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// after returns up to n elements with index > from, in order.
func (f *fifo) after(from uint64, n int) ([]queued, error) {
	var out []queued
	err := f.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(key(from + 1)); k != nil && len(out) < n; k, v = c.Next() {
			out = append(out, queued{index: readUint(k), data: append([]byte(nil), v...)})
		}
		return nil
	})
	return out, err
}

// prune deletes every element at or below upTo.
func (f *fifo) prune(upTo uint64) error {
	return f.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, _ := c.First(); k != nil && readUint(k) <= upTo; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// bounds returns the first queued index (0 if empty), the queue length
// and the highest index ever enqueued.
func (f *fifo) bounds() (first uint64, length int, highest uint64, err error) {
	err = f.db.View(func(tx *bolt.Tx) error {
		ev := tx.Bucket(bucketEvents)
		if k, _ := ev.Cursor().First(); k != nil {
			first = readUint(k)
		}
		length = ev.Stats().KeyN
		highest = readUint(tx.Bucket(bucketMeta).Get(keyHighest))
		return nil
	})
	return first, length, highest, err
}

// countAfter counts the elements with index > from.
func (f *fifo) countAfter(from uint64) (int, error) {
	n := 0
	err := f.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, _ := c.Seek(key(from + 1)); k != nil; k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

func (f *fifo) sync() error { return f.db.Sync() }

func (f *fifo) close() error {
	f.db.Sync()
	return f.db.Close()
}
