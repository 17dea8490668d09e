package system_test

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // opens the uploaded backups
)

// backupTimeout bounds the wait for an upload (1 s interval) on a loaded
// machine.
const backupTimeout = 20 * time.Second

// uploaderCounters are the four counters rqlite's end-to-end tests poll.
type uploaderCounters struct{ ok, skipped, skippedID, fail int }

func (c uploaderCounters) String() string {
	return fmt.Sprintf("ok=%d skipped=%d skipped_id=%d fail=%d", c.ok, c.skipped, c.skippedID, c.fail)
}

func uploader(t *testing.T, n *Node) uploaderCounters {
	t.Helper()
	return uploaderCounters{
		ok:        debugVar(t, n, "uploader", "num_uploads_ok"),
		skipped:   debugVar(t, n, "uploader", "num_uploads_skipped"),
		skippedID: debugVar(t, n, "uploader", "num_uploads_skipped_id"),
		fail:      debugVar(t, n, "uploader", "num_uploads_fail"),
	}
}

// waitUploads waits until n has made exactly ok uploads and then stays
// idle for two more ticks (its skip counters rise while ok does not).
func waitUploads(t *testing.T, n *Node, ok int) {
	t.Helper()
	var at uploaderCounters
	waitUntil(t, backupTimeout, fmt.Sprintf("%d uploads on %s", ok, n.ID()), func() (bool, string) {
		at = uploader(t, n)
		return at.ok == ok, at.String()
	})
	waitIdle(t, n, at)
}

// waitIdle waits for two ticks that upload nothing after from, and fails
// on any upload or failure meanwhile.
func waitIdle(t *testing.T, n *Node, from uploaderCounters) {
	t.Helper()
	waitUntil(t, backupTimeout, "uploads idle on "+n.ID(), func() (bool, string) {
		c := uploader(t, n)
		if c.ok != from.ok || c.fail != from.fail {
			t.Fatalf("unexpected upload on %s: before %s, now %s", n.ID(), from, c)
		}
		return c.skipped+c.skippedID >= from.skipped+from.skippedID+2, c.String()
	})
}

// fileBackupConfig writes an -auto-backup file for type file into a
// temp dir and returns its path.
func fileBackupConfig(t *testing.T, dir string, timestamp bool) string {
	t.Helper()
	cfg := map[string]any{"version": 1, "type": "file", "interval": "1s", "timestamp": timestamp,
		"sub": map[string]any{"dir": dir, "name": "backup.sqlite"}}
	b, _ := json.Marshal(cfg)
	p := filepath.Join(t.TempDir(), "auto-backup.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// backupRows gunzips the backup at path and returns the ids in its table
// foo.
func backupRows(t *testing.T, path string) []int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("backup %s is not gzipped: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip %s: %v", path, err)
	}
	if !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
		t.Fatalf("backup %s is not a SQLite file: %.20q", path, data)
	}
	db := filepath.Join(t.TempDir(), "restored.sqlite")
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query("SELECT id FROM foo ORDER BY id")
	if err != nil {
		t.Fatalf("query backup %s: %v", path, err)
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func insert(t *testing.T, n *Node, id int) {
	t.Helper()
	n.Execute("/db/execute", fmt.Sprintf(`[["INSERT INTO foo(id, name) VALUES(?, ?)", %d, "fiona"]]`, id))
}

const createFoo = `["CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO foo(id, name) VALUES(1, 'fiona')"]`

func TestAutoBackup_File_Cycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	n := StartNode(t, "-auto-backup", fileBackupConfig(t, dir, false))

	// No writes: every tick skips, nothing is uploaded.
	waitIdle(t, n, uploaderCounters{})

	n.Execute("/db/execute", createFoo)
	waitUploads(t, n, 1)
	if got := backupRows(t, filepath.Join(dir, "backup.sqlite")); fmt.Sprint(got) != "[1]" {
		t.Fatalf("first backup rows %v, want [1]", got)
	}
	fi1, err := os.Stat(filepath.Join(dir, "backup.sqlite"))
	if err != nil {
		t.Fatal(err)
	}

	insert(t, n, 2)
	waitUploads(t, n, 2)
	if got := backupRows(t, filepath.Join(dir, "backup.sqlite")); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("second backup rows %v, want [1 2]", got)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if len(matches) != 1 {
		t.Fatalf("backup files %v, want exactly one without timestamps", matches)
	}
	fi2, _ := os.Stat(matches[0])
	if !fi2.ModTime().After(fi1.ModTime()) && fi2.Size() == fi1.Size() {
		t.Errorf("backup file not replaced by the second upload")
	}
	var meta struct {
		ID string `json:"id"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "METADATA.json"))
	if err != nil || json.Unmarshal(b, &meta) != nil || meta.ID == "" || meta.ID == "0" {
		t.Fatalf("METADATA.json: %v %s", err, b)
	}

	// A restart without writes uploads nothing: the DB-applied index is
	// the same, and the stored ID says the backup holds it.
	n.Restart()
	waitIdle(t, n, uploaderCounters{})
	if c := uploader(t, n); c.skippedID != 1 {
		t.Errorf("after restart: %s, want skipped_id=1 (stored ID check)", c)
	}
	code, body, err := n.Do("GET", "/status?key=auto_backups", "", "")
	if err != nil || code != 200 || !strings.Contains(body, `"upload_interval":"1s"`) || !strings.Contains(body, `"last_index":"`+meta.ID+`"`) {
		t.Errorf("/status auto_backups: %d %v %s (want last_index %s)", code, err, body, meta.ID)
	}
	insert(t, n, 3)
	waitUploads(t, n, 1)
	if got := backupRows(t, filepath.Join(dir, "backup.sqlite")); fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("backup after restart rows %v, want [1 2 3]", got)
	}
}

func TestAutoBackup_File_Timestamp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	n := StartNode(t, "-auto-backup", fileBackupConfig(t, dir, true))
	n.Execute("/db/execute", createFoo)
	waitUploads(t, n, 1)
	// Timestamps have a resolution of one second.
	time.Sleep(1100 * time.Millisecond)
	insert(t, n, 2)
	waitUploads(t, n, 2)
	files, _ := filepath.Glob(filepath.Join(dir, "*_backup.sqlite"))
	sort.Strings(files) // the timestamp prefix sorts by time
	if len(files) != 2 {
		t.Fatalf("timestamped backups %v, want 2", files)
	}
	if got := backupRows(t, files[0]); fmt.Sprint(got) != "[1]" {
		t.Errorf("oldest backup rows %v, want [1]", got)
	}
	if got := backupRows(t, files[1]); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("newest backup rows %v, want [1 2]", got)
	}
}

func TestAutoBackup_File_LeaderOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	cfg := fileBackupConfig(t, dir, false)
	nodes := startCluster(t, 3, append([]string{"-auto-backup", cfg}, fastRaft...)...)
	leader := waitLeader(t, nodes, readyTimeout)
	leader.Execute("/db/execute", createFoo)
	waitUploads(t, leader, 1)
	for _, f := range others(nodes, leader) {
		if c := uploader(t, f); c != (uploaderCounters{}) {
			t.Errorf("follower %s: %s, want no counter touched", f.ID(), c)
		}
	}

	// A new leader finds the backup it would upload already stored.
	leader.Stop()
	rest := others(nodes, leader)
	next := waitLeader(t, rest, readyTimeout)
	waitIdle(t, next, uploaderCounters{})
	if c := uploader(t, next); c.ok != 0 || c.skippedID != 1 {
		t.Errorf("new leader %s: %s, want ok=0 skipped_id=1", next.ID(), c)
	}
	insert(t, next, 2)
	waitUploads(t, next, 1)
	if got := backupRows(t, filepath.Join(dir, "backup.sqlite")); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("backup rows %v, want [1 2]", got)
	}
}
