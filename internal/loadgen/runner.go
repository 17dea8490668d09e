package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the steps around the workloads.
const (
	probeTimeout    = 10 * time.Second
	setupTimeout    = 5 * time.Minute
	convergeTimeout = time.Minute
	convergePoll    = 50 * time.Millisecond
	dropTimeout     = 30 * time.Second
)

// runner holds what the workloads of one Run share.
type runner struct {
	cfg Config
	c   *client
	ops *ops
}

// Run checks that every URL answers as rqlite does, creates the table,
// preloads it if a workload reads, runs the workloads in order and drops
// the table unless cfg.Keep (a failure to drop it is logged). When ctx is cancelled the running workload
// stops early and the report so far is returned with Interrupted set.
// The error is ErrAllFailed when some workload had no successful request.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := newClient(cfg)
	defer c.close()
	r := &runner{cfg: cfg, c: c, ops: &ops{c: c, table: cfg.Table, batch: cfg.Batch, rows: cfg.Rows, ratio: cfg.ReadRatio}}
	if err := r.probe(ctx); err != nil {
		return nil, err
	}
	if err := r.create(ctx); err != nil {
		return nil, err
	}
	if !cfg.Keep {
		defer r.drop()
	}
	if err := r.preload(ctx); err != nil {
		return nil, err
	}
	rep := newReport(cfg)
	for _, w := range cfg.Workloads {
		if ctx.Err() != nil {
			rep.Interrupted = true
			break
		}
		res := r.run(ctx, w)
		rep.Results = append(rep.Results, res)
		rep.Interrupted = res.StoppedBy == StopInterrupt
	}
	for _, res := range rep.Results {
		if res.OK == 0 && res.Requests > 0 {
			return rep, fmt.Errorf("workload %s: %w", res.Workload, ErrAllFailed)
		}
	}
	return rep, nil
}

// probe asks every URL for SELECT 1, so that a wrong address fails with
// one clear error before anything else.
func (r *runner) probe(ctx context.Context) error {
	for _, u := range r.c.urls {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		_, err := r.c.postTo(pctx, u, "/db/query?level=none", statements("SELECT 1"))
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", redact(u), err)
		}
	}
	return nil
}

// statements encodes SQL strings as an rqlite request body.
func statements(sql ...string) []byte {
	b, err := json.Marshal(sql)
	if err != nil {
		panic(err) // strings always encode
	}
	return b
}

// create makes the table if it is missing.
func (r *runner) create(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if _, err := r.c.post(ctx, "/db/execute", statements(createSQL(r.cfg.Table))); err != nil {
		return fmt.Errorf("create table %s: %w", r.cfg.Table, err)
	}
	return nil
}

// preload, if a workload reads, fills the table with cfg.Rows rows and
// waits until every URL serves them at level none.
func (r *runner) preload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	reads := false
	for _, w := range r.cfg.Workloads {
		reads = reads || w.reads()
	}
	if !reads {
		return nil
	}
	for lo := 1; lo <= r.cfg.Rows; lo += preloadChunk {
		hi := min(lo+preloadChunk-1, r.cfg.Rows)
		if _, err := r.c.post(ctx, "/db/execute", statements(preloadSQL(r.cfg.Table, lo, hi))); err != nil {
			return fmt.Errorf("preload rows %d-%d: %w", lo, hi, err)
		}
	}
	return r.waitPreloaded(ctx)
}

// waitPreloaded polls each URL until it counts all preloaded rows.
func (r *runner) waitPreloaded(ctx context.Context) error {
	deadline := time.Now().Add(convergeTimeout)
	for _, u := range r.c.urls {
		for {
			n, err := r.count(ctx, u)
			if err == nil && n == int64(r.cfg.Rows) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s serves %d of %d preloaded rows after %s (%v)", redact(u), n, r.cfg.Rows, convergeTimeout, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for preloaded rows: %w", ctx.Err())
			case <-time.After(convergePoll):
			}
		}
	}
	return nil
}

// count reads how many preloaded rows u serves at level none.
func (r *runner) count(ctx context.Context, u string) (int64, error) {
	resp, err := r.c.postTo(ctx, u, "/db/query?level=none", statements(countSQL(r.cfg.Table, r.cfg.Rows)))
	if err != nil {
		return 0, err
	}
	var row []int64
	if len(resp.Results) != 1 || len(resp.Results[0].Values) != 1 {
		return 0, fmt.Errorf("%w: COUNT(*) returned no row", ErrNotRqlite)
	}
	if err := json.Unmarshal(resp.Results[0].Values[0], &row); err != nil || len(row) != 1 {
		return 0, fmt.Errorf("%w: COUNT(*) row %s", ErrNotRqlite, resp.Results[0].Values[0])
	}
	return row[0], nil
}

// drop removes the table, even after an interrupt.
func (r *runner) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
	defer cancel()
	if _, err := r.c.post(ctx, "/db/execute", statements("DROP TABLE IF EXISTS "+r.cfg.Table)); err != nil {
		slog.Warn("drop bench table", "table", r.cfg.Table, "err", err)
	}
}

// tally is what one client measured.
type tally struct {
	lat      []time.Duration
	requests int
	errs     int
	rows     int64
	samples  sampleSet
	stop     string
}

// run runs w with cfg.Concurrency closed-loop clients until the request
// count or the duration is reached, or ctx is cancelled.
func (r *runner) run(ctx context.Context, w Workload) Result {
	o := r.ops.forWorkload(w)
	var issued atomic.Int64
	var live counters
	start := time.Now()
	deadline := start.Add(r.cfg.Duration)
	stopProgress := startProgress(r.cfg.Progress, r.cfg.ProgressInterval, w.Name(), &live)
	tallies := make([]tally, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range tallies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tallies[i] = r.loop(ctx, i, o, &issued, deadline, &live)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return merge(w, tallies, elapsed, ctx.Err() != nil)
}

// loop is one client: a request at a time until a bound is reached. It is
// bounded by the shared count of requests issued.
func (r *runner) loop(ctx context.Context, id int, o op, issued *atomic.Int64, deadline time.Time, live *counters) tally {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(id)))
	t := tally{lat: make([]time.Duration, 0, min(r.cfg.Requests/r.cfg.Concurrency+1, 1<<16))}
	for ctx.Err() == nil {
		if issued.Add(1) > int64(r.cfg.Requests) {
			t.stop = StopRequests
			break
		}
		if time.Now().After(deadline) {
			t.stop = StopDuration
			break
		}
		rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		t0 := time.Now()
		rows, err := o(rctx, rng)
		d := time.Since(t0)
		cancel()
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			break // cut short by the interrupt: neither a success nor a failure
		}
		t.requests++
		if err != nil {
			t.errs++
			t.samples.add(err.Error())
			live.errs.Add(1)
			continue
		}
		t.lat = append(t.lat, d)
		t.rows += int64(rows)
		live.ok.Add(1)
	}
	return t
}

// merge sums the clients' tallies into w's result.
func merge(w Workload, tallies []tally, elapsed time.Duration, interrupted bool) Result {
	res := Result{Workload: w.Name(), Kind: w.Kind, Level: w.Level, StoppedBy: StopRequests, ElapsedS: round3(elapsed.Seconds())}
	var lat []time.Duration
	var samples sampleSet
	for _, t := range tallies {
		res.Requests += t.requests
		res.Errors += t.errs
		res.Rows += t.rows
		lat = append(lat, t.lat...)
		for _, s := range t.samples.samples {
			samples.add(s)
		}
		if t.stop == StopDuration {
			res.StoppedBy = StopDuration
		}
	}
	if interrupted {
		res.StoppedBy = StopInterrupt
	}
	res.OK = len(lat)
	res.ErrorSamples = samples.samples
	if s := elapsed.Seconds(); s > 0 {
		res.OpsPerS = round3(float64(res.OK) / s)
		res.RowsPerS = round3(float64(res.Rows) / s)
	}
	res.LatencyMs = summarize(lat)
	return res
}
