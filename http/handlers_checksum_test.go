package httpd

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// checksumStore is a fakeStore that digests: the database now is at
// index 12, and the only marker digest is at index 7.
type checksumStore struct{ fakeStore }

func (checksumStore) Checksum(context.Context) (db.Checksum, error) {
	return db.Checksum{Index: 12, Term: 2, Sum: "now", Tables: 3, Rows: 40, Duration: time.Millisecond}, nil
}

func (checksumStore) ChecksumAt(_ context.Context, index uint64) (db.Checksum, error) {
	if index != 7 {
		return db.Checksum{}, fmt.Errorf("index %d: %w", index, store.ErrChecksumUnavailable)
	}
	return db.Checksum{Index: 7, Term: 2, Sum: "marker", Tables: 3, Rows: 39}, nil
}

func TestHandleChecksum(t *testing.T) {
	f := &fakes{}
	s, err := New(testConfig(), &f.db, &checksumStore{}, &f.cluster, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	tests := []struct {
		name, method, target string
		code                 int
		body                 string
	}{
		{"now", "GET", "/db/checksum", http.StatusOK, `"checksum":"now"`},
		{"now has the index", "GET", "/db/checksum", http.StatusOK, `"index":12`},
		{"at a marker", "GET", "/db/checksum?index=7", http.StatusOK, `"checksum":"marker"`},
		{"no digest at that index", "GET", "/db/checksum?index=8", http.StatusNotFound, "no checksum at that index"},
		{"index not a number", "GET", "/db/checksum?index=x", http.StatusBadRequest, "index must be a positive integer"},
		{"index zero", "GET", "/db/checksum?index=0", http.StatusBadRequest, "index must be a positive integer"},
		{"wrong method", "POST", "/db/checksum", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, s, tt.method, tt.target, "")
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("%s %s: %d %s, want %d containing %q", tt.method, tt.target, w.Code, w.Body, tt.code, tt.body)
			}
		})
	}
	// A store without digests (an older build's fake) answers 503.
	plain := newTestService(t, testConfig(), nil)
	if w := do(t, plain, "GET", "/db/checksum", ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("without a Checksummer: %d %s, want 503", w.Code, w.Body)
	}
}
