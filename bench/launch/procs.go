package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// killStrays ends the process-runtime containers an agent left behind
// under dataDir, by pid: each container's workload process group (from its
// workload.json) and its shim (from shim.json). It is the last resort after
// an interrupted run; a normal run stops every task through the API.
func killStrays(dataDir string) int {
	dirs, _ := filepath.Glob(filepath.Join(dataDir, "runtime", "process", "*"))
	n := 0
	for _, dir := range dirs {
		for _, f := range []string{"workload.json", "shim.json"} {
			pid, start := pidRecord(filepath.Join(dir, f))
			if pid <= 0 || !sameProcess(pid, start) {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, "exit.json")); err == nil {
				continue
			}
			if f == "workload.json" {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			} else {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			n++
		}
	}
	return n
}

// pidRecord reads the pid and the start time (clock ticks since boot) a
// process-runtime record (shim.json, workload.json) holds.
func pidRecord(path string) (int, uint64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	var rec struct {
		Pid        int    `json:"pid"`
		StartTicks uint64 `json:"startTicks"`
	}
	if json.Unmarshal(b, &rec) != nil {
		return 0, 0
	}
	return rec.Pid, rec.StartTicks
}

// sameProcess reports whether pid is alive and, when start is known, started
// at that time (field 22 of /proc/PID/stat), so a reused pid is left alone.
func sameProcess(pid int, start uint64) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || f[0] == "Z" {
		return false
	}
	if start == 0 {
		return true
	}
	got, _ := strconv.ParseUint(f[19], 10, 64)
	return got == start
}
