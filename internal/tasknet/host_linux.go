package tasknet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Host is one host's task network. Its methods are safe for concurrent use;
// they run one at a time.
type Host struct {
	mu  sync.Mutex
	cfg Config // defaults applied
	net Network
	log *slog.Logger
	ns  netns.NsHandle  // the host's namespace, held open
	nl  *netlink.Handle // bound to ns
	ipt *iptables.IPTables
}

// New checks cfg, opens the host's namespace and finds iptables. It
// changes nothing; Ensure does. Close releases the namespace.
func New(cfg Config, logger *slog.Logger) (*Host, error) {
	if cfg.Bridge == "" {
		cfg.Bridge = DefaultBridge
	}
	if err := checkLinkName(cfg.Bridge); err != nil {
		return nil, fmt.Errorf("tasknet: bridge: %w", err)
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.MTU < 68 || cfg.MTU > 65535 {
		return nil, fmt.Errorf("tasknet: MTU %d out of range 68-65535", cfg.MTU)
	}
	nw, err := NewNetwork(cfg.Subnet, cfg.ClusterRange)
	if err != nil {
		return nil, fmt.Errorf("tasknet: %w", err)
	}
	cfg.ClusterRange = nw.Cluster
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ipt, err := iptables.New(iptables.IPFamily(iptables.ProtocolIPv4), iptables.Timeout(10))
	if err != nil {
		return nil, fmt.Errorf("tasknet: iptables: %w", err)
	}
	var ns netns.NsHandle
	if cfg.NetNS == "" {
		ns, err = netns.Get()
	} else {
		ns, err = netns.GetFromPath(cfg.NetNS)
	}
	if err != nil {
		return nil, fmt.Errorf("tasknet: open host namespace %q: %w", cfg.NetNS, err)
	}
	nl, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("tasknet: netlink in host namespace: %w", err)
	}
	return &Host{cfg: cfg, net: nw, log: logger.With("bridge", cfg.Bridge, "subnet", nw.Subnet), ns: ns, nl: nl, ipt: ipt}, nil
}

// begin locks the host for one operation, unless it is closed or ctx is
// done.
func (h *Host) begin(ctx context.Context) error {
	h.mu.Lock()
	err := ctx.Err()
	if h.nl == nil {
		err = ErrClosed
	}
	if err != nil {
		h.mu.Unlock()
	}
	return err
}

// Network is the host's address plan.
func (h *Host) Network() Network { return h.net }

// Close releases the namespace and netlink handle; it changes nothing.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nl != nil {
		h.nl.Close()
		h.nl = nil
	}
	if h.ns.IsOpen() {
		return h.ns.Close()
	}
	return nil
}

func checkLinkName(name string) error {
	if name == "" || len(name) > 15 || strings.ContainsAny(name, "/ \t\n:") || name == "." || name == ".." {
		return fmt.Errorf("%q is not a valid interface name", name)
	}
	return nil
}

// Ensure makes the bridge, forwarding and berth's iptables rules what
// Config says. It is idempotent and safe to call at every agent start.
func (h *Host) Ensure(ctx context.Context) error {
	if err := h.begin(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	if err := h.ensureBridge(); err != nil {
		return fmt.Errorf("tasknet: ensure bridge %s: %w", h.cfg.Bridge, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.inNS(func() error {
		if err := enableForwarding(); err != nil {
			return err
		}
		return h.ensureRules()
	}); err != nil {
		return fmt.Errorf("tasknet: ensure: %w", err)
	}
	return nil
}

func (h *Host) ensureBridge() error {
	link, err := h.nl.LinkByName(h.cfg.Bridge)
	if isNotFound(err) {
		h.log.Info("creating bridge")
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: h.cfg.Bridge, MTU: h.cfg.MTU, HardwareAddr: h.bridgeMAC()}}
		if err := h.nl.LinkAdd(br); err != nil {
			return fmt.Errorf("create: %w", err)
		}
		link, err = h.nl.LinkByName(h.cfg.Bridge)
	}
	if err != nil {
		return err
	}
	if link.Type() != "bridge" {
		return fmt.Errorf("%s exists and is a %s, not a bridge", h.cfg.Bridge, link.Type())
	}
	if link.Attrs().MTU != h.cfg.MTU {
		if err := h.nl.LinkSetMTU(link, h.cfg.MTU); err != nil {
			return fmt.Errorf("set MTU %d: %w", h.cfg.MTU, err)
		}
	}
	if mac := h.bridgeMAC(); link.Attrs().HardwareAddr.String() != mac.String() {
		if err := h.nl.LinkSetHardwareAddr(link, mac); err != nil {
			return fmt.Errorf("set MAC %s: %w", mac, err)
		}
	}
	if err := h.setAddr(h.nl, link, netip.PrefixFrom(h.net.Gateway, h.net.Subnet.Bits())); err != nil {
		return err
	}
	if err := h.nl.LinkSetUp(link); err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	return nil
}

// bridgeMAC is the bridge's (so the gateway's) MAC address. Set
// explicitly, it stays put; left to the kernel, a bridge takes the lowest
// MAC of its ports, and the tasks' neighbour entries for the gateway would
// go stale as veths come and go.
func (h *Host) bridgeMAC() net.HardwareAddr { return MACOf(h.net.Gateway) }

// bridge is the bridge's link; Ensure must have made it.
func (h *Host) bridge() (netlink.Link, error) {
	link, err := h.nl.LinkByName(h.cfg.Bridge)
	if isNotFound(err) {
		return nil, fmt.Errorf("bridge %s does not exist: Ensure first", h.cfg.Bridge)
	}
	if err != nil {
		return nil, fmt.Errorf("bridge %s: %w", h.cfg.Bridge, err)
	}
	return link, nil
}

// setAddr makes want the link's only IPv4 address.
func (h *Host) setAddr(nl *netlink.Handle, link netlink.Link, want netip.Prefix) error {
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return nl.AddrList(link, netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	have := false
	for _, a := range addrs {
		p, ok := prefixOf(a.IPNet)
		if ok && p == want {
			have = true
			continue
		}
		h.log.Info("removing address", "link", link.Attrs().Name, "addr", a.IPNet.String())
		if err := nl.AddrDel(link, &a); err != nil {
			return fmt.Errorf("remove address %s from %s: %w", a.IPNet, link.Attrs().Name, err)
		}
	}
	if !have {
		if err := nl.AddrAdd(link, &netlink.Addr{IPNet: ipNet(want)}); err != nil {
			return fmt.Errorf("add address %s to %s: %w", want, link.Attrs().Name, err)
		}
	}
	return nil
}

// Teardown removes what Ensure, Attach and SetPeers made: peer routes, task
// veths, the bridge, berth's chains and the jumps to them. ip_forward stays.
func (h *Host) Teardown(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	if err := h.SetPeers(ctx, nil); err != nil {
		errs = append(errs, err)
	}
	if _, err := h.Sweep(ctx, nil); err != nil {
		errs = append(errs, err)
	}
	if err := h.begin(ctx); err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer h.mu.Unlock()
	if link, err := h.nl.LinkByName(h.cfg.Bridge); err == nil {
		if link.Type() != "bridge" {
			errs = append(errs, fmt.Errorf("tasknet: teardown: %s is a %s, not berth's bridge: left alone", h.cfg.Bridge, link.Type()))
		} else if err := h.nl.LinkDel(link); err != nil {
			errs = append(errs, fmt.Errorf("tasknet: teardown: delete bridge: %w", err))
		}
	} else if !isNotFound(err) {
		errs = append(errs, fmt.Errorf("tasknet: teardown: bridge: %w", err))
	}
	if err := h.inNS(h.removeRules); err != nil {
		errs = append(errs, fmt.Errorf("tasknet: teardown: %w", err))
	}
	return errors.Join(errs...)
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

// retryDump retries a netlink dump the kernel interrupted (the list changed
// while it was read).
func retryDump[T any](list func() (T, error)) (T, error) {
	var v T
	var err error
	for range 5 {
		v, err = list()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, bits := n.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a.Unmap(), ones), true
}
