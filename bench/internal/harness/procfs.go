package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcStatus is what /proc/PID/status and /proc/PID/stat say about a process.
type ProcStatus struct {
	RSSKiB  int64   // VmRSS
	HWMKiB  int64   // VmHWM: peak RSS since start
	CPUSecs float64 // utime + stime
	Threads int
	OK      bool
}

// ClockTicks is USER_HZ; 100 on every Linux this runs on.
var ClockTicks = 100.0

// ReadProcStatus reads pid's memory, threads and CPU.
func ReadProcStatus(pid int) ProcStatus {
	var st ProcStatus
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			st.RSSKiB = n
		case "VmHWM":
			st.HWMKiB = n
		case "Threads":
			st.Threads = int(n)
		}
	}
	st.CPUSecs = ProcCPU(pid)
	st.OK = st.RSSKiB > 0
	return st
}

// ProcCPU returns the CPU seconds (user + system) a process used.
func ProcCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (ut + stime) / ClockTicks
}

// MemAvailableMiB reads MemAvailable from /proc/meminfo; -1 when unknown.
func MemAvailableMiB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb / 1024
			}
		}
	}
	return -1
}

// HostCPUTicks is the machine's CPU times from the "cpu" line of
// /proc/stat, without the label: user, nice, system, idle, iowait, irq,
// softirq, steal, ... in ClockTicks per second, summed over all CPUs, as
// the kernel wrote them; nil when unreadable.
func HostCPUTicks() []string {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "cpu" {
		return nil
	}
	return f[1:]
}

// HostCPUSecs returns the CPU seconds all processes used (from /proc/stat):
// user, nice, system, irq and softirq time.
func HostCPUSecs() float64 {
	f := HostCPUTicks()
	if len(f) < 7 {
		return -1
	}
	var busy float64
	for i, v := range f {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 7 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / ClockTicks
}

// SelfCPU returns this process's CPU seconds.
func SelfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// ProcEntry is one process of /proc: parent, name and CPU seconds (its own,
// and its reaped children's).
type ProcEntry struct {
	Pid, PPid int
	Comm      string
	CPU       float64 // utime + stime + cutime + cstime
}

// ScanProcs reads every process of /proc.
func ScanProcs() []ProcEntry {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []ProcEntry
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(string(b[j+1:]))
		if len(f) < 15 {
			continue
		}
		p := ProcEntry{Pid: pid, Comm: string(b[i+1 : j])}
		p.PPid, _ = strconv.Atoi(f[1])
		for _, k := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseFloat(f[k], 64)
			p.CPU += v / ClockTicks
		}
		out = append(out, p)
	}
	return out
}

// DescendantsCPU sums the CPU seconds of every live descendant of pid (not
// pid itself), including what their exited children used. With the process
// runtime these are the shims and the workloads (a trampoline execs the
// workload in the same process, so its cost counts too).
func DescendantsCPU(procs []ProcEntry, pid int) float64 {
	children := map[int][]int{}
	cpu := map[int]float64{}
	for _, p := range procs {
		children[p.PPid] = append(children[p.PPid], p.Pid)
		cpu[p.Pid] = p.CPU
	}
	var sum float64
	stack := slices.Clone(children[pid])
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		sum += cpu[p]
		stack = append(stack, children[p]...)
	}
	return sum
}

// engineComms are the Docker engine's processes.
var engineComms = []string{"dockerd", "containerd", "runc", "docker-proxy", "docker-init"}

// EngineTreeCPU sums the CPU seconds of the Docker engine's processes and of
// everything under them (the containers' processes), with what their exited
// children used.
func EngineTreeCPU(procs []ProcEntry) float64 {
	parent := map[int]int{}
	byPid := map[int]ProcEntry{}
	for _, p := range procs {
		parent[p.Pid] = p.PPid
		byPid[p.Pid] = p
	}
	isEngine := func(p ProcEntry) bool {
		return slices.Contains(engineComms, p.Comm) || strings.HasPrefix(p.Comm, "containerd-shim")
	}
	var sum float64
	for _, p := range procs {
		for q, depth := p, 0; depth < 64; depth++ {
			if isEngine(q) {
				sum += p.CPU
				break
			}
			pp, ok := byPid[parent[q.Pid]]
			if !ok || pp.Pid == q.Pid {
				break
			}
			q = pp
		}
	}
	return sum
}

// CPUSample is the CPU seconds used so far by each party of a run.
type CPUSample struct {
	At                                        time.Time
	Server, Agent, Tasks, Engine, Host, Bench float64
}

// SampleCPU reads the CPU of the server, the agent, the agent's tasks (the
// process runtime's shims and workloads: the agent's descendants and the
// children it reaped), the Docker engine with its containers, the machine
// and this program. srv and ag may be nil.
func SampleCPU(srv, ag *Proc) CPUSample {
	procs := ScanProcs()
	s := CPUSample{At: time.Now(), Host: HostCPUSecs(), Bench: SelfCPU()}
	if srv != nil {
		s.Server = ProcCPU(srv.Pid())
	}
	if ag != nil {
		s.Agent = ProcCPU(ag.Pid())
		for _, p := range procs {
			if p.Pid == ag.Pid() {
				s.Tasks += p.CPU - s.Agent // what its reaped children used
			}
		}
		s.Tasks += DescendantsCPU(procs, ag.Pid())
	}
	s.Engine = EngineTreeCPU(procs)
	return s
}

// CPUWindow is the CPU used between two samples, in cores. Other is the
// machine's busy time minus every party measured: other jobs, and processes
// that exited inside the window.
type CPUWindow struct {
	Secs                                       float64
	Server, Agent, Tasks, Engine, Bench, Other float64
	Host                                       float64
}

// Window is the CPU used from a to b.
func Window(a, b CPUSample) CPUWindow {
	w := CPUWindow{Secs: b.At.Sub(a.At).Seconds()}
	if w.Secs <= 0 {
		return w
	}
	c := func(x, y float64) float64 { return max(y-x, 0) / w.Secs }
	w.Server, w.Agent, w.Tasks, w.Engine = c(a.Server, b.Server), c(a.Agent, b.Agent), c(a.Tasks, b.Tasks), c(a.Engine, b.Engine)
	w.Bench, w.Host = c(a.Bench, b.Bench), c(a.Host, b.Host)
	w.Other = max(w.Host-w.Server-w.Agent-w.Tasks-w.Engine-w.Bench, 0)
	return w
}

func (w CPUWindow) String() string {
	return fmt.Sprintf("server %.2f, agent %.2f, tasks %.2f, engine %.2f, bench %.2f, other %.2f (host %.2f) cores",
		w.Server, w.Agent, w.Tasks, w.Engine, w.Bench, w.Other, w.Host)
}

// MedWindow is the median of every field of ws.
func MedWindow(ws []CPUWindow) CPUWindow {
	return CPUWindow{
		Secs:   Med(ws, func(w CPUWindow) float64 { return w.Secs }),
		Server: Med(ws, func(w CPUWindow) float64 { return w.Server }),
		Agent:  Med(ws, func(w CPUWindow) float64 { return w.Agent }),
		Tasks:  Med(ws, func(w CPUWindow) float64 { return w.Tasks }),
		Engine: Med(ws, func(w CPUWindow) float64 { return w.Engine }),
		Bench:  Med(ws, func(w CPUWindow) float64 { return w.Bench }),
		Other:  Med(ws, func(w CPUWindow) float64 { return w.Other }),
		Host:   Med(ws, func(w CPUWindow) float64 { return w.Host }),
	}
}
