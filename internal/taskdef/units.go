package taskdef

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Task size limits.
const (
	minEC2TaskCPU = 128           // 0.125 vCPU
	maxEC2TaskCPU = 196608        // 192 vCPU
	maxUnits      = math.MaxInt32 // cpu and memory must fit an int32
)

var decimal = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)$`) })

// parseCPU parses a task-level cpu: whole CPU units ("1024") or vCPUs
// ("1 vCPU", "0.5 vcpu", "2vCPU"). It returns the CPU units and false when the
// text is no whole number of units.
func parseCPU(s string) (int64, bool) {
	t := strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(strings.ToLower(t), "vcpu"); ok {
		return scaled(strings.TrimSpace(n), 1024)
	}
	return whole(t)
}

// parseMemory parses a task-level memory: MiB ("512"), GB/GiB ("1GB", "1 GB",
// "0.5 GiB") or MB/MiB ("512 MiB"). GB is read as GiB, as ECS does. Only the
// suffixed forms may have a fraction, and the result must be whole MiB.
func parseMemory(s string) (int64, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range []struct {
		suffix string
		scale  int64
	}{{"gib", 1024}, {"gb", 1024}, {"mib", 1}, {"mb", 1}} {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			return scaled(strings.TrimSpace(n), u.scale)
		}
	}
	return whole(t)
}

// whole parses a plain number of units: digits only.
func whole(num string) (int64, bool) {
	if strings.Contains(num, ".") {
		return 0, false
	}
	return scaled(num, 1)
}

// scaled multiplies a non-negative decimal by scale exactly and reports
// whether the result is a whole number that fits an int32.
func scaled(num string, scale int64) (int64, bool) {
	if !decimal().MatchString(num) {
		return 0, false
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > maxUnits/scale {
			return 0, false
		}
		return n * scale, true
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt64(scale))
	if !r.IsInt() || !r.Num().IsInt64() || r.Num().Int64() > maxUnits {
		return 0, false
	}
	return r.Num().Int64(), true
}

// fargateSizes lists, per Fargate cpu, the allowed memory as an inclusive range
// with a step; 256 CPU units are the exception (512, 1024 or 2048).
var fargateSizes = map[int64]struct{ min, max, step int64 }{
	256:   {},
	512:   {1024, 4096, 1024},
	1024:  {2048, 8192, 1024},
	2048:  {4096, 16384, 1024},
	4096:  {8192, 30720, 1024},
	8192:  {16384, 61440, 4096},
	16384: {32768, 122880, 8192},
}

// validFargateSize reports whether cpu units and memory MiB form a Fargate task
// size.
func validFargateSize(cpu, mem int64) bool {
	r, ok := fargateSizes[cpu]
	if !ok {
		return false
	}
	if r.step == 0 {
		return mem == 512 || mem == 1024 || mem == 2048
	}
	return mem >= r.min && mem <= r.max && (mem-r.min)%r.step == 0
}
