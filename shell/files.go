package shell

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rdb/rdb/client"
)

// sqliteHeader starts every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

func (s *Shell) cmdOutput(_ context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	if s.file != nil {
		s.file.Close()
		s.file, s.out = nil, s.stdout
	}
	if args[0] == "stdout" {
		return nil
	}
	f, err := os.Create(args[0])
	if err != nil {
		return fmt.Errorf("open output file: %w", err)
	}
	s.file, s.out = f, f
	return nil
}

func (s *Shell) cmdBackup(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	if err := s.backupTo(ctx, args[0], client.BackupOptions{}); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "backup file written successfully")
	return nil
}

func (s *Shell) cmdDump(ctx context.Context, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return errUsage
	}
	o := client.BackupOptions{Format: client.BackupSQL}
	if len(args) == 2 {
		o.Tables = strings.Split(args[1], ",")
	}
	if err := s.backupTo(ctx, args[0], o); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "SQL text file written successfully")
	return nil
}

// backupTo downloads into path, removing a partial file on failure.
func (s *Shell) backupTo(ctx context.Context, path string, o client.BackupOptions) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create backup file: %w", err)
	}
	p := s.newProgress("backup")
	_, err = s.c.Backup(ctx, io.MultiWriter(f, p), o)
	p.done(err == nil)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write backup file: %w", cerr)
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func (s *Shell) cmdRestore(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	body, isSQLite, err := s.restoreBody(ctx, args[0])
	if err != nil {
		return err
	}
	if f, ok := body.(*os.File); ok {
		defer f.Close()
	}
	p := s.newProgress("restore")
	resp, err := s.c.Load(ctx, p.reader(body))
	p.done(err == nil)
	if err != nil {
		return err
	}
	if err := resp.Err(); err != nil {
		return fmt.Errorf("restore failed: %w", err)
	}
	if !isSQLite && len(resp.Results) > 0 {
		fmt.Fprintf(s.out, "last inserted ID: %d\n", resp.Results[0].LastInsertID)
		fmt.Fprintf(s.out, "rows affected: %d\n", resp.Results[0].RowsAffected)
	}
	fmt.Fprintln(s.out, "Database restored successfully.")
	return nil
}

// restoreBody opens a SQLite file to stream it, or reads SQL text into
// memory to append the foreign-key pragma the node needs.
func (s *Shell) restoreBody(ctx context.Context, path string) (io.ReadSeeker, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("read restore file: %w", err)
	}
	head := make([]byte, len(sqliteHeader))
	n, _ := io.ReadFull(f, head)
	if string(head[:n]) == sqliteHeader {
		return f, true, nil
	}
	data, err := os.ReadFile(path)
	f.Close()
	if err != nil {
		return nil, false, fmt.Errorf("read restore file: %w", err)
	}
	if s.foreignKeysOn(ctx) {
		// A dump turns foreign keys off on the node's write connection;
		// switch them back on where the node runs with -fk.
		data = append(data, []byte("\nPRAGMA foreign_keys=ON;")...)
	}
	return bytes.NewReader(data), false, nil
}

// foreignKeysOn asks /status whether the node enforces foreign keys.
func (s *Shell) foreignKeysOn(ctx context.Context) bool {
	doc, err := s.c.Status(ctx, "store")
	if err != nil {
		return false
	}
	conf, _ := doc["db_conf"].(map[string]any)
	on, _ := conf["fk_constraints"].(bool)
	return on
}

func (s *Shell) cmdBoot(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("open boot file: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != sqliteHeader {
		return fmt.Errorf("%s is not a SQLite database file", args[0])
	}
	p := s.newProgress("boot")
	err = s.c.Boot(ctx, p.reader(f))
	p.done(err == nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(s.out, "Node booted successfully.")
	return nil
}

// cmdRead sends each non-blank line of a file that is not a `--` comment
// as one statement.
func (s *Shell) cmdRead(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("open %s: %w", args[0], err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		if !s.execute(ctx, line) {
			s.failed = true
			if s.cfg.Bail {
				return nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", args[0], err)
	}
	return nil
}

// sysdumpPaths are fetched from every node by .sysdump.
var sysdumpPaths = []string{"/status?pretty", "/nodes?pretty", "/readyz", "/debug/vars"}

func (s *Shell) cmdSysdump(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	urls := []string{s.c.URL()}
	if nodes, err := s.c.Nodes(ctx, true); err == nil && len(nodes) > 0 {
		urls = urls[:0]
		for _, n := range nodes {
			urls = append(urls, strings.TrimRight(n.APIAddr, "/"))
		}
	}
	prefix := strings.Trim(s.cfg.Client.Prefix, "/")
	if prefix != "" {
		prefix = "/" + prefix
	}
	var b bytes.Buffer
	for _, base := range urls {
		for _, p := range sysdumpPaths {
			u := base + prefix + p
			code, body, err := s.c.Fetch(ctx, u)
			if err != nil {
				fmt.Fprintf(&b, "=== GET %s: %v\n\n", u, err)
				continue
			}
			fmt.Fprintf(&b, "=== GET %s (HTTP %d)\n%s\n\n", u, code, body)
		}
	}
	if err := os.WriteFile(args[0], b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write sysdump: %w", err)
	}
	return nil
}
