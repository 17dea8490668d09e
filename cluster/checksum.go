package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// Counter names of divergence detection under the "cluster" expvar map.
const (
	numChecksumReq        = "num_checksum_req"
	numDivergenceRounds   = "divergence_rounds"
	numDivergenceMismatch = "divergence_mismatches"
	numDivergenceNoAnswer = "divergence_unanswered"
)

func init() {
	for _, k := range []string{numChecksumReq, numDivergenceRounds, numDivergenceMismatch, numDivergenceNoAnswer} {
		stats.Add(k, 0)
	}
}

// ChecksumLocal is the local store as divergence detection needs it;
// *store.Store implements it.
type ChecksumLocal interface {
	// MarkChecksum logs a checksum marker (leader only) and returns this
	// node's digest at it.
	MarkChecksum(ctx context.Context) (db.Checksum, error)
	// ChecksumAt waits for this node's digest at the marker at index.
	ChecksumAt(ctx context.Context, index uint64) (db.Checksum, error)
	LeaderID() string
	Servers() ([]store.Server, error)
}

// Checksum asks the node at addr for its digest at the checksum marker
// at index, waiting while ctx lasts for it to apply and digest it.
func (c *Client) Checksum(ctx context.Context, addr string, index uint64) (db.Checksum, error) {
	resp, err := c.call(ctx, addr, &rpcRequest{Op: opChecksum, ChecksumIndex: index})
	if err != nil {
		return db.Checksum{}, err
	}
	if resp.Checksum == nil {
		return db.Checksum{}, fmt.Errorf("checksum on %s: empty answer", addr)
	}
	return *resp.Checksum, nil
}

// checksumHandler is a Handler that can answer checksum calls.
type checksumHandler interface {
	Checksum(ctx context.Context, index uint64) (db.Checksum, error)
}

// checksum serves opChecksum. It needs no permission, like node meta: the
// caller is the leader's background check, which has no credentials, and
// a digest reveals nothing of the data.
func (s *Server) checksum(ctx context.Context, req *rpcRequest) (*rpcResponse, error) {
	h, ok := s.h.(checksumHandler)
	if !ok {
		return nil, fmt.Errorf("checksum: %w", ErrUnknownOp)
	}
	c, err := h.Checksum(ctx, req.ChecksumIndex)
	if err != nil {
		return nil, err
	}
	return &rpcResponse{Checksum: &c}, nil
}

// Checksum answers with the local digest at a checksum marker.
func (h handler) Checksum(ctx context.Context, index uint64) (db.Checksum, error) {
	l, ok := h.s.local.(ChecksumLocal)
	if !ok {
		return db.Checksum{}, fmt.Errorf("checksum: %w", ErrUnknownOp)
	}
	return l.ChecksumAt(ctx, index)
}

// VerifierConfig configures divergence detection.
type VerifierConfig struct {
	// NodeID is this node's ID: it checks only while it leads.
	NodeID string
	// Interval between rounds; 0 disables the periodic check.
	Interval time.Duration
	// Timeout bounds one round: the marker's commit, every digest (a
	// full read of the database on each node) and the answers.
	Timeout time.Duration
}

// DefaultVerifierConfig checks hourly, with a round bounded by 10 minutes.
func DefaultVerifierConfig() VerifierConfig {
	return VerifierConfig{Interval: time.Hour, Timeout: 10 * time.Minute}
}

// Validate checks c.
func (c VerifierConfig) Validate() error {
	if c.Interval < 0 || c.Timeout <= 0 {
		return fmt.Errorf("divergence check: interval %s must not be negative and timeout %s must be positive", c.Interval, c.Timeout)
	}
	return nil
}

// Mismatch is one replica found with another digest than the leader's at
// the same applied index.
type Mismatch struct {
	NodeID         string    `json:"node_id"`
	Index          uint64    `json:"index"`
	LeaderChecksum string    `json:"leader_checksum"`
	NodeChecksum   string    `json:"node_checksum"`
	Time           time.Time `json:"time"`
}

// Round is the outcome of one check: the marker index, the leader's
// digest and, per other node, "match", "mismatch" or why it did not
// answer.
type Round struct {
	Index    uint64            `json:"index"`
	Checksum string            `json:"checksum"`
	Rows     int64             `json:"rows"`
	Started  time.Time         `json:"started"`
	Duration string            `json:"duration"`
	Nodes    map[string]string `json:"nodes"`
	Error    string            `json:"error,omitempty"`
}

// Verifier is divergence detection: while this node leads it logs a
// checksum marker every Interval, so that every node digests its
// database at the same index (store/checksum.go), and compares the other
// nodes' digests with its own. A mismatch is logged at ERROR, counted
// (divergence_mismatches) and listed in Status.
type Verifier struct {
	cfg    VerifierConfig
	local  ChecksumLocal
	client *Client
	logger *slog.Logger

	mu         sync.Mutex
	rounds     int
	last       *Round
	mismatches []Mismatch
	mismatched int // every mismatch found
}

// keptMismatches bounds the mismatches Status lists.
const keptMismatches = 32

// NewVerifier returns a verifier for local, asking peers through client.
func NewVerifier(cfg VerifierConfig, local ChecksumLocal, client *Client, logger *slog.Logger) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if local == nil || client == nil {
		return nil, errors.New("verifier: nil local store or client")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Verifier{cfg: cfg, local: local, client: client, logger: logger.With("component", "divergence")}, nil
}

// Run checks every Interval while this node leads, until ctx ends.
func (v *Verifier) Run(ctx context.Context) {
	if v.cfg.Interval <= 0 {
		return
	}
	t := time.NewTicker(v.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if v.local.LeaderID() != v.cfg.NodeID {
			continue
		}
		if _, err := v.Check(ctx); err != nil {
			v.logger.Warn("divergence check incomplete", "error", err)
		}
	}
}

// Check runs one round now (leader only) and returns it.
func (v *Verifier) Check(ctx context.Context) (Round, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	r := Round{Started: time.Now(), Nodes: map[string]string{}}
	defer func() { v.record(r) }()
	mine, err := v.local.MarkChecksum(ctx)
	if err != nil {
		r.Error = err.Error()
		return r, fmt.Errorf("leader digest: %w", err)
	}
	r.Index, r.Checksum, r.Rows = mine.Index, mine.Sum, mine.Rows
	servers, err := v.local.Servers()
	if err != nil {
		r.Error = err.Error()
		return r, fmt.Errorf("read configuration: %w", err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, srv := range servers {
		if srv.ID == v.cfg.NodeID {
			continue
		}
		wg.Go(func() {
			verdict := v.compare(ctx, srv, mine)
			mu.Lock()
			r.Nodes[srv.ID] = verdict
			mu.Unlock()
		})
	}
	wg.Wait()
	r.Duration = time.Since(r.Started).String()
	return r, nil
}

// compare asks srv for its digest at mine's index and judges it.
func (v *Verifier) compare(ctx context.Context, srv store.Server, mine db.Checksum) string {
	theirs, err := v.client.Checksum(ctx, srv.Addr, mine.Index)
	switch {
	case err != nil:
		stats.Add(numDivergenceNoAnswer, 1)
		return "no answer: " + err.Error()
	case theirs.Index != mine.Index:
		stats.Add(numDivergenceNoAnswer, 1)
		return fmt.Sprintf("no answer: digest at index %d", theirs.Index)
	case theirs.Sum == mine.Sum:
		return "match"
	}
	m := Mismatch{NodeID: srv.ID, Index: mine.Index, LeaderChecksum: mine.Sum, NodeChecksum: theirs.Sum, Time: time.Now()}
	stats.Add(numDivergenceMismatch, 1)
	v.logger.Error("replica diverged: its database differs from the leader's at the same applied index",
		"node_id", m.NodeID, "index", m.Index, "leader_checksum", m.LeaderChecksum, "node_checksum", m.NodeChecksum,
		"leader_rows", mine.Rows, "node_rows", theirs.Rows)
	v.mu.Lock()
	v.mismatched++
	v.mismatches = append(v.mismatches, m)
	if len(v.mismatches) > keptMismatches {
		v.mismatches = v.mismatches[len(v.mismatches)-keptMismatches:]
	}
	v.mu.Unlock()
	return "mismatch"
}

func (v *Verifier) record(r Round) {
	stats.Add(numDivergenceRounds, 1)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rounds++
	v.last = &r
}

// Status is the "divergence" section of /status.
func (v *Verifier) Status() (map[string]any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return map[string]any{
		"interval":       v.cfg.Interval.String(),
		"rounds":         v.rounds,
		"last_round":     v.last,
		"mismatch_count": v.mismatched,
		"mismatches":     append([]Mismatch{}, v.mismatches...),
	}, nil
}
