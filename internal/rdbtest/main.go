package rdbtest

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// StartMainNode starts a node of bin with extra flags for a whole test
// binary: TestMain has no testing.T, so failures come back as an error.
// dir holds the node's data; stop ends the node.
func StartMainNode(bin, dir string, extra ...string) (n *Node, stop func(), err error) {
	t := &mainT{dir: dir}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(mainFatal); !ok {
				panic(r)
			}
			t.cleanup()
			n, stop, err = nil, nil, errors.New(t.msg)
		}
	}()
	n = StartNode(t, bin, extra...)
	return n, t.cleanup, nil
}

// mainT is the part of testing.TB a Node uses, outside a test: Fatalf
// panics with mainFatal, which StartMainNode recovers; logs go to stderr.
type mainT struct {
	testing.TB
	dir      string
	msg      string
	cleanups []func()
}

type mainFatal struct{}

func (t *mainT) Helper()                           {}
func (t *mainT) TempDir() string                   { return t.dir }
func (t *mainT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *mainT) Failed() bool                      { return t.msg != "" }
func (t *mainT) Logf(format string, args ...any)   { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (t *mainT) Errorf(format string, args ...any) { t.msg = fmt.Sprintf(format, args...) }
func (t *mainT) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	panic(mainFatal{})
}

func (t *mainT) Fatal(args ...any) {
	t.msg = fmt.Sprint(args...)
	panic(mainFatal{})
}

func (t *mainT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}
