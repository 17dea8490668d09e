package system_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestHrana_BankUnderFaults is Acceptance 3 of issue 11: concurrent
// interactive-transaction transfers through every node (libsql-client-go)
// while the leader is killed with SIGKILL and a follower is cut off. The
// follower is cut off by SIGSTOP (a frozen process: no messages in or
// out), not a network partition: the fault proxy of issue 12 was not
// available to this test. Checks: the total never changes in any read
// (inside transactions and on every node's local reads), every
// acknowledged transfer is present exactly once, and every account's
// balance equals what the transfer log says (no transaction partly
// applied).
func TestHrana_BankUnderFaults(t *testing.T) {
	const (
		accounts = 5
		initial  = 100
		total    = accounts * initial
		workers  = 4
	)
	nodes, leader, _ := hranaCluster(t, append(fastRaft, "-tx-busy-timeout", "2s", "-tx-idle-timeout", "3s")...)
	setup := libsqlDB(t, leader)
	ctx := context.Background()
	if _, err := setup.ExecContext(ctx, "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.ExecContext(ctx, "CREATE TABLE xfer (tid TEXT NOT NULL, src INTEGER, dst INTEGER, amt INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= accounts; i++ {
		if _, err := setup.ExecContext(ctx, "INSERT INTO acct VALUES (?, ?)", i, initial); err != nil {
			t.Fatal(err)
		}
	}

	for _, n := range nodes {
		waitCount(t, n, "acct", accounts, readyTimeout)
	}
	var (
		stop      atomic.Bool
		mu        sync.Mutex
		acked     []string
		badReads  []string
		attempts  atomic.Int64
		wg        sync.WaitGroup
		transfers atomic.Int64
	)
	bad := func(format string, args ...any) {
		mu.Lock()
		badReads = append(badReads, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for w := 0; w < workers; w++ {
		d := libsqlDB(t, nodes[w%len(nodes)])
		d.SetConnMaxIdleTime(time.Second)
		wg.Add(1)
		go func(w int, d *sql.DB) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for n := 0; !stop.Load() && n < 100000; n++ {
				tid := fmt.Sprintf("w%d-%d", w, n)
				src, dst := 1+r.IntN(accounts), 1+r.IntN(accounts)
				if src == dst {
					continue
				}
				attempts.Add(1)
				err := transfer(d, tid, src, dst, 1+r.IntN(20), func(sum int64) {
					if sum != total {
						bad("worker %d: total %d inside a transaction", w, sum)
					}
				})
				if err == nil {
					transfers.Add(1)
					mu.Lock()
					acked = append(acked, tid)
					mu.Unlock()
				} else {
					time.Sleep(50 * time.Millisecond) // back off from a failing node (bounded by the loop)
				}
			}
		}(w, d)
	}
	wg.Add(1)
	go func() { // local reads on every running node
		defer wg.Done()
		for i := 0; !stop.Load() && i < 100000; i++ {
			for _, n := range nodes {
				if !n.Running() {
					continue
				}
				v, err := queryValues(n, "SELECT SUM(bal) FROM acct", "none")
				if err == nil && fmt.Sprint(v) != fmt.Sprintf("[[%d]]", total) {
					bad("node %s read total %v", n.ID(), v)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	waitMin := func(n int64, what string) {
		waitFor(t, 60*time.Second, what, func() bool { return transfers.Load() >= n })
	}
	waitMin(20, "20 transfers before the faults")
	// Freeze a follower (cut off), then SIGKILL the leader.
	leader = waitLeader(t, nodes, readyTimeout)
	frozen := others(nodes, leader)[0]
	if err := syscall.Kill(frozen.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozenUntil := transfers.Load() + 10
	leader.Kill()
	// The remaining voter cannot elect alone: thaw the follower once the
	// two live nodes could not form a majority for a while, so the cluster
	// goes through a period with the leader dead and a follower cut off.
	time.Sleep(2 * time.Second) // the fault window itself (no condition to wait for)
	if err := syscall.Kill(frozen.Pid(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitMin(frozenUntil, "10 transfers with the old leader dead")
	leader.Start()
	leader.WaitReady(readyTimeout)
	waitMin(transfers.Load()+20, "20 transfers after the old leader restarted")
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for _, b := range badReads {
		t.Error(b)
	}
	t.Logf("%d transfers acknowledged of %d attempted", len(acked), attempts.Load())
	newLeader := waitLeader(t, nodes, readyTimeout)
	final, err := queryValues(newLeader, "SELECT COUNT(*) FROM xfer", "strong")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		waitUntil(t, readyTimeout, "node "+n.ID()+" to catch up", func() (bool, string) {
			v, err := queryValues(n, "SELECT COUNT(*) FROM xfer", "none")
			return err == nil && fmt.Sprint(v) == fmt.Sprint(final), fmt.Sprint(v, err)
		})
		// Balances agree with the transfer log and the total holds.
		v, err := queryValues(n, `SELECT a.id, a.bal, `+fmt.Sprint(initial)+
			` - COALESCE((SELECT SUM(amt) FROM xfer WHERE src = a.id), 0) + COALESCE((SELECT SUM(amt) FROM xfer WHERE dst = a.id), 0) FROM acct a ORDER BY a.id`, "none")
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, row := range v {
			if row[1] != row[2] {
				t.Errorf("node %s account %v: balance %v, transfer log says %v (a transaction applied in part)", n.ID(), row[0], row[1], row[2])
			}
			sum += row[1].(float64)
		}
		if sum != total {
			t.Errorf("node %s: total %v, want %d", n.ID(), sum, total)
		}
		dups, err := queryValues(n, "SELECT tid, COUNT(*) FROM xfer GROUP BY tid HAVING COUNT(*) > 1", "none")
		if err != nil || len(dups) != 0 {
			t.Errorf("node %s: transfers applied twice: %v %v", n.ID(), dups, err)
		}
	}
	rows, err := queryValues(newLeader, "SELECT tid FROM xfer", "strong")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[r[0].(string)] = true
	}
	for _, tid := range acked {
		if !have[tid] {
			t.Errorf("acknowledged transfer %s is missing", tid)
		}
	}
}

// transfer moves amt from src to dst in one interactive transaction and
// logs it as tid; check sees the total read inside the transaction.
func transfer(d *sql.DB, tid string, src, dst, amt int, check func(int64)) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var sum int64
	if err := tx.QueryRowContext(ctx, "SELECT SUM(bal) FROM acct").Scan(&sum); err != nil {
		return err
	}
	check(sum)
	var bal int64
	if err := tx.QueryRowContext(ctx, "SELECT bal FROM acct WHERE id = ?", src).Scan(&bal); err != nil {
		return err
	}
	if bal < int64(amt) {
		amt = int(bal)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE acct SET bal = bal - ? WHERE id = ?", amt, src); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE acct SET bal = bal + ? WHERE id = ?", amt, dst); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO xfer VALUES (?, ?, ?, ?)", tid, src, dst, amt); err != nil {
		return err
	}
	return tx.Commit()
}
