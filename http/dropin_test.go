package httpd

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// leaderBackups is a Backups on a leader whose calls all succeed.
type leaderBackups struct{}

func (leaderBackups) IsLeader() bool { return true }
func (leaderBackups) Backup(context.Context, io.Writer, store.BackupFormat, []string) error {
	return nil
}
func (leaderBackups) Load(context.Context, string) error { return nil }
func (leaderBackups) Boot(context.Context, string) error { return nil }
func (leaderBackups) Snapshot(uint64) error              { return nil }
func (leaderBackups) Reap(context.Context) (int, int, error) {
	return 0, 0, nil
}

// TestService_Load_SQLText_ContentType checks that POST /db/load with SQL
// text answers JSON as text/plain, as rqlite does, success or not, while a
// SQLite file's reply stays application/json.
func TestService_Load_SQLText_ContentType(t *testing.T) {
	tests := []struct {
		name, body, wantMime, wantBody string
		execErr                        error
	}{
		{"sql", "CREATE TABLE t (x)", echo.MIMETextPlainCharsetUTF8, `{"results":[{}]}`, nil},
		{"sql refused", "PRAGMA journal_mode=DELETE", echo.MIMETextPlainCharsetUTF8,
			`{"results":[],"error":"disallowed pragma"}`, db.ErrDisallowedPragma},
		{"sqlite file", sqliteMagic + "rest of a file", mimeJSON, `{"results":[]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			f.db.executeFn = func(context.Context, *store.Request) (store.Response, error) {
				return store.Response{Results: []db.Result{{}}}, tt.execErr
			}
			s := newTestService(t, testConfig(), f)
			s.SetBackups(leaderBackups{})
			w := do(t, s, http.MethodPost, "/db/load", tt.body)
			if got := w.Header().Get("Content-Type"); w.Code != http.StatusOK || got != tt.wantMime || w.Body.String() != tt.wantBody {
				t.Errorf("got %d %q %s, want 200 %q %s", w.Code, got, w.Body.String(), tt.wantMime, tt.wantBody)
			}
		})
	}
}

// sqliteSideFiles is a Backups whose Load, like opening an upload with
// SQLite in WAL mode, leaves -wal and -shm files beside it.
type sqliteSideFiles struct {
	leaderBackups
	seen *string
}

func (b sqliteSideFiles) Load(_ context.Context, path string) error {
	*b.seen = path
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.WriteFile(path+suffix, nil, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// TestService_Load_RemovesUploadFiles: after a load, neither the spooled
// upload nor the files SQLite created beside it are left in the temp dir.
func TestService_Load_RemovesUploadFiles(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var path string
	s := newTestService(t, testConfig(), &fakes{})
	s.SetBackups(sqliteSideFiles{seen: &path})
	if w := do(t, s, http.MethodPost, "/db/load", sqliteMagic+"rest of a file"); w.Code != http.StatusOK {
		t.Fatalf("load: %d %s", w.Code, w.Body.String())
	}
	if path == "" {
		t.Fatal("Load was not called")
	}
	left, _ := filepath.Glob(path + "*")
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestService_Status_Network checks that /status has rqlite's "network"
// section: every interface by name, with flags, hardware address and
// addresses.
func TestService_Status_Network(t *testing.T) {
	ifaces, err := net.Interfaces()
	if err != nil || len(ifaces) == 0 {
		t.Skipf("no network interfaces: %v", err)
	}
	s := newTestService(t, testConfig(), nil)
	w := do(t, s, http.MethodGet, "/status?key=network", "")
	var got map[string]struct {
		Flags     *string `json:"flags"`
		HW        *string `json:"hardware_address"`
		Addresses []struct {
			Address string `json:"address"`
		} `json:"addresses"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode %s: %v", w.Body.String(), err)
	}
	for _, i := range ifaces {
		g, ok := got[i.Name]
		if !ok || g.Flags == nil || *g.Flags != i.Flags.String() || g.HW == nil {
			t.Errorf("interface %s: got %+v in %s", i.Name, g, w.Body.String())
		}
		if addrs, _ := i.Addrs(); len(g.Addresses) != len(addrs) {
			t.Errorf("interface %s: %d addresses, want %d", i.Name, len(g.Addresses), len(addrs))
		}
	}
}
