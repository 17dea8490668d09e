package httpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// queueTestConfig sets the batch size and flush timeout and retries fast.
func queueTestConfig(batch int, timeout time.Duration) Config {
	cfg := testConfig()
	cfg.QueueBatchSize, cfg.QueueTimeout, cfg.QueueRetryInterval = batch, timeout, time.Millisecond
	return cfg
}

func seqOf(t *testing.T, body string) int64 {
	t.Helper()
	var got struct {
		Results        []any `json:"results"`
		SequenceNumber int64 `json:"sequence_number"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	if got.Results == nil || len(got.Results) != 0 {
		t.Fatalf("results = %v, want []", got.Results)
	}
	return got.SequenceNumber
}

func sqls(req *store.Request) []string {
	var out []string
	for _, st := range req.Statements {
		out = append(out, st.SQL)
	}
	return out
}

func TestQueue_SequenceNumbersAndBatching(t *testing.T) {
	var rec recorder
	f := &fakes{}
	f.db.executeFn = func(_ context.Context, req *store.Request) (store.Response, error) {
		rec.add(req)
		return store.Response{Results: []db.Result{{Error: "discarded"}}}, nil
	}
	cfg := queueTestConfig(3, time.Hour)
	cfg.QueueTx = true
	s := newTestService(t, cfg, f)
	for i := range 3 {
		w := do(t, s, http.MethodPost, "/db/execute?queue", fmt.Sprintf(`["S%d"]`, i))
		if w.Code != 200 {
			t.Fatalf("request %d: status %d %q", i, w.Code, w.Body.String())
		}
		if got, want := seqOf(t, w.Body.String()), s.start.UnixNano()+int64(i)+1; got != want {
			t.Errorf("request %d: sequence_number = %d, want %d", i, got, want)
		}
	}
	waitFor(t, 5*time.Second, "one batch", func() bool { return len(rec.all()) == 1 })
	req := rec.all()[0]
	if got, want := sqls(req), []string{"S0", "S1", "S2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batch = %v, want %v", got, want)
	}
	if !req.Transaction {
		t.Error("batch not a transaction with QueueTx")
	}
	waitFor(t, 5*time.Second, "applied sequence number", func() bool {
		return s.queue.appliedSeq() == s.start.UnixNano()+3
	})
}

func TestQueue_WaitAndTimeoutFlush(t *testing.T) {
	var rec recorder
	f := &fakes{}
	f.db.executeFn = func(_ context.Context, req *store.Request) (store.Response, error) {
		rec.add(req)
		return store.Response{}, nil
	}
	s := newTestService(t, queueTestConfig(128, 5*time.Millisecond), f)
	w := do(t, s, http.MethodPost, "/db/execute?queue&wait", `["INSERT 1", "INSERT 2"]`)
	if w.Code != 200 {
		t.Fatalf("status %d %q", w.Code, w.Body.String())
	}
	seq := seqOf(t, w.Body.String())
	if got := rec.all(); len(got) != 1 || fmt.Sprint(sqls(got[0])) != "[INSERT 1 INSERT 2]" {
		t.Fatalf("batches after wait = %v, want one with both statements", got)
	}
	if got := s.queue.appliedSeq(); got != seq {
		t.Errorf("applied sequence = %d, want %d", got, seq)
	}
	// An empty flush marker with wait: no Execute, still a sequence number.
	w = do(t, s, http.MethodPost, "/db/execute?queue&wait", `[]`)
	if w.Code != 200 || seqOf(t, w.Body.String()) != seq+1 {
		t.Fatalf("flush marker: %d %q, want 200 with sequence %d", w.Code, w.Body.String(), seq+1)
	}
	if n := len(rec.all()); n != 1 {
		t.Errorf("Execute calls = %d, want 1", n)
	}
}

func TestQueue_WaitTimeout(t *testing.T) {
	release := make(chan struct{})
	f := &fakes{}
	f.db.executeFn = func(ctx context.Context, _ *store.Request) (store.Response, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return store.Response{}, nil
	}
	s := newTestService(t, queueTestConfig(1, time.Hour), f)
	check(t, do(t, s, http.MethodPost, "/db/execute?queue&wait&timeout=20ms", `["S"]`), 408, "queue wait timeout\n")
	close(release)
}

func TestQueue_LeaderRequired(t *testing.T) {
	tests := []struct {
		name     string
		leader   string
		query    string
		wantCode int
	}{
		{"leader known", testLeader, "?queue", 200},
		{"no leader", "", "?queue", 503},
		{"no leader noleader", "", "?queue&noleader", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{}
			f.store.leaderAddrFn = func() string { return tt.leader }
			s := newTestService(t, queueTestConfig(128, time.Millisecond), f)
			w := do(t, s, http.MethodPost, "/db/execute"+tt.query, `["S"]`)
			if w.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d (%q)", w.Code, tt.wantCode, w.Body.String())
			}
			if tt.wantCode == 503 && w.Body.String() != "leader not found\n" {
				t.Errorf("body = %q", w.Body.String())
			}
		})
	}
}

func TestQueue_RetriesTransientErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		panics    bool
		wantCalls int
	}{
		{"not leader retried", fmt.Errorf("forward: %w", store.ErrNotLeader), false, 3},
		{"leader not found retried", store.ErrLeaderNotFound, false, 3},
		{"enqueue timeout retried", store.ErrEnqueueTimeout, false, 3},
		{"disallowed pragma dropped", db.ErrDisallowedPragma, false, 1},
		// The entry may be in the log and commit later: a second attempt
		// could apply the batch twice.
		{"apply timeout not retried", store.ErrApplyTimeout, false, 1},
		{"deadline after logging not retried", fmt.Errorf("%w: %w", store.ErrApplyTimeout, context.DeadlineExceeded), false, 1},
		{"leadership lost not retried", store.ErrLeadershipLost, false, 1},
		{"panic dropped", nil, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			f := &fakes{}
			f.db.executeFn = func(context.Context, *store.Request) (store.Response, error) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if tt.panics {
					panic("boom")
				}
				if calls < 3 {
					return store.Response{}, tt.err
				}
				return store.Response{}, nil
			}
			s := newTestService(t, queueTestConfig(1, time.Hour), f)
			w := do(t, s, http.MethodPost, "/db/execute?queue&wait", `["S"]`)
			if w.Code != 200 {
				t.Fatalf("status %d %q", w.Code, w.Body.String())
			}
			mu.Lock()
			got := calls
			mu.Unlock()
			if got != tt.wantCalls {
				t.Errorf("Execute calls = %d, want %d", got, tt.wantCalls)
			}
			// The batcher survived: another write still goes through.
			if w := do(t, s, http.MethodPost, "/db/execute?queue&wait", `["T"]`); w.Code != 200 {
				t.Errorf("second write: status %d", w.Code)
			}
		})
	}
}

func TestQueue_CloseFlushesAndStops(t *testing.T) {
	var rec recorder
	f := &fakes{}
	f.db.executeFn = func(_ context.Context, req *store.Request) (store.Response, error) {
		rec.add(req)
		return store.Response{}, nil
	}
	s := newTestService(t, queueTestConfig(128, time.Hour), f)
	for _, body := range []string{`["A"]`, `["B"]`} {
		if w := do(t, s, http.MethodPost, "/db/execute?queue", body); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
	}
	if n := len(rec.all()); n != 0 {
		t.Fatalf("flushed %d batches before Close, want 0", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := rec.all(); len(got) != 1 || fmt.Sprint(sqls(got[0])) != "[A B]" {
		t.Errorf("batches at Close = %v, want one with A and B", got)
	}
	select {
	case <-s.queue.done:
	default:
		t.Fatal("batcher still running after Close")
	}
	if _, err := s.queue.enqueue(ctx, nil, false); !errors.Is(err, ErrQueueClosed) {
		t.Errorf("enqueue after Close = %v, want ErrQueueClosed", err)
	}
	check(t, do(t, s, http.MethodPost, "/db/execute?queue", `["C"]`), 503, "queue closed\n")
}

func TestQueue_CloseCancelsStuckFlush(t *testing.T) {
	f := &fakes{}
	f.db.executeFn = func(ctx context.Context, _ *store.Request) (store.Response, error) {
		<-ctx.Done()
		return store.Response{}, ctx.Err()
	}
	s := newTestService(t, queueTestConfig(128, time.Hour), f)
	if w := do(t, s, http.MethodPost, "/db/execute?queue", `["A"]`); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want deadline exceeded", err)
	}
	select {
	case <-s.queue.done:
	default:
		t.Fatal("batcher still running after Close returned")
	}
}

func TestQueue_Full(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	f := &fakes{}
	f.db.executeFn = func(ctx context.Context, _ *store.Request) (store.Response, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return store.Response{}, nil
	}
	cfg := queueTestConfig(1, time.Hour)
	cfg.QueueCapacity = 1
	s := newTestService(t, cfg, f)
	defer close(release)
	if w := do(t, s, http.MethodPost, "/db/execute?queue", `["A"]`); w.Code != 200 {
		t.Fatalf("first: status %d", w.Code)
	}
	<-started // the batcher holds A; the buffer is empty
	if w := do(t, s, http.MethodPost, "/db/execute?queue", `["B"]`); w.Code != 200 {
		t.Fatalf("second: status %d", w.Code)
	}
	check(t, do(t, s, http.MethodPost, "/db/execute?queue&timeout=20ms", `["C"]`), 503, "queue full\n")
}
