//go:build linux

package process

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

func TestExec(t *testing.T) {
	d := newDriver(t, Options{})
	work := t.TempDir()
	h, _ := mustStart(t, d, driver.Spec{Command: []string{"sleep", "1000"}, Env: []string{"FOO=bar"}, WorkingDir: work,
		Ulimits: []driver.Ulimit{{Name: "nofile", Soft: 321, Hard: 321}}})

	res, err := d.Exec(ctxT(t), h, []string{"sh", "-c", "echo $FOO; pwd; ulimit -n; echo oops >&2; exit 4"}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bar\n" + work + "\n321\noops\n"; res.ExitCode != 4 || string(res.Output) != want {
		t.Fatalf("exec: code %d output %q, want 4 %q", res.ExitCode, res.Output, want)
	}

	res, err = d.Exec(ctxT(t), h, []string{"berth-no-such-check"}, 5*time.Second)
	if err != nil || res.ExitCode != 127 || !strings.Contains(string(res.Output), "executable file not found") {
		t.Fatalf("exec of a missing program: %+v, %v", res, err)
	}

	res, err = d.Exec(ctxT(t), h, []string{"sh", "-c", "head -c 200000 /dev/zero"}, 5*time.Second)
	if err != nil || res.ExitCode != 0 || len(res.Output) != maxExecOutput {
		t.Fatalf("bounded output: %d bytes, code %d, %v", len(res.Output), res.ExitCode, err)
	}

	start := time.Now()
	tok := token()
	res, err = d.Exec(ctxT(t), h, []string{"sh", "-c", "sleep " + tok + " & echo begun; wait"}, 300*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || res.ExitCode != 137 || string(res.Output) != "begun\n" {
		t.Fatalf("exec past its timeout: %+v, %v", res, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("exec timeout took %v", took)
	}
	eventually(t, "the exec's child to die", func() bool { return !processWithArgs("sleep", tok) })

	if st, _ := d.Inspect(ctxT(t), h); !st.Running {
		t.Fatalf("exec disturbed the container: %+v", st)
	}
	if err := d.Stop(ctxT(t), h, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctxT(t), h, []string{"true"}, time.Second); err == nil {
		t.Fatal("exec in a stopped container succeeded")
	}
}
