//go:build linux

package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProcStatParsesOddNames(t *testing.T) {
	old := procFS
	procFS = t.TempDir()
	defer func() { procFS = old }()
	// A command name with spaces and parentheses, as a process may choose.
	fields := strings.Fields("S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10")
	os.MkdirAll(filepath.Join(procFS, "42"), 0o755)
	os.WriteFile(filepath.Join(procFS, "42", "stat"), []byte("42 (we) ird (name) "+strings.Join(fields, " ")+"\n"), 0o644)
	start, state, err := procStat(42)
	if err != nil || start != 987654 || state != 'S' {
		t.Fatalf("procStat = %d %q %v", start, state, err)
	}
	if !(procRef{Pid: 42, StartTicks: 987654}).alive() || (procRef{Pid: 42, StartTicks: 987653}).alive() {
		t.Fatal("alive does not compare start times")
	}
	fields[0] = "Z"
	os.WriteFile(filepath.Join(procFS, "42", "stat"), []byte("42 (x) "+strings.Join(fields, " ")+"\n"), 0o644)
	if (procRef{Pid: 42, StartTicks: 987654}).alive() {
		t.Fatal("a zombie counts as alive")
	}
	os.WriteFile(filepath.Join(procFS, "42", "stat"), []byte("42 (x) S 1\n"), 0o644)
	if _, _, err := procStat(42); err == nil {
		t.Fatal("parsed a truncated stat")
	}
	if (procRef{Pid: 43, StartTicks: 1}).alive() || (procRef{}).alive() {
		t.Fatal("a missing process counts as alive")
	}
}

func TestRealProcStat(t *testing.T) {
	self, err := refOf(os.Getpid())
	if err != nil || self.StartTicks == 0 || !self.alive() {
		t.Fatalf("own process: %+v, %v", self, err)
	}
}

func TestRunShimUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"run"}, {"run", "/abs/dir"}, {"run", "--ready-fd", "3", "relative/dir"},
		{"run", "--ready-fd", "x", "/abs/dir"}, {"run", "--ready-fd", "1", "/abs/dir"}, {"exec", "x"}, {"bogus"}} {
		if code := RunShim(args); code != 2 {
			t.Errorf("RunShim(%q) = %d, want 2", args, code)
		}
	}
}

func TestLookPath(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "tool"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "data"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(bin, "dir"), 0o755)
	if p, err := lookPath("tool", "relative:"+bin); err != nil || p != filepath.Join(bin, "tool") {
		t.Fatalf("tool: %q %v", p, err)
	}
	for _, name := range []string{"data", "dir", "missing"} {
		if _, err := lookPath(name, bin); err == nil {
			t.Errorf("%s resolved", name)
		}
	}
	if p, err := lookPath("./x/y", ""); err != nil || p != "./x/y" {
		t.Fatalf("a path with a slash: %q %v", p, err)
	}
}
