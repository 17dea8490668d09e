package db

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// copyOf writes a consistent copy of d to a new file and returns its path.
func copyOf(t *testing.T, d *DB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "copy.sqlite")
	if err := d.CopyTo(context.Background(), p); err != nil {
		t.Fatalf("CopyTo: %v", err)
	}
	return p
}

func TestCheckFile(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE t (x TEXT)")
	for range 200 {
		exec(t, d, "INSERT INTO t VALUES(hex(randomblob(100)))")
	}
	good := copyOf(t, d)
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := bytes.Clone(b)
	for i := len(corrupt) / 2; i < len(corrupt)/2+2048; i++ {
		corrupt[i] ^= 0x5a
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{"good", good, nil},
		{"not sqlite", write("text", []byte("hello, this is not a database at all")), ErrNotSQLite},
		{"empty", write("empty", nil), ErrNotSQLite},
		{"truncated", write("truncated", b[:len(b)/2]), ErrCorrupt},
		{"corrupt", write("corrupt", corrupt), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckFile(context.Background(), tt.path); !errors.Is(got, tt.want) {
				t.Errorf("CheckFile = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStampFileAndPrepareBackup(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	exec(t, d, "CREATE TABLE t (x)", "INSERT INTO t VALUES(1)")
	if err := d.SetApplied(ctx, Applied{Index: 3, Term: 1}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		wal  bool
		want byte // file format version bytes 18 and 19
	}{
		{"wal", true, 2},
		{"delete", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := copyOf(t, d)
			if err := PrepareBackup(ctx, p, tt.wal); err != nil {
				t.Fatalf("PrepareBackup: %v", err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if b[18] != tt.want || b[19] != tt.want {
				t.Errorf("header bytes 18,19 = %d,%d, want %d", b[18], b[19], tt.want)
			}
			if err := StampFile(ctx, p, Applied{Index: 9, Term: 4}); err != nil {
				t.Fatalf("StampFile: %v", err)
			}
			other, err := Open(Config{Path: p})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if got, err := other.Applied(ctx); err != nil || got != (Applied{Index: 9, Term: 4}) {
				t.Errorf("Applied = %+v, %v; want {9 4}", got, err)
			}
		})
	}
}
