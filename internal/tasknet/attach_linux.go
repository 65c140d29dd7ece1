package tasknet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// taskIf is the name of the task's end of its veth.
const taskIf = "eth0"

// Attach connects the task's namespace (nsPath) to the bridge with address
// addr: a veth whose host end (HostVethName) is on the bridge and whose peer
// is eth0 in the namespace, up, with addr and a default route via the
// gateway; lo is set up too. Attaching a task that is attached already (an
// agent restart) finds its veth and returns the same attachment, repairing
// the address, links and route if they differ. A host veth of the task whose
// peer is not the namespace's eth0 (a namespace since replaced) is deleted
// and made again; an eth0 in the namespace that is not the task's veth is
// an error.
func (h *Host) Attach(ctx context.Context, taskID, nsPath string, addr netip.Addr) (Attachment, error) {
	if taskID == "" {
		return Attachment{}, errors.New("tasknet: attach: empty task ID")
	}
	if err := h.net.CheckTask(addr); err != nil {
		return Attachment{}, fmt.Errorf("tasknet: attach %s: %w", taskID, err)
	}
	if err := h.begin(ctx); err != nil {
		return Attachment{}, err
	}
	defer h.mu.Unlock()
	a, err := h.attach(taskID, nsPath, addr)
	if err != nil {
		return Attachment{}, fmt.Errorf("tasknet: attach %s: %w", taskID, err)
	}
	return a, nil
}

func (h *Host) attach(taskID, nsPath string, addr netip.Addr) (Attachment, error) {
	br, err := h.bridge()
	if err != nil {
		return Attachment{}, err
	}
	tns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return Attachment{}, fmt.Errorf("open namespace %s: %w", nsPath, err)
	}
	defer tns.Close()
	tnl, err := netlink.NewHandleAt(tns)
	if err != nil {
		return Attachment{}, fmt.Errorf("netlink in namespace %s: %w", nsPath, err)
	}
	defer tnl.Close()

	name := HostVethName(taskID)
	log := h.log.With("task", taskID, "veth", name, "addr", addr)
	hostEnd, err := h.nl.LinkByName(name)
	if err != nil && !isNotFound(err) {
		return Attachment{}, err
	}
	eth0, err := tnl.LinkByName(taskIf)
	if err != nil && !isNotFound(err) {
		return Attachment{}, fmt.Errorf("namespace %s: %w", nsPath, err)
	}
	if hostEnd != nil && eth0 != nil && !peers(hostEnd, eth0) {
		return Attachment{}, fmt.Errorf("namespace %s has an %s that is not the peer of %s", nsPath, taskIf, name)
	}
	if hostEnd == nil && eth0 != nil {
		return Attachment{}, fmt.Errorf("namespace %s has an %s already (%s, not task %s's veth %s)", nsPath, taskIf, eth0.Type(), taskID, name)
	}
	if hostEnd != nil && eth0 == nil {
		if hostEnd.Type() != "veth" {
			return Attachment{}, fmt.Errorf("%s exists and is a %s, not a veth", name, hostEnd.Type())
		}
		log.Warn("replacing the task's veth: its peer is not in this namespace")
		if err := h.nl.LinkDel(hostEnd); err != nil {
			return Attachment{}, fmt.Errorf("delete stale %s: %w", name, err)
		}
		hostEnd = nil
	}
	if hostEnd == nil {
		log.Info("creating veth")
		veth := &netlink.Veth{
			LinkAttrs:        netlink.LinkAttrs{Name: name, MTU: h.cfg.MTU, MasterIndex: br.Attrs().Index},
			PeerName:         taskIf,
			PeerHardwareAddr: MACOf(addr),
			PeerNamespace:    netlink.NsFd(tns),
		}
		if err := h.nl.LinkAdd(veth); err != nil {
			return Attachment{}, fmt.Errorf("create veth %s: %w", name, err)
		}
		if hostEnd, err = h.nl.LinkByName(name); err != nil {
			return Attachment{}, err
		}
		if eth0, err = tnl.LinkByName(taskIf); err != nil {
			return Attachment{}, fmt.Errorf("namespace %s: %w", nsPath, err)
		}
	} else {
		log.Debug("veth exists")
	}

	// Both ends: the MTU.
	for _, end := range []struct {
		nl   *netlink.Handle
		link netlink.Link
	}{{h.nl, hostEnd}, {tnl, eth0}} {
		if end.link.Attrs().MTU != h.cfg.MTU {
			if err := end.nl.LinkSetMTU(end.link, h.cfg.MTU); err != nil {
				return Attachment{}, fmt.Errorf("set MTU of %s: %w", end.link.Attrs().Name, err)
			}
		}
	}
	// Host end: on the bridge, up.
	if hostEnd.Attrs().MasterIndex != br.Attrs().Index {
		if err := h.nl.LinkSetMaster(hostEnd, br); err != nil {
			return Attachment{}, fmt.Errorf("put %s on %s: %w", name, h.cfg.Bridge, err)
		}
	}
	if err := h.nl.LinkSetUp(hostEnd); err != nil {
		return Attachment{}, fmt.Errorf("set %s up: %w", name, err)
	}

	// Task end: MAC, address, up, lo up, default route.
	if mac := MACOf(addr); eth0.Attrs().HardwareAddr.String() != mac.String() {
		if err := setMAC(tnl, eth0, mac); err != nil {
			return Attachment{}, err
		}
		if eth0, err = tnl.LinkByName(taskIf); err != nil {
			return Attachment{}, fmt.Errorf("namespace %s: %w", nsPath, err)
		}
	}
	prefix := h.net.TaskPrefix(addr)
	if err := h.setAddr(tnl, eth0, prefix); err != nil {
		return Attachment{}, err
	}
	if err := tnl.LinkSetUp(eth0); err != nil {
		return Attachment{}, fmt.Errorf("set %s up: %w", taskIf, err)
	}
	lo, err := tnl.LinkByName("lo")
	if err != nil {
		return Attachment{}, fmt.Errorf("namespace %s: lo: %w", nsPath, err)
	}
	if err := tnl.LinkSetUp(lo); err != nil {
		return Attachment{}, fmt.Errorf("set lo up: %w", err)
	}
	route := &netlink.Route{
		LinkIndex: eth0.Attrs().Index,
		Dst:       ipNet(netip.PrefixFrom(netip.IPv4Unspecified(), 0)),
		Gw:        h.net.Gateway.AsSlice(),
	}
	if err := tnl.RouteReplace(route); err != nil {
		return Attachment{}, fmt.Errorf("default route via %s: %w", h.net.Gateway, err)
	}
	return Attachment{
		HostVeth: name,
		MAC:      slices.Clone(eth0.Attrs().HardwareAddr),
		Addr:     addr,
		Prefix:   prefix,
		Gateway:  h.net.Gateway,
	}, nil
}

// setMAC sets a link's MAC address, taking the link down for it if it
// cannot change while up.
func setMAC(nl *netlink.Handle, link netlink.Link, mac net.HardwareAddr) error {
	err := nl.LinkSetHardwareAddr(link, mac)
	if errors.Is(err, unix.EBUSY) {
		if err = nl.LinkSetDown(link); err == nil {
			err = nl.LinkSetHardwareAddr(link, mac)
		}
	}
	if err != nil {
		return fmt.Errorf("set MAC of %s to %s: %w", link.Attrs().Name, mac, err)
	}
	return nil
}

// peers says whether a host veth and a task's eth0 are the two ends of one
// veth: each names the other as its link.
func peers(hostEnd, eth0 netlink.Link) bool {
	return hostEnd.Type() == "veth" && eth0.Type() == "veth" &&
		hostEnd.Attrs().ParentIndex == eth0.Attrs().Index &&
		eth0.Attrs().ParentIndex == hostEnd.Attrs().Index
}

// Detach deletes the task's host veth (its peer goes with it). A task with
// no veth is not an error.
func (h *Host) Detach(ctx context.Context, taskID string) error {
	if err := h.begin(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	name := HostVethName(taskID)
	link, err := h.nl.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tasknet: detach %s: %w", taskID, err)
	}
	if link.Type() != "veth" {
		return fmt.Errorf("tasknet: detach %s: %s is a %s, not a veth", taskID, name, link.Type())
	}
	if err := h.nl.LinkDel(link); err != nil && !isNotFound(err) {
		return fmt.Errorf("tasknet: detach %s: delete %s: %w", taskID, name, err)
	}
	h.log.Info("detached", "task", taskID, "veth", name)
	return nil
}

// Sweep deletes the host veths of every task not in keep: the veths named
// like HostVethName's that are on the bridge or on no bridge at all (the
// bridge was made again). It returns the names it deleted.
func (h *Host) Sweep(ctx context.Context, keep []string) ([]string, error) {
	if err := h.begin(ctx); err != nil {
		return nil, err
	}
	defer h.mu.Unlock()
	kept := make(map[string]bool, len(keep))
	for _, id := range keep {
		kept[HostVethName(id)] = true
	}
	brIndex := -1
	if br, err := h.nl.LinkByName(h.cfg.Bridge); err == nil {
		brIndex = br.Attrs().Index
	} else if !isNotFound(err) {
		return nil, fmt.Errorf("tasknet: sweep: %w", err)
	}
	links, err := retryDump(h.nl.LinkList)
	if err != nil {
		return nil, fmt.Errorf("tasknet: sweep: list links: %w", err)
	}
	var removed []string
	var errs []error
	for _, l := range links {
		a := l.Attrs()
		if l.Type() != "veth" || !IsHostVethName(a.Name) || kept[a.Name] {
			continue
		}
		if a.MasterIndex != 0 && a.MasterIndex != brIndex {
			continue
		}
		if err := h.nl.LinkDel(l); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", a.Name, err))
			continue
		}
		h.log.Info("swept veth of no known task", "veth", a.Name)
		removed = append(removed, a.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("tasknet: sweep: %w", err)
	}
	return removed, nil
}
