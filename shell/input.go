package shell

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/peterh/liner"
)

// lineReader is where input lines come from: a terminal with line editing,
// or a pipe.
type lineReader interface {
	// ReadLine returns the next line without its newline; io.EOF at the
	// end, errInterrupted on Ctrl-C.
	ReadLine(prompt string) (string, error)
	// AddHistory records an entered statement or command.
	AddHistory(entry string)
	Close() error
}

// pipeReader reads lines with no prompt and no history.
type pipeReader struct{ sc *bufio.Scanner }

func newPipeReader(r io.Reader) *pipeReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64<<20) // long INSERTs in scripts
	return &pipeReader{sc: sc}
}

func (p *pipeReader) ReadLine(string) (string, error) {
	if p.sc.Scan() {
		return strings.TrimSuffix(p.sc.Text(), "\r"), nil
	}
	if err := p.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (p *pipeReader) AddHistory(string) {}
func (p *pipeReader) Close() error      { return nil }

// termReader edits lines on a terminal with liner: arrows, Ctrl-A/E/W/R,
// history kept in a file, tab completion.
type termReader struct {
	l       *liner.State
	history string
}

func newTermReader(s *Shell, historyFile string) *termReader {
	l := liner.NewLiner()
	l.SetCtrlCAborts(true)
	l.SetTabCompletionStyle(liner.TabPrints)
	l.SetWordCompleter(s.complete)
	t := &termReader{l: l, history: historyFile}
	if historyFile != "" {
		if f, err := os.Open(historyFile); err == nil {
			l.ReadHistory(f)
			f.Close()
		}
	}
	return t
}

func (t *termReader) ReadLine(prompt string) (string, error) {
	line, err := t.l.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errInterrupted
	}
	return line, err
}

func (t *termReader) AddHistory(entry string) { t.l.AppendHistory(entry) }

// Close saves the history and gives the terminal back.
func (t *termReader) Close() error {
	if t.history != "" {
		if f, err := os.OpenFile(t.history, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
			t.l.WriteHistory(f)
			f.Close()
		} else {
			slog.Debug("shell: history not saved", "file", t.history, "err", err)
		}
	}
	return t.l.Close()
}

// statementComplete is true when the SQL ends with a `;` outside quotes,
// identifiers and comments.
func statementComplete(sql string) bool {
	var quote byte
	last := byte(0)
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case quote == '-': // line comment
			if c == '\n' {
				quote = 0
			}
			continue
		case quote == '*': // block comment
			if c == '*' && i+1 < len(sql) && sql[i+1] == '/' {
				quote, i = 0, i+1
			}
			continue
		case quote != 0:
			if c == quote {
				quote = 0
			}
			continue
		}
		switch {
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '[':
			quote = ']'
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			quote = '-'
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			quote, i = '*', i+1
			continue
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			last = c
		}
	}
	return quote == 0 && last == ';' || quote == '-' && last == ';'
}
