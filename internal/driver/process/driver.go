//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/driver"
)

// Driver runs containers as host processes under a shim each.
type Driver struct {
	stateDir    string
	shimPath    string
	shimArgs    []string
	logMaxBytes int64
	logFiles    int
	poll        time.Duration
	limits      Limits
	euid, egid  int
	// mountNS: the runtime may give workloads a mount namespace of their
	// own, which DNS settings need (see resolv.go).
	mountNS bool
	images  map[string]Image

	// index caches spec.json (written once by Create) and maps names to
	// IDs, so that Create checks a name and resolve finds a container
	// without reading the state directory.
	index *index

	children sync.Map            // ID -> *child: a shim this driver started
	stats    driver.StatsHistory // previous samples (ContainerStats)
	secrets  sync.Map            // ID -> []string: a container's secrets (Spec.Secrets), in memory only

	sandboxMu sync.Mutex // serialises sandbox creation and removal
	// sandboxNames maps the sandboxes' names to their IDs, read from the
	// records once (nil until then) and kept in step under sandboxMu, so a
	// creation does not read every record to check its name.
	sandboxNames map[string]string

	launchMu sync.Mutex
	launched chan struct{} // closed (and replaced) when this driver launches a shim
}

var _ driver.Driver = (*Driver)(nil)

// New returns a driver keeping its state in opts.StateDir. Containers found
// there are adopted as they are.
func New(opts Options) (*Driver, error) {
	if opts.StateDir == "" {
		return nil, errors.New("process runtime: StateDir is required")
	}
	stateDir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	d := &Driver{
		stateDir:    stateDir,
		shimPath:    opts.ShimPath,
		shimArgs:    opts.ShimArgs,
		logMaxBytes: opts.LogMaxBytes,
		logFiles:    opts.LogFiles,
		poll:        opts.PollInterval,
		euid:        os.Geteuid(),
		mountNS:     canMountNS(),
		egid:        os.Getegid(),
		images:      opts.Images,
	}
	if d.shimPath == "" {
		if d.shimPath, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("process runtime: finding the berth binary for the shim: %w", err)
		}
		if d.shimArgs == nil {
			d.shimArgs = []string{ShimCommand}
		}
	}
	if fi, err := os.Stat(d.shimPath); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("process runtime: shim %s is not an executable file", d.shimPath)
	}
	if d.logMaxBytes == 0 {
		d.logMaxBytes = DefaultLogMaxBytes
	}
	if d.logFiles == 0 {
		d.logFiles = DefaultLogFiles
	}
	if d.logMaxBytes < 1024 || d.logFiles < 1 {
		return nil, errors.New("process runtime: LogMaxBytes must be at least 1024 and LogFiles at least 1")
	}
	if d.poll <= 0 {
		d.poll = DefaultPollInterval
	}
	if d.limits, err = detectCgroups(opts); err != nil {
		return nil, err
	}
	if opts.RequireCgroup && !(d.limits.Memory && d.limits.CPU) {
		return nil, fmt.Errorf("process runtime: memory and CPU limits cannot be enforced: %s", d.limits.Reason)
	}
	// Finish what an interrupted Remove started.
	if entries, err := os.ReadDir(stateDir); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), removingPrefix) {
				os.RemoveAll(filepath.Join(stateDir, e.Name()))
			}
		}
	}
	d.index = newIndex()
	d.launched = make(chan struct{})
	if _, err := d.List(context.Background()); err != nil {
		return nil, fmt.Errorf("process runtime: reading %s: %w", stateDir, err)
	}
	return d, nil
}

// Name is "process".
func (d *Driver) Name() string { return "process" }

// Limits reports which limits this driver enforces.
func (d *Driver) Limits() Limits { return d.limits }

// Pull succeeds for every pull policy without pulling: the process runtime
// records the image and runs no image.
func (d *Driver) Pull(_ context.Context, _ string, policy driver.PullPolicy) error {
	switch policy {
	case "", driver.PullDefault, driver.PullAlways, driver.PullOnce, driver.PullPreferCached:
		return nil
	}
	return fmt.Errorf("%w: unknown pull policy %q", driver.ErrCannotPull, policy)
}

func (d *Driver) dir(id string) string { return filepath.Join(d.stateDir, id) }

// Create records a container without starting it.
func (d *Driver) Create(_ context.Context, spec driver.Spec) (driver.Handle, error) {
	rec, err := d.prepare(spec)
	if err != nil {
		return driver.Handle{}, err
	}
	id, err := newID()
	if err != nil {
		return driver.Handle{}, err
	}
	rec.ID, rec.Name, rec.Created = id, spec.Name, time.Now()
	if rec.Name == "" {
		rec.Name = id
	}
	rec.Cgroup = d.limits.cgroupFor(id, spec.MemoryMiB, spec.MemoryReservation, spec.CPUShares)
	if err := d.limits.inTask(rec.Cgroup, spec.Task); err != nil {
		return driver.Handle{}, err
	}
	rec.LogMaxBytes, rec.LogFiles = d.logMaxBytes, d.logFiles
	rec.ShimArgs = d.shimArgs
	secrets := slices.Clone(spec.Secrets)
	if len(secrets) > 0 {
		if rec.SecretNames, err = secretNames(secrets); err != nil {
			return driver.Handle{}, err
		}
	}
	rec.Spec.Secrets = nil

	dir := d.dir(id)
	d.index.mu.Lock()
	defer d.index.mu.Unlock()
	if other, taken := d.index.names[rec.Name]; taken {
		return driver.Handle{}, cannotCreate("the container name %q is already in use by container %s", rec.Name, other)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return driver.Handle{}, fmt.Errorf("%w: %v", driver.ErrCannotCreate, err)
	}
	if spec.Sandbox == "" && (len(spec.DNSServers) > 0 || len(spec.DNSSearch) > 0) {
		rec.Plan.ResolvConf = filepath.Join(dir, fileResolvConf)
		if err := writeResolvConf(rec.Plan.ResolvConf, spec.DNSServers, spec.DNSSearch); err != nil {
			os.RemoveAll(dir)
			return driver.Handle{}, fmt.Errorf("%w: resolv.conf: %v", driver.ErrCannotCreate, err)
		}
	}
	if err := writeJSON(filepath.Join(dir, fileSpec), rec); err != nil {
		os.RemoveAll(dir)
		return driver.Handle{}, fmt.Errorf("%w: %v", driver.ErrCannotCreate, err)
	}
	if len(secrets) > 0 {
		d.secrets.Store(id, secrets)
	}
	d.index.putLocked(rec)
	return driver.Handle{ID: id, Name: rec.Name, Labels: rec.Labels}, nil
}

// List returns every container in the state directory. It reads the
// directory (containers another driver created on it are found too) and
// refreshes the index.
func (d *Driver) List(context.Context) ([]driver.Handle, error) {
	entries, err := os.ReadDir(d.stateDir)
	if err != nil {
		return nil, err
	}
	var out []driver.Handle
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !e.IsDir() || !validID(e.Name()) {
			continue
		}
		rec, err := d.record(e.Name())
		if err != nil {
			continue // half-created or removed meanwhile
		}
		seen[rec.ID] = true
		out = append(out, driver.Handle{ID: rec.ID, Name: rec.Name, Labels: rec.Labels})
	}
	d.index.retain(seen)
	return out, nil
}

// record returns container id's spec.json, from the index or else from the
// state directory (a container another driver created), which it indexes.
func (d *Driver) record(id string) (*record, error) {
	if rec := d.index.get(id); rec != nil {
		return rec, nil
	}
	rec, err := readRecord(d.dir(id))
	if err != nil {
		return nil, err
	}
	if rec.ID != id {
		return nil, fmt.Errorf("%s: spec.json is for container %q", d.dir(id), rec.ID)
	}
	d.index.put(rec)
	return rec, nil
}

// resolve finds a handle's ID (by name when the ID is empty).
func (d *Driver) resolve(h driver.Handle) (string, error) {
	if h.ID == "" && h.Name != "" {
		if id := d.index.byName(h.Name); id != "" {
			return id, nil
		}
		if _, err := d.List(context.Background()); err != nil { // created by another driver?
			return "", err
		}
		if id := d.index.byName(h.Name); id != "" {
			return id, nil
		}
		return "", fmt.Errorf("%w: %s", driver.ErrNotFound, h.Name)
	}
	if !validID(h.ID) {
		return "", fmt.Errorf("%w: %q", driver.ErrNotFound, h.ID)
	}
	if _, err := os.Stat(filepath.Join(d.dir(h.ID), fileSpec)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			d.index.remove(h.ID)
			return "", fmt.Errorf("%w: %s", driver.ErrNotFound, h.ID)
		}
		return "", err
	}
	return h.ID, nil
}

// Remove deletes a container that is not running, with its logs.
func (d *Driver) Remove(_ context.Context, h driver.Handle) error {
	id, err := d.resolve(h)
	if err != nil {
		return err
	}
	s, err := d.snapshot(id, 0)
	if err != nil {
		return err
	}
	if s.started && !s.terminal() {
		return fmt.Errorf("container %s is running: stop it before removing it", id)
	}
	if cg := s.rec.Cgroup; cg != nil {
		if err := os.Remove(cg.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the cgroup of %s: %w", id, err)
		}
	}
	trash := filepath.Join(d.stateDir, removingPrefix+id)
	if err := os.Rename(d.dir(id), trash); err != nil {
		return err
	}
	d.children.Delete(id)
	d.secrets.Delete(id)
	d.stats.Forget(id)
	d.index.remove(id)
	return os.RemoveAll(trash)
}
