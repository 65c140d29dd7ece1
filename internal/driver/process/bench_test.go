//go:build linux

package process

import (
	"os"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

// BenchmarkContainer runs containers of /bin/true one after another
// (create, start, wait, remove) and reports the CPU the runtime spent per
// container: the shims and what they ran (reaped children of this process),
// and this process's own CPU (the driver's side). With BERTH_BENCH_BERTH
// set to a berth binary the shim is `berth shim`, as in the agent;
// otherwise the package's small test shim.
func BenchmarkContainer(b *testing.B) {
	opts := Options{StateDir: b.TempDir(), ShimPath: shimBin}
	if bin := os.Getenv("BERTH_BENCH_BERTH"); bin != "" {
		opts.ShimPath, opts.ShimArgs = bin, []string{ShimCommand}
	}
	d, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	var before, after syscall.Rusage
	var selfBefore, selfAfter syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &before)
	syscall.Getrusage(syscall.RUSAGE_SELF, &selfBefore)
	b.ResetTimer()
	for b.Loop() {
		h, err := d.Create(ctx, driver.Spec{Command: []string{"true"}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Start(ctx, h); err != nil {
			b.Fatal(err)
		}
		if st, err := d.Wait(ctx, h); err != nil || st.ExitCode != 0 {
			b.Fatalf("wait: %+v, %v", st, err)
		}
		// The shim is reaped asynchronously: wait for it before counting.
		if c := d.child(h.ID); c != nil {
			<-c.done
		}
		if err := d.Remove(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &after)
	syscall.Getrusage(syscall.RUSAGE_SELF, &selfAfter)
	cpu := func(r syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	n := float64(b.N)
	b.ReportMetric(float64(cpu(after)-cpu(before))/1e6/n, "runtime-cpu-ms/op")
	b.ReportMetric(float64(cpu(selfAfter)-cpu(selfBefore))/1e6/n, "driver-cpu-ms/op")
}
