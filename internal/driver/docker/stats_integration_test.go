package docker_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

// stats reads a container's statistics through the driver.
func (e *env) stats(id string) driver.Stats {
	e.t.Helper()
	raw, err := e.d.ContainerStats(e.ctx, id)
	if err != nil {
		e.t.Fatalf("stats: %v", err)
	}
	var st driver.Stats
	if err := json.Unmarshal(raw, &st); err != nil {
		e.t.Fatalf("stats %s: %v", raw, err)
	}
	return st
}

func TestContainerStats(t *testing.T) {
	e := newEnv(t)
	spec := e.spec()
	spec.NetworkMode = "bridge"
	spec.MemoryMiB = 64
	h, st := e.run(spec)
	if !strings.HasPrefix(st.ImageID, "sha256:") || st.CreatedAt.IsZero() || st.CreatedAt.After(st.StartedAt) {
		t.Fatalf("status: image %q created %v started %v", st.ImageID, st.CreatedAt, st.StartedAt)
	}
	// The engine may answer before its first cgroup read shows usage.
	deadline := time.Now().Add(time.Minute)
	var first driver.Stats
	for {
		first = e.stats(h.ID)
		if first.MemoryStats.Usage > 0 && first.CPUStats.CPUUsage.TotalUsage > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usage: %+v", first)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if first.ID != h.ID || first.Name != "/"+spec.Name || first.Read.IsZero() || first.MemoryStats.Limit != 64<<20 ||
		first.CPUStats.SystemUsage == 0 || first.CPUStats.OnlineCPUs == 0 || first.PidsStats.Current == 0 {
		t.Fatalf("stats: %+v", first)
	}
	if _, ok := first.Networks["eth0"]; !ok {
		t.Fatalf("no eth0 in a bridge container's networks: %+v", first.Networks)
	}
	// The next answer carries the previous sample.
	for {
		second := e.stats(h.ID)
		if second.Read.After(first.Read) {
			if !second.PreRead.Equal(first.Read) || second.PreCPUStats.CPUUsage.TotalUsage != first.CPUStats.CPUUsage.TotalUsage ||
				second.NetworkRate == nil {
				t.Fatalf("previous sample not carried: first %+v\nsecond %+v", first, second)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A stopped container answers zero usage; a removed one is not found.
	if err := e.d.Stop(e.ctx, h, time.Second); err != nil {
		t.Fatal(err)
	}
	if st := e.stats(h.ID); st.MemoryStats.Usage != 0 || st.CPUStats.CPUUsage.TotalUsage != 0 {
		t.Fatalf("stopped container's stats: %+v", st)
	}
	if err := e.d.Remove(e.ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.ContainerStats(e.ctx, h.ID); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("removed container: %v", err)
	}
}
