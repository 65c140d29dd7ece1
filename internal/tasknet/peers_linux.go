package tasknet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// SetPeers makes berth's routes (RouteProtocol, main table) exactly one per
// peer: to the peer's subnet via its host address. A route to a peer's
// subnet that is not berth's is left alone and reported as an error; the
// other peers are still routed.
func (h *Host) SetPeers(ctx context.Context, peers []Peer) error {
	if err := h.net.CheckPeers(peers); err != nil {
		return fmt.Errorf("tasknet: set peers: %w", err)
	}
	if err := h.begin(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	ours, err := retryDump(func() ([]netlink.Route, error) {
		return h.nl.RouteListFiltered(netlink.FAMILY_V4,
			&netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return fmt.Errorf("tasknet: set peers: list routes: %w", err)
	}
	want := make(map[netip.Prefix]netip.Addr, len(peers))
	for _, p := range peers {
		want[p.Subnet] = p.Via
	}
	have := make(map[netip.Prefix]netip.Addr)
	var errs []error
	for _, r := range ours {
		dst, ok := prefixOf(r.Dst)
		gw, gok := netip.AddrFromSlice(r.Gw)
		if ok && gok {
			if via, wanted := want[dst]; wanted && via == gw.Unmap() {
				have[dst] = via
				continue
			}
		}
		h.log.Info("removing peer route", "dst", r.Dst.String(), "via", r.Gw.String())
		if err := h.nl.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("remove route to %s: %w", r.Dst, err))
		}
	}
	for _, p := range peers {
		if _, ok := have[p.Subnet]; ok {
			continue
		}
		others, err := retryDump(func() ([]netlink.Route, error) {
			return h.nl.RouteListFiltered(netlink.FAMILY_V4,
				&netlink.Route{Dst: ipNet(p.Subnet), Table: unix.RT_TABLE_MAIN},
				netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("list routes to %s: %w", p.Subnet, err))
			continue
		}
		if len(others) > 0 {
			errs = append(errs, fmt.Errorf("route to peer %s: a route to it that is not berth's exists (protocol %s)", p.Subnet, others[0].Protocol))
			continue
		}
		h.log.Info("adding peer route", "dst", p.Subnet, "via", p.Via)
		r := &netlink.Route{Dst: ipNet(p.Subnet), Gw: p.Via.AsSlice(), Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}
		if err := h.nl.RouteReplace(r); err != nil {
			errs = append(errs, fmt.Errorf("route to peer %s via %s: %w", p.Subnet, p.Via, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tasknet: set peers: %w", err)
	}
	return nil
}
