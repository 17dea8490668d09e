package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/rdb/rdb/client"
)

// Shell is one session: a client, the output settings and the toggles.
type Shell struct {
	cfg    Config
	c      *client.Client
	stdout io.Writer // welcome, ERR! lines, prompts' companion text
	stderr io.Writer // progress of long transfers
	out    io.Writer // query results: stdout or the .output file
	file   *os.File  // the .output file, nil for stdout

	mode        string
	consistency client.Level
	timer       bool
	changes     bool
	forceWrites bool
	blobArray   bool

	color      bool // an interactive terminal: coloured headers, fitted tables
	progress   bool // stderr is a terminal
	failed     bool // some statement or command failed
	interrupts chan os.Signal
	tx         *client.Tx // the open interactive transaction (tx.go), nil if none
}

// Run runs a session and returns the process exit status: 1 when the node
// could not be reached, when Bail stopped the session at a failed
// statement or command, or in one-shot mode (Commands) when any of them
// failed; otherwise 0. As in rqlite's shell, input read from a pipe or a
// terminal prints each failure (`Error: …`, `ERR! …`) and goes on, and the
// session still exits 0: scripts piping statements in depend on that.
func Run(ctx context.Context, cfg Config, stdin io.Reader, stdout, stderr io.Writer) int {
	s, err := newShell(cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stdout, "ERR! %v\n", err)
		return 1
	}
	defer s.close()
	s.color = isTerminal(stdin) && isTerminal(stdout) // no colours for scripts
	version, err := s.c.Version(ctx)
	if err != nil {
		s.connectError(err)
		return 1
	}
	if len(cfg.Commands) > 0 {
		return s.runCommands(ctx)
	}
	if version == "" {
		version = "unknown"
	}
	term := isTerminal(stdin) && isTerminal(stdout)
	fmt.Fprintf(stdout, "Welcome to the rdb shell (rqlite CLI compatible).\nEnter \".help\" for usage hints.\n")
	fmt.Fprintf(stdout, "Connected to %s running version %s\n", s.c.URL(), version)
	var r lineReader
	if term {
		r = newTermReader(s, cfg.HistoryFile)
		// Ctrl-C while a statement runs cancels it instead of killing
		// the shell (while editing, liner reads Ctrl-C as a key).
		s.interrupts = make(chan os.Signal, 1)
		signal.Notify(s.interrupts, os.Interrupt)
		defer signal.Stop(s.interrupts)
	} else {
		r = newPipeReader(stdin)
	}
	s.loop(ctx, r)
	r.Close()
	s.rollbackTx() // .quit or end of input inside a transaction
	fmt.Fprintln(stdout, "bye~")
	if s.failed && cfg.Bail {
		return 1
	}
	return 0
}

func newShell(cfg Config, stdout, stderr io.Writer) (*Shell, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Shell{cfg: cfg, stdout: stdout, stderr: stderr, out: stdout,
		mode: "column", consistency: client.LevelWeak, progress: isTerminal(stderr)}
	cc := cfg.Client
	cc.OnFailover = func(from, to string, err error) {
		fmt.Fprintf(s.stdout, "ERR! %s is unreachable (%s); trying %s\n", from, client.Explain(err), to)
	}
	c, err := client.New(cc)
	if err != nil {
		return nil, err
	}
	s.c = c
	return s, nil
}

func (s *Shell) close() {
	s.rollbackTx()
	if s.file != nil {
		s.file.Close()
	}
	s.c.Close()
}

// connectError explains why the first contact failed.
func (s *Shell) connectError(err error) {
	var unreachable *client.UnreachableError
	if errors.As(err, &unreachable) {
		msg := fmt.Sprintf("ERR! Unable to connect to rqlited at %s - is it running?", strings.Join(unreachable.URLs, ", "))
		if !errors.Is(err, syscall.ECONNREFUSED) {
			msg += " (" + client.Explain(unreachable.Err) + ")"
		}
		fmt.Fprintln(s.stdout, msg)
		return
	}
	s.errorf(err)
}

// runCommands is one-shot mode, rdb's own: a failure makes the exit
// status 1 even without Bail, so `rdb shell .ready` can be a probe.
func (s *Shell) runCommands(ctx context.Context) int {
	for _, cmd := range s.cfg.Commands {
		err := s.dispatch(ctx, strings.TrimSpace(cmd))
		if errors.Is(err, errQuit) || (s.failed && s.cfg.Bail) {
			break
		}
	}
	if s.failed {
		return 1
	}
	return 0
}

// loop reads input until EOF or a quit command. SQL accumulates over lines
// until it ends with `;` (or a dot-command or EOF comes); dot-commands are
// single lines.
func (s *Shell) loop(ctx context.Context, r lineReader) {
	var pending strings.Builder
	// flush runs the pending input and reports whether to stop.
	flush := func() bool {
		stmt := strings.TrimSpace(pending.String())
		pending.Reset()
		if stmt == "" {
			return false
		}
		r.AddHistory(strings.Join(strings.Fields(stmt), " "))
		err := s.dispatch(ctx, stmt)
		return errors.Is(err, errQuit) || (s.failed && s.cfg.Bail)
	}
	for {
		line, err := r.ReadLine(s.prompt(pending.Len() > 0))
		switch {
		case errors.Is(err, errInterrupted):
			pending.Reset()
			s.rollbackTx()
			continue
		case errors.Is(err, io.EOF):
			flush()
			return
		case err != nil:
			s.failed = true
			s.errorf(fmt.Errorf("read input: %w", err))
			return
		}
		trimmed := strings.TrimSpace(line)
		if pending.Len() == 0 && trimmed == "" {
			continue
		}
		if isCommand(trimmed) {
			// A command ends any unterminated statement before it.
			if flush() {
				return
			}
			pending.WriteString(trimmed)
			if flush() {
				return
			}
			continue
		}
		pending.WriteString(line)
		pending.WriteByte('\n')
		if (s.cfg.LineMode || statementComplete(pending.String())) && flush() {
			return
		}
	}
}

// isCommand is true for a dot-command or a bare quit/exit.
func isCommand(line string) bool {
	l := strings.ToLower(strings.TrimSuffix(line, ";"))
	return strings.HasPrefix(line, ".") || l == "quit" || l == "exit"
}

func (s *Shell) prompt(continuation bool) string {
	host := s.c.Host()
	if s.tx != nil {
		host += " (tx)"
	}
	if continuation {
		return strings.Repeat(" ", max(0, len(host)-3)) + "...> "
	}
	return host + "> "
}

// dispatch runs one dot-command or SQL statement, recording failure.
func (s *Shell) dispatch(ctx context.Context, input string) error {
	ctx, cancel := s.interruptible(ctx)
	defer cancel()
	if isCommand(input) {
		err := s.command(ctx, input)
		if err != nil && !errors.Is(err, errQuit) {
			s.failed = true
			s.errorf(err)
		}
		return err
	}
	if !s.execute(ctx, input) {
		s.failed = true
	}
	return nil
}

// errorf prints an ERR! line, in words for the common failures.
func (s *Shell) errorf(err error) {
	msg := err.Error()
	switch {
	case errors.Is(err, context.Canceled):
		msg = "interrupted"
	case errors.Is(err, client.ErrUnauthorized) && s.cfg.Client.User == "":
		msg = "unauthorized (HTTP 401): the node requires a user and password; give them with -u user:pass"
	case errors.Is(err, client.ErrUnauthorized):
		msg = "unauthorized (HTTP 401): check the user and password given with -u user:pass, " +
			"and that this user has the permission for the operation"
	}
	fmt.Fprintf(s.stdout, "ERR! %s\n", msg)
}

// interruptible returns a context that Ctrl-C (SIGINT) cancels, when the
// shell runs on a terminal.
func (s *Shell) interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if s.interrupts == nil {
		return ctx, cancel
	}
	for len(s.interrupts) > 0 { // drop a stale signal
		<-s.interrupts
	}
	go func() {
		select {
		case <-s.interrupts:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}
