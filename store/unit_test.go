package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

func TestConfig_Validate(t *testing.T) {
	valid := DefaultConfig()
	valid.Dir, valid.NodeID = "/data", "n1"
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr bool
	}{
		{"defaults with dir and id", func(*Config) {}, false},
		{"no dir", func(c *Config) { c.Dir = "" }, true},
		{"no node id", func(c *Config) { c.NodeID = "" }, true},
		{"zero threshold", func(c *Config) { c.SnapshotThreshold = 0 }, true},
		{"zero heartbeat", func(c *Config) { c.HeartbeatTimeout = 0 }, true},
		{"negative apply timeout", func(c *Config) { c.ApplyTimeout = -1 }, true},
		{"lease above heartbeat", func(c *Config) { c.LeaderLeaseTimeout = 2 * time.Second }, true},
		{"lease equal heartbeat", func(c *Config) { c.LeaderLeaseTimeout = time.Second }, false},
		{"bad log level", func(c *Config) { c.RaftLogLevel = "LOUD" }, true},
		{"lower-case log level", func(c *Config) { c.RaftLogLevel = "debug" }, false},
		{"zero WAL size disables", func(c *Config) { c.SnapshotWALSize = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.mod(&c)
			err := c.Validate()
			if got := err != nil; got != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestRaftConfig_LeaseCappedByHeartbeat(t *testing.T) {
	c := DefaultConfig()
	c.Dir, c.NodeID = t.TempDir(), "n1"
	c.HeartbeatTimeout = 50 * time.Millisecond
	_, tn := raft.NewInmemTransport("")
	s, err := New(c, tn)
	if err != nil {
		t.Fatal(err)
	}
	rc := s.raftConfig()
	if got, want := rc.LeaderLeaseTimeout, 50*time.Millisecond; got != want {
		t.Fatalf("LeaderLeaseTimeout = %s, want %s", got, want)
	}
	if err := raft.ValidateConfig(rc); err != nil {
		t.Fatalf("raft rejects the config: %v", err)
	}
}

func TestHCLogger(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))
	l := newHCLogger(base, hclog.Warn).Named("raft").With("k", "v")
	tests := []struct {
		name    string
		log     func()
		want    []string
		wantOut bool
	}{
		{"below level dropped", func() { l.Info("quiet") }, nil, false},
		{"at level kept", func() { l.Warn("loud", "a", 1) }, []string{"level=WARN", "msg=loud", "logger=raft", "k=v", "a=1"}, true},
		{"error kept", func() { l.Error("bad") }, []string{"level=ERROR", "msg=bad"}, true},
		{"format arg", func() { l.Warn("fmt", "servers", hclog.Fmt("%d-%s", 3, "x")) }, []string{"servers=3-x"}, true},
		{"standard logger", func() { l.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}).Print("std") }, []string{"level=ERROR", "msg=std"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			tt.log()
			got := buf.String()
			if (got != "") != tt.wantOut {
				t.Fatalf("output %q, want output %v", got, tt.wantOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output %q lacks %q", got, w)
				}
			}
		})
	}
	if !l.IsWarn() || l.IsInfo() {
		t.Errorf("IsWarn/IsInfo = %v/%v, want true/false", l.IsWarn(), l.IsInfo())
	}
}

func TestIsStale(t *testing.T) {
	now := time.Now()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	applied := appliedState{AppliedAt: ago(time.Second), AppendedAt: ago(5 * time.Second)} // took 4s to apply
	tests := []struct {
		name        string
		lastContact time.Time
		st          appliedState
		caughtUp    bool
		freshness   time.Duration
		strict      bool
		want        bool
	}{
		{"recent contact", ago(time.Second), applied, false, 2 * time.Second, false, false},
		{"old contact", ago(3 * time.Second), applied, true, 2 * time.Second, false, true},
		{"never contacted", time.Time{}, applied, true, time.Hour, false, true},
		{"strict, lagging entry, behind", ago(time.Second), applied, false, 2 * time.Second, true, true},
		{"strict, lagging entry, caught up", ago(time.Second), applied, true, 2 * time.Second, true, false},
		{"strict, nothing applied yet", ago(time.Second), appliedState{}, false, 2 * time.Second, true, false},
		{"strict, quick entry, behind", ago(time.Second), applied, false, 5 * time.Second, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := isStale(now, tt.lastContact, tt.st, tt.caughtUp, tt.freshness, tt.strict)
			if got != tt.want {
				t.Fatalf("isStale = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRaftError(t *testing.T) {
	other := errors.New("disk on fire")
	tests := []struct {
		name string
		in   error
		want error
	}{
		{"nil", nil, nil},
		{"not leader", raft.ErrNotLeader, ErrNotLeader},
		{"leadership lost", raft.ErrLeadershipLost, ErrLeadershipLost},
		{"transfer in progress", raft.ErrLeadershipTransferInProgress, ErrNotLeader},
		{"transfer", raft.ErrLeadershipTransferInProgress, ErrNotLeader},
		{"enqueue timeout", raft.ErrEnqueueTimeout, ErrEnqueueTimeout},
		{"shutdown", raft.ErrRaftShutdown, ErrNotOpen},
		{"nothing new", raft.ErrNothingNewToSnapshot, ErrNothingNewToSnapshot},
		{"wrapped not leader", fmt.Errorf("x: %w", raft.ErrNotLeader), ErrNotLeader},
		{"other", other, other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := raftError(tt.in)
			if !errors.Is(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Fatalf("raftError(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want Level
	}{
		{"", LevelWeak}, {"bogus", LevelWeak}, {"weak", LevelWeak}, {"NONE", LevelNone},
		{"Linearizable", LevelLinearizable}, {"strong", LevelStrong}, {"auto", LevelAuto},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ParseLevel(tt.in); got != tt.want {
				t.Fatalf("ParseLevel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
