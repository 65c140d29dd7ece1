package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/taskplan"
)

// taskID is the last segment of a task ARN.
func taskID(taskArn string) string {
	return taskArn[strings.LastIndex(taskArn, "/")+1:]
}

// plannerSpecs turns a task definition into the planner's container specs.
func plannerSpecs(def *shape.TaskDefinition) []taskplan.ContainerSpec {
	out := make([]taskplan.ContainerSpec, 0, len(def.ContainerDefinitions))
	for _, cd := range def.ContainerDefinitions {
		s := taskplan.ContainerSpec{
			Name:        deref(cd.Name),
			Essential:   cd.Essential == nil || *cd.Essential,
			HealthCheck: cd.HealthCheck != nil,
		}
		if cd.StartTimeout != nil {
			s.StartTimeout = time.Duration(*cd.StartTimeout) * time.Second
		}
		if cd.StopTimeout != nil {
			s.StopTimeout = time.Duration(*cd.StopTimeout) * time.Second
		}
		for _, d := range cd.DependsOn {
			s.DependsOn = append(s.DependsOn, taskplan.Dependency{Container: deref(d.ContainerName), Condition: taskplan.Condition(d.Condition)})
		}
		out = append(out, s)
	}
	return out
}

// driverSpec builds the runtime spec of container i of t.
func (a *Agent) driverSpec(t *agentproto.Task, i int) (driver.Spec, error) {
	def := t.Definition
	cd := def.ContainerDefinitions[i]
	name := deref(cd.Name)
	var co *shape.ContainerOverride
	if t.Overrides != nil {
		for j := range t.Overrides.ContainerOverrides {
			if deref(t.Overrides.ContainerOverrides[j].Name) == name {
				co = &t.Overrides.ContainerOverrides[j]
			}
		}
	}
	id := taskID(t.TaskArn)
	s := driver.Spec{
		Name:        fmt.Sprintf("ecs-%s-%d-%s-%s", deref(def.Family), def.Revision, sanitize(name), id),
		Image:       deref(cd.Image),
		EntryPoint:  cd.EntryPoint,
		Command:     cd.Command,
		WorkingDir:  deref(cd.WorkingDirectory),
		User:        deref(cd.User),
		Hostname:    deref(cd.Hostname),
		CPUShares:   int64(cd.Cpu),
		NetworkMode: string(def.NetworkMode),
		DNSServers:  cd.DnsServers,
		DNSSearch:   cd.DnsSearchDomains,
		HealthCheck: healthSpec(cd.HealthCheck),
		Task:        taskLimits(t),
		Labels: map[string]string{
			driver.LabelManaged:       "true",
			driver.LabelTaskARN:       t.TaskArn,
			driver.LabelContainerName: name,
			driver.LabelCluster:       t.ClusterArn,
			driver.LabelFamily:        deref(def.Family),
			driver.LabelRevision:      strconv.Itoa(int(def.Revision)),
		},
	}
	if s.NetworkMode == "" {
		s.NetworkMode = "bridge"
	}
	if cd.Memory != nil {
		s.MemoryMiB = int64(*cd.Memory)
	}
	if cd.MemoryReservation != nil {
		s.MemoryReservation = int64(*cd.MemoryReservation)
	}
	env := map[string]int{}
	add := func(k, v string) {
		if j, ok := env[k]; ok {
			s.Env[j] = k + "=" + v
			return
		}
		env[k] = len(s.Env)
		s.Env = append(s.Env, k+"="+v)
	}
	for _, kv := range cd.Environment {
		add(deref(kv.Name), deref(kv.Value))
	}
	if co != nil {
		if co.Command != nil {
			s.Command = co.Command
		}
		if co.Cpu != nil {
			s.CPUShares = int64(*co.Cpu)
		}
		if co.Memory != nil {
			s.MemoryMiB = int64(*co.Memory)
		}
		if co.MemoryReservation != nil {
			s.MemoryReservation = int64(*co.MemoryReservation)
		}
		for _, kv := range co.Environment {
			add(deref(kv.Name), deref(kv.Value))
		}
	}
	for _, kv := range a.endpointEnv(t, name) {
		if _, set := env[kv[0]]; !set {
			add(kv[0], kv[1])
		}
	}
	for k, v := range cd.DockerLabels {
		if _, reserved := s.Labels[k]; !reserved {
			s.Labels[k] = v
		}
	}
	for _, pm := range cd.PortMappings {
		if pm.ContainerPort == nil {
			continue // port ranges are not published by berth yet
		}
		p := driver.PortMapping{ContainerPort: int(*pm.ContainerPort), Protocol: string(pm.Protocol)}
		if pm.HostPort != nil {
			p.HostPort = int(*pm.HostPort)
		}
		if p.Protocol == "" {
			p.Protocol = "tcp"
		}
		s.Ports = append(s.Ports, p)
	}
	for _, h := range cd.ExtraHosts {
		s.ExtraHosts = append(s.ExtraHosts, deref(h.Hostname)+":"+deref(h.IpAddress))
	}
	for _, u := range cd.Ulimits {
		s.Ulimits = append(s.Ulimits, driver.Ulimit{Name: string(u.Name), Soft: int64(u.SoftLimit), Hard: int64(u.HardLimit)})
	}
	s.ReadonlyRootfs = cd.ReadonlyRootFilesystem != nil && *cd.ReadonlyRootFilesystem
	s.Privileged = cd.Privileged != nil && *cd.Privileged
	if s.Privileged && a.cfg.DisablePrivileged {
		return s, fmt.Errorf("%w: privileged containers are disabled on this container instance", driver.ErrCannotCreate)
	}
	if lp := cd.LinuxParameters; lp != nil {
		if lp.Capabilities != nil {
			s.CapAdd, s.CapDrop = lp.Capabilities.Add, lp.Capabilities.Drop
		}
		s.Init = lp.InitProcessEnabled != nil && *lp.InitProcessEnabled
		for _, d := range lp.Devices {
			s.Devices = append(s.Devices, driver.Device{HostPath: deref(d.HostPath), ContainerPath: deref(d.ContainerPath),
				Permissions: devicePermissions(d.Permissions)})
		}
		for _, t := range lp.Tmpfs {
			s.Tmpfs = append(s.Tmpfs, driver.Tmpfs{ContainerPath: deref(t.ContainerPath), SizeMiB: int64(t.Size), Options: t.MountOptions})
		}
		if lp.SharedMemorySize != nil {
			s.ShmSizeMiB = int64(*lp.SharedMemorySize)
		}
	}
	for _, sc := range cd.SystemControls {
		if s.Sysctls == nil {
			s.Sysctls = map[string]string{}
		}
		s.Sysctls[deref(sc.Namespace)] = deref(sc.Value)
	}
	s.SecurityOpt = cd.DockerSecurityOptions
	mounts, err := a.mounts(t, cd)
	if err != nil {
		return s, err
	}
	s.Mounts = mounts
	if err := a.resolvers(t, &s); err != nil {
		return s, err
	}
	return s, nil
}

// resolvers applies Config.TaskDNS to a container spec whose task
// definition sets no dnsServers, and makes DNS settings in host mode work
// on Docker, which refuses them with the host's network: the agent writes
// the container's resolv.conf (in the data dir, removed with the task) and
// bind-mounts it read-only over /etc/resolv.conf. Containers in awsvpc
// mode get theirs from the sandbox (see provision); in mode none nothing
// changes.
func (a *Agent) resolvers(t *agentproto.Task, s *driver.Spec) error {
	mode := s.NetworkMode
	if mode == driver.NetworkAWSVPC || mode == "none" {
		return nil
	}
	if len(s.DNSServers) == 0 && a.cfg.TaskDNS != "" {
		if driver.SupportsDNS(a.cfg.Driver, mode) || a.mountsResolvConf(mode) {
			s.DNSServers = []string{a.cfg.TaskDNS}
		} else {
			a.logNoTaskDNS(mode)
		}
	}
	if (len(s.DNSServers) == 0 && len(s.DNSSearch) == 0) || !a.mountsResolvConf(mode) {
		return nil
	}
	host, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("%w: resolv.conf: %v", driver.ErrCannotCreate, err)
	}
	dir := a.resolvDir(t.TaskArn)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: resolv.conf: %v", driver.ErrCannotCreate, err)
	}
	path := filepath.Join(dir, sanitize(s.Labels[driver.LabelContainerName])+".conf")
	if err := os.WriteFile(path, driver.ResolvConf(s.DNSServers, s.DNSSearch, host), 0o644); err != nil {
		return fmt.Errorf("%w: resolv.conf: %v", driver.ErrCannotCreate, err)
	}
	s.DNSServers, s.DNSSearch = nil, nil
	s.Mounts = append(s.Mounts, driver.Mount{Source: path, Target: "/etc/resolv.conf", ReadOnly: true})
	return nil
}

// mountsResolvConf reports whether DNS settings in mode go through a
// resolv.conf the agent bind-mounts: Docker's host mode.
func (a *Agent) mountsResolvConf(mode string) bool {
	return mode == "host" && a.cfg.Driver.Name() == "docker" && !driver.SupportsDNS(a.cfg.Driver, mode)
}

// resolvDir holds the resolv.conf files of a task's containers.
func (a *Agent) resolvDir(taskArn string) string {
	return filepath.Join(a.cfg.DataDir, "resolv", taskID(taskArn))
}

// logNoTaskDNS says, once, that tasks keep the runtime's resolvers.
func (a *Agent) logNoTaskDNS(mode string) {
	a.noTaskDNS.Do(func() {
		a.log.Warn("the runtime cannot set task containers' resolvers here (the process runtime needs root for a mount namespace); tasks keep the host's", "taskDNS", a.cfg.TaskDNS, "runtime", a.cfg.Driver.Name(), "networkMode", mode)
	})
}

// mounts resolves mountPoints and volumesFrom to host paths. Host volumes
// with a sourcePath bind it; other volumes are task-scoped directories in
// the agent's data dir (shared docker volumes: one per volume name).
func (a *Agent) mounts(t *agentproto.Task, cd shape.ContainerDefinition) ([]driver.Mount, error) {
	def := t.Definition
	var out []driver.Mount
	resolve := func(mp shape.MountPoint, forceRO bool) error {
		vol := deref(mp.SourceVolume)
		var v *shape.Volume
		for i := range def.Volumes {
			if deref(def.Volumes[i].Name) == vol {
				v = &def.Volumes[i]
			}
		}
		if v == nil {
			return fmt.Errorf("%w: unknown volume %q", driver.ErrCannotCreate, vol)
		}
		var src string
		switch {
		case v.Host != nil && deref(v.Host.SourcePath) != "":
			src = *v.Host.SourcePath
		case v.DockerVolumeConfiguration != nil && v.DockerVolumeConfiguration.Scope == shape.ScopeShared:
			src = filepath.Join(a.cfg.DataDir, "volumes", "shared", sanitize(vol))
		default:
			src = filepath.Join(a.cfg.DataDir, "volumes", taskID(t.TaskArn), sanitize(vol))
		}
		if err := os.MkdirAll(src, 0o755); err != nil {
			return fmt.Errorf("%w: create volume %s: %v", driver.ErrCannotCreate, vol, err)
		}
		out = append(out, driver.Mount{Source: src, Target: deref(mp.ContainerPath),
			ReadOnly: forceRO || (mp.ReadOnly != nil && *mp.ReadOnly)})
		return nil
	}
	for _, mp := range cd.MountPoints {
		if err := resolve(mp, false); err != nil {
			return nil, err
		}
	}
	for _, vf := range cd.VolumesFrom {
		for _, src := range def.ContainerDefinitions {
			if deref(src.Name) != deref(vf.SourceContainer) {
				continue
			}
			for _, mp := range src.MountPoints {
				if err := resolve(mp, vf.ReadOnly != nil && *vf.ReadOnly); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// devicePermissions maps ECS device permissions (read, write, mknod) to
// cgroup permissions ("rwm"), as the ECS agent does; none means all.
func devicePermissions(ps []shape.DeviceCgroupPermission) string {
	out := ""
	for _, p := range ps {
		switch p {
		case shape.DeviceCgroupPermissionRead:
			out += "r"
		case shape.DeviceCgroupPermissionWrite:
			out += "w"
		case shape.DeviceCgroupPermissionMknod:
			out += "m"
		}
	}
	return out
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
