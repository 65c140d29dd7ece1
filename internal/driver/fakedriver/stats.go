package fakedriver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"berth.dev/berth/internal/driver"
)

// imageID is the ID the runtime reports for an image: "sha256:" and the
// hash of its name.
func imageID(image string) string {
	sum := sha256.Sum256([]byte(image))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ContainerStats reports made-up driver.Stats: while a container runs,
// one millisecond of CPU per millisecond since it started and 1 MiB of
// memory; zero usage once it exited. It records no Call.
func (r *Runtime) ContainerStats(_ context.Context, runtimeID string) (json.RawMessage, error) {
	r.mu.Lock()
	c, err := r.lookup("stats", runtimeID)
	var st driver.Stats
	if err == nil {
		st.ID, st.Name = c.h.ID, "/"+c.h.Name
		if c.status.Running {
			now := time.Now()
			cpu := uint64(max(now.Sub(c.status.StartedAt), time.Millisecond))
			st.Read = now
			st.CPUStats.CPUUsage.TotalUsage, st.CPUStats.OnlineCPUs = cpu, 1
			st.MemoryStats.Usage, st.MemoryStats.Limit = 1<<20, 1<<30
			st.PidsStats.Current = 1
		}
	}
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return json.Marshal(st)
}
