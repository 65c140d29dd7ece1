//go:build linux

package process

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Where cgroup v2 is mounted and where a process's cgroup is read
// (variables for tests).
var (
	cgroupMount  = "/sys/fs/cgroup"
	selfCgroup   = "/proc/self/cgroup"
	agentLeaf    = "berth-agent"
	cgroupPrefix = "berth-"
)

// cgroupConfig is a container's cgroup. Zero values are not written.
type cgroupConfig struct {
	Path      string `json:"path"`
	MemoryMax int64  `json:"memoryMax,omitempty"`
	MemoryLow int64  `json:"memoryLow,omitempty"`
	CPUWeight int64  `json:"cpuWeight,omitempty"`
	// Task is the cgroup of the container's task, Path's parent; nil when
	// the container has no task limits.
	Task *taskCgroupConfig `json:"task,omitempty"`
}

// detectCgroups finds where per-container cgroups can be created and which
// controllers they get.
func detectCgroups(opts Options) (Limits, error) {
	if opts.CgroupParent == "none" {
		return Limits{Reason: "cgroups are disabled (CgroupParent none)"}, nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupMount, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		return Limits{Reason: "cgroup v2 is not mounted at " + cgroupMount + " (cgroup v1 and hybrid hosts are not supported)"}, nil
	}
	parent, explicit := opts.CgroupParent, opts.CgroupParent != ""
	if explicit {
		if !strings.HasPrefix(filepath.Clean(parent)+"/", cgroupMount+"/") {
			parent = filepath.Join(cgroupMount, parent)
		}
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return Limits{Reason: err.Error()}, nil
		}
	} else {
		own, err := ownCgroup()
		if err != nil {
			return Limits{Reason: err.Error()}, nil
		}
		if filepath.Base(own) == agentLeaf {
			own = filepath.Dir(own) // an earlier driver in this process moved it
		}
		parent = filepath.Join(cgroupMount, own)
	}
	return enableControllers(parent, !explicit)
}

// ownCgroup reads the agent's cgroup v2 path.
func ownCgroup() (string, error) {
	data, err := os.ReadFile(selfCgroup)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("no cgroup v2 entry in " + selfCgroup)
}

// enableControllers enables memory and cpu for parent's children. A cgroup
// with processes cannot delegate controllers ("no internal processes"), so
// when parent is the agent's own cgroup the agent moves itself into a leaf.
func enableControllers(parent string, own bool) (Limits, error) {
	lim := Limits{Cgroup: parent}
	avail := fieldSet(parent, "cgroup.controllers")
	var want []string
	for _, c := range []string{"memory", "cpu"} {
		if avail[c] {
			want = append(want, c)
		}
	}
	if len(want) == 0 {
		return Limits{Reason: "the memory and cpu controllers are not available in " + parent}, nil
	}
	enable := func() (err error) {
		enabled := fieldSet(parent, "cgroup.subtree_control")
		for _, c := range want {
			if !enabled[c] {
				if werr := os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+"+c), 0); werr != nil {
					err = werr
				}
			}
		}
		return err
	}
	err := enable()
	if errors.Is(err, syscall.EBUSY) && own {
		leaf := filepath.Join(parent, agentLeaf)
		if merr := os.Mkdir(leaf, 0o755); merr != nil && !errors.Is(merr, fs.ErrExist) {
			return Limits{Reason: "cannot create " + leaf + ": " + merr.Error()}, nil
		}
		if merr := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); merr != nil {
			return Limits{Reason: "cannot move the agent into " + leaf + ": " + merr.Error()}, nil
		}
		err = enable()
	}
	enabled := fieldSet(parent, "cgroup.subtree_control")
	lim.Memory, lim.CPU = enabled["memory"], enabled["cpu"]
	if !lim.Memory && !lim.CPU {
		reason := "cannot enable the memory and cpu controllers in " + parent
		if err != nil {
			reason += ": " + err.Error()
		}
		return Limits{Reason: reason}, nil
	}
	switch {
	case !lim.Memory:
		lim.Reason = "the memory controller is not available in " + parent
	case !lim.CPU:
		lim.Reason = "the cpu controller is not available in " + parent
	}
	return lim, nil
}

// fieldSet reads a space-separated cgroup file into a set.
func fieldSet(dir, file string) map[string]bool {
	data, _ := os.ReadFile(filepath.Join(dir, file))
	set := map[string]bool{}
	for _, f := range strings.Fields(string(data)) {
		set[f] = true
	}
	return set
}

// cgroupFor is the cgroup of container id under the driver's limits.
func (l Limits) cgroupFor(id string, memoryMiB, reservationMiB, shares int64) *cgroupConfig {
	if l.Cgroup == "" {
		return nil
	}
	c := &cgroupConfig{Path: filepath.Join(l.Cgroup, cgroupPrefix+id)}
	if l.Memory {
		c.MemoryMax = memoryMiB << 20
		c.MemoryLow = reservationMiB << 20
	}
	if l.CPU {
		c.CPUWeight = cpuWeight(shares)
	}
	return c
}

// create makes the cgroup and writes its limits.
func (c *cgroupConfig) create() error {
	if c.Task != nil {
		if err := c.Task.create(); err != nil {
			return err
		}
	}
	if err := os.Mkdir(c.Path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cgroup: %w", err)
	}
	write := func(file string, v int64) error {
		if v <= 0 {
			return nil
		}
		if err := os.WriteFile(filepath.Join(c.Path, file), []byte(strconv.FormatInt(v, 10)), 0); err != nil {
			return fmt.Errorf("cgroup: %s: %w", file, err)
		}
		return nil
	}
	if err := write("memory.max", c.MemoryMax); err != nil {
		return err
	}
	if c.MemoryMax > 0 || c.Task != nil && c.Task.MemoryMax > 0 {
		// An OOM kill takes the whole container, as the kernel cannot tell
		// which of its processes matters.
		_ = os.WriteFile(filepath.Join(c.Path, "memory.oom.group"), []byte("1"), 0)
	}
	if err := write("memory.low", c.MemoryLow); err != nil {
		return err
	}
	return write("cpu.weight", c.CPUWeight)
}

// add moves a process into the cgroup.
func (c *cgroupConfig) add(pid int) error {
	if err := os.WriteFile(filepath.Join(c.Path, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("cgroup: joining %s: %w", c.Path, err)
	}
	return nil
}

// kill SIGKILLs every process in the cgroup.
func (c *cgroupConfig) kill() {
	if os.WriteFile(filepath.Join(c.Path, "cgroup.kill"), []byte("1"), 0) == nil {
		return
	}
	data, _ := os.ReadFile(filepath.Join(c.Path, "cgroup.procs")) // kernels before 5.14
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// oomKilled reports whether the kernel OOM-killed a process of the cgroup
// (under its own limit or its task's).
func (c *cgroupConfig) oomKilled() bool {
	if c.MemoryMax <= 0 && (c.Task == nil || c.Task.MemoryMax <= 0) {
		return false
	}
	return oomKillCount(filepath.Join(c.Path, "memory.events")) > 0
}

func oomKillCount(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "oom_kill "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// remove deletes the cgroup once its processes are gone.
func (c *cgroupConfig) remove() error {
	var err error
	for range 50 {
		err = os.Remove(c.Path)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		c.kill()
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
