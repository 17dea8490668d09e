package system_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// backup fetches GET /db/backup?params from n and returns the body,
// gunzipped when compressed.
func backup(t *testing.T, n *Node, params string) []byte {
	t.Helper()
	code, hdr, body, err := n.DoHeader("GET", "/db/backup?"+params, "", "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /db/backup?%s on %s: %d %v %.200q", params, n.ID(), code, err, body)
	}
	b := []byte(body)
	if strings.Contains(params, "compress") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("backup?%s is not gzip: %v", params, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatalf("gunzip backup?%s: %v", params, err)
		}
	}
	wantType := "application/octet-stream"
	if strings.Contains(strings.ToLower(params), "fmt=sql") {
		wantType = "application/sql"
	}
	if got := hdr.Get("Content-Type"); got != wantType {
		t.Errorf("backup?%s Content-Type %q, want %q", params, got, wantType)
	}
	return b
}

// postLoad posts body to /db/load on n and returns status and body.
func postLoad(t *testing.T, n *Node, body []byte) (int, string) {
	t.Helper()
	code, b, err := n.Do("POST", "/db/load", "application/octet-stream", string(body))
	if err != nil {
		t.Fatalf("POST /db/load on %s: %v", n.ID(), err)
	}
	return code, b
}

// waitNames waits until table names holds exactly want on every node.
func waitNames(t *testing.T, nodes []*Node, want []string) {
	t.Helper()
	for _, n := range nodes {
		waitUntil(t, readyTimeout, "names on "+n.ID(), func() (bool, string) {
			v, err := queryValues(n, "SELECT name FROM names ORDER BY name", "none")
			if err != nil {
				return false, err.Error()
			}
			var got []string
			for _, row := range v {
				s, _ := row[0].(string)
				got = append(got, s)
			}
			return slices.Equal(got, want), strings.Join(got, ",")
		})
	}
}

// TestBackupLoad_RoundTrip backs a cluster up in every format (through a
// follower, so the request is forwarded), changes the data, loads the
// backup back, and checks every node holds the backed-up data (issue 4,
// acceptance 5).
func TestBackupLoad_RoundTrip(t *testing.T) {
	nodes := startCluster(t, 3, fastRaft...)
	leader := waitLeader(t, nodes, readyTimeout)
	follower := others(nodes, leader)[0]
	leader.Execute("/db/execute", `["CREATE TABLE names (name TEXT)", "INSERT INTO names VALUES('fiona')", "INSERT INTO names VALUES('declan')"]`)
	want := []string{"declan", "fiona"}
	tests := []struct{ name, params string }{
		{"binary", "fmt=binary"},
		{"binary compressed", "compress"},
		{"binary vacuum", "vacuum"},
		{"delete", "fmt=delete"},
		{"sql", "fmt=sql"},
		{"sql compressed", "fmt=sql&compress"},
		{"format is case-insensitive", "fmt=SQL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backup(t, follower, tt.params)
			isSQL := strings.Contains(strings.ToLower(tt.params), "sql")
			if got := bytes.HasPrefix(b, []byte("SQLite format 3\x00")); got == isSQL {
				t.Fatalf("backup starts with %.20q", b)
			}
			if !isSQL && !strings.Contains(tt.params, "delete") && (b[18] != 2 || b[19] != 2) {
				t.Errorf("binary backup header bytes 18,19 = %d,%d, want WAL (2,2)", b[18], b[19])
			}
			leader.Execute("/db/execute", `["DROP TABLE names", "CREATE TABLE names (name TEXT)", "INSERT INTO names VALUES('zed')"]`)
			waitNames(t, nodes, []string{"zed"})
			if isSQL {
				leader.Execute("/db/execute", `["DROP TABLE names"]`)
			}
			code, body := postLoad(t, follower, b)
			if code != http.StatusOK || strings.Contains(body, "error") {
				t.Fatalf("load: %d %s", code, body)
			}
			waitNames(t, nodes, want)
		})
	}
	// The leader served those backups (forwarded from the follower): its
	// /status says when, as rqlite's does.
	code, body, err := leader.Do("GET", "/status?key=last_backup_time", "", "")
	if err != nil || code != http.StatusOK || !strings.HasPrefix(body, `"20`) {
		t.Errorf("GET /status?key=last_backup_time on the leader: %d %q %v, want a time", code, body, err)
	}
}

// TestLoad_RefusesBadUploads: a corrupt or truncated database file, or a
// file that is not SQLite, is refused with 400 and the data stays.
func TestLoad_RefusesBadUploads(t *testing.T) {
	n := StartNode(t)
	n.Execute("/db/execute", `["CREATE TABLE names (name TEXT)", "INSERT INTO names VALUES('fiona')"]`)
	for range 50 {
		n.Execute("/db/execute", `["INSERT INTO names VALUES(hex(randomblob(200)))"]`)
	}
	good := backup(t, n, "fmt=delete")
	corrupt := bytes.Clone(good)
	for i := len(corrupt) / 2; i < len(corrupt)/2+4096 && i < len(corrupt); i++ {
		corrupt[i] ^= 0x5a
	}
	tests := []struct {
		name string
		body []byte
	}{
		{"truncated", good[:len(good)*2/3]},
		{"corrupt", corrupt},
		{"sqlite header only", append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0}, 100)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := postLoad(t, n, tt.body); code != http.StatusBadRequest {
				t.Errorf("load: %d %s, want 400", code, body)
			}
			code, body, err := n.Do("POST", "/boot", "application/octet-stream", string(tt.body))
			if err != nil || code != http.StatusBadRequest {
				t.Errorf("boot: %d %s %v, want 400", code, body, err)
			}
			if got, err := countAt(n, "names", "none"); err != nil || got != 51 {
				t.Errorf("rows after the refused upload: %d, %v; want 51", got, err)
			}
		})
	}
	code, body, err := n.Do("POST", "/boot", "application/octet-stream", "this is plainly not a SQLite database file at all")
	if err != nil || code != http.StatusBadRequest || body != "invalid SQLite data\n" {
		t.Errorf("boot with text: %d %q %v", code, body, err)
	}
}

// TestBoot loads a database into a single node with /boot, which
// survives a restart; a second node's /boot is refused once clustered.
func TestBoot(t *testing.T) {
	src := StartNode(t)
	src.Execute("/db/execute", `["CREATE TABLE names (name TEXT)", "INSERT INTO names VALUES('fiona')"]`)
	b := backup(t, src, "fmt=binary")

	n := StartNode(t)
	n.Execute("/db/execute", `["CREATE TABLE other (x)"]`)
	code, body, err := n.Do("POST", "/boot", "application/octet-stream", string(b))
	if err != nil || code != http.StatusOK {
		t.Fatalf("boot: %d %q %v", code, body, err)
	}
	waitNames(t, []*Node{n}, []string{"fiona"})
	n.Restart()
	waitNames(t, []*Node{n}, []string{"fiona"})
	if code, body := postLoad(t, n, []byte("INSERT INTO names VALUES('declan')")); code != http.StatusOK || strings.Contains(body, "error") {
		t.Fatalf("SQL load after boot: %d %s", code, body)
	}
	waitNames(t, []*Node{n}, []string{"declan", "fiona"})
	code, body, err = n.Do("POST", "/snapshot", "", "")
	if err != nil || code != http.StatusOK {
		t.Errorf("POST /snapshot: %d %q %v", code, body, err)
	}
	code, body, err = n.Do("POST", "/snapshot", "", "")
	if err != nil || code != http.StatusNoContent {
		t.Errorf("POST /snapshot with nothing new: %d %q %v, want 204", code, body, err)
	}
	// The first snapshot after the boot is a full one; this one holds
	// only the new row, and /reap folds it into the base.
	if code, body := postLoad(t, n, []byte("INSERT INTO names VALUES('liam')")); code != http.StatusOK || strings.Contains(body, "error") {
		t.Fatalf("SQL load: %d %s", code, body)
	}
	if code, body, err = n.Do("POST", "/snapshot", "", ""); err != nil || code != http.StatusOK {
		t.Fatalf("POST /snapshot: %d %q %v", code, body, err)
	}
	code, body, err = n.Do("POST", "/reap", "", "")
	if err != nil || code != http.StatusOK || body != `{"snapshots_reaped":1,"wals_checkpointed":1}` {
		t.Errorf("POST /reap: %d %q %v", code, body, err)
	}
	n.Restart()
	waitNames(t, []*Node{n}, []string{"declan", "fiona", "liam"})

	// A node joining later gets the booted data (a snapshot: the log
	// before the boot was truncated), then /boot is refused on the
	// two-node cluster.
	joiner := newNode(t)
	joiner.Args = append(joiner.Args, "-join", n.RaftAddr)
	joiner.Start()
	joiner.WaitReady(readyTimeout)
	waitNames(t, []*Node{joiner}, []string{"declan", "fiona", "liam"})
	code, body, err = n.Do("POST", "/boot", "application/octet-stream", string(b))
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "not single-node") {
		t.Errorf("boot on a 2-node cluster: %d %q %v, want 503 not single-node", code, body, err)
	}
}

// TestLoad_LargeFileInChunks loads a database larger than one load entry
// (1 MiB) through a follower: it is replicated in chunks and every node
// ends with its content.
func TestLoad_LargeFileInChunks(t *testing.T) {
	nodes := startCluster(t, 3, fastRaft...)
	leader := waitLeader(t, nodes, readyTimeout)
	follower := others(nodes, leader)[0]
	leader.Execute("/db/execute", `["CREATE TABLE big (id INTEGER PRIMARY KEY, data BLOB)",
		"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 3000) INSERT INTO big(data) SELECT randomblob(3000) FROM c"]`)
	b := backup(t, leader, "fmt=binary")
	if len(b) < 6<<20 {
		t.Fatalf("backup is %d bytes; the test needs more than 1 MiB", len(b))
	}
	leader.Execute("/db/execute", `["DROP TABLE big"]`)
	code, body := postLoad(t, follower, b)
	if code != http.StatusOK || strings.Contains(body, "error") {
		t.Fatalf("load: %d %s", code, body)
	}
	for _, n := range nodes {
		waitCount(t, n, "big", 3000, readyTimeout)
	}
}
