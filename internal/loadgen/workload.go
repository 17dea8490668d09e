package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
)

// payloadLen is the length of the text column of every row written.
const payloadLen = 32

// preloadChunk is the number of rows preloaded per request.
const preloadChunk = 100_000

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// op is one request of a workload; it returns the rows it wrote or read.
// Each client calls its op with its own rng.
type op func(ctx context.Context, rng *rand.Rand) (rows int, err error)

// ops builds request bodies for one table and sends them through a client.
type ops struct {
	c     *client
	table string
	batch int
	rows  int
	ratio float64
	seq   atomic.Int64 // v of the next row written
}

// forWorkload returns the op that w's clients repeat.
func (o *ops) forWorkload(w Workload) op {
	switch w.Kind {
	case KindBulk:
		return o.bulk
	case KindRead:
		return o.reader(w.Level)
	case KindMixed:
		read := o.reader(w.Level)
		return func(ctx context.Context, rng *rand.Rand) (int, error) {
			if rng.Float64() < o.ratio {
				return read(ctx, rng)
			}
			return o.write(ctx, rng)
		}
	}
	return o.write
}

// write INSERTs one row.
func (o *ops) write(ctx context.Context, rng *rand.Rand) (int, error) {
	_, err := o.c.post(ctx, "/db/execute", o.insertBody(rng, 1))
	if err != nil {
		return 0, err
	}
	return 1, nil
}

// bulk INSERTs o.batch rows in one request, one statement each.
func (o *ops) bulk(ctx context.Context, rng *rand.Rand) (int, error) {
	r, err := o.c.post(ctx, "/db/execute", o.insertBody(rng, o.batch))
	if err != nil {
		return 0, err
	}
	if len(r.Results) != o.batch {
		return 0, fmt.Errorf("%d results for %d statements", len(r.Results), o.batch)
	}
	return o.batch, nil
}

// reader returns an op that SELECTs one preloaded row by primary key at
// level; a missing row is an error.
func (o *ops) reader(level string) op {
	path := "/db/query?level=" + level
	return func(ctx context.Context, rng *rand.Rand) (int, error) {
		id := 1 + rng.IntN(o.rows)
		r, err := o.c.post(ctx, path, o.selectBody(id))
		if err != nil {
			return 0, err
		}
		if len(r.Results) != 1 || len(r.Results[0].Values) != 1 {
			return 0, fmt.Errorf("row %d not found", id)
		}
		return 1, nil
	}
}

// insertBody is [["INSERT INTO t(v, s) VALUES(?, ?)", v, "payload"], ...]
// with n statements. Payloads are alphanumeric, so need no escaping.
func (o *ops) insertBody(rng *rand.Rand, n int) []byte {
	stmt := `["INSERT INTO ` + o.table + `(v, s) VALUES(?, ?)", `
	b := make([]byte, 0, 2+n*(len(stmt)+payloadLen+24))
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, stmt...)
		b = strconv.AppendInt(b, o.seq.Add(1), 10)
		b = append(b, `, "`...)
		for range payloadLen {
			b = append(b, alnum[rng.IntN(len(alnum))])
		}
		b = append(b, `"]`...)
	}
	return append(b, ']')
}

func (o *ops) selectBody(id int) []byte {
	return []byte(`[["SELECT id, v, s FROM ` + o.table + ` WHERE id = ?", ` + strconv.Itoa(id) + `]]`)
}

// createSQL makes the table every workload uses.
func createSQL(table string) string {
	return "CREATE TABLE IF NOT EXISTS " + table + " (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)"
}

// preloadSQL fills ids lo to hi (inclusive) that are not there yet, in one
// statement run by SQLite (deterministic, so fit for the Raft log).
func preloadSQL(table string, lo, hi int) string {
	return fmt.Sprintf("WITH RECURSIVE c(x) AS (SELECT %d UNION ALL SELECT x+1 FROM c WHERE x < %d) "+
		"INSERT OR IGNORE INTO %s(id, v, s) SELECT x, x, printf('%%032d', x) FROM c", lo, hi, table)
}

// countSQL counts the preloaded rows present.
func countSQL(table string, rows int) string {
	return fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE id BETWEEN 1 AND %d", table, rows)
}
