package dnsnode

import (
	"bytes"
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
	"berth.dev/berth/internal/dnsconfig"
	"berth.dev/berth/internal/nodestream"
)

// DNS is the server a node feeds (*dnsserver.Server).
type DNS interface {
	// Replace installs cfg whatever its revision.
	Replace(cfg *dnsconfig.Config) error
}

// Config wires a node.
type Config struct {
	// Server is the berth server's endpoint URL.
	Server          string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// Node names this node in the server's logs (default: the host name).
	Node string
	// StateFile keeps the last installed configuration ("" keeps none).
	StateFile string
	// DNS is the server the configuration is installed in; the caller
	// starts it listening (Start) and closes it.
	DNS DNS
	Log *slog.Logger
	// HTTP is the client for the server (default: one without timeouts,
	// as the stream is long-lived).
	HTTP *http.Client
	// Heartbeat overrides dnsconfig.HeartbeatInterval (tests).
	Heartbeat time.Duration
	// OnInstall, when not nil, is called after every configuration
	// installed (tests, metrics).
	OnInstall func(cfg *dnsconfig.Config)
}

// Node is a DNS data-plane node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	current *dnsconfig.Config // owned by Run's goroutine
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
		cfg.Heartbeat = dnsconfig.HeartbeatInterval
	}
	if cfg.Node == "" {
		cfg.Node, _ = os.Hostname()
	}
	cfg.Server = strings.TrimRight(cfg.Server, "/")
	return &Node{cfg: cfg, log: cfg.Log.With("component", "dnsnode")}
}

// Run feeds the DNS server until ctx ends: first the kept configuration,
// then what the server streams, reconnecting with backoff (200 ms doubling
// to 5 s) whenever the stream breaks. It returns nil when ctx ends.
func (n *Node) Run(ctx context.Context) error {
	if c, err := n.load(); err != nil {
		n.log.Warn("the kept dns configuration cannot be read; waiting for the server", "file", n.cfg.StateFile, "err", err)
	} else if c != nil {
		n.install(c, false, true)
		n.log.Info("serving the kept dns configuration", "revision", c.Revision)
	}
	delay := 200 * time.Millisecond
	for {
		err := n.stream(ctx, func() { delay = 200 * time.Millisecond })
		if ctx.Err() != nil {
			return nil
		}
		n.log.Warn("dns configuration stream ended; serving the last configuration and reconnecting", "err", err, "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// install installs c unless it is older than the installed one; force
// installs it anyway (a stream's first configuration).
func (n *Node) install(c *dnsconfig.Config, keep, force bool) {
	if !force && n.current != nil && c.Revision < n.current.Revision {
		return
	}
	if err := n.cfg.DNS.Replace(c); err != nil {
		n.log.Warn("dns configuration installed in part", "revision", c.Revision, "err", err)
	}
	n.current = c
	if keep && n.cfg.StateFile != "" {
		if b, err := json.Marshal(c); err != nil {
			n.log.Error("dns configuration not kept", "err", err)
		} else if err := atomicfile.Write(n.cfg.StateFile, b, 0o600, true); err != nil {
			n.log.Error("dns configuration not kept", "file", n.cfg.StateFile, "err", err)
		}
	}
	if n.cfg.OnInstall != nil {
		n.cfg.OnInstall(c)
	}
}

func (n *Node) load() (*dnsconfig.Config, error) {
	if n.cfg.StateFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(n.cfg.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read kept dns configuration: %w", err)
	}
	var c dnsconfig.Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode kept dns configuration %s: %w", n.cfg.StateFile, err)
	}
	return &c, nil
}

func (n *Node) stream(ctx context.Context, connected func()) error {
	srv := nodestream.Server{URL: n.cfg.Server, Region: n.cfg.Region, AccessKeyID: n.cfg.AccessKeyID, SecretAccessKey: n.cfg.SecretAccessKey}
	req, err := srv.Signed(ctx, dnsconfig.StreamPath, map[string]string{"node": n.cfg.Node})
	if err != nil {
		return err
	}
	resp, err := n.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("open dns stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nodestream.APIError(resp)
	}
	connected()
	n.log.Info("dns configuration stream open", "server", n.cfg.Server)
	first := true
	return nodestream.ReadLines(ctx, resp.Body, 3*n.cfg.Heartbeat, func(line []byte) {
		if len(bytes.TrimSpace(line)) == 0 {
			return // heartbeat
		}
		var c dnsconfig.Config
		if err := json.Unmarshal(line, &c); err != nil {
			n.log.Warn("bad dns stream message", "err", err)
			return
		}
		n.install(&c, true, first)
		first = false
	})
}
