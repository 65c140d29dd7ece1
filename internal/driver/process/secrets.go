//go:build linux

package process

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"berth.dev/berth/internal/driver"
)

// Secrets (driver.Spec.Secrets) never reach the state directory: Create
// records their names in spec.json (record.SecretNames) and keeps the
// entries in the driver's memory; Start hands them to the shim on a pipe
// (`shim run --ready-fd 3 --secrets-fd 4 DIR`), which adds them to the
// exec plan in its own memory before it starts the workload (the
// trampoline gets the plan on its pipe, as always). Exec adds them too,
// from memory, or, after the agent restarted, from the running workload's
// /proc/PID/environ. A container created by an agent that then restarted
// cannot be started: its secrets are gone with that agent's memory
// (CannotStartContainerError).

// maxSecretsBytes bounds what the shim reads on the secrets pipe.
const maxSecretsBytes = 16 << 20

// secretNames are the names of KEY=VALUE entries, sorted.
func secretNames(entries []string) ([]string, error) {
	names := make([]string, 0, len(entries))
	for _, kv := range entries {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, cannotCreate("a secret is not NAME=VALUE")
		}
		names = append(names, k)
	}
	slices.Sort(names)
	return names, nil
}

// mergeEnv is env with extra added over it (driver.MergeEnv).
func mergeEnv(env, extra []string) []string { return driver.MergeEnv(env, extra) }

// containerSecrets returns the secrets of container id for Start or Exec:
// from memory, else (Exec of a running workload) from its environ. ok is
// false when the container has secrets this driver cannot supply.
func (d *Driver) containerSecrets(id string, rec *record, workloadPid int) ([]string, bool) {
	if len(rec.SecretNames) == 0 {
		return nil, true
	}
	if v, found := d.secrets.Load(id); found {
		return v.([]string), true
	}
	if workloadPid <= 0 {
		return nil, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(workloadPid) + "/environ")
	if err != nil {
		return nil, false
	}
	want := make(map[string]bool, len(rec.SecretNames))
	for _, n := range rec.SecretNames {
		want[n] = true
	}
	var out []string
	for kv := range bytes.SplitSeq(b, []byte{0}) {
		k, _, _ := bytes.Cut(kv, []byte("="))
		if want[string(k)] {
			out = append(out, string(kv))
		}
	}
	return out, true
}

// writeSecrets writes entries on w and closes it.
func writeSecrets(w *os.File, entries []string) {
	defer w.Close()
	b, _ := json.Marshal(entries)
	_, _ = w.Write(b)
}

// readSecrets reads the entries the agent wrote on the secrets pipe.
func readSecrets(f *os.File) ([]string, error) {
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretsBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the secrets: %v", err)
	}
	var entries []string
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("reading the secrets: not a JSON list")
	}
	return entries, nil
}
