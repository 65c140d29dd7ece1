package docker

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// CPU share bounds the ECS agent applies (and the kernel's minimum).
const (
	minCPUShares = 2
	maxCPUShares = 262144
)

const mib = 1024 * 1024

// cpuShares maps ECS CPU units to Docker CPU shares: ECS passes 0, 1 and an
// absent value as 2, and caps at 262144.
// Bounds of a container's kept output (json-file log driver options).
const (
	LogMaxSize  = "10m"
	LogMaxFiles = "3"
)

func cpuShares(units int64) int64 {
	return min(max(units, minCPUShares), maxCPUShares)
}

// createOptions maps a Spec onto the engine's container create request.
// It is pure, so the mapping is tested without an engine.
func createOptions(spec driver.Spec) (client.ContainerCreateOptions, error) {
	if spec.Image == "" {
		return client.ContainerCreateOptions{}, fmt.Errorf("no image")
	}
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[driver.LabelManaged] = "true"

	cfg := &container.Config{
		Image:       spec.Image,
		Entrypoint:  nilIfEmpty(spec.EntryPoint),
		Cmd:         nilIfEmpty(spec.Command),
		Env:         driver.MergeEnv(spec.Env, spec.Secrets),
		WorkingDir:  spec.WorkingDir,
		User:        spec.User,
		Hostname:    spec.Hostname,
		Labels:      labels,
		Healthcheck: healthConfig(spec.HealthCheck),
	}
	hc := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		// The container's output is kept on the host, bounded and rotated.
		LogConfig:      container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": LogMaxSize, "max-file": LogMaxFiles}},
		AutoRemove:     false,
		ReadonlyRootfs: spec.ReadonlyRootfs,
		Privileged:     spec.Privileged,
		CapAdd:         slices.Clone(spec.CapAdd),
		CapDrop:        slices.Clone(spec.CapDrop),
		ExtraHosts:     slices.Clone(spec.ExtraHosts),
		DNSSearch:      slices.Clone(spec.DNSSearch),
		Resources: container.Resources{
			CPUShares:         cpuShares(spec.CPUShares),
			Memory:            spec.MemoryMiB * mib,
			MemoryReservation: spec.MemoryReservation * mib,
		},
	}
	if spec.Init {
		hc.Init = &spec.Init
	}
	hc.ShmSize = spec.ShmSizeMiB * mib
	hc.Sysctls = maps.Clone(spec.Sysctls)
	hc.SecurityOpt = slices.Clone(spec.SecurityOpt)
	for _, d := range spec.Devices {
		if d.HostPath == "" {
			return client.ContainerCreateOptions{}, fmt.Errorf("device: hostPath is required")
		}
		target := d.ContainerPath
		if target == "" {
			target = d.HostPath
		}
		hc.Devices = append(hc.Devices, container.DeviceMapping{PathOnHost: d.HostPath, PathInContainer: target, CgroupPermissions: cmp.Or(d.Permissions, "rwm")})
	}
	for _, t := range spec.Tmpfs {
		if t.ContainerPath == "" || t.SizeMiB <= 0 {
			return client.ContainerCreateOptions{}, fmt.Errorf("tmpfs %q: a container path and a positive size are required", t.ContainerPath)
		}
		if hc.Tmpfs == nil {
			hc.Tmpfs = map[string]string{}
		}
		hc.Tmpfs[t.ContainerPath] = strings.Join(append([]string{fmt.Sprintf("size=%dm", t.SizeMiB)}, t.Options...), ",")
	}

	if err := driver.CheckNetwork(spec); err != nil {
		return client.ContainerCreateOptions{}, err
	}
	if spec.Sandbox != "" {
		// The sandbox's pause container has the network, hostname and DNS;
		// nothing is published (the engine refuses ports in this mode).
		hc.NetworkMode = container.NetworkMode("container:" + spec.Sandbox)
	} else {
		mode, err := networkMode(spec.NetworkMode)
		if err != nil {
			return client.ContainerCreateOptions{}, err
		}
		hc.NetworkMode = mode
		if err := mapPorts(spec.Ports, cfg, hc); err != nil {
			return client.ContainerCreateOptions{}, err
		}
	}
	for _, m := range spec.Mounts {
		if m.Source == "" || m.Target == "" {
			return client.ContainerCreateOptions{}, fmt.Errorf("mount %q:%q: source and target are required", m.Source, m.Target)
		}
		b := m.Source + ":" + m.Target
		if m.ReadOnly {
			b += ":ro"
		}
		hc.Binds = append(hc.Binds, b)
	}
	for _, s := range spec.DNSServers {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return client.ContainerCreateOptions{}, fmt.Errorf("dns server %q: %w", s, err)
		}
		hc.DNS = append(hc.DNS, a)
	}
	for _, u := range spec.Ulimits {
		hc.Ulimits = append(hc.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	return client.ContainerCreateOptions{Name: spec.Name, Config: cfg, HostConfig: hc}, nil
}

// healthConfig is the container's Healthcheck: the task definition's health
// check, which the engine runs and reports in State.Health (see
// WatchHealth). ECS monitors only the task definition's health checks, so
// it replaces an image's own HEALTHCHECK, and without one that is switched
// off.
func healthConfig(hc *driver.HealthCheck) *container.HealthConfig {
	if hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	return &container.HealthConfig{
		Test:        slices.Clone(hc.Test),
		Interval:    hc.Interval,
		Timeout:     hc.Timeout,
		Retries:     hc.Retries,
		StartPeriod: hc.StartPeriod,
	}
}

func networkMode(m string) (container.NetworkMode, error) {
	switch m {
	case "", "bridge":
		return "bridge", nil
	case "host", "none":
		return container.NetworkMode(m), nil
	}
	return "", fmt.Errorf("network mode %q is not supported (bridge, host or none)", m)
}

// mapPorts exposes and publishes each mapping; HostPort 0 leaves the host
// port empty, which asks the engine for one from its ephemeral range. In
// host mode the engine ignores the bindings but keeps them, and the driver
// reports them from there (see bindings).
func mapPorts(ports []driver.PortMapping, cfg *container.Config, hc *container.HostConfig) error {
	if len(ports) == 0 {
		return nil
	}
	cfg.ExposedPorts = network.PortSet{}
	hc.PortBindings = network.PortMap{}
	for _, pm := range ports {
		proto := pm.Protocol
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			return fmt.Errorf("port %d: protocol %q is not tcp or udp", pm.ContainerPort, pm.Protocol)
		}
		if pm.ContainerPort < 1 || pm.ContainerPort > 65535 || pm.HostPort < 0 || pm.HostPort > 65535 {
			return fmt.Errorf("port mapping %d:%d: out of range", pm.HostPort, pm.ContainerPort)
		}
		p, _ := network.PortFrom(uint16(pm.ContainerPort), network.IPProtocol(proto))
		cfg.ExposedPorts[p] = struct{}{}
		hostPort := ""
		if pm.HostPort != 0 {
			hostPort = strconv.Itoa(pm.HostPort)
		}
		hc.PortBindings[p] = append(hc.PortBindings[p], network.PortBinding{HostPort: hostPort})
	}
	return nil
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
