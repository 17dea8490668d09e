package system_test

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rdb/rdb/internal/rdbtest"
)

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cfg.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeS3 runs gofakes3 in the test with one bucket.
func fakeS3(t *testing.T, bucket string) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

func s3Sub(endpoint string) map[string]any {
	return map[string]any{"access_key_id": "AKIAFAKE", "secret_access_key": "secret", "region": "us-east-1",
		"bucket": "rdb-backups", "path": "cluster/backup.sqlite", "endpoint": endpoint, "force_path_style": true}
}

// s3Object fetches the backup object and its stored ID from the fake.
func s3Object(t *testing.T, endpoint string) ([]byte, string) {
	t.Helper()
	resp, err := http.Get(endpoint + "/rdb-backups/cluster/backup.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET object: %d %s", resp.StatusCode, b)
	}
	return b, resp.Header.Get("X-Amz-Meta-X-Rqlite-Auto-Backup-Id")
}

// rowsOfGzip writes a gzipped backup to a file and returns the ids in foo.
func rowsOfGzip(t *testing.T, gz []byte) []int {
	t.Helper()
	p := filepath.Join(t.TempDir(), "backup.gz")
	if err := os.WriteFile(p, gz, 0o600); err != nil {
		t.Fatal(err)
	}
	return backupRows(t, p)
}

func TestAutoBackup_S3_CycleAndRestore(t *testing.T) {
	ep := fakeS3(t, "rdb-backups")
	cfg := writeJSON(t, map[string]any{"version": 1, "type": "s3", "interval": "1s", "sub": s3Sub(ep)})
	n := StartNode(t, "-auto-backup", cfg)
	waitIdle(t, n, uploaderCounters{})
	n.Execute("/db/execute", createFoo)
	waitUploads(t, n, 1)
	insert(t, n, 2)
	waitUploads(t, n, 2)
	obj, id := s3Object(t, ep)
	if got := rowsOfGzip(t, obj); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("S3 backup rows %v, want [1 2]", got)
	}
	code, body, _ := n.Do("GET", "/status?key=auto_backups", "", "")
	if code != 200 || !strings.Contains(body, `"last_index":"`+id+`"`) || !strings.Contains(body, `"upload_destination":"`+ep+`/rdb-backups/cluster/backup.sqlite"`) {
		t.Fatalf("stored ID %q does not match /status: %s", id, body)
	}
	n.Restart()
	waitIdle(t, n, uploaderCounters{})
	if c := uploader(t, n); c.skippedID != 1 {
		t.Errorf("after restart %s, want skipped_id=1", c)
	}
	n.Stop()

	// A fresh 3-node cluster restores the uploaded object: the leader
	// loads it through the log, the others discard their copy. It backs
	// itself up to another key: only its leader uploads, and a new
	// leader finds its backup already stored.
	restore := writeJSON(t, map[string]any{"version": 1, "type": "s3", "timeout": "10s", "sub": s3Sub(ep)})
	sub2 := s3Sub(ep)
	sub2["path"] = "cluster2/backup.sqlite"
	backup2 := writeJSON(t, map[string]any{"version": 1, "type": "s3", "interval": "1s", "sub": sub2})
	nodes := make([]*Node, 3)
	var join []string
	for i := range nodes {
		nodes[i] = newNode(t, append([]string{"-auto-restore", restore, "-auto-backup", backup2}, fastRaft...)...)
		nodes[i].RaftAddr = rdbtest.UnusedAddr(t)
		join = append(join, nodes[i].RaftAddr)
	}
	for _, m := range nodes {
		m.Args = append(m.Args, "-bootstrap-expect", "3", "-join", strings.Join(join, ","))
		m.Start()
	}
	for _, m := range nodes {
		m.WaitReady(readyTimeout)
	}
	for _, m := range nodes {
		waitCount(t, m, "foo", 2, readyTimeout)
	}
	restored, skipped := 0, 0
	for _, m := range nodes {
		restored += debugVar(t, m, "store", "num_auto_restores")
		skipped += debugVar(t, m, "store", "num_auto_restores_skipped")
		if ok := debugVar(t, m, "downloader", "num_downloads_ok"); ok != 1 {
			t.Errorf("%s downloaded %d times, want 1", m.ID(), ok)
		}
	}
	if restored != 1 || skipped != 2 {
		t.Errorf("auto-restores %d, skipped %d; want 1 and 2", restored, skipped)
	}
	leader := waitLeader(t, nodes, readyTimeout)
	waitUploads(t, leader, 1)
	for _, f := range others(nodes, leader) {
		if c := uploader(t, f); c != (uploaderCounters{}) {
			t.Errorf("follower %s: %s, want no counter touched", f.ID(), c)
		}
	}
	leader.Stop()
	rest := others(nodes, leader)
	next := waitLeader(t, rest, readyTimeout)
	waitIdle(t, next, uploaderCounters{})
	if c := uploader(t, next); c.ok != 0 || c.skippedID != 1 {
		t.Errorf("new leader %s: %s, want ok=0 skipped_id=1", next.ID(), c)
	}
	// Restarted with data, a node does not download again.
	leader.Start()
	leader.WaitReady(readyTimeout)
	if ok := debugVar(t, leader, "downloader", "num_downloads_ok"); ok != 0 {
		t.Errorf("restarted node downloaded again")
	}
	waitCount(t, leader, "foo", 2, readyTimeout)
}

func TestAutoRestore_RefusesNonSQLite(t *testing.T) {
	ep := fakeS3(t, "rdb-backups")
	req, _ := http.NewRequest(http.MethodPut, ep+"/rdb-backups/cluster/backup.sqlite", strings.NewReader("this is not a database"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("put object: %v %v", err, resp)
	}
	resp.Body.Close()
	restore := writeJSON(t, map[string]any{"version": 1, "type": "s3", "sub": s3Sub(ep)})
	n := newNode(t, "-auto-restore", restore)
	n.Start()
	waitFor(t, readyTimeout, "node to exit", n.Exited)
	if n.ExitCode() == 0 || !strings.Contains(n.Logs(), "not a SQLite database") {
		t.Fatalf("exit %d, logs:\n%s", n.ExitCode(), n.Logs())
	}
	// continue_on_failure starts the node anyway (empty).
	cont := writeJSON(t, map[string]any{"version": 1, "type": "s3", "continue_on_failure": true, "sub": s3Sub(ep)})
	m := StartNode(t, "-auto-restore", cont)
	m.Execute("/db/execute", createFoo)
}

// fakeGCS serves the token exchange and the two GCS JSON endpoints
// (multipart upload; object metadata and media) in memory.
type fakeGCS struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	mu  sync.Mutex
	obj map[string][]byte
	ids map[string]string
}

func newFakeGCS(t *testing.T) *fakeGCS {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeGCS{key: key, obj: map[string][]byte{}, ids: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := f.checkJWT(r.FormValue("assertion")); err != nil || r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			http.Error(w, fmt.Sprint("bad assertion: ", err), http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"access_token":"fake-token","expires_in":3600,"token_type":"Bearer"}`))
	})
	mux.HandleFunc("POST /upload/storage/v1/b/{bucket}/o", f.authed(f.upload))
	mux.HandleFunc("GET /storage/v1/b/{bucket}/o/{name}", f.authed(f.get))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGCS) checkJWT(jwt string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return err
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if !strings.Contains(string(claims), "devstorage.read_write") {
		return fmt.Errorf("scope missing: %s", claims)
	}
	return nil
}

func (f *fakeGCS) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fake-token" || r.PathValue("bucket") != "rdb-bucket" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

func (f *fakeGCS) upload(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" || r.URL.Query().Get("uploadType") != "multipart" {
		http.Error(w, "want multipart/related", http.StatusBadRequest)
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var meta struct {
		Name     string            `json:"name"`
		Metadata map[string]string `json:"metadata"`
	}
	p, err := mr.NextPart()
	if err == nil {
		err = json.NewDecoder(p).Decode(&meta)
	}
	var data []byte
	if err == nil {
		if p, err = mr.NextPart(); err == nil {
			data, err = io.ReadAll(p)
		}
	}
	if err != nil || meta.Name == "" {
		http.Error(w, fmt.Sprint("bad upload: ", err), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.obj[meta.Name], f.ids[meta.Name] = data, meta.Metadata["rqlite-auto-backup-id"]
	f.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"name": meta.Name, "bucket": "rdb-bucket"})
}

func (f *fakeGCS) get(w http.ResponseWriter, r *http.Request) {
	name, _ := url.PathUnescape(r.PathValue("name"))
	f.mu.Lock()
	data, ok := f.obj[name]
	id := f.ids[name]
	f.mu.Unlock()
	if !ok {
		http.Error(w, "no such object", http.StatusNotFound)
		return
	}
	if r.URL.Query().Get("alt") == "media" {
		w.Write(data)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"name": name, "metadata": map[string]string{"rqlite-auto-backup-id": id}})
}

func (f *fakeGCS) credentials(t *testing.T) string {
	der, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return writeJSON(t, map[string]any{"type": "service_account", "client_email": "rdb@test.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": f.srv.URL + "/token"})
}

func TestAutoBackup_GCS_UploadAndRestore(t *testing.T) {
	g := newFakeGCS(t)
	sub := map[string]any{"project_id": "p", "bucket": "rdb-bucket", "name": "backups/db.sqlite",
		"credentials_path": g.credentials(t), "endpoint": g.srv.URL}
	n := StartNode(t, "-auto-backup", writeJSON(t, map[string]any{"version": 1, "type": "gcs", "interval": "1s", "sub": sub}))
	n.Execute("/db/execute", createFoo)
	waitUploads(t, n, 1)
	insert(t, n, 2)
	waitUploads(t, n, 2)
	g.mu.Lock()
	obj, id := g.obj["backups/db.sqlite"], g.ids["backups/db.sqlite"]
	g.mu.Unlock()
	if got := rowsOfGzip(t, obj); fmt.Sprint(got) != "[1 2]" || id == "" {
		t.Fatalf("GCS backup rows %v id %q, want [1 2] and an ID", got, id)
	}
	n.Restart()
	waitIdle(t, n, uploaderCounters{})
	if c := uploader(t, n); c.skippedID != 1 {
		t.Errorf("after restart %s, want skipped_id=1", c)
	}
	n.Stop()

	m := StartNode(t, "-auto-restore", writeJSON(t, map[string]any{"version": 1, "type": "gcs", "sub": sub}))
	waitCount(t, m, "foo", 2, readyTimeout)

	// An uncompressed backup restores as well.
	g.mu.Lock()
	zr, _ := gzip.NewReader(bytes.NewReader(obj))
	plain, _ := io.ReadAll(zr)
	g.obj["backups/db.sqlite"] = plain
	g.mu.Unlock()
	k := StartNode(t, "-auto-restore", writeJSON(t, map[string]any{"version": 1, "type": "gcs", "sub": sub}))
	waitCount(t, k, "foo", 2, readyTimeout)
}
