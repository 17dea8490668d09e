package cdc

import (
	"fmt"
	"os"
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

func TestFIFO_SegmentsAndTornTail(t *testing.T) {
	old := segMax
	segMax = 64 // a few records per segment
	defer func() { segMax = old }()
	dir := t.TempDir()
	f, err := openFIFO(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 20; i++ {
		if _, err := f.enqueue(items(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	segs := len(f.segs)
	if segs < 3 {
		t.Fatalf("%d segments, want several", segs)
	}
	if err := f.prune(15); err != nil {
		t.Fatal(err)
	}
	if len(f.segs) >= segs {
		t.Fatalf("prune deleted no segment (%d before, %d after)", segs, len(f.segs))
	}
	got, _ := f.after(15, 10)
	if fmt.Sprint(indexes(got)) != "[16 17 18 19 20]" {
		t.Fatalf("after prune: %v", indexes(got))
	}
	active := f.segs[len(f.segs)-1].path
	f.close()

	// A torn record at the end (power loss mid-write) is cut off at open.
	fh, err := os.OpenFile(active, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write([]byte{0, 0, 0, 0, 0, 0, 0, 21, 0, 0, 0, 50, 1, 2})
	fh.Close()
	f, err = openFIFO(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	first, length, highest, _ := f.bounds()
	if first != 16 || length != 5 || highest != 20 {
		t.Fatalf("after reopen: first %d length %d highest %d; want 16 5 20", first, length, highest)
	}
	if n, err := f.enqueue(items(21), 0); err != nil || n != 1 {
		t.Fatalf("enqueue after the cut: %d %v", n, err)
	}
	got, _ = f.after(20, 5)
	if len(got) != 1 || string(got[0].data) != `{"index":21}` {
		t.Fatalf("record after the cut: %v", got)
	}
}
