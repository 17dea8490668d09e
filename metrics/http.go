package metrics

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// methods are the HTTP methods counted under their own name; any other
// is counted as "other", so a client cannot create series at will.
var methods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "other"}

const otherMethod = len(methods) - 1

// codes are the status codes whose counters an endpoint resolves once
// and keeps; a request with another code takes the slower labelled
// lookup.
var codes = [...]int{200, 201, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405,
	408, 409, 413, 415, 429, 431, 500, 501, 502, 503, 504}

// codeSlot maps a status code to its index in codes, -1 if absent.
var codeSlot = func() (t [600]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range codes {
		t[c] = int8(i)
	}
	return t
}()

// Endpoint observes the requests of one API endpoint (the HTTP service
// asks for one per route, plus one for requests matching none). Its
// Observe is a few atomic operations once a method and code have been
// seen.
type Endpoint struct {
	name string
	r    *Registry
	reqs [len(methods)][len(codes)]atomic.Pointer[prometheus.Counter]
	time [len(methods)]atomic.Pointer[prometheus.Observer]
}

// Endpoint returns the observer of the endpoint called name (a route
// path such as "/db/execute").
func (r *Registry) Endpoint(name string) *Endpoint {
	return &Endpoint{name: name, r: r}
}

// Observe records one request: its method, the status code sent and how
// long it took.
func (e *Endpoint) Observe(method string, code int, d time.Duration) {
	m := methodIndex(method)
	e.observer(m).Observe(d.Seconds())
	if code >= 0 && code < len(codeSlot) && codeSlot[code] >= 0 {
		e.counter(m, int(codeSlot[code])).Inc()
		return
	}
	e.r.httpReqs.WithLabelValues(e.name, methods[m], strconv.Itoa(code)).Inc()
}

// counter resolves a child once; concurrent first calls resolve the same
// child (WithLabelValues is idempotent), so the race is harmless.
func (e *Endpoint) counter(m, c int) prometheus.Counter {
	if p := e.reqs[m][c].Load(); p != nil {
		return *p
	}
	ctr := e.r.httpReqs.WithLabelValues(e.name, methods[m], strconv.Itoa(codes[c]))
	e.reqs[m][c].Store(&ctr)
	return ctr
}

func (e *Endpoint) observer(m int) prometheus.Observer {
	if p := e.time[m].Load(); p != nil {
		return *p
	}
	o := e.r.httpTime.WithLabelValues(e.name, methods[m])
	e.time[m].Store(&o)
	return o
}

func methodIndex(method string) int {
	for i, m := range methods[:otherMethod] {
		if m == method {
			return i
		}
	}
	return otherMethod
}
