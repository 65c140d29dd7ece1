//go:build unix

package pause_test

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"berth.dev/berth/internal/pause"
)

const envRun = "BERTH_PAUSE_TEST_RUN"

func TestMain(m *testing.M) {
	if os.Getenv(envRun) == "1" {
		// An orphan to reap: a child that exits at once.
		exec.Command("/bin/true").Start()
		os.Exit(pause.Run(os.Stdout))
	}
	os.Exit(m.Run())
}

// TestRunEndsOnSignal: Run says it is ready, then exits 0 on SIGTERM and on
// SIGINT, having reaped its child.
func TestRunEndsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envRun+"=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || sc.Text() != pause.Ready {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("first line %q, want %q", sc.Text(), pause.Ready)
		}
		cmd.Process.Signal(sig)
		if err := cmd.Wait(); err != nil {
			t.Errorf("after %v: %v", sig, err)
		}
	}
}
