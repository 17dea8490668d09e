package shell

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptySession is `rdb shell` running on a pseudo-terminal.
type ptySession struct {
	t    *testing.T
	tty  *os.File
	cmd  *exec.Cmd
	out  syncBuffer
	mark int // output before mark has been consumed by expect
	done chan struct{}
}

func startPTYShell(t *testing.T, n *node, home string) *ptySession {
	t.Helper()
	if ptmx, tty, err := pty.Open(); err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	} else {
		ptmx.Close()
		tty.Close()
	}
	host, port, _ := strings.Cut(n.HTTPAddr, ":")
	cmd := exec.Command(rdbBin, "shell", "-H", host, "-p", port)
	cmd.Env = append(os.Environ(), "HOME="+home, "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatalf("start shell on a pty: %v", err)
	}
	s := &ptySession{t: t, tty: tty, cmd: cmd, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			s.out.Write(buf[:n])
			if err != nil {
				close(s.done)
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		tty.Close()
		if t.Failed() {
			t.Logf("terminal output:\n%q", s.out.String())
		}
	})
	s.expect(n.HTTPAddr + "> ")
	return s
}

// send types keys.
func (s *ptySession) send(keys string) {
	s.t.Helper()
	if _, err := s.tty.WriteString(keys); err != nil {
		s.t.Fatalf("type %q: %v", keys, err)
	}
}

// expect waits until want appears in output not consumed yet, and returns
// the output up to and including it.
func (s *ptySession) expect(want string) string {
	s.t.Helper()
	var got string
	waitFor(s.t, 10*time.Second, "terminal output "+want, func() bool {
		all := s.out.String()
		i := strings.Index(all[s.mark:], want)
		if i < 0 {
			return false
		}
		got = all[s.mark : s.mark+i+len(want)]
		s.mark += i + len(want)
		return true
	})
	return got
}

const (
	keyLeft  = "\x1b[D"
	keyUp    = "\x1b[A"
	keyHome  = "\x01" // Ctrl-A
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
)

func TestShell_PTY(t *testing.T) {
	n := startNode(t, "")
	home := t.TempDir()
	s := startPTYShell(t, n, home)
	prompt := n.HTTPAddr + "> "
	steps := []struct {
		name   string
		keys   string
		expect []string
		reject string // must not appear in the output of this step
	}{
		{"create", "CREATE TABLE pt (x);\r", []string{"row affected", prompt}, ""},
		{"cursor movement", "SELECT 12;" + keyLeft + keyLeft + "3\r", []string{"| 132 |", prompt}, ""},
		{"home key", "ELECT 5;" + keyHome + "S\r", []string{"| 5 |", prompt}, ""},
		{"multi-line", "SELECT\r", []string{"...> "}, ""},
		{"multi-line end", "77;\r", []string{"| 77 |", prompt}, ""},
		{"ctrl-c abandons line", "SELECT 'abandoned'" + keyCtrlC + "SELECT 88;\r", []string{"| 88 |", prompt}, "| abandoned |"},
		{"ctrl-c abandons statement", "SELECT\r" + keyCtrlC + "SELECT 89;\r", []string{"| 89 |", prompt}, "Error"},
		{"complete command", ".tab\t\r", []string{"| pt ", prompt}, ""},
		{"complete table", "SELECT COUNT(*) FROM p\t;\r", []string{"| 0        |", prompt}, "Error"},
		{"history entry", "SELECT 4242;\r", []string{"| 4242 |", prompt}, ""},
		{"ctrl-d leaves", keyCtrlD, []string{"bye~"}, ""},
	}
	for _, st := range steps {
		s.send(st.keys)
		var got string
		for _, e := range st.expect {
			got += s.expect(e)
		}
		if st.reject != "" && strings.Contains(got, st.reject) {
			t.Errorf("%s: output contains %q:\n%q", st.name, st.reject, got)
		}
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("shell did not exit after Ctrl-D")
	}

	// A second session recalls the first one's history with the up arrow.
	s2 := startPTYShell(t, n, home)
	s2.send(keyUp + "\r")
	s2.expect("| 4242 |")
	s2.send(".quit\r")
	s2.expect("bye~")
}
