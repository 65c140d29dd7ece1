package harness

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Machine describes where a benchmark ran.
type Machine struct {
	CPUs    int
	Model   string
	MemMiB  int64
	Kernel  string
	GoVer   string
	GoArch  string
	FS      string // file system of the data dirs
	Docker  string // engine version, when one was used
	When    time.Time
	LoadAvg string // 1, 5 and 15-minute load averages at the start
	Berth   string // the binary's VCS revision, "+dirty" when built from a modified tree
}

// MachineInfo describes this machine, with dataDir's file system.
func MachineInfo(dataDir string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Model: CPUModel(), GoVer: runtime.Version(), GoArch: runtime.GOOS + "/" + runtime.GOARCH,
		FS: FSType(dataDir), When: time.Now().UTC(), LoadAvg: LoadAvg()}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.Kernel = utsString(u.Release[:])
	}
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		m.MemMiB = int64(si.Totalram) * int64(si.Unit) >> 20
	}
	return m
}

// LoadAvg is the 1, 5 and 15-minute load averages ("" when unknown).
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func utsString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// Summary is one line: CPUs, memory, kernel, Go, file system, Docker,
// berth's revision and the load average at the start.
func (m Machine) Summary() string {
	s := fmt.Sprintf("%d CPUs", m.CPUs)
	if m.Model != "" {
		s += " (" + m.Model + ")"
	}
	s += fmt.Sprintf(", %d MiB RAM, Linux %s, %s, %s, data dirs on %s", m.MemMiB, m.Kernel, m.GoArch, m.GoVer, m.FS)
	if m.Docker != "" {
		s += ", Docker Engine " + m.Docker
	}
	if m.Berth != "" {
		s += ", berth " + m.Berth
	}
	if m.LoadAvg != "" {
		s += ", load average at start " + m.LoadAvg
	}
	return s
}

// CPUModel returns the first CPU model name from /proc/cpuinfo ("" when
// unknown).
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// FSType names the file system that holds dir (Linux): ext4, xfs, btrfs,
// tmpfs or overlayfs, else its magic number in hex ("0x2fc12fc1");
// "unknown" when dir cannot be read.
func FSType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	switch uint64(st.Type) {
	case 0xEF53:
		return "ext4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs"
	case 0x794C7630:
		return "overlayfs"
	}
	return fmt.Sprintf("0x%x", uint64(st.Type))
}
