package db

import (
	"context"
	"fmt"
	"strings"
)

// SQL text helpers for protocols that take SQL one statement at a time
// (the Hrana endpoints), sharing the tokenizer of the apply path.

// SplitStatements splits sql into its statements the way SQLite's parser
// consumes them (a CREATE TRIGGER body stays whole), each with its
// semicolon; pieces holding only whitespace, comments and semicolons are
// dropped.
func SplitStatements(sql string) []string { return splitStatements(sql) }

// LeadingWords returns up to n leading keywords or identifiers of sql,
// upper-cased, skipping whitespace and comments; it stops at the first
// other token (a semicolon, a string, punctuation).
func LeadingWords(sql string, n int) []string {
	var out []string
	for i := 0; i < len(sql) && len(out) < n; {
		kind, l := scanToken(sql[i:])
		switch kind {
		case tkSpace, tkComment:
		case tkIdent:
			out = append(out, strings.ToUpper(sql[i:i+l]))
		default:
			return out
		}
		i += l
	}
	return out
}

// Description is what Describe finds out about one statement without
// running it.
type Description struct {
	// Params names each parameter slot in order ("" for a bare ?).
	Params []string
	// Columns and DeclTypes describe the result columns (DeclTypes ""
	// when not a table column).
	Columns   []string
	DeclTypes []string
	IsExplain bool
	ReadOnly  bool
}

// Describe prepares sql (one statement) on a read connection and reports
// its parameters, result columns and whether it only reads.
func (d *DB) Describe(ctx context.Context, sql string) (Description, error) {
	if err := d.begin(); err != nil {
		return Description{}, err
	}
	defer d.swap.RUnlock()
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return Description{}, fmt.Errorf("read connection: %w", err)
	}
	defer conn.Close()
	var desc Description
	err = conn.Raw(func(driverConn any) error {
		ci, ok := driverConn.(columnInfoer)
		if !ok {
			return fmt.Errorf("describe: connection %T cannot prepare", driverConn)
		}
		info, err := ci.ColumnInfo(sql)
		if err != nil {
			return err
		}
		for _, c := range info {
			desc.Columns = append(desc.Columns, c.Name)
			desc.DeclTypes = append(desc.DeclTypes, c.DeclType)
		}
		return nil
	})
	if err != nil {
		return Description{}, wrapText(ctx, err, queryTimeoutText)
	}
	cl, err := d.states.classify(conn, sql)
	if err != nil {
		return Description{}, err
	}
	desc.ReadOnly = !cl.write
	desc.IsExplain = leadingKeyword(sql) == "EXPLAIN"
	desc.Params = paramNames(sql)
	return desc, nil
}

// paramNames lists the parameter slots of sql as SQLite numbers them: a
// bare ? takes the next slot, ?NNN slot NNN, and a named parameter the
// next slot the first time its name appears.
func paramNames(sql string) []string {
	var slots []string
	seen := map[string]bool{}
	for _, t := range tokenize(sql) {
		if t.kind != tkParam {
			continue
		}
		switch {
		case t.text == "?":
			slots = append(slots, "")
		case t.text[0] == '?':
			var n int
			if _, err := fmt.Sscan(t.text[1:], &n); err == nil && n > 0 && n <= 32766 {
				for len(slots) < n {
					slots = append(slots, "")
				}
				slots[n-1] = t.text
			}
		case !seen[t.text]:
			seen[t.text] = true
			slots = append(slots, t.text)
		}
	}
	return slots
}
