//go:build linux

package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"berth.dev/berth/internal/driver"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Directories of the state directory that hold sandboxes (see the package
// doc): a sandbox's record and the bind mount of its network namespace.
const (
	dirSandboxes = "sandboxes"
	dirNetNS     = "netns"
)

// sandboxRec is sandboxes/ID.json.
type sandboxRec struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels"`
	Hostname string            `json:"hostname,omitempty"`
}

var _ driver.Sandboxer = (*Driver)(nil)

func (d *Driver) sandboxRecPath(id string) string {
	return filepath.Join(d.stateDir, dirSandboxes, id+".json")
}

// sandboxResolvPath is the resolv.conf of sandbox id, which its
// containers' workloads see as /etc/resolv.conf (when it exists).
func (d *Driver) sandboxResolvPath(id string) string {
	return filepath.Join(d.stateDir, dirSandboxes, id+"."+fileResolvConf)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (d *Driver) netnsDir() string { return filepath.Join(d.stateDir, dirNetNS) }

// netnsPath is where the namespace of sandbox id is mounted.
func (d *Driver) netnsPath(id string) string { return filepath.Join(d.netnsDir(), id) }

// CreateSandbox makes a network namespace with lo up and bind-mounts it at
// StateDir/netns/ID. The process runtime has no UTS or mount namespace:
// the hostname is recorded, not applied. DNS settings go to a resolv.conf
// next to the sandbox's record, which its containers' workloads see as
// /etc/resolv.conf in a mount namespace of their own.
func (d *Driver) CreateSandbox(_ context.Context, spec driver.SandboxSpec) (driver.Sandbox, error) {
	dns := len(spec.DNSServers) > 0 || len(spec.DNSSearch) > 0
	if dns && !d.mountNS {
		return driver.Sandbox{}, d.errNoMountNS()
	}
	id, err := newID()
	if err != nil {
		return driver.Sandbox{}, err
	}
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[driver.LabelManaged] = "true"
	labels[driver.LabelSandbox] = "true"
	rec := sandboxRec{ID: id, Name: spec.Name, Labels: labels, Hostname: spec.Hostname}
	if rec.Name == "" {
		rec.Name = id
	}

	d.sandboxMu.Lock()
	defer d.sandboxMu.Unlock()
	names, err := d.sandboxNamesLocked()
	if err != nil {
		return driver.Sandbox{}, fmt.Errorf("%w: %w", driver.ErrCannotCreate, err)
	}
	if other, ok := names[rec.Name]; ok {
		return driver.Sandbox{}, cannotCreate("the sandbox name %q is already in use by sandbox %s", rec.Name, other)
	}
	if err := os.MkdirAll(filepath.Join(d.stateDir, dirSandboxes), 0o700); err != nil {
		return driver.Sandbox{}, fmt.Errorf("%w: %w", driver.ErrCannotCreate, err)
	}
	if err := sharedMountDir(d.netnsDir()); err != nil {
		return driver.Sandbox{}, fmt.Errorf("%w: %w", driver.ErrCannotCreate, err)
	}
	// The record first: a sandbox half made by a crashed agent is found by
	// ListSandboxes (and dropped there when it has no namespace).
	if err := writeJSON(d.sandboxRecPath(id), rec); err != nil {
		return driver.Sandbox{}, fmt.Errorf("%w: %w", driver.ErrCannotCreate, err)
	}
	names[rec.Name] = id
	if dns {
		if err := writeResolvConf(d.sandboxResolvPath(id), spec.DNSServers, spec.DNSSearch); err != nil {
			d.removeSandboxLocked(id)
			return driver.Sandbox{}, fmt.Errorf("%w: sandbox %s: resolv.conf: %w", driver.ErrCannotCreate, id, err)
		}
	}
	path := d.netnsPath(id)
	if err := mountNewNetNS(path); err != nil {
		d.removeSandboxLocked(id)
		return driver.Sandbox{}, fmt.Errorf("%w: sandbox %s: %w", driver.ErrCannotCreate, id, err)
	}
	return rec.sandbox(path), nil
}

// sandboxNamesLocked returns the name index, reading the records the first
// time. d.sandboxMu is held.
func (d *Driver) sandboxNamesLocked() (map[string]string, error) {
	if d.sandboxNames != nil {
		return d.sandboxNames, nil
	}
	recs, err := d.sandboxRecords()
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(recs))
	for _, r := range recs {
		names[r.Name] = r.ID
	}
	d.sandboxNames = names
	return names, nil
}

func (r sandboxRec) sandbox(path string) driver.Sandbox {
	return driver.Sandbox{ID: r.ID, Name: r.Name, NetNSPath: path, Labels: maps.Clone(r.Labels)}
}

// RemoveSandbox unmounts the namespace and deletes the sandbox's files; the
// namespace itself ends when no process is left in it. An unknown ID is
// not an error.
func (d *Driver) RemoveSandbox(_ context.Context, id string) error {
	if !validID(id) {
		return nil // never created: nothing to remove
	}
	d.sandboxMu.Lock()
	defer d.sandboxMu.Unlock()
	return d.removeSandboxLocked(id)
}

// removeSandboxLocked removes sandbox id, and the netns directory's own
// mount once no sandbox is left, so that a state directory without
// sandboxes holds no mount point. d.sandboxMu is held.
func (d *Driver) removeSandboxLocked(id string) error {
	path := d.netnsPath(id)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("sandbox %s: unmounting %s: %w", id, path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sandbox %s: %w", id, err)
	}
	if err := os.Remove(d.sandboxResolvPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sandbox %s: %w", id, err)
	}
	if err := os.Remove(d.sandboxRecPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sandbox %s: %w", id, err)
	}
	for name, other := range d.sandboxNames {
		if other == id {
			delete(d.sandboxNames, name)
		}
	}
	if entries, err := os.ReadDir(d.netnsDir()); err == nil && len(entries) == 0 {
		if err := unix.Unmount(d.netnsDir(), unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmounting %s: %w", d.netnsDir(), err)
		}
	}
	return nil
}

// ListSandboxes returns the sandboxes of the state directory whose
// namespace is mounted. A record without one (the host rebooted, or an
// agent crashed while creating it) is a sandbox that can never be used:
// it is removed.
func (d *Driver) ListSandboxes(context.Context) ([]driver.Sandbox, error) {
	d.sandboxMu.Lock()
	defer d.sandboxMu.Unlock()
	recs, err := d.sandboxRecords()
	if err != nil {
		return nil, err
	}
	out := make([]driver.Sandbox, 0, len(recs))
	for _, r := range recs {
		path := d.netnsPath(r.ID)
		if !isNetNS(path) {
			if err := d.removeSandboxLocked(r.ID); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, r.sandbox(path))
	}
	return out, nil
}

// sandboxRecords reads sandboxes/*.json.
func (d *Driver) sandboxRecords() ([]sandboxRec, error) {
	entries, err := os.ReadDir(filepath.Join(d.stateDir, dirSandboxes))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []sandboxRec
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !validID(id) {
			continue
		}
		data, err := os.ReadFile(d.sandboxRecPath(id))
		if err != nil {
			continue // removed meanwhile
		}
		var r sandboxRec
		if err := json.Unmarshal(data, &r); err != nil || r.ID != id {
			return nil, fmt.Errorf("sandbox record %s: bad content", d.sandboxRecPath(id))
		}
		out = append(out, r)
	}
	return out, nil
}

// sandboxNetNS is the namespace path of a container's sandbox, which must
// exist.
func (d *Driver) sandboxNetNS(id string) (string, error) {
	if !validID(id) {
		return "", cannotCreate("sandbox %q: %v", id, driver.ErrNotFound)
	}
	path := d.netnsPath(id)
	if _, err := os.Stat(d.sandboxRecPath(id)); err != nil || !isNetNS(path) {
		return "", cannotCreate("sandbox %s: %v", id, driver.ErrNotFound)
	}
	return path, nil
}

// isNetNS reports whether path is a mounted namespace (nsfs).
func isNetNS(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// sharedMountDir makes dir a mount point with shared propagation, as
// `ip netns add` does for /run/netns: a namespace mounted in it, and its
// unmount, propagate to mount namespaces copied from this one, so a copy
// never keeps a removed namespace alive. It binds dir onto itself when it
// is not a mount point yet.
func sharedMountDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for bound := false; ; bound = true {
		err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || bound {
			return fmt.Errorf("making %s a shared mount: %w", dir, err)
		}
		if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind-mounting %s on itself: %w", dir, err)
		}
	}
}

// mountNewNetNS creates a network namespace, brings its lo up and
// bind-mounts it on path (created here).
func mountNewNetNS(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	err = onNetNSThread(func() error {
		ns, err := netns.New() // unshare(CLONE_NEWNET) of this thread
		if err != nil {
			return fmt.Errorf("new network namespace: %w", err)
		}
		ns.Close()
		return nil
	}, func() error {
		if err := loopbackUp(); err != nil {
			return err
		}
		src := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting the network namespace on %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		os.Remove(path)
	}
	return err
}

// loopbackUp sets lo up in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo: reading flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo: setting up: %w", err)
	}
	return nil
}

// inNetNS runs fn on a thread that has joined the network namespace at
// path: processes fn forks start in it.
func inNetNS(path string, fn func()) error {
	return onNetNSThread(func() error {
		ns, err := netns.GetFromPath(path)
		if err != nil {
			return fmt.Errorf("opening the network namespace %s: %w", path, err)
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("joining the network namespace %s: %w", path, err)
		}
		return nil
	}, func() error { fn(); return nil })
}

// onNetNSThread runs enter, then fn, on an OS thread of their own, and
// puts the thread back into its network namespace before the Go scheduler
// may run anything else on it. A thread that cannot go back stays locked
// and ends with its goroutine (were it the main thread, the runtime would
// park it for good: it would neither run goroutines nor leave the
// namespace, which it would then keep alive).
func onNetNSThread(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("reading the thread's network namespace: %w", err)
			return
		}
		defer origin.Close()
		err = enter()
		if err == nil {
			err = fn()
		}
		if netns.Set(origin) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
