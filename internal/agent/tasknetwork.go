package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/tasknet"
)

// TaskNetwork plugs awsvpc tasks into the host's task network. The agent
// runs awsvpc tasks only with one (Config.TaskNetwork) and a runtime that
// makes per-task namespaces (driver.Sandboxer).
type TaskNetwork interface {
	// Configure applies the host's task network as the server sends it:
	// its subnet (none yet: nothing to do) and the other hosts' subnets.
	// Attach fails until a subnet is configured.
	Configure(ctx context.Context, n agentproto.HostNetwork) error
	// Attach gives the namespace at nsPath the task's interface.
	// Idempotent: an agent restart attaches its tasks again.
	Attach(ctx context.Context, taskID, nsPath string, n agentproto.TaskNetwork) error
	// Detach removes the task's interface; no error when it is gone.
	Detach(ctx context.Context, taskID string) error
	// Sweep removes the interfaces of tasks not in keep.
	Sweep(ctx context.Context, keep []string) error
}

// HostTaskNetwork is the TaskNetwork of package tasknet.
type HostTaskNetwork struct {
	log *slog.Logger

	mu   sync.Mutex
	host *tasknet.Host
	cfg  tasknet.Config
}

// NewHostTaskNetwork returns the host's task network, built on the bridge
// (default tasknet.DefaultBridge) once the server sends the host's subnet.
func NewHostTaskNetwork(bridge string, log *slog.Logger) *HostTaskNetwork {
	return &HostTaskNetwork{log: log, cfg: tasknet.Config{Bridge: bridge}}
}

// Configure implements TaskNetwork.
func (n *HostTaskNetwork) Configure(ctx context.Context, hn agentproto.HostNetwork) error {
	if hn.Subnet == "" {
		return nil
	}
	subnet, err := netip.ParsePrefix(hn.Subnet)
	if err != nil {
		return fmt.Errorf("task subnet: %w", err)
	}
	cluster := subnet
	if hn.Range != "" {
		if cluster, err = netip.ParsePrefix(hn.Range); err != nil {
			return fmt.Errorf("task range: %w", err)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.host == nil || n.cfg.Subnet != subnet || n.cfg.ClusterRange != cluster {
		if n.host != nil {
			n.host.Close()
			n.host = nil
		}
		cfg := n.cfg
		cfg.Subnet, cfg.ClusterRange = subnet, cluster
		h, err := tasknet.New(cfg, n.log)
		if err != nil {
			return fmt.Errorf("task network: %w", err)
		}
		n.host, n.cfg = h, cfg
	}
	if err := n.host.Ensure(ctx); err != nil {
		return fmt.Errorf("task network: %w", err)
	}
	peers := make([]tasknet.Peer, 0, len(hn.Peers))
	for _, p := range hn.Peers {
		s, err1 := netip.ParsePrefix(p.Subnet)
		via, err2 := netip.ParseAddr(p.Via)
		if err1 != nil || err2 != nil {
			n.log.Warn("ignoring a malformed peer", "subnet", p.Subnet, "via", p.Via)
			continue
		}
		peers = append(peers, tasknet.Peer{Subnet: s, Via: via})
	}
	if err := n.host.SetPeers(ctx, peers); err != nil {
		return fmt.Errorf("routes to other hosts' tasks: %w", err)
	}
	return nil
}

func (n *HostTaskNetwork) current() (*tasknet.Host, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.host == nil {
		return nil, fmt.Errorf("the host has no task subnet yet")
	}
	return n.host, nil
}

// Attach implements TaskNetwork.
func (n *HostTaskNetwork) Attach(ctx context.Context, taskID, nsPath string, tn agentproto.TaskNetwork) error {
	h, err := n.current()
	if err != nil {
		return err
	}
	p, err := netip.ParsePrefix(tn.Address)
	if err != nil {
		return fmt.Errorf("task address: %w", err)
	}
	if h.Network().Subnet != p.Masked() {
		return fmt.Errorf("task address %s is not in the host's task subnet %s", p, h.Network().Subnet)
	}
	_, err = h.Attach(ctx, taskID, nsPath, p.Addr())
	return err
}

// Detach implements TaskNetwork.
func (n *HostTaskNetwork) Detach(ctx context.Context, taskID string) error {
	h, err := n.current()
	if err != nil {
		return nil // never configured: nothing was attached by this agent
	}
	return h.Detach(ctx, taskID)
}

// Sweep implements TaskNetwork.
func (n *HostTaskNetwork) Sweep(ctx context.Context, keep []string) error {
	h, err := n.current()
	if err != nil {
		return nil
	}
	removed, err := h.Sweep(ctx, keep)
	if len(removed) > 0 {
		n.log.Info("removed the interfaces of unknown tasks", "tasks", removed)
	}
	return err
}

// awsvpc reports whether this agent runs awsvpc tasks.
func (a *Agent) awsvpc() bool { return a.cfg.TaskNetwork != nil && a.sandboxer() != nil }

// configureNetwork applies the host's task network; from the server
// (save), it is also kept for the next start.
func (a *Agent) configureNetwork(ctx context.Context, n agentproto.HostNetwork, save bool) {
	if !a.awsvpc() {
		return
	}
	if save {
		if cur := a.store.instance().Network; cur == nil || !sameHostNetwork(*cur, n) {
			if err := a.store.setInstance(func(s *instanceState) { s.Network = &n }); err != nil {
				a.log.Warn("persist the task network", "err", err)
			}
		}
	}
	if err := a.cfg.TaskNetwork.Configure(ctx, n); err != nil {
		a.log.Error("task network", "err", err)
	}
}

func sameHostNetwork(a, b agentproto.HostNetwork) bool {
	return a.Range == b.Range && a.Subnet == b.Subnet && slices.Equal(a.Peers, b.Peers)
}

// sweepNetworks removes, at start, the sandboxes and interfaces of tasks
// this agent has no record of (left by a crash between their creation and
// their record, or after their record's deletion).
func (a *Agent) sweepNetworks(ctx context.Context, saved map[string]savedTask) {
	if !a.awsvpc() {
		return
	}
	keep := make([]string, 0, len(saved))
	for arn := range saved {
		keep = append(keep, taskID(arn))
	}
	if all, err := a.sandboxer().ListSandboxes(ctx); err != nil {
		a.log.Warn("list task network namespaces", "err", err)
	} else {
		for _, sb := range all {
			if sb.Labels[labelAgent] != a.instanceID {
				continue
			}
			if _, ok := saved[sb.Labels[driver.LabelTaskARN]]; ok {
				continue
			}
			a.log.Warn("removing the network namespace of an unknown task", "id", sb.ID, "task", sb.Labels[driver.LabelTaskARN])
			if err := a.sandboxer().RemoveSandbox(ctx, sb.ID); err != nil {
				a.log.Warn("remove stray network namespace", "id", sb.ID, "err", err)
			}
		}
	}
	if err := a.cfg.TaskNetwork.Sweep(ctx, keep); err != nil {
		a.log.Warn("remove stray task interfaces", "err", err)
	}
}
