//go:build linux

package process

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/driver"
)

// fileResolvConf is a container's (or a sandbox's) resolv.conf, which the
// trampoline bind-mounts over /etc/resolv.conf in the workload's own mount
// namespace.
const fileResolvConf = "resolv.conf"

// hostResolvConf is the file a workload's resolv.conf replaces.
const hostResolvConf = "/etc/resolv.conf"

// capSysAdmin is CAP_SYS_ADMIN's bit in /proc/self/status's CapEff.
const capSysAdmin = 21

// canMountNS reports whether the agent may give a workload a mount
// namespace of its own (CAP_SYS_ADMIN), which DNS settings need.
func canMountNS() bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		return err == nil && caps&(1<<capSysAdmin) != 0
	}
	return false
}

// SupportsDNS reports whether containers and sandboxes take DNS servers
// and search domains: in every mode the runtime runs, when it may make
// mount namespaces (as root).
func (d *Driver) SupportsDNS(mode string) bool {
	return d.mountNS && mode != "none"
}

var _ driver.DNSSupport = (*Driver)(nil)

// errNoMountNS is why DNS settings are refused where the runtime cannot
// make mount namespaces.
func (d *Driver) errNoMountNS() error {
	return cannotCreate("dnsServers and dnsSearchDomains need a mount namespace of the workload's own (to bind-mount its resolv.conf over /etc/resolv.conf), which the process runtime cannot make here: the agent runs as uid %d without CAP_SYS_ADMIN", d.euid)
}

// writeResolvConf writes the resolv.conf of servers and search (what is
// not given comes from the host's) to path.
func writeResolvConf(path string, servers, search []string) error {
	host, err := os.ReadFile(hostResolvConf)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", hostResolvConf, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, driver.ResolvConf(servers, search, host), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// mountResolvConf bind-mounts src read-only over /etc/resolv.conf (its
// target, when it is a symbolic link). The caller is in a mount namespace
// of its own, private: the host's mounts do not change.
func mountResolvConf(src string) error {
	if !filepath.IsAbs(src) {
		return fmt.Errorf("resolv.conf %q is not an absolute path", src)
	}
	if err := unix.Mount(src, hostResolvConf, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s over %s: %w", src, hostResolvConf, err)
	}
	if err := unix.Mount("", hostResolvConf, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("making %s read-only: %w", hostResolvConf, err)
	}
	return nil
}
