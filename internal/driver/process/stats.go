//go:build linux

package process

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/driver"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on every
// Linux architecture Go supports).
const clockTicks = 100

// ContainerStats reports a container's usage as driver.Stats. A running
// container with a cgroup (cgroup v2, see Task limits) is read from it:
//
//	cpu.stat        usage_usec, user_usec, system_usec; nr_periods,
//	                nr_throttled, throttled_usec (with the cpu controller)
//	memory.current  memory_stats.usage; memory.peak max_usage where the
//	                kernel has it; memory.stat memory_stats.stats
//	memory.max      memory_stats.limit; "max": the task's, else the host's
//	pids.current    pids_stats.current (else cgroup.threads' lines)
//	io.stat         blkio_stats: bytes and operations per device, "read"
//	                and "write", as Docker maps cgroup v2
//
// Without a cgroup the workload's process group is summed from
// /proc/PID/stat (CPU time, resident memory, threads); memory_stats.limit
// is the container's memory, else its task's, else the host's, and
// blkio_stats is empty. A container in a sandbox (awsvpc) reports the
// sandbox's interfaces from /proc/PID/net/dev of its workload; one on the
// host's network (modes host and bridge, which this runtime runs as host)
// reports none. system_cpu_usage and online_cpus come from /proc/stat.
func (d *Driver) ContainerStats(_ context.Context, runtimeID string) (json.RawMessage, error) {
	id, err := d.resolve(driver.Handle{ID: runtimeID})
	if err != nil {
		return nil, err
	}
	s, err := d.snapshot(id, 0)
	if err != nil {
		return nil, err
	}
	st := driver.Stats{ID: id, Name: "/" + s.rec.Name}
	if s.running() {
		st.Read = time.Now().UTC()
		d.sample(s, &st)
	}
	d.stats.Fill(id, &st)
	return json.Marshal(st)
}

// sample reads a running container's usage into st.
func (d *Driver) sample(s *snapshot, st *driver.Stats) {
	if data, err := os.ReadFile(procFS + "/stat"); err == nil {
		ticks, cpus := parseProcStatCPU(data)
		st.CPUStats.SystemUsage, st.CPUStats.OnlineCPUs = ticks*(1e9/clockTicks), cpus
	}
	if cg := s.rec.Cgroup; cg == nil || !cgroupSample(cg, st) {
		d.processSample(s, st)
	}
	if s.rec.Plan.NetNS != "" && s.work != nil {
		if data, err := os.ReadFile(procFS + "/" + strconv.Itoa(s.work.Pid) + "/net/dev"); err == nil {
			if nets, err := driver.ParseNetDev(data); err == nil && len(nets) > 0 {
				st.Networks = nets
			}
		}
	}
}

// cgroupSample reads the container's cgroup v2 files; false when the
// cgroup is not there (any more).
func cgroupSample(cg *cgroupConfig, st *driver.Stats) bool {
	read := func(file string) []byte {
		data, _ := os.ReadFile(filepath.Join(cg.Path, file))
		return data
	}
	cpu := read("cpu.stat")
	if cpu == nil {
		return false
	}
	c := parseKeyed(cpu)
	st.CPUStats.CPUUsage = driver.CPUUsage{TotalUsage: c["usage_usec"] * 1000,
		UsageInUsermode: c["user_usec"] * 1000, UsageInKernelmode: c["system_usec"] * 1000}
	st.CPUStats.ThrottlingData = driver.ThrottlingData{Periods: c["nr_periods"],
		ThrottledPeriods: c["nr_throttled"], ThrottledTime: c["throttled_usec"] * 1000}
	m := &st.MemoryStats
	m.Usage, _ = parseValue(read("memory.current"))
	m.MaxUsage, _ = parseValue(read("memory.peak"))
	if ms := parseKeyed(read("memory.stat")); len(ms) > 0 {
		m.Stats = ms
	}
	var ok bool
	if m.Limit, ok = parseValue(read("memory.max")); !ok && cg.Task != nil {
		data, _ := os.ReadFile(filepath.Join(cg.Task.Path, "memory.max"))
		m.Limit, ok = parseValue(data)
	}
	if !ok {
		m.Limit = hostMemory()
	}
	if n, ok := parseValue(read("pids.current")); ok {
		st.PidsStats.Current = n
	} else {
		st.PidsStats.Current = uint64(len(strings.Fields(string(read("cgroup.threads")))))
	}
	if n, ok := parseValue(read("pids.max")); ok {
		st.PidsStats.Limit = n
	}
	for _, io := range parseIOStat(read("io.stat")) {
		b := &st.BlkioStats
		b.IoServiceBytesRecursive = append(b.IoServiceBytesRecursive,
			driver.BlkioStatEntry{Major: io.Major, Minor: io.Minor, Op: "read", Value: io.RBytes},
			driver.BlkioStatEntry{Major: io.Major, Minor: io.Minor, Op: "write", Value: io.WBytes})
		b.IoServicedRecursive = append(b.IoServicedRecursive,
			driver.BlkioStatEntry{Major: io.Major, Minor: io.Minor, Op: "read", Value: io.RIOs},
			driver.BlkioStatEntry{Major: io.Major, Minor: io.Minor, Op: "write", Value: io.WIOs})
	}
	return true
}

// processSample sums the workload's process group from /proc.
func (d *Driver) processSample(s *snapshot, st *driver.Stats) {
	if s.work == nil {
		return
	}
	pgrp := s.work.Pid
	ents, err := os.ReadDir(procFS)
	if err != nil {
		return
	}
	page := uint64(os.Getpagesize())
	var user, sys uint64
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(procFS + "/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		p, ok := parsePidStat(data)
		if !ok || p.Pgrp != pgrp {
			continue
		}
		user += p.UTime
		sys += p.STime
		st.MemoryStats.Usage += p.RSSPages * page
		st.PidsStats.Current += p.Threads
	}
	const ns = 1e9 / clockTicks
	st.CPUStats.CPUUsage = driver.CPUUsage{TotalUsage: (user + sys) * ns, UsageInUsermode: user * ns, UsageInKernelmode: sys * ns}
	spec := s.rec.Spec
	switch {
	case spec.MemoryMiB > 0:
		st.MemoryStats.Limit = uint64(spec.MemoryMiB) << 20
	case spec.Task != nil && spec.Task.MemoryMiB > 0:
		st.MemoryStats.Limit = uint64(spec.Task.MemoryMiB) << 20
	default:
		st.MemoryStats.Limit = hostMemory()
	}
}

// hostMemory is the host's memory in bytes (0 when unknown).
func hostMemory() uint64 {
	data, _ := os.ReadFile(procFS + "/meminfo")
	return parseMemTotal(data)
}
