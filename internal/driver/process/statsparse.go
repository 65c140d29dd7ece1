package process

import (
	"bytes"
	"strconv"
)

// The parsers of the files ContainerStats reads (stats.go). They never
// fail: what does not parse is left out, so a kernel that adds or
// reformats a line costs that line only.

// parseKeyed reads a flat keyed file, "KEY VALUE" per line (cgroup v2
// cpu.stat and memory.stat).
func parseKeyed(data []byte) map[string]uint64 {
	out := map[string]uint64{}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseUint(string(f[1]), 10, 64); err == nil {
			out[string(f[0])] = v
		}
	}
	return out
}

// parseValue reads a single-value file (memory.current, memory.max,
// pids.current); ok is false for "max" and anything else not a number.
func parseValue(data []byte) (v uint64, ok bool) {
	v, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	return v, err == nil
}

// ioStat is one device's line of cgroup v2 io.stat.
type ioStat struct {
	Major, Minor               uint64
	RBytes, WBytes, RIOs, WIOs uint64
}

// parseIOStat reads io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N
// dbytes=N dios=N" per device.
func parseIOStat(data []byte) []ioStat {
	var out []ioStat
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		maj, min, ok := bytes.Cut(f[0], []byte(":"))
		if !ok {
			continue
		}
		var s ioStat
		var err1, err2 error
		s.Major, err1 = strconv.ParseUint(string(maj), 10, 64)
		s.Minor, err2 = strconv.ParseUint(string(min), 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		for _, kv := range f[1:] {
			k, v, ok := bytes.Cut(kv, []byte("="))
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(string(v), 10, 64)
			if err != nil {
				continue
			}
			switch string(k) {
			case "rbytes":
				s.RBytes = n
			case "wbytes":
				s.WBytes = n
			case "rios":
				s.RIOs = n
			case "wios":
				s.WIOs = n
			}
		}
		out = append(out, s)
	}
	return out
}

// parseProcStatCPU reads /proc/stat: the host's CPU time over all CPUs
// (the first "cpu" line's fields, in clock ticks) and the number of CPUs
// ("cpuN" lines), as Docker reads them.
func parseProcStatCPU(data []byte) (ticks uint64, cpus uint32) {
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) == 0 || !bytes.HasPrefix(f[0], []byte("cpu")) {
			continue
		}
		if len(f[0]) > 3 {
			cpus++
			continue
		}
		for _, v := range f[1:] {
			if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				ticks += n
			}
		}
	}
	return ticks, cpus
}

// pidStat is what /proc/PID/stat says of a process's usage.
type pidStat struct {
	Pgrp         int
	UTime, STime uint64 // clock ticks
	Threads      uint64
	RSSPages     uint64
}

// parsePidStat reads /proc/PID/stat; ok is false when it is malformed.
func parsePidStat(data []byte) (s pidStat, ok bool) {
	// The command name (field 2) may hold anything, so the fields that
	// follow start after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return s, false
	}
	f := bytes.Fields(data[i+1:])
	// f[0] is field 3 (state): field N is f[N-3].
	if len(f) < 22 {
		return s, false
	}
	num := func(n int) uint64 {
		v, err := strconv.ParseUint(string(f[n-3]), 10, 64)
		if err != nil {
			ok = false
		}
		return v
	}
	ok = true
	pgrp := num(5)
	s.UTime, s.STime, s.Threads, s.RSSPages = num(14), num(15), num(20), num(24)
	if pgrp > 1<<31 {
		ok = false
	}
	s.Pgrp = int(pgrp)
	return s, ok
}

// parseMemTotal reads MemTotal (bytes) from /proc/meminfo.
func parseMemTotal(data []byte) uint64 {
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("MemTotal:")); ok {
			f := bytes.Fields(v)
			if len(f) >= 1 {
				if n, err := strconv.ParseUint(string(f[0]), 10, 64); err == nil && n < 1<<53 {
					return n << 10
				}
			}
		}
	}
	return 0
}
