//go:build linux

package process

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/driver"
)

// Files of a container directory (see the package doc).
const (
	fileSpec       = "spec.json"
	fileStarted    = "started"
	fileShim       = "shim.json"
	fileWorkload   = "workload.json"
	fileStartError = "start-error.json"
	fileExit       = "exit.json"
	fileShimLog    = "shim.log"
	dirLogs        = "logs"

	// removingPrefix marks a directory Remove is deleting.
	removingPrefix = ".removing-"
)

// stateVersion is the layout version written in spec.json.
const stateVersion = 1

// record is spec.json: the spec and everything Create derived from it.
type record struct {
	Version     int               `json:"version"`
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Created     time.Time         `json:"created"`
	Spec        driver.Spec       `json:"spec"`
	Labels      map[string]string `json:"labels"`
	Plan        execPlan          `json:"plan"`
	Bindings    []driver.Binding  `json:"bindings,omitempty"`
	Cgroup      *cgroupConfig     `json:"cgroup,omitempty"`
	LogMaxBytes int64             `json:"logMaxBytes"`
	LogFiles    int               `json:"logFiles"`
	// ShimArgs are the arguments the shim passes to itself, before "exec",
	// to run the trampoline.
	ShimArgs []string `json:"shimArgs"`
	// SecretNames are the names of the spec's secrets; their values are
	// never written here (see secrets.go).
	SecretNames []string `json:"secretNames,omitempty"`
}

// execPlan is what the shim (or the trampoline) applies to start a program.
type execPlan struct {
	Argv    []string    `json:"argv"`
	Env     []string    `json:"env"`
	Dir     string      `json:"dir"`
	User    *credential `json:"user,omitempty"`
	Rlimits []rlimit    `json:"rlimits,omitempty"`
	// NetNS is the sandbox's network namespace the program starts in
	// (joined by the thread that forks it); empty: the host's.
	NetNS string `json:"netns,omitempty"`
	// ResolvConf is a file the trampoline bind-mounts read-only over
	// /etc/resolv.conf, in a mount namespace of the workload's own, before
	// it execs the program; empty: the host's resolver configuration.
	ResolvConf string `json:"resolvConf,omitempty"`
}

// credential is a resolved user; Switch is false when the agent already
// runs as that user.
type credential struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"`
	Home   string   `json:"home"`
	Switch bool     `json:"switch"`
}

// rlimit is a ulimit; values are raw (RLIM_INFINITY for unlimited).
type rlimit struct {
	Name string `json:"name"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// procRef identifies a process across pid reuse.
type procRef struct {
	Pid        int    `json:"pid"`
	StartTicks uint64 `json:"startTicks"`
}

// workloadRec is workload.json. The workload leads its process group.
type workloadRec struct {
	procRef
	StartedAt time.Time `json:"startedAt"`
}

// startErrorRec is start-error.json.
type startErrorRec struct {
	Error    string    `json:"error"`
	ExitCode int       `json:"exitCode"`
	Time     time.Time `json:"time"`
}

// exitRec is exit.json.
type exitRec struct {
	ExitCode   int       `json:"exitCode"`
	Signal     int       `json:"signal,omitempty"`
	OOMKilled  bool      `json:"oomKilled,omitempty"`
	FinishedAt time.Time `json:"finishedAt"`
	Error      string    `json:"error,omitempty"`
}

// newID returns 32 random hex digits.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// validID reports whether s is a container ID (and so a safe path element).
func validID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// writeJSON writes a record that must survive a power loss (fsynced).
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600, true)
}

// writeProcJSON writes a record of a live process (shim.json,
// workload.json), not fsynced: a power loss ends the process, and with it
// what the record says. Such a record read after one may be empty or
// missing; loadProcJSON reads it as missing.
func writeProcJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600, false)
}

// readJSON reads path into v; ok is false when the file does not exist.
func readJSON(path string, v any) (ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// readProcJSON reads a record writeProcJSON wrote; one that does not parse
// (torn by a power loss) counts as missing.
func readProcJSON(path string, v any) (ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return json.Unmarshal(data, v) == nil, nil
}

func readRecord(dir string) (*record, error) {
	var rec record
	ok, err := readJSON(filepath.Join(dir, fileSpec), &rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w", dir, fs.ErrNotExist)
	}
	if rec.Version != stateVersion {
		return nil, fmt.Errorf("%s: state version %d, this berth reads %d", dir, rec.Version, stateVersion)
	}
	return &rec, nil
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-n, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return ""
	}
	return string(buf)
}
