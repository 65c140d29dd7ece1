package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/pause"
	"berth.dev/berth/internal/selfimage"
	"berth.dev/berth/internal/version"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// LabelPauseSHA256 is the pause image's label holding its binary's sha256.
const LabelPauseSHA256 = "berth.pause.sha256"

// sandboxStopTimeout bounds RemoveSandbox's SIGTERM; pause exits at once.
const sandboxStopTimeout = 10 * time.Second

var _ driver.Sandboxer = (*Driver)(nil)

// DefaultPauseImage is the pause image's tag for this berth version.
func DefaultPauseImage() string {
	v := regexp.MustCompile(`[^A-Za-z0-9_.-]`).ReplaceAllString(version.String(), "-")
	if len(v) > 100 {
		v = v[:100]
	}
	return "berth-pause:" + v
}

// EnsurePauseImage returns the pause image's tag once the engine has it:
// the first call makes it from the pause binary unless an image of that
// binary already has the tag (selfimage.Ensure); later calls return at
// once. CreateSandbox calls it; an agent may call it at start.
func (d *Driver) EnsurePauseImage(ctx context.Context) (string, error) {
	d.pauseMu.Lock()
	defer d.pauseMu.Unlock()
	if d.pauseReady {
		return d.pauseTag, nil
	}
	if d.pauseBin == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("pause image: finding the berth binary: %w", err)
		}
		d.pauseBin = exe
	}
	built, err := selfimage.Ensure(ctx, d.cli, selfimage.Image{
		Tag:         d.pauseTag,
		Exe:         d.pauseBin,
		What:        "pause image",
		EntryPoint:  []string{selfimage.BinaryInImage, pause.Command},
		LabelSHA256: LabelPauseSHA256,
		Message:     "berth pause (sandbox) container",
	}, io.Discard)
	if err != nil {
		return "", err
	}
	if built {
		d.log.Info("made the pause image", "image", d.pauseTag, "binary", d.pauseBin)
	}
	d.pauseReady = true
	return d.pauseTag, nil
}

// sandboxCreateOptions is the pause container of spec.
func sandboxCreateOptions(spec driver.SandboxSpec, image string) (client.ContainerCreateOptions, error) {
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[driver.LabelManaged] = "true"
	labels[driver.LabelSandbox] = "true"
	hc := &container.HostConfig{
		NetworkMode:    "none", // the host side plugs in an interface later
		RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyDisabled},
		LogConfig:      container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": LogMaxSize, "max-file": LogMaxFiles}},
		DNSSearch:      slices.Clone(spec.DNSSearch),
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		Resources:      container.Resources{CPUShares: minCPUShares},
	}
	for _, s := range spec.DNSServers {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return client.ContainerCreateOptions{}, fmt.Errorf("dns server %q: %w", s, err)
		}
		hc.DNS = append(hc.DNS, a)
	}
	cfg := &container.Config{
		Image:       image,
		Hostname:    spec.Hostname,
		Labels:      labels,
		Healthcheck: &container.HealthConfig{Test: []string{"NONE"}},
	}
	return client.ContainerCreateOptions{Name: spec.Name, Config: cfg, HostConfig: hc}, nil
}

// CreateSandbox creates and starts the sandbox's pause container (making
// the pause image first if the engine lacks it) and returns the sandbox
// with NetNSPath /proc/PID/ns/net of the pause process.
func (d *Driver) CreateSandbox(ctx context.Context, spec driver.SandboxSpec) (driver.Sandbox, error) {
	image, err := d.EnsurePauseImage(ctx)
	if err != nil {
		return driver.Sandbox{}, wrap(driver.ErrCannotCreate, err)
	}
	opts, err := sandboxCreateOptions(spec, image)
	if err != nil {
		return driver.Sandbox{}, wrap(driver.ErrCannotCreate, err)
	}
	res, err := d.cli.ContainerCreate(ctx, opts)
	if err != nil {
		return driver.Sandbox{}, wrap(driver.ErrCannotCreate, err)
	}
	for _, w := range res.Warnings {
		d.log.Warn("docker create", "sandbox", spec.Name, "warning", w)
	}
	fail := func(err error) (driver.Sandbox, error) {
		d.removePause(context.WithoutCancel(ctx), res.ID)
		return driver.Sandbox{}, wrap(driver.ErrCannotCreate, fmt.Errorf("sandbox %s: %w", spec.Name, err))
	}
	if _, err := d.cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		return fail(err)
	}
	sb, err := d.inspectSandbox(ctx, res.ID)
	if err != nil {
		return fail(err)
	}
	if sb.NetNSPath == "" {
		return fail(fmt.Errorf("the pause container %s is not running", res.ID))
	}
	return sb, nil
}

// inspectSandbox reads a pause container; NetNSPath is empty when it does
// not run.
func (d *Driver) inspectSandbox(ctx context.Context, id string) (driver.Sandbox, error) {
	res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return driver.Sandbox{}, classify("inspect sandbox", id, err)
	}
	c := res.Container
	sb := driver.Sandbox{ID: c.ID, Name: trimSlash(c.Name)}
	if c.Config != nil {
		sb.Labels = maps.Clone(c.Config.Labels)
		delete(sb.Labels, LabelPauseSHA256) // the image's, which the engine merges in
	}
	if sb.Labels[driver.LabelSandbox] != "true" {
		return driver.Sandbox{}, fmt.Errorf("container %s is not a sandbox", id)
	}
	if c.State != nil && c.State.Running && c.State.Pid > 0 {
		sb.NetNSPath = fmt.Sprintf("/proc/%d/ns/net", c.State.Pid)
	}
	return sb, nil
}

// RemoveSandbox stops and removes the pause container. An unknown ID is
// not an error; a container that is not a sandbox is refused.
func (d *Driver) RemoveSandbox(ctx context.Context, id string) error {
	if _, err := d.inspectSandbox(ctx, id); err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	return d.removePause(ctx, id)
}

func (d *Driver) removePause(ctx context.Context, id string) error {
	secs := int(sandboxStopTimeout / time.Second)
	if _, err := d.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("stop sandbox %s: %w", id, err)
	}
	if _, err := d.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove sandbox %s: %w", id, err)
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, driver.ErrNotFound) }

// ListSandboxes returns every pause container berth created, running or
// not. One that does not run (the engine or host restarted: it has no
// restart policy) has no NetNSPath: its namespace is gone, and with it the
// network of the containers that joined it; remove it.
func (d *Driver) ListSandboxes(ctx context.Context) ([]driver.Sandbox, error) {
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", driver.LabelManaged+"=true", driver.LabelSandbox+"=true"),
	})
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	out := make([]driver.Sandbox, 0, len(res.Items))
	for _, c := range res.Items {
		sb, err := d.inspectSandbox(ctx, c.ID)
		if isNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sb)
	}
	return out, nil
}
