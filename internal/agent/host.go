package agent

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// hostMemoryMiB reads the machine's memory from /proc/meminfo.
func hostMemoryMiB() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("read host memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read host memory: %w", err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("read host memory: no MemTotal in /proc/meminfo")
}

// cpuArchitecture is ECS's name for the machine's architecture.
func cpuArchitecture() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "arm64"
	}
	return runtime.GOARCH
}

// hostInstanceID names this agent's host in ECS's ec2InstanceId form. It
// is stable across restarts and reboots (machine ID, else hostname) and
// distinct per data dir, so several agents on one machine (tests, dev) are
// several container instances.
func hostInstanceID(dataDir string) string {
	machine, err := os.ReadFile("/etc/machine-id")
	if err != nil || len(strings.TrimSpace(string(machine))) == 0 {
		h, _ := os.Hostname()
		machine = []byte(h)
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(machine)) + "\x00" + abs))
	return "i-" + hex.EncodeToString(sum[:])[:17]
}
