package lbnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/nodestream"
)

// Engine serves traffic from a configuration (package lb).
type Engine interface {
	Apply(c *lbconfig.Config) error
	Health() []lbconfig.TargetHealth
	Changes() <-chan struct{}
	Serving(lbARN string) bool
}

// Config wires a node.
type Config struct {
	// Server is the berth server's endpoint URL.
	Server          string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// Node names this node in health reports (default: the host name).
	Node string
	// StateFile keeps the last applied configuration ("" keeps none).
	StateFile string
	Engine    Engine
	Log       *slog.Logger
	// HTTP is the client for the server (default: one without timeouts,
	// as the stream is long-lived).
	HTTP *http.Client
	// Heartbeat overrides lbconfig.HeartbeatInterval (tests).
	Heartbeat time.Duration
}

// Node is a running data-plane node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	applied chan *lbconfig.Config // to the reporter, after every apply
	current *lbconfig.Config      // owned by Run's goroutine
}

// New returns a node; Run runs it.
func New(cfg Config) *Node {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = lbconfig.HeartbeatInterval
	}
	if cfg.Node == "" {
		cfg.Node, _ = os.Hostname()
	}
	cfg.Server = strings.TrimRight(cfg.Server, "/")
	return &Node{cfg: cfg, log: cfg.Log.With("component", "lbnode"), applied: make(chan *lbconfig.Config, 1)}
}

// Run serves until ctx ends: first the kept configuration, then what the
// server streams, reconnecting with backoff whenever the stream breaks.
func (n *Node) Run(ctx context.Context) error {
	if c, err := n.load(); err != nil {
		n.log.Warn("the kept load-balancer configuration cannot be read; waiting for the server", "file", n.cfg.StateFile, "err", err)
	} else if c != nil {
		n.apply(c, false, false)
	}
	go n.reportLoop(ctx)
	delay := 200 * time.Millisecond
	for {
		err := n.stream(ctx, func() { delay = 200 * time.Millisecond })
		if ctx.Err() != nil {
			return nil
		}
		n.log.Warn("configuration stream ended; serving the last configuration and reconnecting", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// apply applies c unless it is older than what is applied; force applies
// it anyway (the first configuration of a stream is the server's truth,
// even when the server's state was rebuilt from scratch).
func (n *Node) apply(c *lbconfig.Config, keep, force bool) {
	if !force && n.current != nil && c.Revision <= n.current.Revision {
		return
	}
	if err := n.cfg.Engine.Apply(c); err != nil {
		n.log.Error("load-balancer configuration applied in part", "revision", c.Revision, "err", err)
	}
	n.current = c
	if keep && n.cfg.StateFile != "" {
		if b, err := json.Marshal(c); err != nil {
			n.log.Error("configuration not kept", "err", err)
		} else if err := atomicfile.Write(n.cfg.StateFile, b, 0o600, true); err != nil {
			n.log.Error("configuration not kept", "file", n.cfg.StateFile, "err", err)
		}
	}
	select {
	case <-n.applied:
	default:
	}
	n.applied <- c
}

func (n *Node) load() (*lbconfig.Config, error) {
	if n.cfg.StateFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(n.cfg.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c lbconfig.Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (n *Node) stream(ctx context.Context, connected func()) error {
	req, err := n.server().Signed(ctx, lbconfig.PathStream, lbconfig.StreamRequest{Node: n.cfg.Node})
	if err != nil {
		return err
	}
	resp, err := n.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nodestream.APIError(resp)
	}
	connected()
	n.log.Info("configuration stream open", "server", n.cfg.Server)
	first := true
	return nodestream.ReadLines(ctx, resp.Body, 3*n.cfg.Heartbeat, func(line []byte) {
		var m lbconfig.Message
		if err := json.Unmarshal(line, &m); err != nil {
			n.log.Warn("bad stream message", "err", err)
			return
		}
		if m.Type == lbconfig.MessageConfig && m.Config != nil {
			n.apply(m.Config, true, first)
			first = false
		}
	})
}

// server is where the node's requests go.
func (n *Node) server() nodestream.Server {
	return nodestream.Server{URL: n.cfg.Server, Region: n.cfg.Region, AccessKeyID: n.cfg.AccessKeyID, SecretAccessKey: n.cfg.SecretAccessKey}
}

// reportLoop sends the engine's full health after every apply, on every
// health change (coalesced) and at least once per heartbeat.
func (n *Node) reportLoop(ctx context.Context) {
	var cfg *lbconfig.Config
	tick := time.NewTicker(n.cfg.Heartbeat)
	defer tick.Stop()
	for {
		changes := n.cfg.Engine.Changes()
		select {
		case <-ctx.Done():
			return
		case cfg = <-n.applied:
		case <-changes:
		case <-tick.C:
		}
		if cfg == nil {
			continue
		}
		rep := lbconfig.HealthReport{Node: n.cfg.Node, Full: true, Revision: cfg.Revision, Targets: n.cfg.Engine.Health()}
		for _, lb := range cfg.LoadBalancers {
			if n.cfg.Engine.Serving(lb.ARN) {
				rep.Serving = append(rep.Serving, lb.ARN)
			}
		}
		if err := n.report(ctx, rep); err != nil && ctx.Err() == nil {
			n.log.Debug("health report not delivered", "err", err)
		}
		// Coalesce bursts of changes: at most ten reports a second.
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// report sends one health report to the server.
func (n *Node) report(ctx context.Context, rep lbconfig.HealthReport) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := n.server().Signed(ctx, lbconfig.PathHealth, rep)
	if err != nil {
		return err
	}
	resp, err := n.cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return nodestream.APIError(resp)
	}
	return nil
}
