package system_test

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAbuse_NodeKeepsServing throws hostile clients at one node (issue 6,
// acceptance 4): a 1 GB body, 10,000 slow connections at once, a request
// body that never ends, a query producing 10 million rows, and random
// bytes on the Raft port. Between and during them the node serves normal
// requests, its peak RSS stays bounded, and no committed row is lost.
func TestAbuse_NodeKeepsServing(t *testing.T) {
	n := StartNode(t, "-db-max-result-size", "33554432")
	n.Execute("/db/execute", `["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"]`)
	rows := 0
	insert := func() {
		t.Helper()
		n.Execute("/db/execute", `["INSERT INTO t(v) VALUES('x')"]`)
		rows++
	}
	insert()
	steps := []struct {
		name string
		run  func(t *testing.T, n *Node, during func())
	}{
		{"1 GB body", abuseHugeBody},
		{"10000 slow connections", abuseSlowConns},
		{"never-ending body", abuseEndlessBody},
		{"10 million rows", abuseHugeResult},
		{"random bytes on the Raft port", abuseRaftPort},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.run(t, n, insert)
			insert()
		})
	}
	want := fmt.Sprintf(`{"results":[{"columns":["n"],"types":["integer"],"values":[[%d]]}]}`, rows)
	if got := n.Query("SELECT COUNT(*) AS n FROM t", ""); got != want {
		t.Errorf("rows after abuse: %s, want %s", got, want)
	}
	peak := peakRSS(t, n)
	t.Logf("peak RSS of the node: %d MiB", peak>>20)
	if peak > 768<<20 {
		t.Errorf("peak RSS %d MiB, want under 768 MiB", peak>>20)
	}
}

// abuseHugeBody streams 1 GB at /db/execute: the node answers 413 (or
// cuts the connection) after its body limit, without reading it all.
func abuseHugeBody(t *testing.T, n *Node, during func()) {
	body := io.LimitReader(repeatReader('a'), 1<<30)
	req, err := http.NewRequest(http.MethodPost, "http://"+n.HTTPAddr+"/db/execute", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 1 << 30
	start := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("1 GB body: status %d, want 413", resp.StatusCode)
		}
	}
	t.Logf("1 GB body refused after %v (client error: %v)", time.Since(start), err)
	during()
}

// abuseSlowConns opens 10,000 connections that each send half a request
// line and stall, checks the node still serves, then closes them.
func abuseSlowConns(t *testing.T, n *Node, during func()) {
	const total = 10000
	conns := make([]net.Conn, 0, total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	failed := 0
	for w := range 50 {
		wg.Go(func() {
			for i := w; i < total; i += 50 {
				c, err := net.DialTimeout("tcp", n.HTTPAddr, 5*time.Second)
				if err == nil {
					_, err = io.WriteString(c, "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ")
				}
				mu.Lock()
				if err != nil {
					failed++
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	t.Logf("%d slow connections open, %d dials failed", len(conns), failed)
	if len(conns) < total*9/10 {
		t.Errorf("only %d of %d slow connections opened", len(conns), total)
	}
	during()
	if code, body, err := n.Do("GET", "/status", "", ""); err != nil || code != http.StatusOK {
		t.Errorf("GET /status with %d slow connections: %d %v %.80q", len(conns), code, err, body)
	}
}

// abuseEndlessBody starts a request whose body never finishes and checks
// the node serves others meanwhile.
func abuseEndlessBody(t *testing.T, n *Node, during func()) {
	c, err := net.Dial("tcp", n.HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /db/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[\"INSERT"); err != nil {
		t.Fatal(err)
	}
	during()
	if code, _, err := n.Do("GET", "/readyz", "", ""); err != nil || code != http.StatusOK {
		t.Errorf("GET /readyz during a never-ending body: %d %v", code, err)
	}
}

// abuseHugeResult asks for 10 million rows, bounded two ways: by
// -db-max-result-size (the node runs with 32 MiB), which stops the query
// with a clear per-statement error instead of materializing the rows, and
// by db_timeout.
func abuseHugeResult(t *testing.T, n *Node, during func()) {
	rows := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 10000000) SELECT x FROM c"
	work := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 1000000000) SELECT COUNT(*) FROM c"
	for _, tc := range []struct{ params, q, want string }{
		{"", rows, `"error":"query result too large`},
		{"db_timeout=1s&", work, `"error":"query timeout"`},
	} {
		q := tc.q
		done := make(chan string, 1)
		go func() {
			code, body, err := n.Do("GET", "/db/query?"+tc.params+"q="+urlEscape(q), "", "")
			done <- fmt.Sprintf("%d %v %.200s", code, err, body)
		}()
		during()
		got := <-done
		if !strings.HasPrefix(got, "200 <nil> ") || !strings.Contains(got, tc.want) {
			t.Errorf("10M-row query ?%s: %s, want 200 with %s", tc.params, got, tc.want)
		}
	}
}

// abuseRaftPort sends random bytes, unknown headers and oversized RPC
// frames to the Raft port; the node keeps leading and serving.
func abuseRaftPort(t *testing.T, n *Node, during func()) {
	payloads := [][]byte{
		{2, 0xff, 0xff, 0xff, 0xff},       // RPC frame announcing 4 GiB
		{2, 0x03, 0xff, 0xff, 0xff, 1, 2}, // 64 MiB announced, 2 bytes sent
		{1, 0xde, 0xad, 0xbe, 0xef},       // garbage on the Raft stream
		{0x47, 0x45, 0x54, 0x20},          // "GET "
	}
	for range 200 {
		b := make([]byte, 4096)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, b)
	}
	frame := make([]byte, 5)
	frame[0] = 2
	binary.BigEndian.PutUint32(frame[1:], 100)
	payloads = append(payloads, append(frame, make([]byte, 100)...)) // undecodable msgpack
	for _, p := range payloads {
		c, err := net.DialTimeout("tcp", n.RaftAddr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial Raft port: %v", err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(p)
		c.Close()
	}
	during()
	code, body, err := n.Do("GET", "/status", "", "")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"state":"Leader"`) {
		t.Errorf("after Raft-port garbage: %d %v, want a leading node", code, err)
	}
}

// repeatReader is an endless stream of b.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// peakRSS reads the node process's peak resident set (VmHWM).
func peakRSS(t *testing.T, n *Node) int64 {
	t.Helper()
	pid := n.Pid()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}
