package httpd

import (
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/store"
)

// Context keys for values the pre-routing middleware stores.
const (
	ctxParams = "rdb.params"
	ctxStart  = "rdb.start"
)

// params are a request's validated query parameters (API.md §0, §1.2).
// Boolean parameters are presence-based; only the first value of a
// repeated key counts.
type params struct {
	pretty, timings, transaction, associative, blobArray bool
	raftIndex, noParse, noRWRandom, noRWTime, redirect   bool
	queue, wait, noLeader, sync, nonVoters               bool
	freshnessStrict, qualifyColumns                      bool

	level store.Level
	// Durations are zero when absent.
	timeout, freshness, dbTimeout, linearizableTimeout time.Duration
	retries, trailingLogs                              int

	q    string
	hasQ bool
	key  string
	ver  string
}

// parseParams validates the raw query string before routing.
func parseParams(rawQuery string) (*params, error) {
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, ErrInvalidQuery
	}
	p := &params{}
	durations := []struct {
		key string
		dst *time.Duration
	}{
		{"timeout", &p.timeout}, {"freshness", &p.freshness},
		{"db_timeout", &p.dbTimeout}, {"linearizable_timeout", &p.linearizableTimeout},
	}
	for _, d := range durations {
		if !v.Has(d.key) {
			continue
		}
		if *d.dst, err = time.ParseDuration(v.Get(d.key)); err != nil {
			return nil, &paramError{d.key + " is not a valid duration"}
		}
	}
	ints := []struct {
		key string
		dst *int
	}{{"retries", &p.retries}, {"trailing_logs", &p.trailingLogs}}
	for _, i := range ints {
		if !v.Has(i.key) {
			continue
		}
		if *i.dst, err = strconv.Atoi(v.Get(i.key)); err != nil {
			return nil, &paramError{i.key + " is not a valid integer"}
		}
	}
	if v.Has("freshness_strict") && !v.Has("freshness") {
		return nil, &paramError{"freshness_strict requires freshness"}
	}
	if p.q, p.hasQ = v.Get("q"), v.Has("q"); p.hasQ && p.q == "" {
		return nil, &paramError{"query parameter not set"}
	}
	p.setFlags(v)
	p.level = store.ParseLevel(v.Get("level"))
	p.key, p.ver = v.Get("key"), v.Get("ver")
	return p, nil
}

func (p *params) setFlags(v url.Values) {
	flags := []struct {
		key string
		dst *bool
	}{
		{"pretty", &p.pretty}, {"timings", &p.timings}, {"transaction", &p.transaction},
		{"associative", &p.associative}, {"blob_array", &p.blobArray},
		{"raft_index", &p.raftIndex}, {"noparse", &p.noParse},
		{"norwrandom", &p.noRWRandom}, {"norwtime", &p.noRWTime},
		{"redirect", &p.redirect}, {"queue", &p.queue}, {"wait", &p.wait},
		{"noleader", &p.noLeader}, {"sync", &p.sync}, {"nonvoters", &p.nonVoters},
		{"freshness_strict", &p.freshnessStrict}, {"qualify_columns", &p.qualifyColumns},
	}
	for _, f := range flags {
		*f.dst = v.Has(f.key)
	}
}

// timeoutOr is ?timeout, or def when it is absent or not positive.
func (p *params) timeoutOr(def time.Duration) time.Duration {
	if p.timeout > 0 {
		return p.timeout
	}
	return def
}

// paramsOf returns the params the pre-routing middleware stored; a
// zero value if there are none (so handlers never see nil).
func paramsOf(c echo.Context) *params {
	if p, ok := c.Get(ctxParams).(*params); ok {
		return p
	}
	return &params{}
}
