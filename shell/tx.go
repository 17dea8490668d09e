package shell

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdb/rdb/client"
)

// An interactive transaction in the shell: BEGIN opens a client.Tx (a
// Hrana stream held by the leader), the following statements run in it,
// and COMMIT/END or ROLLBACK end it. The prompt shows "(tx)" meanwhile;
// Ctrl-C at the prompt, .quit or the end of input roll it back.

// txVerb classifies a statement for the shell's transaction handling:
// "BEGIN", "COMMIT" (also END), "ROLLBACK" (not ROLLBACK TO), or "".
func txVerb(sql string) string {
	body := strings.TrimRight(strings.TrimSpace(sql), "; \t\n")
	words := strings.Fields(strings.ToUpper(body))
	if len(words) == 0 || strings.Contains(body, ";") {
		return "" // several statements: not a bare transaction command
	}
	switch words[0] {
	case "BEGIN":
		return "BEGIN"
	case "COMMIT", "END":
		return "COMMIT"
	case "ROLLBACK":
		if len(words) > 1 && (words[1] == "TO" || len(words) > 2 && words[2] == "TO") {
			return ""
		}
		return "ROLLBACK"
	}
	return ""
}

// executeTx handles sql when it starts, runs in or ends a transaction;
// handled is false when it is an ordinary statement outside one.
func (s *Shell) executeTx(ctx context.Context, sql string) (ok, handled bool) {
	verb := txVerb(sql)
	if s.tx == nil {
		if verb != "BEGIN" {
			return false, false
		}
		tx, err := s.c.Begin(ctx)
		if err != nil {
			s.errorf(err)
			return false, true
		}
		s.tx = tx
		return true, true
	}
	switch verb {
	case "BEGIN":
		fmt.Fprintln(s.out, "Error: cannot start a transaction within a transaction")
		return false, true
	case "COMMIT", "ROLLBACK":
		tx := s.tx
		s.tx = nil
		var err error
		if verb == "COMMIT" {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			s.errorf(err)
			return false, true
		}
		return true, true
	}
	res, err := s.tx.Execute(ctx, client.SQL(sql))
	if err != nil {
		s.tx = nil
		s.errorf(fmt.Errorf("the transaction was lost (rolled back): %w", err))
		return false, true
	}
	ok = true
	for _, r := range res {
		if !s.printResult(r) {
			ok = false
		}
	}
	return ok, true
}

// rollbackTx abandons an open transaction (Ctrl-C, .quit, end of input).
func (s *Shell) rollbackTx() {
	if s.tx == nil {
		return
	}
	tx := s.tx
	s.tx = nil
	if err := tx.Rollback(context.Background()); err != nil {
		s.errorf(fmt.Errorf("rollback: %w", err))
		return
	}
	fmt.Fprintln(s.stdout, "transaction rolled back")
}
