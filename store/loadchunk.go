package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// A database file larger than loadChunkSize is loaded through a sequence
// of log entries of at most that many bytes (cmdLoadChunk), so no entry,
// and no node's memory, has to hold the whole file. Every node appends the
// chunks to a staged file in its data directory and swaps it in when the
// last chunk (carrying the whole file's SHA-256) is applied.
//
// Invariants (see DESIGN.md):
//   - The staged file and its position (stageMeta) are fsync'd before the
//     chunk's index is recorded as applied, so a restart that skips the
//     chunk still has its bytes; bytes beyond the recorded size are cut.
//   - No node snapshots while a load is staged: a snapshot cannot hold the
//     staged bytes, so one taken mid-load could leave a node that installs
//     it unable to finish the load. Raft retries the snapshot later, and
//     the log keeps the chunks until then.
//   - A load whose chunks stop (its leader died mid-upload) is dropped by
//     the first entry stamped loadAbandonAfter after it began, or by the
//     first chunk of the next load: deterministic, as both come from the
//     log.
const (
	loadChunkSize    = 1 << 20
	loadAbandonAfter = time.Hour
	stageName        = "rdb-load-staged" // + ".json" for stageMeta
)

// errLoadInProgress refuses a snapshot while a chunked load is staged.
var errLoadInProgress = errors.New("a chunked database load is in progress")

// loadChunk is one piece of a chunked load.
type loadChunk struct {
	ID   string `codec:"i"`
	Seq  uint64 `codec:"q"`
	Data []byte `codec:"d,omitempty"`
	Last bool   `codec:"z,omitempty"`
	Sum  []byte `codec:"s,omitempty"` // on Last: SHA-256 of the whole file
}

// stageMeta is where a staged load stands, persisted beside its data.
type stageMeta struct {
	ID    string `json:"id"`
	Next  uint64 `json:"next"`  // the next chunk expected
	Size  int64  `json:"size"`  // bytes staged so far
	Start int64  `json:"start"` // leader time (Unix ns) of the first chunk
}

func (p *processor) stagePath() string { return filepath.Join(p.tmpDir, stageName) }

// recoverStage picks up a load staged before a restart, cutting bytes
// written after its position was last recorded.
func (p *processor) recoverStage() {
	b, err := os.ReadFile(p.stagePath() + ".json")
	if errors.Is(err, os.ErrNotExist) {
		os.Remove(p.stagePath())
		return
	}
	var m stageMeta
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err == nil {
		err = os.Truncate(p.stagePath(), m.Size)
	}
	if err != nil {
		p.logger.Warn("dropping a staged database load that cannot be resumed", "error", err)
		p.dropStage()
		return
	}
	p.stage = &m
}

// dropStage forgets the staged load, if any.
func (p *processor) dropStage() {
	p.stage = nil
	os.Remove(p.stagePath() + ".json")
	os.Remove(p.stagePath())
}

// abandonStale drops a staged load whose chunks stopped arriving.
func (p *processor) abandonStale(now int64) {
	if p.stage != nil && now-p.stage.Start > int64(loadAbandonAfter) {
		p.logger.Warn("dropping a database load whose chunks stopped arriving", "load", p.stage.ID)
		p.dropStage()
	}
}

// applyLoadChunk stages one chunk, and on the last swaps the staged file
// in. A failure leaves the database as it was (every node sees the same
// entries, so every node fails alike) and is the entry's result.
func (p *processor) applyLoadChunk(l *raft.Log, now int64, c *loadChunk) []requestResult {
	at := db.Applied{Index: l.Index, Term: l.Term}
	err := p.stageChunk(now, c)
	if err == nil && c.Last {
		if err = p.finishStage(at, c.Sum); err == nil {
			p.advance(l.Index, l.Term, l.AppendedAt, true)
			return []requestResult{{}}
		}
	}
	if err != nil {
		p.logger.Error("chunked database load", "index", l.Index, "load", c.ID, "chunk", c.Seq, "error", err)
		p.dropStage()
		err = fmt.Errorf("load database: %w", err)
	}
	if serr := p.db.SetApplied(context.Background(), at); serr != nil {
		p.fail(fmt.Errorf("store: record load chunk entry %d: %w", l.Index, serr))
		return nil
	}
	p.advance(l.Index, l.Term, l.AppendedAt, true)
	return []requestResult{{Err: err}}
}

// stageChunk appends c to the staged file, durably, then records it.
func (p *processor) stageChunk(now int64, c *loadChunk) error {
	if c.Seq == 0 {
		p.dropStage()
		p.stage = &stageMeta{ID: c.ID, Start: now}
	}
	st := p.stage
	switch {
	case st == nil || st.ID != c.ID || c.Seq > st.Next:
		return fmt.Errorf("chunk %d of load %s arrived without its predecessors", c.Seq, c.ID)
	case c.Seq < st.Next:
		return nil // staged before a restart that replays it
	}
	f, err := os.OpenFile(p.stagePath(), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open staged load: %w", err)
	}
	_, err = f.WriteAt(c.Data, st.Size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stage load chunk %d: %w", c.Seq, err)
	}
	next := *st
	next.Next, next.Size = c.Seq+1, st.Size+int64(len(c.Data))
	if err := writeFileSync(osDirOps{}, p.stagePath()+".json", next); err != nil {
		return err
	}
	*st = next
	return nil
}

// finishStage checks the staged file against sum and swaps it in.
func (p *processor) finishStage(at db.Applied, sum []byte) error {
	f, err := os.Open(p.stagePath())
	if err != nil {
		return fmt.Errorf("open staged load: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read staged load: %w", err)
	}
	if !bytes.Equal(h.Sum(nil), sum) {
		return errors.New("staged database does not match the checksum of the upload")
	}
	err = p.swapIn(at, func(path string) error { return renameDurable(osDirOps{}, p.stagePath(), path) })
	p.dropStage()
	return err
}

// dirOps are the directory changes of a chunked load that must be
// durable before the entry that caused them is recorded as applied.
// Production uses osDirOps; tests record their order.
type dirOps interface {
	Rename(oldpath, newpath string) error
	SyncDir(path string) error
}

// osDirOps is dirOps on the real file system.
type osDirOps struct{}

func (osDirOps) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func (osDirOps) SyncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// renameDurable renames oldpath to newpath and fsyncs the directories
// involved: after a power loss, a rename without that can vanish while the
// SQLite commit that recorded the chunk as applied survives.
func renameDurable(ops dirOps, oldpath, newpath string) error {
	if err := ops.Rename(oldpath, newpath); err != nil {
		return err
	}
	dirs := []string{filepath.Dir(newpath)}
	if d := filepath.Dir(oldpath); d != dirs[0] {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := ops.SyncDir(d); err != nil {
			return fmt.Errorf("sync dir %s: %w", d, err)
		}
	}
	return nil
}

// writeFileSync replaces path with v as JSON, durably.
func writeFileSync(ops dirOps, path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = renameDurable(ops, tmp, path)
	}
	if err != nil {
		return fmt.Errorf("record staged load position: %w", err)
	}
	return nil
}

// loadChunked replicates the checked database file at path in chunks.
func (s *Store) loadChunked(ctx context.Context, path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer f.Close()
	id := make([]byte, 8)
	rand.Read(id)
	c := &loadChunk{ID: hex.EncodeToString(id)}
	h := sha256.New()
	buf := make([]byte, s.loadChunk())
	for sent := int64(0); ; c.Seq++ {
		n, err := io.ReadFull(f, buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return fmt.Errorf("load: read %s: %w", path, err)
		}
		h.Write(buf[:n])
		sent += int64(n)
		c.Data, c.Last = buf[:n], sent >= size
		if c.Last {
			c.Sum = h.Sum(nil)
		}
		if err := s.applyLoadCommand(ctx, &command{Type: cmdLoadChunk, Time: time.Now().UnixNano(), Chunk: c}); err != nil {
			return fmt.Errorf("load chunk %d: %w", c.Seq, err)
		}
		if c.Last {
			return nil
		}
	}
}

// loadChunk is the chunk size: loadChunkSize unless a test set one.
func (s *Store) loadChunk() int {
	if s.cfg.loadChunkSize > 0 {
		return s.cfg.loadChunkSize
	}
	return loadChunkSize
}
