package shell

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
)

func TestProgress(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		want     string // regexp over stderr
	}{
		{"terminal", true, `\rrestore: 3\.0 KiB \([\d.]+ [KMG]?i?B/s\)   \n$`},
		{"not a terminal", false, `^$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			s := &Shell{stderr: &stderr, progress: tt.terminal}
			p := s.newProgress("restore")
			r := p.reader(strings.NewReader(strings.Repeat("x", 3072)))
			if _, err := io.Copy(io.Discard, r); err != nil {
				t.Fatal(err)
			}
			p.done(true)
			if got := stderr.String(); !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("progress output %q, want a match for %s", got, tt.want)
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    float64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {5 << 20, "5.0 MiB"}}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%v) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
