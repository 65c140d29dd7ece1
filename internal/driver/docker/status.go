package docker

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// status reads a driver.Status from an inspect response.
func status(c container.InspectResponse) driver.Status {
	var st driver.Status
	st.CreatedAt, st.ImageID = parseTime(c.Created), c.Image
	if c.State == nil {
		return st
	}
	s := c.State
	st.Running = s.Running
	st.ExitCode = s.ExitCode
	st.OOMKilled = s.OOMKilled
	st.Error = s.Error
	st.StartedAt = parseTime(s.StartedAt)
	st.FinishedAt = parseTime(s.FinishedAt)
	// The engine records StartedAt when its start call returns, which for
	// a process that exits at once can be after containerd's exit time.
	// The process cannot have started after it ended.
	if !st.FinishedAt.IsZero() && st.FinishedAt.Before(st.StartedAt) {
		st.StartedAt = st.FinishedAt
	}
	switch s.Status {
	case container.StateExited, container.StateDead:
		st.Exited = true
	case container.StateCreated:
		// A failed start leaves the container "created" with the
		// runtime's exit code and error; it will never run.
		st.Exited = s.Error != "" || s.ExitCode != 0
	}
	if st.Running {
		st.Bindings = bindings(c)
	}
	return st
}

// bindings are the published ports: in bridge mode what the engine bound;
// in host mode the requested mappings, whose host port is the container port.
func bindings(c container.InspectResponse) []driver.Binding {
	var out []driver.Binding
	host := c.HostConfig != nil && c.HostConfig.NetworkMode.IsHost()
	switch {
	case host:
		for p := range c.HostConfig.PortBindings {
			out = append(out, driver.Binding{ContainerPort: int(p.Num()), HostPort: int(p.Num()), Protocol: string(p.Proto()), HostIP: "0.0.0.0"})
		}
	case c.NetworkSettings != nil:
		for p, bs := range c.NetworkSettings.Ports {
			for _, b := range bs {
				hp, err := strconv.Atoi(b.HostPort)
				if err != nil || hp == 0 {
					continue
				}
				out = append(out, driver.Binding{ContainerPort: int(p.Num()), HostPort: hp, Protocol: string(p.Proto()), HostIP: hostIP(b)})
			}
		}
	}
	slices.SortFunc(out, func(a, b driver.Binding) int {
		return cmp.Or(cmp.Compare(a.ContainerPort, b.ContainerPort), cmp.Compare(a.Protocol, b.Protocol),
			cmp.Compare(a.HostIP, b.HostIP), cmp.Compare(a.HostPort, b.HostPort))
	})
	return out
}

func hostIP(b network.PortBinding) string {
	if !b.HostIP.IsValid() {
		return "0.0.0.0"
	}
	return b.HostIP.String()
}

// parseTime reads the engine's RFC 3339 times; its zero ("0001-01-01...")
// and anything unreadable become the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}
