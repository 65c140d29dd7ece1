//go:build linux

package process

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"strings"

	"berth.dev/berth/internal/driver"
)

// basePath is the PATH a workload gets unless its env sets one (Docker's
// default).
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func cannotCreate(format string, args ...any) error {
	return fmt.Errorf("%w: %s", driver.ErrCannotCreate, fmt.Sprintf(format, args...))
}

// prepare validates spec against what the process runtime can honour and
// derives the exec plan, bindings and limits. Every member is either
// honoured or refused, except Hostname (not applied), Image (recorded),
// and the limits where the driver has no cgroups (see Limits and
// TaskLimits).
func (d *Driver) prepare(spec driver.Spec) (*record, error) {
	argv := d.imageArgv(spec.Image, spec.EntryPoint, spec.Command)
	if len(argv) == 0 || argv[0] == "" {
		return nil, cannotCreate("no command specified: the process runtime runs entryPoint+command and has no image to take a default from")
	}
	if err := refuseUnsupported(spec); err != nil {
		return nil, err
	}
	if (len(spec.DNSServers) > 0 || len(spec.DNSSearch) > 0) && !d.mountNS {
		return nil, d.errNoMountNS()
	}
	var (
		bindings []driver.Binding // none in a sandbox: nothing is published
		netNS    string
		resolv   string // the sandbox's resolv.conf, if it has one
		err      error
	)
	if spec.Sandbox != "" {
		if netNS, err = d.sandboxNetNS(spec.Sandbox); err != nil {
			return nil, err
		}
		if p := d.sandboxResolvPath(spec.Sandbox); fileExists(p) {
			resolv = p
		}
	} else if bindings, err = bindingsFor(spec.NetworkMode, spec.Ports); err != nil {
		return nil, err
	}
	rlimits, err := rlimitsFor(spec.Ulimits)
	if err != nil {
		return nil, err
	}
	cred, home, err := d.credentialFor(spec.User)
	if err != nil {
		return nil, err
	}
	dir := spec.WorkingDir
	if dir == "" {
		dir = "/"
	}
	if !filepath.IsAbs(dir) {
		return nil, cannotCreate("the working directory %q is invalid, it needs to be an absolute path", spec.WorkingDir)
	}
	env, err := buildEnv(home, spec.Env)
	if err != nil {
		return nil, err
	}
	if spec.MemoryMiB < 0 || spec.MemoryReservation < 0 || spec.CPUShares < 0 {
		return nil, cannotCreate("negative memory, memoryReservation or cpu")
	}
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[driver.LabelManaged] = "true"
	return &record{
		Version:  stateVersion,
		Spec:     spec,
		Labels:   labels,
		Plan:     execPlan{Argv: argv, Env: env, Dir: filepath.Clean(dir), User: cred, Rlimits: rlimits, NetNS: netNS, ResolvConf: resolv},
		Bindings: bindings,
	}, nil
}

// refuseUnsupported refuses the members the process runtime cannot honour.
func refuseUnsupported(spec driver.Spec) error {
	if err := driver.CheckNetwork(spec); err != nil {
		return cannotCreate("%v", err)
	}
	switch {
	case spec.Privileged:
		return cannotCreate("privileged is not supported by the process runtime: processes run with the agent's privileges or the requested user's")
	case len(spec.CapAdd) > 0 || len(spec.CapDrop) > 0:
		return cannotCreate("linuxParameters.capabilities are not supported by the process runtime")
	case spec.ReadonlyRootfs:
		return cannotCreate("readonlyRootFilesystem is not supported by the process runtime: processes see the host's filesystem")
	case len(spec.ExtraHosts) > 0:
		return cannotCreate("extraHosts is not supported by the process runtime: processes use the host's /etc/hosts")
	case len(spec.Devices) > 0:
		return cannotCreate("linuxParameters.devices is not supported by the process runtime: processes see the host's devices")
	case len(spec.Tmpfs) > 0 || spec.ShmSizeMiB != 0:
		return cannotCreate("linuxParameters.tmpfs and sharedMemorySize are not supported by the process runtime: there is no mount namespace")
	case len(spec.Sysctls) > 0:
		return cannotCreate("systemControls is not supported by the process runtime: processes share the host's kernel parameters")
	case len(spec.SecurityOpt) > 0:
		return cannotCreate("dockerSecurityOptions is not supported by the process runtime")
	}
	switch spec.NetworkMode {
	case "", "bridge", "host", driver.NetworkAWSVPC:
	case "none":
		return cannotCreate("network mode none is not supported by the process runtime: processes share the host's network")
	default:
		return cannotCreate("network mode %q is not supported by the process runtime", spec.NetworkMode)
	}
	for _, m := range spec.Mounts {
		src, dst := filepath.Clean(m.Source), filepath.Clean(m.Target)
		if !filepath.IsAbs(m.Source) || src != dst {
			return cannotCreate("mount %s -> %s is not supported by the process runtime: there is no mount namespace, a host path can only be used at the same path", m.Source, m.Target)
		}
		if m.ReadOnly {
			return cannotCreate("read-only mount %s is not supported by the process runtime", m.Source)
		}
	}
	return nil
}

// bindingsFor maps port mappings without NAT: a process binds host ports
// itself, so the host port must be the container port.
func bindingsFor(mode string, ports []driver.PortMapping) ([]driver.Binding, error) {
	var out []driver.Binding
	for _, p := range ports {
		proto := strings.ToLower(p.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			return nil, cannotCreate("port %d: protocol %q is not tcp or udp", p.ContainerPort, p.Protocol)
		}
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return nil, cannotCreate("invalid container port %d", p.ContainerPort)
		}
		host := p.HostPort
		switch {
		case host == 0 && mode == "host":
			host = p.ContainerPort
		case host == 0:
			return nil, cannotCreate("port %d/%s: the process runtime cannot give a dynamic host port (no NAT): set hostPort to the container port, or use network mode host", p.ContainerPort, proto)
		case host != p.ContainerPort:
			return nil, cannotCreate("port %d/%s: the process runtime cannot publish it on host port %d (no NAT): the host port must equal the container port", p.ContainerPort, proto, host)
		}
		out = append(out, driver.Binding{ContainerPort: p.ContainerPort, HostPort: host, Protocol: proto, HostIP: "0.0.0.0"})
	}
	return out, nil
}

// rlimitsFor validates ulimits; negative values mean unlimited.
func rlimitsFor(ulimits []driver.Ulimit) ([]rlimit, error) {
	var out []rlimit
	for _, u := range ulimits {
		if _, ok := rlimitResources[u.Name]; !ok {
			return nil, cannotCreate("unknown ulimit %q", u.Name)
		}
		soft, hard := rlimValue(u.Soft), rlimValue(u.Hard)
		if soft > hard {
			return nil, cannotCreate("ulimit %s: soft limit %d is above the hard limit %d", u.Name, u.Soft, u.Hard)
		}
		out = append(out, rlimit{Name: u.Name, Soft: soft, Hard: hard})
	}
	return out, nil
}

func rlimValue(v int64) uint64 {
	if v < 0 {
		return math.MaxUint64 // RLIM_INFINITY
	}
	return uint64(v)
}

// buildEnv is the base environment (PATH, HOME) with env on top; a later
// value of a name replaces an earlier one in its place.
func buildEnv(home string, env []string) ([]string, error) {
	if home == "" {
		home = "/"
	}
	out := []string{"PATH=" + basePath, "HOME=" + home}
	index := map[string]int{"PATH": 0, "HOME": 1}
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || strings.ContainsRune(kv, 0) {
			return nil, cannotCreate("invalid environment variable %q: want NAME=VALUE", kv)
		}
		if i, seen := index[name]; seen {
			out[i] = kv
			continue
		}
		index[name] = len(out)
		out = append(out, kv)
	}
	return out, nil
}

// lookupEnv returns the value of name in env.
func lookupEnv(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// cpuWeight maps cpu shares to cgroup v2 cpu.weight as runc does; 0 keeps
// the default.
func cpuWeight(shares int64) int64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// imageArgv is entryPoint+command of a container of image, with the
// image's entry point and files applied (see Options.Images).
func (d *Driver) imageArgv(image string, entryPoint, command []string) []string {
	if img, ok := d.images[image]; ok && len(entryPoint) == 0 {
		entryPoint = img.EntryPoint
	}
	return d.imageFile(image, append(append([]string{}, entryPoint...), command...))
}

// imageFile is argv with its first word mapped to a host file when it is
// one of image's Files; argv itself is never modified.
func (d *Driver) imageFile(image string, argv []string) []string {
	if len(argv) == 0 {
		return argv
	}
	if host, ok := d.images[image].Files[argv[0]]; ok {
		argv = append([]string{host}, argv[1:]...)
	}
	return argv
}
