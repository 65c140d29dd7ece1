package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/client"
)

// procFS is where the host's /proc is mounted (a variable for tests).
var procFS = "/proc"

// ContainerStats reads a container's statistics (driver.Stats) from the
// engine's one-shot stats (stream=false, one-shot=true: no wait for a
// second sample; engines before API 1.41 ignore one-shot and answer with
// their own previous sample). precpu_stats and network_rate_stats come
// from the driver's previous sample of the container (driver.StatsHistory)
// when the engine gave none. A container in a sandbox (awsvpc) has no
// network of its own in the engine's eyes, so its networks are read from
// /proc/PID/net/dev of its process, which is in the sandbox's namespace.
func (d *Driver) ContainerStats(ctx context.Context, runtimeID string) (json.RawMessage, error) {
	res, err := d.cli.ContainerStats(ctx, runtimeID, client.ContainerStatsOptions{Stream: false})
	if err != nil {
		return nil, classify("stats", runtimeID, err)
	}
	defer res.Body.Close()
	var st driver.Stats
	if err := json.NewDecoder(io.LimitReader(res.Body, 4<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("stats %s: %w", runtimeID, err)
	}
	if len(st.Networks) == 0 && !st.Read.IsZero() {
		st.Networks = d.sandboxNetworks(ctx, runtimeID)
	}
	d.stats.Fill(runtimeID, &st)
	return json.Marshal(st)
}

// sandboxNetworks reads the interfaces of a running container that joined
// another's network namespace (a sandbox); nil otherwise.
func (d *Driver) sandboxNetworks(ctx context.Context, id string) map[string]driver.NetworkStats {
	res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil
	}
	c := res.Container
	if c.HostConfig == nil || !c.HostConfig.NetworkMode.IsContainer() || c.State == nil || c.State.Pid <= 0 {
		return nil
	}
	data, err := os.ReadFile(procFS + "/" + strconv.Itoa(c.State.Pid) + "/net/dev")
	if err != nil {
		d.log.Debug("sandbox network statistics", "container", id, "err", err)
		return nil
	}
	nets, err := driver.ParseNetDev(data)
	if err != nil || len(nets) == 0 {
		return nil
	}
	return nets
}
