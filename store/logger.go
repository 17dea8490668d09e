package store

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// hcLogger adapts slog to the hclog.Logger raft wants, dropping messages
// below the configured -raft-log-level.
type hcLogger struct {
	logger *slog.Logger
	name   string
	level  hclog.Level
	args   []any
}

var _ hclog.Logger = (*hcLogger)(nil)

func newHCLogger(logger *slog.Logger, level hclog.Level) *hcLogger {
	return &hcLogger{logger: logger, level: level}
}

func (l *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off || level < l.level {
		return
	}
	sl := toSlogLevel(level)
	ctx := context.Background()
	if !l.logger.Enabled(ctx, sl) {
		return
	}
	attrs := make([]any, 0, len(l.args)+len(args)+2)
	if l.name != "" {
		attrs = append(attrs, "logger", l.name)
	}
	attrs = append(attrs, l.args...)
	for _, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			a = fmt.Sprintf(fmt.Sprint(f[0]), f[1:]...)
		}
		attrs = append(attrs, a)
	}
	l.logger.Log(ctx, sl, msg, attrs...)
}

func toSlogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Info:
		return slog.LevelInfo
	case hclog.Warn:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (l *hcLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *hcLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *hcLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *hcLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *hcLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *hcLogger) IsTrace() bool { return l.level <= hclog.Trace }
func (l *hcLogger) IsDebug() bool { return l.level <= hclog.Debug }
func (l *hcLogger) IsInfo() bool  { return l.level <= hclog.Info }
func (l *hcLogger) IsWarn() bool  { return l.level <= hclog.Warn }
func (l *hcLogger) IsError() bool { return l.level <= hclog.Error }

func (l *hcLogger) ImpliedArgs() []any { return l.args }
func (l *hcLogger) Name() string       { return l.name }

func (l *hcLogger) With(args ...any) hclog.Logger {
	c := *l
	c.args = append(append([]any(nil), l.args...), args...)
	return &c
}

func (l *hcLogger) Named(name string) hclog.Logger {
	if l.name != "" {
		name = l.name + "." + name
	}
	return l.ResetNamed(name)
}

func (l *hcLogger) ResetNamed(name string) hclog.Logger {
	c := *l
	c.name = name
	return &c
}

// SetLevel is a no-op: the level is fixed by Config.RaftLogLevel.
func (l *hcLogger) SetLevel(hclog.Level) {}

func (l *hcLogger) GetLevel() hclog.Level { return l.level }

func (l *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return &stdWriter{l: l, level: level}
}

// stdWriter logs each write (one line from a *log.Logger) at a fixed level.
type stdWriter struct {
	l     *hcLogger
	level hclog.Level
}

func (w *stdWriter) Write(p []byte) (int, error) {
	w.l.Log(w.level, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
