package docker

import (
	"strings"
	"testing"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/api/types/container"
)

func TestCreateOptionsInASandbox(t *testing.T) {
	spec := driver.Spec{Name: "n", Image: "img", NetworkMode: driver.NetworkAWSVPC, Sandbox: "abc123",
		Ports: []driver.PortMapping{{ContainerPort: 8080}, {ContainerPort: 9090, HostPort: 9090}}}
	opts, err := createOptions(spec)
	if err != nil {
		t.Fatal(err)
	}
	hc, cfg := opts.HostConfig, opts.Config
	if hc.NetworkMode != "container:abc123" {
		t.Errorf("network mode %q", hc.NetworkMode)
	}
	if hc.PortBindings != nil || cfg.ExposedPorts != nil || cfg.Hostname != "" || hc.DNS != nil || hc.DNSSearch != nil {
		t.Errorf("a sandboxed container got network settings of its own: %+v %+v", hc, cfg)
	}
	for name, bad := range map[string]func(*driver.Spec){
		"hostname":        func(s *driver.Spec) { s.Hostname = "h" },
		"dns":             func(s *driver.Spec) { s.DNSServers = []string{"10.0.0.2"} },
		"extra hosts":     func(s *driver.Spec) { s.ExtraHosts = []string{"a:10.0.0.1"} },
		"published port":  func(s *driver.Spec) { s.Ports = []driver.PortMapping{{ContainerPort: 80, HostPort: 8080}} },
		"no sandbox":      func(s *driver.Spec) { s.Sandbox = "" },
		"bridge, sandbox": func(s *driver.Spec) { s.NetworkMode = "bridge" },
	} {
		s := spec
		bad(&s)
		if _, err := createOptions(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSandboxCreateOptions(t *testing.T) {
	spec := driver.SandboxSpec{Name: "task-1", Labels: map[string]string{driver.LabelTaskARN: "arn:t"}, Hostname: "ip-10-0-0-5",
		DNSServers: []string{"10.0.0.2"}, DNSSearch: []string{"svc.local"}}
	opts, err := sandboxCreateOptions(spec, "berth-pause:1")
	if err != nil {
		t.Fatal(err)
	}
	cfg, hc := opts.Config, opts.HostConfig
	if opts.Name != "task-1" || cfg.Image != "berth-pause:1" || cfg.Hostname != "ip-10-0-0-5" {
		t.Errorf("config %+v", cfg)
	}
	if cfg.Labels[driver.LabelTaskARN] != "arn:t" || cfg.Labels[driver.LabelManaged] != "true" || cfg.Labels[driver.LabelSandbox] != "true" {
		t.Errorf("labels %v", cfg.Labels)
	}
	if _, ok := spec.Labels[driver.LabelSandbox]; ok {
		t.Error("sandboxCreateOptions wrote into the spec's label map")
	}
	if hc.NetworkMode != "none" || hc.RestartPolicy.Name != container.RestartPolicyDisabled || hc.AutoRemove {
		t.Errorf("network %q restart %q auto-remove %v", hc.NetworkMode, hc.RestartPolicy.Name, hc.AutoRemove)
	}
	if len(hc.DNS) != 1 || hc.DNS[0].String() != "10.0.0.2" || len(hc.DNSSearch) != 1 || hc.DNSSearch[0] != "svc.local" {
		t.Errorf("dns %v search %v", hc.DNS, hc.DNSSearch)
	}
	if _, err := sandboxCreateOptions(driver.SandboxSpec{DNSServers: []string{"dns.example"}}, "i"); err == nil {
		t.Error("a DNS server that is not an address was accepted")
	}
}

func TestDefaultPauseImage(t *testing.T) {
	tag := DefaultPauseImage()
	name, v, ok := strings.Cut(tag, ":")
	if !ok || name != "berth-pause" || v == "" || strings.ContainsAny(v, "+/:@ ") {
		t.Errorf("tag %q", tag)
	}
}
