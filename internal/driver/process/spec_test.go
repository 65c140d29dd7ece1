//go:build linux

package process

import (
	"errors"
	"math"
	"os"
	"os/user"
	"reflect"
	"strings"
	"testing"

	"berth.dev/berth/internal/driver"
)

func TestCreateRefusesWhatItCannotHonour(t *testing.T) {
	d := newDriver(t, Options{})
	base := func(f func(*driver.Spec)) driver.Spec {
		s := driver.Spec{Command: []string{"true"}}
		f(&s)
		return s
	}
	for name, spec := range map[string]driver.Spec{
		"no command":           {},
		"privileged":           base(func(s *driver.Spec) { s.Privileged = true }),
		"cap add":              base(func(s *driver.Spec) { s.CapAdd = []string{"NET_ADMIN"} }),
		"cap drop":             base(func(s *driver.Spec) { s.CapDrop = []string{"ALL"} }),
		"readonly rootfs":      base(func(s *driver.Spec) { s.ReadonlyRootfs = true }),
		"extra hosts":          base(func(s *driver.Spec) { s.ExtraHosts = []string{"db:10.0.0.3"} }),
		"devices":              base(func(s *driver.Spec) { s.Devices = []driver.Device{{HostPath: "/dev/fuse"}} }),
		"tmpfs":                base(func(s *driver.Spec) { s.Tmpfs = []driver.Tmpfs{{ContainerPath: "/scratch", SizeMiB: 64}} }),
		"shm size":             base(func(s *driver.Spec) { s.ShmSizeMiB = 64 }),
		"sysctls":              base(func(s *driver.Spec) { s.Sysctls = map[string]string{"net.core.somaxconn": "1024"} }),
		"security options":     base(func(s *driver.Spec) { s.SecurityOpt = []string{"no-new-privileges"} }),
		"network none":         base(func(s *driver.Spec) { s.NetworkMode = "none" }),
		"network awsvpc":       base(func(s *driver.Spec) { s.NetworkMode = "awsvpc" }),
		"bridge dynamic port":  base(func(s *driver.Spec) { s.Ports = []driver.PortMapping{{ContainerPort: 80}} }),
		"bridge remapped port": base(func(s *driver.Spec) { s.Ports = []driver.PortMapping{{ContainerPort: 80, HostPort: 8080}} }),
		"host remapped port": base(func(s *driver.Spec) {
			s.NetworkMode = "host"
			s.Ports = []driver.PortMapping{{ContainerPort: 80, HostPort: 8080}}
		}),
		"bad protocol": base(func(s *driver.Spec) {
			s.Ports = []driver.PortMapping{{ContainerPort: 80, HostPort: 80, Protocol: "sctp"}}
		}),
		"mount elsewhere":   base(func(s *driver.Spec) { s.Mounts = []driver.Mount{{Source: "/srv/data", Target: "/data"}} }),
		"read-only mount":   base(func(s *driver.Spec) { s.Mounts = []driver.Mount{{Source: "/srv", Target: "/srv", ReadOnly: true}} }),
		"unknown ulimit":    base(func(s *driver.Spec) { s.Ulimits = []driver.Ulimit{{Name: "files", Soft: 1, Hard: 1}} }),
		"soft above hard":   base(func(s *driver.Spec) { s.Ulimits = []driver.Ulimit{{Name: "nofile", Soft: 10, Hard: 5}} }),
		"relative workdir":  base(func(s *driver.Spec) { s.WorkingDir = "app" }),
		"bad env":           base(func(s *driver.Spec) { s.Env = []string{"NOVALUE"} }),
		"unknown user":      base(func(s *driver.Spec) { s.User = "berth-no-such-user" }),
		"unknown group":     base(func(s *driver.Spec) { s.User = "0:berth-no-such-group" }),
		"negative memory":   base(func(s *driver.Spec) { s.MemoryMiB = -1 }),
		"empty user":        base(func(s *driver.Spec) { s.User = ":0" }),
		"empty program":     {EntryPoint: []string{""}},
		"nul in env":        base(func(s *driver.Spec) { s.Env = []string{"A=b\x00c"} }),
		"negative cpu":      base(func(s *driver.Spec) { s.CPUShares = -2 }),
		"zero container pt": base(func(s *driver.Spec) { s.Ports = []driver.PortMapping{{HostPort: 80}} }),
	} {
		_, err := d.Create(ctxT(t), spec)
		if !errors.Is(err, driver.ErrCannotCreate) || !strings.HasPrefix(err.Error(), "CannotCreateContainerError: ") {
			t.Errorf("%s: create returned %v, want CannotCreateContainerError", name, err)
		}
	}
	if hs, _ := d.List(ctxT(t)); len(hs) != 0 {
		t.Fatalf("refused specs left containers: %+v", hs)
	}
}

func TestAcceptedSpecsAndBindings(t *testing.T) {
	d := newDriver(t, Options{})
	dir := t.TempDir()
	h, st := mustStart(t, d, driver.Spec{
		Image:       "nginx:1.27",
		Command:     []string{"true"},
		NetworkMode: "host",
		Hostname:    "not-applied",
		Init:        true,
		Mounts:      []driver.Mount{{Source: dir, Target: dir + "/"}},
		Ports: []driver.PortMapping{
			{ContainerPort: 8080},
			{ContainerPort: 53, HostPort: 53, Protocol: "UDP"},
		},
	})
	want := []driver.Binding{
		{ContainerPort: 8080, HostPort: 8080, Protocol: "tcp", HostIP: "0.0.0.0"},
		{ContainerPort: 53, HostPort: 53, Protocol: "udp", HostIP: "0.0.0.0"},
	}
	if !reflect.DeepEqual(st.Bindings, want) {
		t.Errorf("bindings %+v, want %+v", st.Bindings, want)
	}
	if s := snap(t, d, h); s.rec.Spec.Image != "nginx:1.27" {
		t.Errorf("image not recorded: %q", s.rec.Spec.Image)
	}
	h2, st2 := mustStart(t, d, driver.Spec{
		Command: []string{"true"},
		Ports:   []driver.PortMapping{{ContainerPort: 9000, HostPort: 9000}},
	})
	if len(st2.Bindings) != 1 || st2.Bindings[0].HostPort != 9000 {
		t.Errorf("bridge static binding %+v", st2.Bindings)
	}
	for _, h := range []driver.Handle{h, h2} {
		if st := mustWait(t, d, h); len(st.Bindings) != len(snap(t, d, h).rec.Bindings) {
			t.Errorf("bindings after exit %+v", st.Bindings)
		}
	}
}

func TestUlimits(t *testing.T) {
	d := newDriver(t, Options{})
	// Lowering limits works without privileges too.
	spec := sh(`echo "$(ulimit -Sn) $(ulimit -Hn) $(ulimit -Sc) $(ulimit -Hc)"`)
	spec.Ulimits = []driver.Ulimit{{Name: "nofile", Soft: 100, Hard: 200}, {Name: "core", Soft: 0, Hard: 0}}
	h, _ := mustStart(t, d, spec)
	mustWait(t, d, h)
	if out := texts(readLogs(t, d, h, false), "stdout"); len(out) != 1 || out[0] != "100 200 0 0" {
		t.Fatalf("ulimits seen by the workload: %q", out)
	}
	// A limit the host refuses fails the start.
	if os.Geteuid() != 0 {
		spec.Ulimits = []driver.Ulimit{{Name: "nofile", Soft: 100, Hard: -1}}
		if _, err := d.Start(ctxT(t), mustCreate(t, d, spec)); !errors.Is(err, driver.ErrCannotStart) || !strings.Contains(err.Error(), "setrlimit nofile") {
			t.Fatalf("raising a hard limit without root: %v", err)
		}
	}
	got, err := rlimitsFor([]driver.Ulimit{{Name: "core", Soft: -1, Hard: -1}, {Name: "stack", Soft: 8 << 20, Hard: -1}})
	want := []rlimit{{Name: "core", Soft: math.MaxUint64, Hard: math.MaxUint64}, {Name: "stack", Soft: 8 << 20, Hard: math.MaxUint64}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("rlimits %+v, %v", got, err)
	}
}

func TestUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody here")
	}
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, driver.Spec{Command: []string{"sh", "-c", "echo $(id -u) $(id -g) $HOME"}, User: "nobody"})
	mustWait(t, d, h)
	want := u.Uid + " " + u.Gid + " " + u.HomeDir
	if out := texts(readLogs(t, d, h, false), "stdout"); len(out) != 1 || out[0] != want {
		t.Fatalf("output %q, want %q", out, want)
	}
	h, _ = mustStart(t, d, driver.Spec{Command: []string{"sh", "-c", "echo $(id -u) $(id -g)"}, User: "4242:4343"})
	mustWait(t, d, h)
	if out := texts(readLogs(t, d, h, false), "stdout"); len(out) != 1 || out[0] != "4242 4343" {
		t.Fatalf("numeric user: output %q", out)
	}
}

func TestUserRefusedWithoutRoot(t *testing.T) {
	d := newDriver(t, Options{})
	d.euid, d.egid = 4242, 4242 // as an unprivileged agent
	if _, err := d.Create(ctxT(t), driver.Spec{Command: []string{"true"}, User: "0"}); !errors.Is(err, driver.ErrCannotCreate) || !strings.Contains(err.Error(), "not root") {
		t.Fatalf("user switch without root: %v", err)
	}
	// Its own uid needs no switch.
	h := mustCreate(t, d, driver.Spec{Command: []string{"true"}, User: "4242:4242"})
	if c := snap(t, d, h).rec.Plan.User; c == nil || c.Switch {
		t.Fatalf("credential %+v", c)
	}
}

func TestBuildEnv(t *testing.T) {
	got, err := buildEnv("/home/app", []string{"A=1", "PATH=/opt/bin", "B=2", "A=3", "EMPTY="})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PATH=/opt/bin", "HOME=/home/app", "A=3", "B=2", "EMPTY="}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("env %q, want %q", got, want)
	}
	if v, ok := lookupEnv(got, "A"); !ok || v != "3" {
		t.Fatalf("lookupEnv A = %q, %v", v, ok)
	}
}

func TestCPUWeight(t *testing.T) {
	for shares, want := range map[int64]int64{0: 0, 1: 1, 2: 1, 1024: 39, 262144: 10000, 1 << 30: 10000} {
		if got := cpuWeight(shares); got != want {
			t.Errorf("cpuWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}
