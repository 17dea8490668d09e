package cdc

import (
	"fmt"
	"testing"
)

func items(idx ...uint64) []queued {
	out := make([]queued, len(idx))
	for i, x := range idx {
		out[i] = queued{index: x, data: []byte(fmt.Sprintf(`{"index":%d}`, x))}
	}
	return out
}

func indexes(qs []queued) []uint64 {
	out := make([]uint64, len(qs))
	for i, q := range qs {
		out[i] = q.index
	}
	return out
}

func TestFIFO_OrderReplayPrunePersist(t *testing.T) {
	dir := t.TempDir()
	f, err := openFIFO(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.enqueue(items(3, 5, 9), 0); err != nil || n != 3 {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	// A replay after a restart (indexes at or below the highest ever
	// enqueued) adds nothing; neither does anything at or below floor.
	if n, _ := f.enqueue(items(5, 9), 0); n != 0 {
		t.Fatalf("replay added %d", n)
	}
	if n, _ := f.enqueue(items(10, 11), 10); n != 1 {
		t.Fatalf("floor 10: added %d, want 1", n)
	}
	got, _ := f.after(3, 2)
	if fmt.Sprint(indexes(got)) != "[5 9]" || string(got[0].data) != `{"index":5}` {
		t.Fatalf("after(3, 2) = %v", indexes(got))
	}
	if err := f.prune(5); err != nil {
		t.Fatal(err)
	}
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	f, err = openFIFO(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	first, length, highest, err := f.bounds()
	if err != nil || first != 9 || length != 2 || highest != 11 {
		t.Fatalf("after reopen: first %d length %d highest %d %v; want 9 2 11", first, length, highest, err)
	}
	if n, _ := f.countAfter(9); n != 1 {
		t.Fatalf("countAfter(9) = %d, want 1", n)
	}
	if err := f.prune(100); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.enqueue(items(7), 0); n != 0 {
		t.Fatal("an index below the highest ever enqueued was accepted after pruning")
	}
}
