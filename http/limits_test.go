package httpd

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/store"
)

func TestService_MaxInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	f := &fakes{}
	f.db.executeFn = func(ctx context.Context, _ *store.Request) (store.Response, error) {
		close(entered)
		<-release
		return store.Response{}, nil
	}
	cfg := testConfig()
	cfg.MaxInFlight = 1
	s := newTestService(t, cfg, f)
	base := serve(t, s)
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post(base+"/db/execute", "application/json", strings.NewReader(`["SELECT 1"]`))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-entered
	code, body := httpGet(t, base+"/status")
	close(release)
	if code != http.StatusServiceUnavailable || body != "too many requests in flight\n" {
		t.Errorf("second request: %d %q, want 503 %q", code, body, "too many requests in flight\n")
	}
	if got := <-done; got != http.StatusOK {
		t.Errorf("first request status = %d, want 200", got)
	}
	if code, _ := httpGet(t, base+"/status"); code != http.StatusOK {
		t.Errorf("after release: status = %d, want 200", code)
	}
}

func TestService_HeaderLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxHeaderBytes = 4 << 10
	s := newTestService(t, cfg, nil)
	base := serve(t, s)
	tests := []struct {
		name string
		path string
		hdr  int
		want int
	}{
		{"small", "/status", 100, http.StatusOK},
		{"huge header", "/status", 64 << 10, http.StatusRequestHeaderFieldsTooLarge},
		{"huge URL", "/status?x=" + strings.Repeat("a", 64<<10), 0, http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Pad", strings.Repeat("p", tt.hdr))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// TestService_ReadTimeout sends a request whose body never arrives and
// one whose headers never end: both connections are closed by the server
// within its timeouts while it keeps serving others.
func TestService_ReadTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.ReadTimeout = 300 * time.Millisecond
	cfg.ReadHeaderTimeout = 300 * time.Millisecond
	s := newTestService(t, cfg, nil)
	base := serve(t, s)
	addr := strings.TrimPrefix(base, "http://")
	tests := []struct{ name, send string }{
		{"body never ends", "POST /db/execute HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n[\"SEL"},
		{"headers never end", "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			if code, _ := httpGet(t, base+"/status"); code != http.StatusOK {
				t.Errorf("other request: status %d, want 200", code)
			}
			if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			n, err := io.Copy(io.Discard, bufio.NewReader(conn))
			if err != nil {
				t.Fatalf("server did not close the connection: read %d bytes, %v", n, err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("closed after %v", d)
			}
		})
	}
}
