package awsvpc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// berthBin is the berth binary the tests run as processes.
var berthBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-awsvpc-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	berthBin = filepath.Join(dir, "berth")
	build := exec.Command("go", "build", "-o", berthBin, "berth.dev/berth/cmd/berth")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build berth:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
