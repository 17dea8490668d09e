package shell

import (
	"fmt"
	"io"
	"time"
)

// progress reports bytes moved and the rate on a terminal's stderr while a
// .backup, .restore or .boot runs; it is silent when stderr is not a
// terminal.
type progress struct {
	w       io.Writer // nil when silent
	label   string
	start   time.Time
	last    time.Time
	n       int64
	printed bool
}

func (s *Shell) newProgress(label string) *progress {
	p := &progress{label: label, start: time.Now()}
	if s.progress {
		p.w = s.stderr
	}
	return p
}

// Write counts bytes (used with io.MultiWriter).
func (p *progress) Write(b []byte) (int, error) {
	p.add(len(b))
	return len(b), nil
}

func (p *progress) add(n int) {
	p.n += int64(n)
	if p.w == nil || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.print()
}

func (p *progress) print() {
	secs := time.Since(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.n) / secs
	}
	fmt.Fprintf(p.w, "\r%s: %s (%s/s)   ", p.label, humanBytes(float64(p.n)), humanBytes(rate))
	p.printed = true
}

// done prints the final count and ends the progress line.
func (p *progress) done(ok bool) {
	if p.w == nil || !p.printed && !ok {
		return
	}
	p.print()
	fmt.Fprintln(p.w)
}

// reader counts bytes read from r; Seek passes through so the client can
// rewind the body for a retry.
func (p *progress) reader(r io.ReadSeeker) io.ReadSeeker { return &progressReader{r: r, p: p} }

type progressReader struct {
	r io.ReadSeeker
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.add(n)
	return n, err
}

func (pr *progressReader) Seek(off int64, whence int) (int64, error) {
	pos, err := pr.r.Seek(off, whence)
	if err == nil && pos == 0 {
		pr.p.n = 0
	}
	return pos, err
}

func humanBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", n, units[i])
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
