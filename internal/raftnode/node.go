package raftnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// Errors of Apply that are not the state machine's.
var (
	// ErrNotLeader: this node does not lead; the command was not
	// committed. It wraps ErrNotCommitted.
	ErrNotLeader = fmt.Errorf("%w: this server does not lead", fsm.ErrNotCommitted)
	// ErrNotCommitted and ErrOutcomeUnknown are fsm's (see there).
	ErrNotCommitted   = fsm.ErrNotCommitted
	ErrOutcomeUnknown = fsm.ErrOutcomeUnknown
)

// Config configures a Node. Zero values take the defaults in the comments.
type Config struct {
	// DataDir holds raft.db and snapshots/. Required.
	DataDir string
	// NodeID identifies this server; default "berth-1".
	NodeID string
	// SnapshotThreshold is how many log entries trigger a snapshot; default 8192.
	SnapshotThreshold uint64
	// SnapshotInterval is how often raft checks whether to snapshot; default 30s.
	SnapshotInterval time.Duration
	// TrailingLogs is how many entries a snapshot leaves in the log; default 1024.
	TrailingLogs uint64
	// StartTimeout bounds the wait for leadership in Open; default 30s.
	StartTimeout time.Duration
	// Metrics, when set, receives the node's metrics (see metrics.go).
	Metrics prometheus.Registerer
}

// Node is a running raft server with its state machine.
type Node struct {
	raft    *raft.Raft
	machine *fsm.Machine
	store   *raftboltdb.BoltStore
	log     *slog.Logger
	lead    *leadership
	stop    chan struct{}
	watched chan struct{} // closed when the leadership watcher ends
	metrics *metrics
}

// Open starts (or restarts) the node in cfg.DataDir and waits until it leads
// with the whole log applied.
func Open(ctx context.Context, cfg Config, machine *fsm.Machine, log *slog.Logger) (*Node, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("raftnode: data dir is required")
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "berth-1"
	}
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = 8192
	}
	if cfg.SnapshotInterval == 0 {
		cfg.SnapshotInterval = 30 * time.Second
	}
	if cfg.TrailingLogs == 0 {
		cfg.TrailingLogs = 1024
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	dir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create raft dir: %w", err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(dir, "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: 2 * time.Second},
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open raft log: %s is in use by another berth process", cfg.DataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("open raft log: %w", err)
	}
	if err := checkLog(store); err != nil {
		store.Close()
		return nil, err
	}
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: &slogWriter{log: log}})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hlog)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("open snapshot store: %w", err)
	}
	if err := checkSnapshot(snaps); err != nil {
		store.Close()
		return nil, err
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hlog
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	// Group commit: let raft take up to MaxAppendEntries queued commands per
	// append (one fsync).
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 512
	// One voter: elections are instant, so start fast.
	rc.HeartbeatTimeout = 200 * time.Millisecond
	rc.ElectionTimeout = 200 * time.Millisecond
	rc.LeaderLeaseTimeout = 100 * time.Millisecond
	notify := make(chan bool, 16)
	rc.NotifyCh = notify

	addr, transport := raft.NewInmemTransport(raft.ServerAddress(cfg.NodeID))
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("inspect raft state: %w", err)
	}
	if !existing {
		boot := raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: addr, Suffrage: raft.Voter}}}
		if err := raft.BootstrapCluster(rc, store, store, snaps, transport, boot); err != nil {
			store.Close()
			return nil, fmt.Errorf("bootstrap raft: %w", err)
		}
	}
	r, err := raft.NewRaft(rc, &fsmAdapter{m: machine}, store, store, snaps, transport)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n := &Node{raft: r, machine: machine, store: store, log: log, lead: newLeadership(),
		stop: make(chan struct{}), watched: make(chan struct{}), metrics: newMetrics()}
	go n.watchLeadership(notify)
	if err := n.waitReady(ctx, cfg.StartTimeout); err != nil {
		n.Close()
		return nil, err
	}
	if cfg.Metrics != nil {
		if err := n.metrics.register(cfg.Metrics, n); err != nil {
			n.Close()
			return nil, fmt.Errorf("register raft metrics: %w", err)
		}
	}
	return n, nil
}

func (n *Node) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for n.raft.State() != raft.Leader {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for raft leadership: %w", ctx.Err())
		case <-t.C:
		}
	}
	// A barrier commits after every earlier entry is applied: the state is whole.
	if err := n.raft.Barrier(timeout).Error(); err != nil {
		return fmt.Errorf("apply raft log: %w", err)
	}
	return nil
}

// Apply proposes c and returns the state machine's result once it is
// committed and applied. A rule the command broke comes back as the error.
func (n *Node) Apply(ctx context.Context, c wire.Command) (any, error) {
	data, err := wire.Encode(c)
	if err != nil {
		return nil, err
	}
	enqueue := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		enqueue = time.Until(dl)
	}
	start := time.Now()
	f := n.raft.Apply(data, enqueue)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return nil, applyError(err)
		}
		n.metrics.apply.Observe(time.Since(start).Seconds())
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
	}
	res, ok := f.Response().(fsm.Result)
	if !ok {
		return nil, fmt.Errorf("raft apply: unexpected response %T", f.Response())
	}
	return res.Value, res.Err
}

// applyError classifies a raft apply failure: never appended (safe to
// retry) or appended without a confirmed commit.
func applyError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", ErrNotCommitted, err)
	}
	// ErrLeadershipLost, ErrRaftShutdown, ErrAbortedByRestore: the entry
	// may have been appended, and a later leader may still commit it.
	return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
}

// Barrier returns once every entry committed before it is applied.
func (n *Node) Barrier(ctx context.Context) error {
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	done := make(chan error, 1)
	f := n.raft.Barrier(timeout)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("raft barrier: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("raft barrier: %w", ctx.Err())
	}
}

// IsLeader reports whether this node leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Snapshot takes a snapshot now and compacts the log.
func (n *Node) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return fmt.Errorf("raft snapshot: %w", err)
	}
	return nil
}

// AppliedIndex is the index of the last log entry applied to the state.
func (n *Node) AppliedIndex() uint64 { return n.raft.AppliedIndex() }

// LastIndex is the index of the last entry in the log (stored or in a
// snapshot), committed or not.
func (n *Node) LastIndex() uint64 { return n.raft.LastIndex() }

// Stats returns raft's counters (indexes, terms, state) for diagnostics.
func (n *Node) Stats() map[string]string { return n.raft.Stats() }

// Close stops raft and closes the log store. It does not snapshot.
func (n *Node) Close() error {
	err := n.raft.Shutdown().Error()
	close(n.stop)
	<-n.watched
	n.lead.set(false, time.Now())
	if cerr := n.store.Close(); err == nil {
		err = cerr
	}
	return err
}

type fsmAdapter struct{ m *fsm.Machine }

// Apply applies one committed entry. An entry this server cannot apply
// panics in the machine (see fsm.Machine.Apply): checkLog refuses such a log
// at start, so this only happens when a newer server leads this one.
func (a *fsmAdapter) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	return a.m.Apply(l.Index, l.Data)
}

// Snapshot captures the state as of the last applied entry. raft calls it
// between applies and then persists in the background while applies go on;
// the captured view is immutable, so it stays at that index.
func (a *fsmAdapter) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{snap: a.m.Snapshot()}, nil
}

func (a *fsmAdapter) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return a.m.Restore(rc)
}

type fsmSnapshot struct{ snap *state.Snapshot }

// Persist writes the captured view to the sink.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := fsm.Persist(s.snap, sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

// slogWriter forwards raft's log lines to slog.
type slogWriter struct{ log *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	switch {
	case strings.Contains(line, "[ERROR]"):
		w.log.Error(line, "component", "raft")
	default:
		// raft warns on every single-node election; keep it out of the way.
		w.log.Debug(line, "component", "raft")
	}
	return len(p), nil
}
