//go:build linux

package process

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

const (
	secretDB    = "db-Wq83-secret"
	secretToken = "tok-Lz51-secret"
)

// noSecretIn fails when a file under dir holds a secret value.
func noSecretIn(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, v := range []string{secretDB, secretToken} {
			if strings.Contains(string(b), v) {
				t.Errorf("%s holds a secret value", path)
			}
		}
		return nil
	})
}

// TestSecretsReachTheWorkloadNotTheDisk: Spec.Secrets are in the
// workload's environment (over Env) and in Exec's, through Go's fork/exec
// and through the trampoline, and in no file of the state directory; a
// new driver (an agent restart) still gives them to Exec, from the running
// workload's environment.
func TestSecretsReachTheWorkloadNotTheDisk(t *testing.T) {
	for _, tramp := range []bool{false, true} {
		t.Run(map[bool]string{false: "direct", true: "trampoline"}[tramp], func(t *testing.T) {
			state := t.TempDir()
			d := newDriver(t, Options{StateDir: state})
			// The scripts name the values without their first 4 bytes, so
			// that spec.json (which holds the command) holds no value.
			test := `[ "db-${DB#db-}" = "$DB" ] && [ "${DB#db-}" = "` + secretDB[3:] + `" ] && [ "${TOKEN#tok-}" = "` + secretToken[4:] + `" ]`
			spec := sh(`if ` + test + ` && [ "$PLAIN" = plain ]; then echo injected; else echo missing; fi; sleep 30`)
			spec.Env = []string{"PLAIN=plain", "TOKEN=from-env"}
			spec.Secrets = []string{"DB=" + secretDB, "TOKEN=" + secretToken}
			if tramp {
				spec.Ulimits = []driver.Ulimit{{Name: "nofile", Soft: 1024, Hard: 1024}}
			}
			h, _ := mustStart(t, d, spec)
			eventually(t, "the workload's output", func() bool {
				return len(texts(readLogs(t, d, h, false), "stdout")) > 0
			})
			if out := texts(readLogs(t, d, h, false), "stdout"); out[0] != "injected" {
				t.Fatalf("the workload saw %q", out)
			}
			check := []string{"/bin/sh", "-c", test}
			if res, err := d.Exec(ctxT(t), h, check, 10*time.Second); err != nil || res.ExitCode != 0 {
				t.Fatalf("exec: %v %+v", err, res)
			}
			noSecretIn(t, state)
			rec, err := d.record(h.ID)
			if err != nil || strings.Join(rec.SecretNames, ",") != "DB,TOKEN" {
				t.Fatalf("record %v %+v", err, rec)
			}

			// After a restart, Exec reads them from the workload.
			d2, err := New(Options{StateDir: state, ShimPath: shimBin, PollInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if res, err := d2.Exec(ctxT(t), h, check, 10*time.Second); err != nil || res.ExitCode != 0 {
				t.Fatalf("exec after a restart: %v %+v", err, res)
			}
		})
	}
}

// TestSecretsLostWithARestartBeforeStart: a container created by a driver
// that then went away cannot be started by the next one (its secrets were
// in the first one's memory only).
func TestSecretsLostWithARestartBeforeStart(t *testing.T) {
	state := t.TempDir()
	d := newDriver(t, Options{StateDir: state})
	spec := sh(`sleep 30`)
	spec.Secrets = []string{"DB=" + secretDB}
	h := mustCreate(t, d, spec)
	d2, err := New(Options{StateDir: state, ShimPath: shimBin, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d2.Start(ctxT(t), h)
	if !errors.Is(err, driver.ErrCannotStart) || !st.Exited || !strings.Contains(err.Error(), "secrets") {
		t.Fatalf("start: %+v %v", st, err)
	}
	noSecretIn(t, state)
}
