package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/fakedriver"
	"berth.dev/berth/internal/shape"
)

// dnsDriver is a runtime as resolvers sees it: a name and the modes it
// applies DNS settings in.
type dnsDriver struct {
	driver.Driver
	name  string
	modes map[string]bool
}

func (d dnsDriver) Name() string                 { return d.name }
func (d dnsDriver) SupportsDNS(mode string) bool { return d.modes[mode] }

var (
	dockerLike  = dnsDriver{name: "docker", modes: map[string]bool{"bridge": true, driver.NetworkAWSVPC: true}}
	processRoot = dnsDriver{name: "process", modes: map[string]bool{"bridge": true, "host": true, driver.NetworkAWSVPC: true}}
	processUser = dnsDriver{name: "process", modes: map[string]bool{}}
)

func dnsTask(mode string, servers, search []string) *agentproto.Task {
	str := func(s string) *string { return &s }
	return &agentproto.Task{
		TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef",
		Definition: &shape.TaskDefinition{Family: str("app"), Revision: 1, NetworkMode: shape.NetworkMode(mode),
			ContainerDefinitions: []shape.ContainerDefinition{{Name: str("web"), Image: str("nginx"), DnsServers: servers, DnsSearchDomains: search}}},
		Network: &agentproto.TaskNetwork{PrivateDNSName: "ip-10-200-0-2.ec2.internal"},
	}
}

// TaskDNS is the only nameserver of a container whose task definition
// sets none, as each runtime applies it; dnsServers win; search domains
// stay; a runtime that cannot apply it leaves the resolvers alone.
func TestTaskDNSInSpecs(t *testing.T) {
	const ep = "169.254.170.2"
	cases := []struct {
		name            string
		drv             dnsDriver
		taskDNS, mode   string
		servers, search []string
		wantServers     []string
		wantSearch      []string
		wantFile        []string // lines of the bind-mounted resolv.conf
	}{
		{"docker bridge", dockerLike, ep, "bridge", nil, []string{"corp.test"}, []string{ep}, []string{"corp.test"}, nil},
		{"docker default mode", dockerLike, ep, "", nil, nil, []string{ep}, nil, nil},
		{"docker bridge, dnsServers win", dockerLike, ep, "bridge", []string{"10.0.0.2"}, nil, []string{"10.0.0.2"}, nil, nil},
		{"docker bridge, no TaskDNS", dockerLike, "", "bridge", nil, nil, nil, nil, nil},
		{"docker none", dockerLike, ep, "none", nil, nil, nil, nil, nil},
		{"docker host", dockerLike, ep, "host", nil, []string{"corp.test"}, nil, nil, []string{"nameserver " + ep, "search corp.test"}},
		{"docker host, dnsServers win", dockerLike, ep, "host", []string{"10.0.0.2"}, nil, nil, nil, []string{"nameserver 10.0.0.2"}},
		{"process host", processRoot, ep, "host", nil, []string{"corp.test"}, []string{ep}, []string{"corp.test"}, nil},
		{"process host, dnsServers win", processRoot, ep, "host", []string{"10.0.0.2"}, nil, []string{"10.0.0.2"}, nil, nil},
		{"process without root", processUser, ep, "host", nil, nil, nil, nil, nil},
		{"process without root, asked for", processUser, ep, "host", []string{"10.0.0.2"}, nil, []string{"10.0.0.2"}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Agent{cfg: Config{DataDir: t.TempDir(), Driver: c.drv, TaskDNS: c.taskDNS}, log: slog.New(slog.DiscardHandler)}
			task := dnsTask(c.mode, c.servers, c.search)
			s, err := a.driverSpec(task, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.DNSServers, c.wantServers) || !reflect.DeepEqual(s.DNSSearch, c.wantSearch) {
				t.Errorf("servers %v search %v, want %v %v", s.DNSServers, s.DNSSearch, c.wantServers, c.wantSearch)
			}
			var file string
			for _, m := range s.Mounts {
				if m.Target == "/etc/resolv.conf" {
					if !m.ReadOnly || !strings.HasPrefix(m.Source, a.resolvDir(task.TaskArn)) {
						t.Errorf("mount %+v: read-only, from the task's directory", m)
					}
					data, err := os.ReadFile(m.Source)
					if err != nil {
						t.Fatal(err)
					}
					file = string(data)
				}
			}
			if c.wantFile == nil && file != "" {
				t.Errorf("resolv.conf mounted: %q", file)
			}
			for _, l := range c.wantFile {
				if !strings.Contains(file, l+"\n") {
					t.Errorf("resolv.conf %q lacks %q", file, l)
				}
			}
			if c.wantFile != nil && strings.Count(file, "nameserver ") != 1 {
				t.Errorf("resolv.conf %q: one nameserver", file)
			}
		})
	}
}

// An awsvpc task's sandbox gets TaskDNS unless a container sets
// dnsServers; its containers take the sandbox's.
func TestTaskDNSInSandboxSpecs(t *testing.T) {
	const ep = "169.254.170.2"
	for _, c := range []struct {
		name        string
		drv         dnsDriver
		servers     []string
		wantServers []string
	}{
		{"docker", dockerLike, nil, []string{ep}},
		{"process", processRoot, nil, []string{ep}},
		{"dnsServers win", dockerLike, []string{"10.0.0.2"}, []string{"10.0.0.2"}},
		{"process without root", processUser, nil, nil},
	} {
		a := &Agent{cfg: Config{DataDir: t.TempDir(), Driver: c.drv, TaskDNS: ep}, log: slog.New(slog.DiscardHandler)}
		task := dnsTask("awsvpc", c.servers, []string{"corp.test"})
		sb := a.sandboxSpec(task)
		if !reflect.DeepEqual(sb.DNSServers, c.wantServers) || !reflect.DeepEqual(sb.DNSSearch, []string{"corp.test"}) {
			t.Errorf("%s: sandbox servers %v search %v, want %v [corp.test]", c.name, sb.DNSServers, sb.DNSSearch, c.wantServers)
		}
		s, err := a.driverSpec(task, 0)
		if err != nil {
			t.Fatal(err)
		}
		inSandbox(&s, "sb")
		if len(s.DNSServers) != 0 || len(s.Mounts) != 0 {
			t.Errorf("%s: container in the sandbox has servers %v mounts %v", c.name, s.DNSServers, s.Mounts)
		}
	}
}

func TestTaskDNSConfig(t *testing.T) {
	base := Config{Server: "http://x", DataDir: "d", Driver: processRoot, AccessKeyID: "a", SecretAccessKey: "s"}
	for _, bad := range []string{"dns", "::1", "169.254.170.2:53"} {
		c := base
		c.TaskDNS = bad
		if err := c.defaults(); err == nil {
			t.Errorf("TaskDNS %q accepted", bad)
		}
	}
	c := base
	c.TaskDNS = "169.254.170.2"
	if err := c.defaults(); err != nil {
		t.Fatal(err)
	}
}

// dockerNamed is the fake runtime as Docker: no DNS settings in host mode.
type dockerNamed struct{ *fakedriver.Runtime }

func (dockerNamed) Name() string                 { return "docker" }
func (dockerNamed) SupportsDNS(mode string) bool { return mode != "host" && mode != "none" }

// A host-mode task on Docker gets a resolv.conf in the agent's data dir,
// which goes with the task's clean-up.
func TestTaskDNS_HostModeResolvConfGoesWithTheTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHost(t)
		h.cfg.TaskDNS = "169.254.170.2"
		h.cfg.TaskCleanupWait = 10 * time.Minute
		h.wrap = func(rt *fakedriver.Runtime) driver.Driver { return dockerNamed{rt} }
		ta := h.start()
		task := app(1, "web")
		task.Definition.NetworkMode = "host"
		h.srv.run(task)
		ta.settle()
		if got := h.srv.last(task.TaskArn); got != "RUNNING" {
			t.Fatalf("server has %s, want RUNNING", got)
		}
		dir := filepath.Join(h.dir, "resolv", taskID(task.TaskArn))
		data, err := os.ReadFile(filepath.Join(dir, "c0.conf"))
		if err != nil || !strings.Contains(string(data), "nameserver 169.254.170.2\n") {
			t.Fatalf("resolv.conf %q %v", data, err)
		}
		h.srv.stopTask(task.TaskArn)
		ta.settle()
		time.Sleep(11 * time.Minute)
		synctest.Wait()
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the task's resolv.conf files outlived its clean-up: %v", err)
		}
	})
}
