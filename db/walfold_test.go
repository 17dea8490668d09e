package db

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// walSource is a live WAL-mode database whose WAL is copied and then
// checkpointed away, as incremental snapshots do.
type walSource struct {
	t    testing.TB
	path string
	pool *sql.DB
	conn *sql.Conn
}

func newWALSource(t testing.TB) *walSource {
	t.Helper()
	path := filepath.Join(t.TempDir(), "live.db")
	pool, conn, err := openFile(context.Background(), path, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); pool.Close() })
	w := &walSource{t: t, path: path, pool: pool, conn: conn}
	w.exec("PRAGMA journal_mode=WAL", "PRAGMA wal_autocheckpoint=0",
		"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "CREATE INDEX tv ON t(v)")
	w.checkpoint()
	return w
}

func (w *walSource) exec(stmts ...string) {
	w.t.Helper()
	for _, s := range stmts {
		if _, err := w.conn.ExecContext(context.Background(), s); err != nil {
			w.t.Fatalf("%s: %v", s, err)
		}
	}
}

func (w *walSource) checkpoint() {
	w.t.Helper()
	var busy, frames, done int64
	if err := w.conn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil || busy != 0 {
		w.t.Fatalf("checkpoint: busy %d, %v", busy, err)
	}
}

// copyWAL copies the WAL as it stands and checkpoints it away.
func (w *walSource) copyWAL(dst string) []byte {
	w.t.Helper()
	b, err := os.ReadFile(w.path + "-wal")
	if err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		w.t.Fatal(err)
	}
	w.checkpoint()
	return b
}

func readFileT(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFileT(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFoldWAL_SameAsSQLite folds a series of WALs (inserts, updates,
// deletes, a VACUUM that shrinks the file, an empty WAL) into two copies
// of a base, one by foldWAL and one by SQLite's checkpoint: after every
// fold both files and the live database's file are byte for byte equal.
func TestFoldWAL_SameAsSQLite(t *testing.T) {
	w := newWALSource(t)
	dir := t.TempDir()
	ours, theirs := filepath.Join(dir, "ours.db"), filepath.Join(dir, "theirs.db")
	base := readFileT(t, w.path)
	writeFileT(t, ours, base)
	writeFileT(t, theirs, base)
	rng := rand.New(rand.NewPCG(1, 2))
	rounds := [][]string{}
	for i := range 6 {
		var r []string
		for j := range 40 + rng.IntN(200) {
			id := rng.IntN(3000)
			switch rng.IntN(4) {
			case 0, 1:
				r = append(r, fmt.Sprintf("INSERT OR REPLACE INTO t VALUES(%d, '%s')", id, bytes.Repeat([]byte{byte('a' + (i+j)%26)}, rng.IntN(900))))
			case 2:
				r = append(r, fmt.Sprintf("UPDATE t SET v = v || 'x' WHERE id %% 7 = %d", id%7))
			default:
				r = append(r, fmt.Sprintf("DELETE FROM t WHERE id BETWEEN %d AND %d", id, id+20))
			}
		}
		rounds = append(rounds, r)
	}
	rounds = append(rounds, []string{"DELETE FROM t WHERE id > 100", "VACUUM"}, nil, []string{"INSERT INTO t VALUES(5000, 'after the vacuum')"})
	for i, r := range rounds {
		w.exec(r...)
		walPath := filepath.Join(dir, fmt.Sprintf("wal-%d", i))
		w.copyWAL(walPath)
		if err := foldWAL(ours, walPath); err != nil {
			t.Fatalf("round %d: foldWAL: %v", i, err)
		}
		if err := applyWALSQLite(context.Background(), theirs, walPath); err != nil {
			t.Fatalf("round %d: SQLite: %v", i, err)
		}
		got, want, live := readFileT(t, ours), readFileT(t, theirs), readFileT(t, w.path)
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: foldWAL gave %d bytes, SQLite %d bytes, not the same", i, len(got), len(want))
		}
		if !bytes.Equal(got, live) {
			t.Fatalf("round %d: folded base (%d bytes) differs from the live database (%d bytes)", i, len(got), len(live))
		}
	}
	if err := CheckFile(context.Background(), ours); err != nil {
		t.Fatal(err)
	}
}

// TestFoldWAL_TornTails: frames after the last commit, a torn frame, a
// frame with a bad checksum or stale salts end the log exactly where
// SQLite's recovery ends it.
func TestFoldWAL_TornTails(t *testing.T) {
	w := newWALSource(t)
	dir := t.TempDir()
	base := readFileT(t, w.path)
	w.exec("INSERT INTO t VALUES(1, 'one')", "INSERT INTO t VALUES(2, 'two')", "INSERT INTO t VALUES(3, 'three')")
	wal := w.copyWAL(filepath.Join(dir, "wal"))
	pageSize := int(binary.BigEndian.Uint32(wal[8:]))
	frame := walFrameHeaderSize + pageSize
	nFrames := (len(wal) - walHeaderSize) / frame
	if nFrames < 3 {
		t.Fatalf("only %d frames", nFrames)
	}
	lastFrame := walHeaderSize + (nFrames-1)*frame
	damage := map[string]func([]byte) []byte{
		"whole":             func(b []byte) []byte { return b },
		"torn last frame":   func(b []byte) []byte { return b[:len(b)-100] },
		"last frame's sum":  func(b []byte) []byte { b[lastFrame+20] ^= 1; return b },
		"last frame's salt": func(b []byte) []byte { b[lastFrame+8] ^= 1; return b },
		"middle page byte":  func(b []byte) []byte { b[walHeaderSize+frame+walFrameHeaderSize+7] ^= 1; return b },
		"commit mark gone": func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[lastFrame+4:], 0) // the frame's checksum no longer matches
			return b
		},
		"header only": func(b []byte) []byte { return b[:walHeaderSize] },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			walPath := filepath.Join(d, "wal")
			writeFileT(t, walPath, f(bytes.Clone(wal)))
			ours, theirs := filepath.Join(d, "ours.db"), filepath.Join(d, "theirs.db")
			writeFileT(t, ours, base)
			writeFileT(t, theirs, base)
			if err := foldWAL(ours, walPath); err != nil {
				t.Fatalf("foldWAL: %v", err)
			}
			if err := applyWALSQLite(context.Background(), theirs, walPath); err != nil {
				t.Fatalf("SQLite: %v", err)
			}
			if !bytes.Equal(readFileT(t, ours), readFileT(t, theirs)) {
				t.Fatal("foldWAL and SQLite disagree")
			}
		})
	}
}

// TestFoldWAL_BigEndianChecksums: a WAL written with big-endian checksums
// (by a big-endian machine) folds as SQLite folds it.
func TestFoldWAL_BigEndianChecksums(t *testing.T) {
	w := newWALSource(t)
	dir := t.TempDir()
	base := readFileT(t, w.path)
	w.exec("INSERT INTO t VALUES(1, 'one')", "INSERT INTO t VALUES(2, 'two')")
	wal := w.copyWAL(filepath.Join(dir, "wal"))
	be := bytes.Clone(wal)
	binary.BigEndian.PutUint32(be[0:], walMagicBE)
	s0, s1 := walChecksum(0, 0, be[:24], true)
	binary.BigEndian.PutUint32(be[24:], s0)
	binary.BigEndian.PutUint32(be[28:], s1)
	pageSize := int(binary.BigEndian.Uint32(be[8:]))
	for off := walHeaderSize; off+walFrameHeaderSize+pageSize <= len(be); off += walFrameHeaderSize + pageSize {
		s0, s1 = walChecksum(s0, s1, be[off:off+8], true)
		s0, s1 = walChecksum(s0, s1, be[off+walFrameHeaderSize:off+walFrameHeaderSize+pageSize], true)
		binary.BigEndian.PutUint32(be[off+16:], s0)
		binary.BigEndian.PutUint32(be[off+20:], s1)
	}
	walPath := filepath.Join(dir, "wal-be")
	writeFileT(t, walPath, be)
	ours, theirs := filepath.Join(dir, "ours.db"), filepath.Join(dir, "theirs.db")
	writeFileT(t, ours, base)
	writeFileT(t, theirs, base)
	if err := foldWAL(ours, walPath); err != nil {
		t.Fatal(err)
	}
	if err := applyWALSQLite(context.Background(), theirs, walPath); err != nil {
		t.Fatal(err)
	}
	got := readFileT(t, ours)
	if !bytes.Equal(got, readFileT(t, theirs)) || bytes.Equal(got, base) {
		t.Fatal("big-endian WAL: foldWAL and SQLite disagree, or nothing was folded")
	}
}

// TestFoldWAL_LeavesUnusualFilesToSQLite: foldWAL writes nothing and
// defers to SQLite for a WAL beside the database, a page size mismatch or
// a header SQLite would not accept; ApplyWAL still folds them.
func TestFoldWAL_LeavesUnusualFilesToSQLite(t *testing.T) {
	w := newWALSource(t)
	dir := t.TempDir()
	base := readFileT(t, w.path)
	w.exec("INSERT INTO t VALUES(1, 'one')")
	wal := w.copyWAL(filepath.Join(dir, "wal"))

	cases := map[string]func(db, walPath string){
		"a WAL beside the database": func(db, _ string) { writeFileT(t, db+"-wal", nil) },
		"another page size": func(_, walPath string) {
			b := bytes.Clone(wal)
			binary.BigEndian.PutUint32(b[8:], 512)
			writeFileT(t, walPath, b)
		},
		"bad header checksum": func(_, walPath string) {
			b := bytes.Clone(wal)
			b[24] ^= 1
			writeFileT(t, walPath, b)
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			db, walPath := filepath.Join(d, "db"), filepath.Join(d, "wal")
			writeFileT(t, db, base)
			writeFileT(t, walPath, wal)
			setup(db, walPath)
			if err := foldWAL(db, walPath); !errors.Is(err, errWALUnusual) {
				t.Fatalf("foldWAL = %v, want errWALUnusual", err)
			}
			if !bytes.Equal(readFileT(t, db), base) {
				t.Fatal("foldWAL wrote to the database before deferring")
			}
			if err := ApplyWAL(context.Background(), db, walPath); err != nil {
				t.Fatalf("ApplyWAL: %v", err)
			}
		})
	}
}

// BenchmarkApplyWAL folds a 4 MB WAL (-raft-snap-wal-size's default) of
// inserts into a copy of its base: foldWAL against SQLite's checkpoint.
func BenchmarkApplyWAL(b *testing.B) {
	w := newWALSource(b)
	dir := b.TempDir()
	base, err := os.ReadFile(w.path)
	if err != nil {
		b.Fatal(err)
	}
	payload := bytes.Repeat([]byte("x"), 1000)
	for i := 0; ; i++ {
		if _, err := w.conn.ExecContext(context.Background(), "INSERT INTO t(v) VALUES(?)", payload); err != nil {
			b.Fatal(err)
		}
		if fi, err := os.Stat(w.path + "-wal"); err == nil && fi.Size() >= 4<<20 {
			break
		}
	}
	walPath := filepath.Join(dir, "wal")
	w.copyWAL(walPath)
	for _, bc := range []struct {
		name string
		fold func(db, wal string) error
	}{
		{"foldWAL", foldWAL},
		{"sqlite", func(db, wal string) error { return applyWALSQLite(context.Background(), db, wal) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := filepath.Join(dir, bc.name+".db")
			cpu0 := cpuTime()
			for b.Loop() {
				b.StopTimer()
				if err := os.WriteFile(db, base, 0o644); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := bc.fold(db, walPath); err != nil {
					b.Fatal(err)
				}
			}
			// Includes the copies of the base between runs, the same for both.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
