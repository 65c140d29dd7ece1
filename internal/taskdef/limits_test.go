package taskdef

import (
	"strings"
	"testing"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

func TestBuild_SizeLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		value   int // bytes of one environment value
		wantErr bool
	}{
		{name: "under the limit", value: 60 << 10},
		{name: "over the limit", value: 64 << 10, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &shape.RegisterTaskDefinitionRequest{
				Family: ptr("big"),
				// Tags do not count towards the limit.
				Tags: []shape.Tag{{Key: ptr("k"), Value: ptr(strings.Repeat("t", 64<<10))}},
				ContainerDefinitions: []shape.ContainerDefinition{{
					Name:        ptr("app"),
					Image:       ptr("busybox"),
					Memory:      ptr(int32(64)),
					Environment: []shape.KeyValuePair{{Name: ptr("BIG"), Value: ptr(strings.Repeat("x", tc.value))}},
				}},
			}
			_, err := Build(req)
			if got := err != nil; got != tc.wantErr {
				t.Fatalf("error: got %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if got, want := apierr.CodeOf(err), apierr.Client; got != want {
					t.Fatalf("code: got %v, want %v", got, want)
				}
				if !strings.HasPrefix(err.(*apierr.Error).Message, "Task definition size exceeds the limit of 65536 bytes.") {
					t.Fatalf("message: got %v, want the size limit", err)
				}
			}
		})
	}
}

func TestBuild_NilRequest(t *testing.T) {
	td, err := Build(nil)
	if td != nil {
		t.Fatalf("result: got %v, want nil", td)
	}
	if got, want := apierr.CodeOf(err), apierr.Client; got != want {
		t.Fatalf("code: got %v (%v), want %v", got, err, want)
	}
}

// TestBuild_ResultIsIndependent mutates a result and checks the request keeps
// its values, and the reverse.
func TestBuild_ResultIsIndependent(t *testing.T) {
	req := &shape.RegisterTaskDefinitionRequest{
		Family: ptr("f"),
		Volumes: []shape.Volume{{Name: ptr("v"), DockerVolumeConfiguration: &shape.DockerVolumeConfiguration{
			Scope: shape.ScopeShared, Labels: map[string]string{"a": "b"}}}},
		ContainerDefinitions: []shape.ContainerDefinition{{
			Name: ptr("app"), Image: ptr("busybox"), Memory: ptr(int32(64)),
			DockerLabels: map[string]string{"team": "core"},
			Command:      []string{"sleep", "1"},
			PortMappings: []shape.PortMapping{{ContainerPort: ptr(int32(80))}},
		}},
	}
	td, err := Build(req)
	if err != nil {
		t.Fatal(err)
	}
	c := &td.ContainerDefinitions[0]
	*c.Name = "changed"
	c.DockerLabels["team"] = "changed"
	c.Command[0] = "changed"
	*c.PortMappings[0].ContainerPort = 1
	td.Volumes[0].DockerVolumeConfiguration.Labels["a"] = "changed"
	rc := req.ContainerDefinitions[0]
	for _, g := range []struct{ got, want any }{
		{*rc.Name, "app"},
		{rc.DockerLabels["team"], "core"},
		{rc.Command[0], "sleep"},
		{*rc.PortMappings[0].ContainerPort, int32(80)},
		{rc.PortMappings[0].HostPort == nil, true},
		{req.Volumes[0].DockerVolumeConfiguration.Labels["a"], "b"},
	} {
		if g.got != g.want {
			t.Errorf("request after mutating the result: got %v, want %v", g.got, g.want)
		}
	}
}

func TestParseUnits(t *testing.T) {
	for _, tc := range []struct {
		in     string
		memory bool
		want   int64
		wantOK bool
	}{
		{in: "256", want: 256, wantOK: true},
		{in: "1 vCPU", want: 1024, wantOK: true},
		{in: "1 vcpu", want: 1024, wantOK: true},
		{in: "0.5 vCPU", want: 512, wantOK: true},
		{in: ".125 vCPU", want: 128, wantOK: true},
		{in: "2vCPU", want: 2048, wantOK: true},
		{in: "1.0", wantOK: false},
		{in: "vCPU", wantOK: false},
		{in: "1e3", wantOK: false},
		{in: "0x100", wantOK: false},
		{in: "99999999999999999999", wantOK: false},
		{in: "1GB", memory: true, want: 1024, wantOK: true},
		{in: "1 GB", memory: true, want: 1024, wantOK: true},
		{in: "0.5 gb", memory: true, want: 512, wantOK: true},
		{in: "512 MiB", memory: true, want: 512, wantOK: true},
		{in: "2 GiB", memory: true, want: 2048, wantOK: true},
		{in: "2097151 GB", memory: true, want: 2097151 * 1024, wantOK: true},
		{in: "2097152 GB", memory: true, wantOK: false},
		{in: "1 TB", memory: true, wantOK: false},
		{in: "", memory: true, wantOK: false},
	} {
		parse := parseCPU
		if tc.memory {
			parse = parseMemory
		}
		got, ok := parse(tc.in)
		if ok != tc.wantOK || (ok && got != tc.want) {
			t.Errorf("parse(%q): got %v, %v, want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestValidFargateSize(t *testing.T) {
	// Count the table: 3 + 4 + 7 + 13 + 23 + 12 + 12 = 74 valid pairs.
	n := 0
	for cpu := int64(128); cpu <= 32768; cpu *= 2 {
		for mem := int64(512); mem <= 131072; mem += 512 {
			if validFargateSize(cpu, mem) {
				n++
			}
		}
	}
	if got, want := n, 74; got != want {
		t.Fatalf("valid Fargate sizes: got %v, want %v", got, want)
	}
}
