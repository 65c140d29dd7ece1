package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/nsdial"
)

// NetNS is a network namespace the bench made (`ip netns add`) so that the
// berth processes it starts there, and the bridges, veths and iptables
// rules they make, stay off the machine's own network. It has its loopback
// and a veth pair of its own, one end with address Addr/24, which a server listens on
// and an agent gives as its --host-address. (Small copies of what
// internal/e2e/awsvpc does.)
type NetNS struct {
	Name string
	Addr string
}

// NetAdminMissing says why this process cannot make network namespaces and
// run iptables ("" when it can).
func NetAdminMissing() string {
	if os.Geteuid() != 0 {
		return "needs root to make network namespaces"
	}
	for _, bin := range []string{"ip", "nsenter", "iptables", "iptables-restore"} {
		if _, err := exec.LookPath(bin); err != nil {
			return "needs " + bin
		}
	}
	return ""
}

// NewNetNS makes namespace name with addr on a dummy interface; Remove
// deletes it.
func NewNetNS(name, addr string) (*NetNS, error) {
	if why := NetAdminMissing(); why != "" {
		return nil, errors.New(why)
	}
	n := &NetNS{Name: name, Addr: addr}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		// A veth pair with both ends inside (no dummy driver needed).
		{"link", "add", "bench0", "type", "veth", "peer", "name", "bench1"},
		{"addr", "add", addr + "/24", "dev", "bench0"},
		{"link", "set", "bench1", "up"},
		{"link", "set", "bench0", "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput(); err != nil {
			n.Remove()
			return nil, fmt.Errorf("ip -n %s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return n, nil
}

// Path is the namespace's file.
func (n *NetNS) Path() string { return "/var/run/netns/" + n.Name }

// Wrap is the command line that runs bin args in the namespace: nsenter
// enters the network namespace alone (`ip netns exec` would also give the
// process a mount namespace of its own, and the process runtime's
// namespace mounts would end with it) and execs bin, so the process keeps
// nsenter's pid.
func (n *NetNS) Wrap(bin string, args []string) (string, []string) {
	return "nsenter", append([]string{"--net=" + n.Path(), bin}, args...)
}

// Pids are the processes whose network namespace is n.
func (n *NetNS) Pids() []int {
	out, _ := exec.Command("ip", "netns", "pids", n.Name).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		var pid int
		if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Remove kills what still runs in the namespace (only processes the bench
// started can be there) and deletes it, with its links and rules.
func (n *NetNS) Remove() error {
	pids := n.Pids()
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(pids) > 0 {
		time.Sleep(200 * time.Millisecond)
	}
	if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", n.Name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Dialer dials from inside the namespace.
func (n *NetNS) Dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return nsdial.Dialer(n.Path(), net.Dialer{Timeout: 10 * time.Second})
}

// UnmountUnder unmounts what a process runtime left mounted in netnsDir,
// <agent data dir>/runtime/process/netns (its sandboxes' namespaces and the
// directory itself), and returns how many namespace mounts it found.
func UnmountUnder(netnsDir string) int {
	entries, _ := os.ReadDir(netnsDir)
	for _, e := range entries {
		_ = unix.Unmount(filepath.Join(netnsDir, e.Name()), unix.MNT_DETACH)
	}
	_ = unix.Unmount(netnsDir, unix.MNT_DETACH)
	return len(entries)
}

// ProcessNetNSDir is where the process runtime of an agent with data dir
// dataDir mounts its sandboxes' namespaces.
func ProcessNetNSDir(dataDir string) string {
	return filepath.Join(dataDir, "runtime", "process", "netns")
}
