package docker_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

func TestLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.run(e.spec("--print", "3", "--exit-code", "0"))
	e.wait(h)
	lines := collect(t, e, h, false)
	var out, errs []string
	for _, l := range lines {
		if l.Time.IsZero() || time.Since(l.Time) > time.Hour {
			t.Errorf("line %q has time %v", l.Text, l.Time)
		}
		switch l.Stream {
		case "stdout":
			out = append(out, string(l.Text))
		case "stderr":
			errs = append(errs, string(l.Text))
		default:
			t.Errorf("stream %q", l.Stream)
		}
	}
	wantOut := "stdout line 1|stdout line 2|stdout line 3|exiting with code 0"
	wantErr := "stderr line 1|stderr line 2|stderr line 3"
	if strings.Join(out, "|") != wantOut || strings.Join(errs, "|") != wantErr {
		t.Errorf("stdout %q\nstderr %q", out, errs)
	}
}

// TestLogsFollow starts following before the output is written and ends
// when the container exits.
func TestLogsFollow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.create(e.spec("--print", "2", "--exit-after", "1500ms", "--exit-code", "4"))
	if _, err := e.d.Start(e.ctx, h); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	lines := collect(t, e, h, true)
	if time.Since(start) < time.Second {
		t.Errorf("follow ended after %v, before the container exited", time.Since(start))
	}
	var texts []string
	for _, l := range lines {
		texts = append(texts, l.Stream+":"+string(l.Text))
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"stdout:stdout line 2", "stderr:stderr line 2", "stdout:exiting with code 4"} {
		if !strings.Contains(joined, want) {
			t.Errorf("followed logs %q lack %q", joined, want)
		}
	}
	if st, err := e.d.Inspect(e.ctx, h); err != nil || !st.Exited || st.ExitCode != 4 {
		t.Errorf("after follow: %+v %v", st, err)
	}
}

func collect(t *testing.T, e *env, h driver.Handle, follow bool) []driver.LogLine {
	t.Helper()
	s, err := e.d.Logs(e.ctx, h, follow)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []driver.LogLine
	for {
		l, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
}
