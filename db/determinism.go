package db

import (
	crand "crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// nowLayout renders 'now' as SQLite's own clock would see it: millisecond
// precision, UTC, with a trailing Z so the 'utc' modifier stays a no-op.
const nowLayout = "2006-01-02 15:04:05.000Z"

// maxBlobLen is SQLite's default SQLITE_MAX_LENGTH.
const maxBlobLen = 1_000_000_000

// pcgIncrement is the fixed second word of the PCG seed; only Env.Seed
// varies between entries.
const pcgIncrement = 0x9e3779b97f4a7c15

// funcEnv is what the write connection's overriding functions read while
// an entry is applied. Apply resets it under the write lock before running
// any statement, and the functions run synchronously inside those
// statements, so it needs no lock of its own.
type funcEnv struct {
	pcg      *rand.PCG
	rng      *rand.Rand
	realRand bool   // Request.NoRandom: crypto/rand
	fixedNow bool   // Env.Now is used (else the wall clock per statement)
	now      string // 'now' as nowLayout text
	helper   *timeHelper
}

func newFuncEnv(h *timeHelper) *funcEnv {
	pcg := rand.NewPCG(0, pcgIncrement)
	return &funcEnv{pcg: pcg, rng: rand.New(pcg), helper: h}
}

// reset prepares for one entry: the PRNG restarts from env.Seed, so the
// same entry draws the same values on every node.
func (f *funcEnv) reset(env Env, req *Request) {
	f.pcg.Seed(env.Seed, pcgIncrement)
	f.realRand = req.NoRandom
	f.fixedNow = !req.NoTime && !env.Now.IsZero()
	if f.fixedNow {
		f.now = env.Now.UTC().Format(nowLayout)
	}
}

// beginStatement refreshes the wall-clock 'now' when the entry carries
// none (SQLite too keeps 'now' fixed within a statement).
func (f *funcEnv) beginStatement() {
	if !f.fixedNow {
		f.now = time.Now().UTC().Format(nowLayout)
	}
}

// random overrides random(): a signed 64-bit value.
func (f *funcEnv) random(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	if f.realRand {
		var b [8]byte
		if _, err := crand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("random: %w", err)
		}
		return int64(binary.LittleEndian.Uint64(b[:])), nil
	}
	return int64(f.rng.Uint64()), nil
}

// randomblob overrides randomblob(N): N random bytes, at least one.
func (f *funcEnv) randomblob(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	n := valueInt64(args[0])
	if n < 1 {
		n = 1
	}
	if n > maxBlobLen {
		return nil, errors.New("string or blob too big")
	}
	b := make([]byte, n)
	if f.realRand {
		if _, err := crand.Read(b); err != nil {
			return nil, fmt.Errorf("randomblob: %w", err)
		}
		return b, nil
	}
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], f.rng.Uint64())
		copy(b[i:], w[:])
	}
	return b, nil
}

// timeFunc describes one overridden date/time function: which built-in
// computes it and which arguments are time values that may say 'now'.
type timeFunc struct {
	name    string // the SQL name overridden
	builtin string // the built-in evaluated on the helper
	nArgs   int32  // -1: variadic
	now     func(args []any, now string) []any
}

var timeFuncs = []timeFunc{
	{"date", "date", -1, nowFirst},
	{"time", "time", -1, nowFirst},
	{"datetime", "datetime", -1, nowFirst},
	{"julianday", "julianday", -1, nowFirst},
	{"unixepoch", "unixepoch", -1, nowFirst},
	{"strftime", "strftime", -1, nowSecond},
	{"timediff", "timediff", -1, nowBoth},
	{"current_timestamp", "datetime", 0, nowOnly},
	{"current_date", "date", 0, nowOnly},
	{"current_time", "time", 0, nowOnly},
}

// isNow matches a time value the way SQLite does: the text 'now', any case.
func isNow(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.EqualFold(x, "now")
	case []byte:
		return strings.EqualFold(string(x), "now")
	}
	return false
}

// nowFirst: date(T, …), no argument meaning 'now'.
func nowFirst(args []any, now string) []any {
	if len(args) == 0 {
		return []any{now}
	}
	if isNow(args[0]) {
		args[0] = now
	}
	return args
}

// nowSecond: strftime(F, T, …), a missing T meaning 'now'.
func nowSecond(args []any, now string) []any {
	switch {
	case len(args) == 1:
		return append(args, now)
	case len(args) > 1 && isNow(args[1]):
		args[1] = now
	}
	return args
}

// nowBoth: timediff(A, B).
func nowBoth(args []any, now string) []any {
	for i := 0; i < len(args) && i < 2; i++ {
		if isNow(args[i]) {
			args[i] = now
		}
	}
	return args
}

// nowOnly: CURRENT_TIMESTAMP and friends.
func nowOnly(_ []any, now string) []any { return []any{now} }

// scalar returns the override for tf.
func (f *funcEnv) scalar(tf timeFunc) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		in := make([]any, len(args))
		for i, a := range args {
			in[i] = a
		}
		return f.helper.eval(tf.builtin, tf.now(in, f.now))
	}
}

// registerOverrides puts the deterministic functions on drv, the driver of
// the write connection only.
func registerOverrides(drv *sqlite.Driver, f *funcEnv) error {
	impls := map[string]*sqlite.FunctionImpl{
		"random":     {NArgs: 0, Scalar: f.random},
		"randomblob": {NArgs: 1, Scalar: f.randomblob},
	}
	for _, tf := range timeFuncs {
		impls[tf.name] = &sqlite.FunctionImpl{NArgs: tf.nArgs, Deterministic: true, Scalar: f.scalar(tf)}
	}
	for name, impl := range impls {
		if err := drv.RegisterFunction(name, impl); err != nil {
			return fmt.Errorf("register %s(): %w", name, err)
		}
	}
	return nil
}

// valueInt64 reads an argument as sqlite3_value_int64 would (roughly).
func valueInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		switch {
		case math.IsNaN(x):
			return 0
		case x >= math.MaxInt64:
			return math.MaxInt64
		case x <= math.MinInt64:
			return math.MinInt64
		}
		return int64(x)
	case string:
		return leadingInt(x)
	case []byte:
		return leadingInt(string(x))
	}
	return 0
}

// leadingInt parses the integer prefix of s ("12abc" is 12), 0 if none.
func leadingInt(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\r")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	end += spanWhile(s[end:], isDigit)
	n, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return n // clamped to the int64 range
		}
		return 0
	}
	return n
}

// timeHelper evaluates SQLite's real date/time built-ins on a private
// in-memory connection of a driver with no registrations.
type timeHelper struct {
	mu    sync.Mutex
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

// maxCachedArgs bounds which call shapes keep a prepared statement.
const maxCachedArgs = 8

func newTimeHelper() (*timeHelper, error) {
	db := sql.OpenDB(connector{drv: &sqlite.Driver{}, dsn: ":memory:"})
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open date/time helper: %w", err)
	}
	return &timeHelper{db: db, stmts: map[string]*sql.Stmt{}}, nil
}

// eval returns builtin(args…) as SQLite computes it.
func (h *timeHelper) eval(builtin string, args []any) (driver.Value, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	q := "SELECT " + builtin + "(" + strings.TrimSuffix(strings.Repeat("?,", len(args)), ",") + ")"
	st, ok := h.stmts[q]
	if !ok {
		var err error
		if st, err = h.db.Prepare(q); err != nil {
			return nil, errors.New(errorText(err, ""))
		}
		if len(args) <= maxCachedArgs {
			h.stmts[q] = st
		} else {
			defer st.Close()
		}
	}
	var v any
	if err := st.QueryRow(args...).Scan(&v); err != nil {
		return nil, errors.New(errorText(err, ""))
	}
	return v, nil
}

func (h *timeHelper) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for q, st := range h.stmts {
		st.Close()
		delete(h.stmts, q)
	}
	return h.db.Close()
}
