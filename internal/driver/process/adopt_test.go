//go:build linux

package process

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

// trapScript exits 7 on SIGTERM.
const trapScript = `trap 'echo term; exit 7' TERM; echo started; while :; do sleep 0.05; done`

func TestAdoptAfterAgentExit(t *testing.T) {
	stateDir := t.TempDir()
	a := newDriver(t, Options{StateDir: stateDir})
	spec := sh(trapScript)
	spec.Name = "adopt-me"
	spec.Labels = map[string]string{driver.LabelTaskARN: "arn:aws:ecs:us-east-1:000000000000:task/c/1"}
	h, _ := mustStart(t, a, spec)
	eventually(t, "output", func() bool { return len(readLogs(t, a, h, false)) > 0 })

	// Agent A goes away without cleaning up; agent B starts on the same state.
	b := newDriver(t, Options{StateDir: stateDir})
	adopted := adoptOne(t, b, h.ID)
	if adopted.Name != "adopt-me" || adopted.Labels[driver.LabelTaskARN] != spec.Labels[driver.LabelTaskARN] {
		t.Fatalf("adopted handle %+v", adopted)
	}
	stopAdopted(t, b, adopted, 7)
	if out := texts(readLogs(t, b, adopted, false), "stdout"); strings.Join(out, ",") != "started,term" {
		t.Fatalf("output through the adopting driver: %q", out)
	}
}

// envHelperState makes TestHelperAgent act as an agent on that state dir.
const envHelperState = "BERTH_PROCESS_TEST_AGENT_STATE"

// TestHelperAgent is the "agent" process TestShimSurvivesAgentKill kills: it
// starts a container, prints its ID and blocks.
func TestHelperAgent(t *testing.T) {
	stateDir := os.Getenv(envHelperState)
	if stateDir == "" {
		t.Skip("helper process for TestShimSurvivesAgentKill")
	}
	d, err := New(Options{StateDir: stateDir, ShimPath: shimBin, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.Create(context.Background(), sh(trapScript))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Start(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ID " + h.ID + "\n")
	select {} // until killed
}

func TestShimSurvivesAgentKill(t *testing.T) {
	stateDir := t.TempDir()
	agent := exec.Command(os.Args[0], "-test.run=^TestHelperAgent$", "-test.count=1")
	agent.Env = append(os.Environ(), envHelperState+"="+stateDir, envHelperBin+"="+filepath.Dir(shimBin))
	agent.Stderr = os.Stderr
	// Its own process group, which is killed whole below: a shim in that
	// group (not in a session of its own) would die with it.
	agent.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := agent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer agent.Process.Kill()
	var id string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ID "); ok {
			id = rest
			break
		}
	}
	if id == "" {
		agent.Process.Kill()
		agent.Wait()
		t.Fatal("the helper agent started no container")
	}
	if err := syscall.Kill(-agent.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	agent.Wait()

	b := newDriver(t, Options{StateDir: stateDir})
	h := adoptOne(t, b, id)
	if s := snap(t, b, h); s.shim == nil || s.shim.Pid == agent.Process.Pid {
		t.Fatalf("shim record %+v", s.shim)
	}
	stopAdopted(t, b, h, 7)
}

// adoptOne finds container id through List and checks it is running.
func adoptOne(t *testing.T, d *Driver, id string) driver.Handle {
	t.Helper()
	hs, err := d.List(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].ID != id || hs[0].Labels[driver.LabelManaged] != "true" {
		t.Fatalf("list %+v, want container %s", hs, id)
	}
	st, err := d.Inspect(ctxT(t), hs[0])
	if err != nil || !st.Running || st.Exited || st.Error != "" {
		t.Fatalf("adopted container: %+v, %v", st, err)
	}
	return hs[0]
}

// stopAdopted stops an adopted container and checks the exit code Wait
// reports. Exactly one shim and one workload ran.
func stopAdopted(t *testing.T, d *Driver, h driver.Handle, code int) {
	t.Helper()
	eventually(t, "the trap", func() bool { return len(readLogs(t, d, h, false)) > 0 })
	if err := d.Stop(ctxT(t), h, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := d.Wait(ctxT(t), h)
	if err != nil || !st.Exited || st.ExitCode != code || st.Error != "" {
		t.Fatalf("wait: %+v, %v; want exit code %d", st, err, code)
	}
	shimLog, _ := os.ReadFile(filepath.Join(d.dir(h.ID), fileShimLog))
	if n := strings.Count(string(shimLog), "started"); n != 1 {
		t.Fatalf("%d workloads started:\n%s", n, shimLog)
	}
}

// liveSleep starts a process outside any container, in its own group.
func liveSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// fakeStarted makes a created container look started, with shim and
// workload records.
func fakeStarted(t *testing.T, d *Driver, h driver.Handle, shim, work procRef) {
	t.Helper()
	dir := d.dir(h.ID)
	for name, v := range map[string]any{
		fileStarted:  "",
		fileShim:     shim,
		fileWorkload: workloadRec{procRef: work, StartedAt: time.Now()},
	} {
		if err := writeJSON(filepath.Join(dir, name), v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPidReuseGuard(t *testing.T) {
	d := newDriver(t, Options{})
	other := liveSleep(t)
	real, err := refOf(other.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// Records pointing at a live process that started at another time: a
	// reused pid.
	h := mustCreate(t, d, driver.Spec{Command: []string{"true"}})
	reused := procRef{Pid: real.Pid, StartTicks: real.StartTicks - 1}
	fakeStarted(t, d, h, reused, reused)
	st, err := d.Inspect(ctxT(t), h)
	if err != nil || st.Running || !st.Exited || st.ExitCode != 255 || !strings.Contains(st.Error, "exit status unknown") {
		t.Fatalf("inspect with a reused pid: %+v, %v", st, err)
	}
	if err := d.Stop(ctxT(t), h, 0); err != nil {
		t.Fatal(err)
	}
	if !(procRef{Pid: real.Pid, StartTicks: real.StartTicks}).alive() {
		t.Fatal("stop signalled a process that reused the pid")
	}
}

func TestUnsupervisedWorkload(t *testing.T) {
	// The shim is gone (say, killed) but the workload still runs: it is
	// reported running, and Stop kills its process group.
	d := newDriver(t, Options{})
	other := liveSleep(t)
	real, err := refOf(other.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	h := mustCreate(t, d, driver.Spec{Command: []string{"true"}})
	fakeStarted(t, d, h, procRef{Pid: real.Pid, StartTicks: real.StartTicks - 1}, real)
	st, err := d.Inspect(ctxT(t), h)
	if err != nil || !st.Running || st.Exited || !strings.Contains(st.Error, "shim is gone") {
		t.Fatalf("inspect: %+v, %v", st, err)
	}
	if err := d.Stop(ctxT(t), h, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	st, err = d.Wait(ctxT(t), h)
	if err != nil || !st.Exited || st.ExitCode == 0 {
		t.Fatalf("wait: %+v, %v", st, err)
	}
	if err := other.Wait(); err == nil || other.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Fatalf("the workload was not stopped with SIGTERM: %v", err)
	}
}

func TestShimKilledWorkloadLost(t *testing.T) {
	// kill -9 of the shim: the workload runs on unsupervised; once it is
	// gone too, the exit status is unknown (255), not a made-up success.
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, driver.Spec{Command: []string{"sleep", "1000"}})
	s := snap(t, d, h)
	if err := syscall.Kill(s.shim.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the shim to die", func() bool { return !s.shim.alive() })
	st, err := d.Inspect(ctxT(t), h)
	if err != nil || !st.Running || st.Error == "" {
		t.Fatalf("inspect: %+v, %v", st, err)
	}
	if err := syscall.Kill(s.work.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st, err = d.Wait(ctxT(t), h)
	if err != nil || !st.Exited || st.ExitCode != 255 || !strings.Contains(st.Error, "unknown") {
		t.Fatalf("wait: %+v, %v", st, err)
	}
}
