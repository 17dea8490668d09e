package shell

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// scriptReader feeds lines to the loop, running a hook before a line, and
// records the prompts it was given.
type scriptReader struct {
	steps   []scriptStep
	prompts []string
}

type scriptStep struct {
	before func()
	line   string
}

func (r *scriptReader) ReadLine(prompt string) (string, error) {
	r.prompts = append(r.prompts, prompt)
	if len(r.prompts) > len(r.steps) {
		return "", io.EOF
	}
	st := r.steps[len(r.prompts)-1]
	if st.before != nil {
		st.before()
	}
	return st.line, nil
}

func (r *scriptReader) AddHistory(string) {}
func (r *scriptReader) Close() error      { return nil }

func TestShell_Failover(t *testing.T) {
	n1 := startNode(t, "")
	n2 := startNode(t, n1.RaftAddr)
	n3 := startNode(t, n1.RaftAddr)
	var out bytes.Buffer
	s, err := newShell(testConfig(n2.HTTPAddr, n3.HTTPAddr, n1.HTTPAddr), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	r := &scriptReader{steps: []scriptStep{
		{line: "CREATE TABLE f (x);"},
		{before: n2.Stop, line: "INSERT INTO f VALUES(1);"},
		{line: "SELECT COUNT(*) FROM f;"},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.loop(ctx, r)

	want := "ERR! http://" + n2.HTTPAddr + " is unreachable (connection refused (is the node running?)); trying http://" + n3.HTTPAddr + "\n"
	if got := out.String(); !strings.Contains(got, want) || !strings.Contains(got, "| 1        |") || s.failed {
		t.Errorf("output\n%s\nwant the fail-over line %q, the insert and a count of 1 (failed=%v)", got, want, s.failed)
	}
	if got, want := r.prompts[1], n2.HTTPAddr+"> "; got != want {
		t.Errorf("prompt before the stop = %q, want %q", got, want)
	}
	if got, want := r.prompts[2], n3.HTTPAddr+"> "; got != want {
		t.Errorf("prompt after fail-over = %q, want %q", got, want)
	}
}
