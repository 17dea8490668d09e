package cdc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rdb/rdb/db"
)

// Cluster is the node as CDC needs it; safe for concurrent use.
type Cluster interface {
	// IsLeader reports whether this node leads now.
	IsLeader() bool
	// OtherVoters lists the Raft addresses of the other voting members.
	OtherVoters() ([]string, error)
}

// Dialer opens a connection to another node's CDC listener (the
// inter-node mux with the CDC header; internal/mux.Dialer).
type Dialer interface {
	DialContext(ctx context.Context, address string) (net.Conn, error)
}

// leaderPoll is how often the service checks for leadership changes.
const leaderPoll = 100 * time.Millisecond

// hwmTimeout bounds one high-water mark message.
const hwmTimeout = 2 * time.Second

// Service captures, queues and (on the leader) transmits row changes.
type Service struct {
	cfg     *Config
	nodeID  string
	dir     string
	fifo    *fifo
	sink    sink
	cluster Cluster
	ln      net.Listener
	dialer  Dialer
	logger  *slog.Logger

	hwm      atomic.Uint64 // highest index known delivered
	pruned   atomic.Uint64 // the queue holds nothing at or below this
	isLeader atomic.Bool
	wake     chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New opens the queue in <dataDir>/cdc. ln receives high-water marks
// from the leader; stdout is where the stdout sink writes. Capture may be
// called before Start.
func New(cfg *Config, nodeID, dataDir string, cl Cluster, ln net.Listener, dialer Dialer, stdout io.Writer, logger *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	stats()
	if logger == nil {
		logger = slog.Default()
	}
	sk, err := newSink(cfg, stdout)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, "cdc")
	f, err := openFIFO(dir)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, nodeID: nodeID, dir: dir, fifo: f, sink: sk, cluster: cl, ln: ln, dialer: dialer,
		logger: logger.With("component", "cdc"), wake: make(chan struct{}, 1)}
	first, _, highest, err := f.bounds()
	if err != nil {
		f.close()
		return nil, fmt.Errorf("cdc: read queue: %w", err)
	}
	// Everything still queued is sent again; with nothing queued,
	// everything ever queued was delivered.
	if first > 0 {
		s.hwm.Store(first - 1)
	} else {
		s.hwm.Store(highest)
	}
	return s, nil
}

// Capture queues the changes of applied entries (a db.ChangeSink). It
// runs on the apply goroutine before the entries' commit, so a crash
// replays them and nothing captured is lost; replays are ignored by the
// queue.
func (s *Service) Capture(entries []db.EntryChanges) {
	items := make([]queued, 0, len(entries))
	for _, e := range entries {
		b, ok, err := s.cfg.encodeEntry(e)
		if err != nil {
			s.logger.Error("encode changes; entry dropped", "index", e.Index, "error", err)
			continue
		}
		if ok {
			items = append(items, queued{index: e.Index, data: b})
		}
	}
	if len(items) == 0 {
		return
	}
	n, err := s.fifo.enqueue(items, s.hwm.Load())
	stats().Add(numEnqueued, int64(n))
	if err != nil {
		stats().Add(numEnqueueFailed, int64(len(items)-n))
		s.logger.Error("queue changes; entries dropped", "first", items[0].index, "last", items[len(items)-1].index, "error", err)
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start runs the transmitter, the high-water mark broadcast and
// listener, and the queue's periodic sync until Close.
func (s *Service) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, f := range []func(context.Context){s.transmitLoop, s.broadcastLoop, s.syncLoop} {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); f(ctx) }()
	}
	if s.ln != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.listen() }()
	}
	s.logger.Info("change data capture started", "sink", s.sink.String(), "dir", s.dir, "highwater_mark", s.hwm.Load())
}

// Close stops the service and closes the queue. Call it after the store
// has stopped applying entries.
func (s *Service) Close() error {
	var err error
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		if s.ln != nil {
			s.ln.Close()
		}
		s.wg.Wait()
		err = s.fifo.close()
	})
	return err
}

// transmitLoop sends queued batches in order while this node leads.
func (s *Service) transmitLoop(ctx context.Context) {
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	for ctx.Err() == nil {
		leader := s.cluster.IsLeader()
		if s.isLeader.Swap(leader) != leader {
			s.logger.Info("CDC leadership changed", "is_leader", leader, "highwater_mark", s.hwm.Load())
		}
		if !leader || !s.transmitOne(ctx) {
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-s.wake:
			}
		}
	}
}

// transmitOne sends the next batch, waiting up to max_batch_delay for it
// to fill, and reports whether it sent one.
func (s *Service) transmitOne(ctx context.Context) bool {
	batch, err := s.fifo.after(s.hwm.Load(), s.cfg.MaxBatchSize)
	if err != nil {
		s.logger.Error("read queue", "error", err)
		return false
	}
	if len(batch) == 0 {
		return false
	}
	if len(batch) < s.cfg.MaxBatchSize {
		deadline := time.NewTimer(s.cfg.MaxBatchDelay)
	fill:
		for len(batch) < s.cfg.MaxBatchSize {
			select {
			case <-ctx.Done():
				deadline.Stop()
				return false
			case <-deadline.C:
				break fill
			case <-s.wake:
				if batch, err = s.fifo.after(s.hwm.Load(), s.cfg.MaxBatchSize); err != nil {
					break fill
				}
			}
		}
		deadline.Stop()
		if batch, err = s.fifo.after(s.hwm.Load(), s.cfg.MaxBatchSize); err != nil || len(batch) == 0 {
			return false
		}
	}
	data := make([][]byte, len(batch))
	for i, q := range batch {
		data[i] = q.data
	}
	if !s.deliver(ctx, envelope(s.cfg.ServiceID, s.nodeID, data)) {
		return false
	}
	s.advance(batch[len(batch)-1].index)
	return true
}

// deliver sends body until the sink takes it, or the retries are used up
// (the batch is then dropped, as configured). It gives up without
// delivering when leadership is lost or ctx ends.
func (s *Service) deliver(ctx context.Context, body []byte) bool {
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.TransmitTimeout)
		err := s.sink.send(sctx, body)
		cancel()
		if err == nil {
			stats().Add(numBatchesSent, 1)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		stats().Add(numSendFailures, 1)
		if m := s.cfg.TransmitMaxRetries; m != nil && attempt >= *m {
			stats().Add(numBatchesDropped, 1)
			s.logger.Error("CDC batch dropped after its retries", "attempts", attempt, "error", err)
			return true
		}
		wait := s.cfg.backoff(attempt)
		s.logger.Warn("CDC transmit failed; retrying", "attempt", attempt, "in", wait, "error", err)
		if !s.sleepWhileLeader(ctx, wait) {
			return false
		}
	}
}

// sleepWhileLeader waits d and reports whether this node still leads.
func (s *Service) sleepWhileLeader(ctx context.Context, d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(min(leaderPoll, time.Until(end))):
		}
		if !s.cluster.IsLeader() {
			return false
		}
	}
	return true
}

// advance raises the high-water mark to index. The queue is pruned up
// to it once per high_watermark_interval (pruneToHWM), not per batch:
// reads start after the mark anyway, and a write transaction per batch
// would double the queue's cost.
func (s *Service) advance(index uint64) {
	for {
		cur := s.hwm.Load()
		if index <= cur || s.hwm.CompareAndSwap(cur, index) {
			return
		}
	}
}

// pruneToHWM deletes the queued elements at or below the high-water mark.
func (s *Service) pruneToHWM() {
	hwm := s.hwm.Load()
	if hwm == 0 || hwm <= s.pruned.Load() {
		return
	}
	if err := s.fifo.prune(hwm); err != nil {
		s.logger.Warn("prune queue", "error", err)
		return
	}
	s.pruned.Store(hwm)
}

// broadcastLoop sends the high-water mark to the other voters.
func (s *Service) broadcastLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.HighWatermarkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.pruneToHWM()
		hwm := s.hwm.Load()
		if hwm == 0 || !s.cluster.IsLeader() {
			continue
		}
		addrs, err := s.cluster.OtherVoters()
		if err != nil {
			continue
		}
		var wg sync.WaitGroup
		for _, a := range addrs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.sendHWM(ctx, a, hwm); err != nil {
					s.logger.Debug("send high-water mark", "to", a, "error", err)
				}
			}()
		}
		wg.Wait()
	}
}

// sendHWM sends one high-water mark: 8 bytes big-endian, answered with
// one byte.
func (s *Service) sendHWM(ctx context.Context, addr string, hwm uint64) error {
	if s.dialer == nil {
		return errors.New("no dialer")
	}
	ctx, cancel := context.WithTimeout(ctx, hwmTimeout)
	defer cancel()
	conn, err := s.dialer.DialContext(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(hwmTimeout))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], hwm)
	if _, err := conn.Write(b[:]); err != nil {
		return err
	}
	var ack [1]byte
	_, err = io.ReadFull(conn, ack[:])
	return err
}

// listen receives high-water marks from the leader.
func (s *Service) listen() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.receiveHWM(conn)
	}
}

func (s *Service) receiveHWM(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(hwmTimeout))
	var b [8]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return
	}
	if !s.cluster.IsLeader() {
		s.advance(binary.BigEndian.Uint64(b[:]))
		s.pruneToHWM()
	}
	conn.Write([]byte{1})
}

// syncLoop flushes the queue to disk every second.
func (s *Service) syncLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.fifo.sync(); err != nil {
				s.logger.Warn("sync queue", "error", err)
			}
		}
	}
}

// Status is the /status section cdc.
func (s *Service) Status() map[string]any {
	// Undelivered elements: those above the high-water mark (delivered
	// ones wait for the next prune).
	length, err := s.fifo.countAfter(s.hwm.Load())
	fifo := map[string]any{"has_next": length > 0, "length": length}
	if err != nil {
		fifo["error"] = err.Error()
	}
	st := map[string]any{
		"node_id":        s.nodeID,
		"dir":            s.dir,
		"highwater_mark": s.hwm.Load(),
		"is_leader":      s.cluster.IsLeader(),
		"sink":           s.sink.String(),
		"fifo":           fifo,
	}
	if s.cfg.ServiceID != "" {
		st["service_id"] = s.cfg.ServiceID
	}
	return st
}
