package docker

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestCPUShares(t *testing.T) {
	for _, c := range []struct{ units, want int64 }{
		{0, 2}, {1, 2}, {2, 2}, {-5, 2}, {128, 128}, {1024, 1024}, {262144, 262144}, {262145, 262144}, {1 << 40, 262144},
	} {
		if got := cpuShares(c.units); got != c.want {
			t.Errorf("cpuShares(%d) = %d, want %d", c.units, got, c.want)
		}
	}
}

func TestCreateOptionsMapsEverySpecMember(t *testing.T) {
	spec := driver.Spec{
		Name:              "task-1-web",
		Image:             "berth-testapp:x",
		EntryPoint:        []string{"/berth-testapp"},
		Command:           []string{"--print", "2"},
		Env:               []string{"A=1", "B=2", "S=from-env"},
		Secrets:           []string{"S=secret"},
		WorkingDir:        "/tmp",
		User:              "65534:65534",
		Hostname:          "web",
		CPUShares:         0,
		MemoryMiB:         64,
		MemoryReservation: 32,
		NetworkMode:       "bridge",
		Ports: []driver.PortMapping{
			{ContainerPort: 8080, HostPort: 0},
			{ContainerPort: 8080, HostPort: 18080, Protocol: "tcp"},
			{ContainerPort: 53, HostPort: 5353, Protocol: "udp"},
		},
		Mounts:         []driver.Mount{{Source: "/srv/a", Target: "/a"}, {Source: "/srv/b", Target: "/b", ReadOnly: true}},
		ExtraHosts:     []string{"db:10.0.0.2"},
		DNSServers:     []string{"10.0.0.53", "fd00::53"},
		DNSSearch:      []string{"example.internal"},
		Labels:         map[string]string{driver.LabelTaskARN: "arn:task", driver.LabelContainerName: "web"},
		Ulimits:        []driver.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		ReadonlyRootfs: true,
		Privileged:     true,
		CapAdd:         []string{"NET_ADMIN"},
		CapDrop:        []string{"MKNOD"},
		Init:           true,
		Devices:        []driver.Device{{HostPath: "/dev/fuse"}, {HostPath: "/dev/nvidia0", ContainerPath: "/dev/gpu", Permissions: "rw"}},
		Tmpfs:          []driver.Tmpfs{{ContainerPath: "/scratch", SizeMiB: 64, Options: []string{"noexec", "nosuid"}}, {ContainerPath: "/run", SizeMiB: 1}},
		ShmSizeMiB:     128,
		Sysctls:        map[string]string{"net.core.somaxconn": "1024"},
		SecurityOpt:    []string{"no-new-privileges"},
		HealthCheck: &driver.HealthCheck{Test: []string{"CMD", "/berth-testapp", "health"},
			Interval: 5 * time.Second, Timeout: 2 * time.Second, Retries: 4, StartPeriod: 10 * time.Second},
	}
	opts, err := createOptions(spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg, hc := opts.Config, opts.HostConfig
	eq := func(what string, got, want any) {
		t.Helper()
		if !equal(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	eq("name", opts.Name, "task-1-web")
	eq("image", cfg.Image, "berth-testapp:x")
	eq("entrypoint", cfg.Entrypoint, []string{"/berth-testapp"})
	eq("cmd", cfg.Cmd, []string{"--print", "2"})
	eq("env", cfg.Env, []string{"A=1", "B=2", "S=secret"}) // the secret wins
	eq("workdir", cfg.WorkingDir, "/tmp")
	eq("user", cfg.User, "65534:65534")
	eq("hostname", cfg.Hostname, "web")
	eq("labels", cfg.Labels, map[string]string{driver.LabelTaskARN: "arn:task", driver.LabelContainerName: "web", driver.LabelManaged: "true"})
	if _, ok := spec.Labels[driver.LabelManaged]; ok {
		t.Error("createOptions wrote into the spec's label map")
	}
	eq("cpu shares", hc.CPUShares, int64(2))
	eq("memory", hc.Memory, int64(64<<20))
	eq("memory reservation", hc.MemoryReservation, int64(32<<20))
	eq("network mode", hc.NetworkMode, container.NetworkMode("bridge"))
	tcp := network.MustParsePort("8080/tcp")
	udp := network.MustParsePort("53/udp")
	eq("port bindings tcp", hc.PortBindings[tcp], []network.PortBinding{{HostPort: ""}, {HostPort: "18080"}})
	eq("port bindings udp", hc.PortBindings[udp], []network.PortBinding{{HostPort: "5353"}})
	if _, ok := cfg.ExposedPorts[tcp]; !ok || len(cfg.ExposedPorts) != 2 {
		t.Errorf("exposed ports %v", cfg.ExposedPorts)
	}
	eq("binds", hc.Binds, []string{"/srv/a:/a", "/srv/b:/b:ro"})
	eq("extra hosts", hc.ExtraHosts, []string{"db:10.0.0.2"})
	eq("dns", len(hc.DNS), 2)
	eq("dns 0", hc.DNS[0].String(), "10.0.0.53")
	eq("dns 1", hc.DNS[1].String(), "fd00::53")
	eq("dns search", hc.DNSSearch, []string{"example.internal"})
	eq("ulimits", len(hc.Ulimits), 1)
	eq("ulimit", *hc.Ulimits[0], container.Ulimit{Name: "nofile", Soft: 1024, Hard: 2048})
	eq("read-only", hc.ReadonlyRootfs, true)
	eq("privileged", hc.Privileged, true)
	eq("cap add", hc.CapAdd, []string{"NET_ADMIN"})
	eq("cap drop", hc.CapDrop, []string{"MKNOD"})
	if hc.Init == nil || !*hc.Init {
		t.Errorf("init = %v", hc.Init)
	}
	eq("devices", hc.Devices, []container.DeviceMapping{{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"},
		{PathOnHost: "/dev/nvidia0", PathInContainer: "/dev/gpu", CgroupPermissions: "rw"}})
	eq("tmpfs", hc.Tmpfs, map[string]string{"/scratch": "size=64m,noexec,nosuid", "/run": "size=1m"})
	eq("shm size", hc.ShmSize, int64(128<<20))
	eq("sysctls", hc.Sysctls, map[string]string{"net.core.somaxconn": "1024"})
	eq("security options", hc.SecurityOpt, []string{"no-new-privileges"})
	eq("auto remove", hc.AutoRemove, false)
	eq("restart policy", hc.RestartPolicy.Name, container.RestartPolicyDisabled)
	eq("healthcheck", *cfg.Healthcheck, container.HealthConfig{Test: []string{"CMD", "/berth-testapp", "health"},
		Interval: 5 * time.Second, Timeout: 2 * time.Second, Retries: 4, StartPeriod: 10 * time.Second})
}

func TestCreateOptionsHealthcheck(t *testing.T) {
	none := container.HealthConfig{Test: []string{"NONE"}}
	for name, c := range map[string]struct {
		in   *driver.HealthCheck
		want container.HealthConfig
	}{
		// Without a task definition health check the image's is switched off.
		"none":       {nil, none},
		"empty test": {&driver.HealthCheck{Interval: time.Second}, none},
		"NONE":       {&driver.HealthCheck{Test: []string{"NONE"}, Interval: time.Second}, none},
		"shell": {&driver.HealthCheck{Test: []string{"CMD-SHELL", "exit 0"}, Interval: 30 * time.Second, Timeout: 5 * time.Second, Retries: 3},
			container.HealthConfig{Test: []string{"CMD-SHELL", "exit 0"}, Interval: 30 * time.Second, Timeout: 5 * time.Second, Retries: 3}},
	} {
		opts, err := createOptions(driver.Spec{Name: "n", Image: "img", HealthCheck: c.in})
		if err != nil {
			t.Fatal(err)
		}
		if got := opts.Config.Healthcheck; got == nil || !equal(*got, c.want) {
			t.Errorf("%s: healthcheck %+v, want %+v", name, got, c.want)
		}
	}
}

func TestCreateOptionsDefaults(t *testing.T) {
	opts, err := createOptions(driver.Spec{Name: "n", Image: "img"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, hc := opts.Config, opts.HostConfig
	if cfg.Entrypoint != nil || cfg.Cmd != nil {
		t.Errorf("empty entrypoint/command must leave the image's: %q %q", cfg.Entrypoint, cfg.Cmd)
	}
	if hc.NetworkMode != "bridge" || hc.Init != nil || hc.Memory != 0 || hc.MemoryReservation != 0 || hc.CPUShares != 2 {
		t.Errorf("defaults: mode %q init %v memory %d/%d shares %d", hc.NetworkMode, hc.Init, hc.Memory, hc.MemoryReservation, hc.CPUShares)
	}
	if cfg.Labels[driver.LabelManaged] != "true" {
		t.Errorf("labels %v", cfg.Labels)
	}
	if hc.PortBindings != nil || cfg.ExposedPorts != nil {
		t.Errorf("ports without mappings: %v %v", hc.PortBindings, cfg.ExposedPorts)
	}
}

func TestCreateOptionsRejects(t *testing.T) {
	for name, spec := range map[string]driver.Spec{
		"no image":      {Name: "n"},
		"awsvpc":        {Name: "n", Image: "i", NetworkMode: "awsvpc"},
		"sctp":          {Name: "n", Image: "i", Ports: []driver.PortMapping{{ContainerPort: 1, Protocol: "sctp"}}},
		"port 0":        {Name: "n", Image: "i", Ports: []driver.PortMapping{{ContainerPort: 0}}},
		"host port big": {Name: "n", Image: "i", Ports: []driver.PortMapping{{ContainerPort: 80, HostPort: 70000}}},
		"bad dns":       {Name: "n", Image: "i", DNSServers: []string{"dns.example"}},
		"mount target":  {Name: "n", Image: "i", Mounts: []driver.Mount{{Source: "/a"}}},
		"device path":   {Name: "n", Image: "i", Devices: []driver.Device{{ContainerPath: "/dev/x"}}},
		"tmpfs size":    {Name: "n", Image: "i", Tmpfs: []driver.Tmpfs{{ContainerPath: "/scratch"}}},
	} {
		if _, err := createOptions(spec); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestErrorTextsReadLikeECS(t *testing.T) {
	err := wrap(driver.ErrCannotStart, errString("Error response from daemon: OCI runtime create failed"))
	if got := err.Error(); !strings.HasPrefix(got, "CannotStartContainerError: Error response from daemon: ") {
		t.Errorf("text %q", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }
