//go:build unix

package shell

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalWidth is the column count of the terminal on f, 0 if unknown.
func terminalWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
