package loadgen

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// counters are updated by the clients and read by the progress line.
type counters struct {
	ok, errs atomic.Int64
}

// progress rewrites one line on w with \r every interval until stopped,
// then blanks it so that what follows starts on a clean line.
type progress struct {
	w        io.Writer
	name     string
	interval time.Duration
	c        *counters
	stop     chan struct{}
	done     chan struct{}
}

// startProgress starts the line; the returned func stops and blanks it.
// With a nil w it does nothing.
func startProgress(w io.Writer, interval time.Duration, name string, c *counters) func() {
	if w == nil {
		return func() {}
	}
	p := &progress{w: w, name: name, interval: interval, c: c, stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return func() {
		close(p.stop)
		<-p.done
	}
}

// loop runs until stop is closed.
func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	start, last, lastOK, width := time.Now(), time.Now(), int64(0), 0
	for {
		select {
		case <-p.stop:
			if width > 0 {
				fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", width))
			}
			return
		case now := <-t.C:
			ok := p.c.ok.Load()
			rate := float64(ok-lastOK) / now.Sub(last).Seconds()
			line := fmt.Sprintf("%s  %.1fs  %d ok  %d errors  %.0f ops/s",
				p.name, now.Sub(start).Seconds(), ok, p.c.errs.Load(), rate)
			fmt.Fprintf(p.w, "\r%-*s", width, line)
			width = max(width, len(line))
			last, lastOK = now, ok
		}
	}
}
