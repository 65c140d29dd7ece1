package driver

import (
	"sync"
	"time"
)

// Stats is a container's resource usage in the shape of the Docker Engine
// API's stats (GET /containers/ID/stats), which the ECS task metadata
// endpoint v4 serves at /stats, plus ECS's network_rate_stats. A driver
// that reports statistics implements
//
//	ContainerStats(ctx context.Context, runtimeID string) (json.RawMessage, error)
//
// returning one Stats as JSON. Contract:
//   - CPU times are cumulative nanoseconds; system_cpu_usage is the host's
//     cumulative CPU time (all CPUs) in nanoseconds, as Docker reads it.
//   - precpu_stats and preread are the previous sample the driver took of
//     the same container (zero on the first), so a reader computes a CPU
//     percentage from one answer, as with Docker's streamed stats.
//   - networks holds the container's interfaces, loopback excluded, only
//     where the container has a network of its own (bridge, awsvpc); none
//     in network mode host or none.
//   - A container that does not run answers zero usage, with its name and
//     ID; an unknown one is an error wrapping ErrNotFound.
type Stats struct {
	Read        time.Time               `json:"read"`
	PreRead     time.Time               `json:"preread"`
	PidsStats   PidsStats               `json:"pids_stats"`
	BlkioStats  BlkioStats              `json:"blkio_stats"`
	NumProcs    uint32                  `json:"num_procs"`
	CPUStats    CPUStats                `json:"cpu_stats"`
	PreCPUStats CPUStats                `json:"precpu_stats"`
	MemoryStats MemoryStats             `json:"memory_stats"`
	Name        string                  `json:"name"`
	ID          string                  `json:"id"`
	Networks    map[string]NetworkStats `json:"networks,omitempty"`
	NetworkRate *NetworkRate            `json:"network_rate_stats,omitempty"`
}

// CPUStats is cumulative CPU usage.
type CPUStats struct {
	CPUUsage       CPUUsage       `json:"cpu_usage"`
	SystemUsage    uint64         `json:"system_cpu_usage,omitempty"`
	OnlineCPUs     uint32         `json:"online_cpus,omitempty"`
	ThrottlingData ThrottlingData `json:"throttling_data"`
}

// CPUUsage is CPU time in nanoseconds.
type CPUUsage struct {
	TotalUsage        uint64   `json:"total_usage"`
	PercpuUsage       []uint64 `json:"percpu_usage,omitempty"`
	UsageInKernelmode uint64   `json:"usage_in_kernelmode"`
	UsageInUsermode   uint64   `json:"usage_in_usermode"`
}

// ThrottlingData is CFS throttling (ThrottledTime in nanoseconds).
type ThrottlingData struct {
	Periods          uint64 `json:"periods"`
	ThrottledPeriods uint64 `json:"throttled_periods"`
	ThrottledTime    uint64 `json:"throttled_time"`
}

// MemoryStats is memory usage in bytes; Stats holds the kernel's
// memory.stat counters (cgroup v1 or v2 names, as Docker reports them).
type MemoryStats struct {
	Usage    uint64            `json:"usage,omitempty"`
	MaxUsage uint64            `json:"max_usage,omitempty"`
	Stats    map[string]uint64 `json:"stats,omitempty"`
	Failcnt  uint64            `json:"failcnt,omitempty"`
	Limit    uint64            `json:"limit,omitempty"`
}

// BlkioStats is block I/O; on cgroup v2 only the first two lists are
// filled, with ops "read" and "write", as Docker does.
type BlkioStats struct {
	IoServiceBytesRecursive []BlkioStatEntry `json:"io_service_bytes_recursive"`
	IoServicedRecursive     []BlkioStatEntry `json:"io_serviced_recursive"`
	IoQueuedRecursive       []BlkioStatEntry `json:"io_queue_recursive"`
	IoServiceTimeRecursive  []BlkioStatEntry `json:"io_service_time_recursive"`
	IoWaitTimeRecursive     []BlkioStatEntry `json:"io_wait_time_recursive"`
	IoMergedRecursive       []BlkioStatEntry `json:"io_merged_recursive"`
	IoTimeRecursive         []BlkioStatEntry `json:"io_time_recursive"`
	SectorsRecursive        []BlkioStatEntry `json:"sectors_recursive"`
}

// BlkioStatEntry is one device's counter.
type BlkioStatEntry struct {
	Major uint64 `json:"major"`
	Minor uint64 `json:"minor"`
	Op    string `json:"op"`
	Value uint64 `json:"value"`
}

// PidsStats counts the container's processes (Limit 0: none).
type PidsStats struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// NetworkStats are one interface's counters.
type NetworkStats struct {
	RxBytes   uint64 `json:"rx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	RxErrors  uint64 `json:"rx_errors"`
	RxDropped uint64 `json:"rx_dropped"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxPackets uint64 `json:"tx_packets"`
	TxErrors  uint64 `json:"tx_errors"`
	TxDropped uint64 `json:"tx_dropped"`
}

// NetworkRate is ECS's network_rate_stats: bytes per second over all
// interfaces since the previous sample.
type NetworkRate struct {
	RxBytesPerSecond float64 `json:"rx_bytes_per_sec"`
	TxBytesPerSecond float64 `json:"tx_bytes_per_sec"`
}

// StatsHistory keeps each container's previous sample, so a driver that
// samples once per request (Docker's one-shot stats, cgroup files) fills
// precpu_stats, preread and network_rate_stats as a streamed reader would.
// Samples older than keepSamples are dropped. Safe for concurrent use.
type StatsHistory struct {
	mu   sync.Mutex
	prev map[string]Stats
}

// keepSamples is how long a previous sample is kept.
const keepSamples = 10 * time.Minute

// Fill sets s's previous-sample fields from id's last sample (when s has
// none of its own) and records s as id's last sample.
func (h *StatsHistory) Fill(id string, s *Stats) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.prev == nil {
		h.prev = map[string]Stats{}
	}
	for k, p := range h.prev {
		if s.Read.Sub(p.Read) > keepSamples {
			delete(h.prev, k)
		}
	}
	p, ok := h.prev[id]
	if ok && s.PreRead.IsZero() && p.Read.Before(s.Read) {
		s.PreRead, s.PreCPUStats = p.Read, p.CPUStats
	}
	if ok && s.NetworkRate == nil && len(s.Networks) > 0 && p.Read.Before(s.Read) {
		secs := s.Read.Sub(p.Read).Seconds()
		var rate NetworkRate
		for name, n := range s.Networks {
			if o, ok := p.Networks[name]; ok && n.RxBytes >= o.RxBytes && n.TxBytes >= o.TxBytes {
				rate.RxBytesPerSecond += float64(n.RxBytes-o.RxBytes) / secs
				rate.TxBytesPerSecond += float64(n.TxBytes-o.TxBytes) / secs
			}
		}
		s.NetworkRate = &rate
	}
	if !s.Read.IsZero() {
		h.prev[id] = *s
	}
}

// Forget drops id's last sample (the container is removed).
func (h *StatsHistory) Forget(id string) {
	h.mu.Lock()
	delete(h.prev, id)
	h.mu.Unlock()
}
