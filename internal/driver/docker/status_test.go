package docker

import (
	"bufio"
	"bytes"
	"net/netip"
	"testing"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func TestStatusOfAFailedStart(t *testing.T) {
	st := status(container.InspectResponse{State: &container.State{
		Status: container.StateCreated, ExitCode: 127, Error: "exec: \"/nope\": no such file",
		StartedAt: "0001-01-01T00:00:00Z", FinishedAt: "0001-01-01T00:00:00Z",
	}})
	if !st.Exited || st.Running || st.ExitCode != 127 || st.Error == "" || !st.FinishedAt.IsZero() {
		t.Errorf("%+v", st)
	}
	st = status(container.InspectResponse{State: &container.State{Status: container.StateCreated}})
	if st.Exited || st.Running {
		t.Errorf("a created container is neither running nor exited: %+v", st)
	}
}

func TestStatusExitedAndRunning(t *testing.T) {
	st := status(container.InspectResponse{State: &container.State{
		Status: container.StateExited, ExitCode: 137, OOMKilled: true,
		StartedAt: "2026-01-02T03:04:05.123456789Z", FinishedAt: "2026-01-02T03:04:06Z",
	}})
	if !st.Exited || st.ExitCode != 137 || !st.OOMKilled || st.StartedAt.Nanosecond() != 123456789 || st.FinishedAt.Second() != 6 {
		t.Errorf("%+v", st)
	}
	p := network.MustParsePort("8080/tcp")
	st = status(container.InspectResponse{
		State:      &container.State{Status: container.StateRunning, Running: true},
		HostConfig: &container.HostConfig{NetworkMode: "bridge"},
		NetworkSettings: &container.NetworkSettings{Ports: network.PortMap{p: {
			{HostIP: netip.MustParseAddr("::"), HostPort: "49153"},
			{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "49153"},
		}}},
	})
	want := []driver.Binding{
		{ContainerPort: 8080, HostPort: 49153, Protocol: "tcp", HostIP: "0.0.0.0"},
		{ContainerPort: 8080, HostPort: 49153, Protocol: "tcp", HostIP: "::"},
	}
	if !st.Running || st.Exited || !equal(st.Bindings, want) {
		t.Errorf("%+v", st)
	}
}

// A process that exits at once can carry an engine StartedAt (set when the
// start call returned) after its FinishedAt (containerd's exit time).
func TestStatusStartNeverAfterFinish(t *testing.T) {
	st := status(container.InspectResponse{State: &container.State{
		Status: container.StateExited, ExitCode: 3,
		StartedAt: "2026-11-23T04:19:00.13588626Z", FinishedAt: "2026-11-23T04:19:00.101461416Z",
	}})
	if !st.StartedAt.Equal(st.FinishedAt) || st.FinishedAt.Nanosecond() != 101461416 {
		t.Errorf("started %v finished %v, want both at the exit time", st.StartedAt, st.FinishedAt)
	}
	st = status(container.InspectResponse{State: &container.State{
		Status: container.StateRunning, Running: true,
		StartedAt: "2026-11-23T04:19:00.13588626Z", FinishedAt: "0001-01-01T00:00:00Z",
	}})
	if st.StartedAt.Nanosecond() != 135886260 || !st.FinishedAt.IsZero() {
		t.Errorf("a running container keeps its start time: %+v", st)
	}
}

func TestHostModeBindings(t *testing.T) {
	p := network.MustParsePort("9000/udp")
	st := status(container.InspectResponse{
		State:           &container.State{Status: container.StateRunning, Running: true},
		HostConfig:      &container.HostConfig{NetworkMode: "host", PortBindings: network.PortMap{p: {{HostPort: ""}}}},
		NetworkSettings: &container.NetworkSettings{},
	})
	want := []driver.Binding{{ContainerPort: 9000, HostPort: 9000, Protocol: "udp", HostIP: "0.0.0.0"}}
	if !equal(st.Bindings, want) {
		t.Errorf("%+v", st.Bindings)
	}
}
