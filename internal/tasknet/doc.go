// Package tasknet builds the host side of the awsvpc network mode: one bridge
// per host with the host's task subnet on it, one veth pair per task between
// that bridge and the task's network namespace, routes to the other hosts'
// task subnets (host-gw style: the hosts share a link), and the iptables
// rules that let the tasks' traffic through.
//
// Contract and invariants:
//   - A Host works in one network namespace (Config.NetNS, by default the
//     one New is called in) and never changes the namespace of its caller's
//     thread: netlink calls go through handles bound to the namespaces, and
//     iptables and sysctls run on a locked thread that is thrown away after.
//   - Ensure is idempotent: the bridge exists, is up and carries the gateway
//     (the subnet's first address) as its only IPv4 address; ip_forward is 1;
//     berth's chains (BERTH-FORWARD in filter, BERTH-POSTROUTING in nat) hold
//     exactly berth's rules and are each jumped to once (from the top of
//     FORWARD and POSTROUTING when the jump is new; a jump Docker has since
//     put its own above is left where it is). Nothing else in the tables is
//     changed. BERTH-FORWARD accepts what enters or leaves the bridge, which
//     a host whose FORWARD policy is DROP (Docker's) needs, and, with
//     br_netfilter, so does traffic between two tasks of the bridge.
//   - A task's host veth is named from its task ID alone (HostVethName), so
//     Attach, Detach and Sweep find it again after an agent restart; its peer
//     is eth0 in the task's namespace, with the task's address, the MAC
//     derived from it (MACOf), and a default route via the gateway.
//   - Routes to other hosts' subnets carry RouteProtocol; SetPeers replaces
//     and removes those routes only.
//   - Teardown removes all of the above but ip_forward, which other users of
//     the host (Docker) rely on too.
//
// The address arithmetic (Network) is pure and works on every platform;
// everything else needs Linux and root, and returns ErrUnsupported elsewhere.
package tasknet
