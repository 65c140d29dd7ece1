package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/atomicfile"
)

// Files of the data dir (see the package doc, "Persistence").
const (
	stateFile = "agent-state.json"
	tasksDir  = "tasks"
)

// instanceState is agent-state.json.
type instanceState struct {
	Cluster              string `json:"cluster"`
	ContainerInstanceArn string `json:"containerInstanceArn,omitempty"`
	// Network is the task network the server last sent, applied again at
	// start so that tasks keep their network while the server is away.
	Network *agentproto.HostNetwork `json:"network,omitempty"`
}

// recordFormat is the format of the task records this agent writes. A
// record without it was written by an agent before the record's lifecycle
// (desired status, stop and stoppedAt) was kept: see recover.
const recordFormat = 2

// savedTask is a task's record (tasks/ID.json): the task, its containers,
// and what decides after a restart whether it still runs, still needs
// reporting or only waits for its clean-up.
type savedTask struct {
	Format     int               `json:"format,omitempty"` // recordFormat; 0: written by an older agent
	Spec       *agentproto.Task  `json:"spec"`
	Containers map[string]string `json:"containers"` // name → runtime ID
	// Reported is "STOPPED" once the server needs no more report of the
	// task: it acknowledged the STOPPED report, or no longer lists the task.
	Reported string `json:"reported,omitempty"`
	// Desired is the desired status the server last sent.
	Desired string `json:"desired,omitempty"`
	// Stopping is set once the task is to stop, asked by the server or
	// failing on its own; from then on nothing is pulled, created or started
	// for it, before or after a restart.
	Stopping *stopRecord `json:"stopping,omitempty"`
	// StoppedAt is when the task reached STOPPED with no runtime call left
	// in flight. Its clean-up is due TaskCleanupWait later.
	StoppedAt *time.Time `json:"stoppedAt,omitempty"`
	// Final is the STOPPED report, kept to be sent again after a restart
	// until the server needs no more report (Reported).
	Final *report `json:"final,omitempty"`
}

// stopRecord is why and since when a task is stopping, as the planner
// decided it.
type stopRecord struct {
	Code   string    `json:"code"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// stopped reports whether the task reached STOPPED: stoppedAt is known, or
// an older agent saw its STOPPED report acknowledged.
func (t *savedTask) stopped() bool {
	return t.StoppedAt != nil || (t.Format < recordFormat && t.Reported == "STOPPED")
}

// store is the agent's persisted memory.
//
// Invariants: tasks holds one entry per task file; an entry's file is
// written only under the entry's own lock, so a task's changes reach the
// disk in the order they were made, while different tasks never wait for
// each other. mu guards the map and inst, never I/O on task files.
type store struct {
	dir string

	mu    sync.Mutex
	inst  instanceState
	tasks map[string]*taskEntry // by task ARN
}

// taskEntry is one task's file and its last written content.
type taskEntry struct {
	mu   sync.Mutex
	path string
	t    savedTask
	gone bool // deleted: later changes are dropped
}

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(filepath.Join(dir, tasksDir), 0o700); err != nil {
		return nil, fmt.Errorf("create agent data dir: %w", err)
	}
	s := &store{dir: dir, tasks: map[string]*taskEntry{}}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read agent state: %w", err)
	default:
		if err := json.Unmarshal(b, &s.inst); err != nil {
			return nil, fmt.Errorf("read agent state %s: %w", filepath.Join(dir, stateFile), err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, tasksDir))
	if err != nil {
		return nil, fmt.Errorf("read agent tasks: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, tasksDir, name)
		if strings.HasPrefix(name, ".") {
			os.Remove(path) // a temporary file an interrupted write left
			continue
		}
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read agent task %s: %w", path, err)
		}
		var t savedTask
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("read agent task %s: %w", path, err)
		}
		if t.Spec == nil || t.Spec.TaskArn == "" {
			return nil, fmt.Errorf("read agent task %s: no task", path)
		}
		if t.Containers == nil {
			t.Containers = map[string]string{}
		}
		s.tasks[t.Spec.TaskArn] = &taskEntry{path: path, t: t}
	}
	return s, nil
}

// instance returns the saved registration.
func (s *store) instance() instanceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inst
}

// setInstance changes the registration and writes it (fsynced).
func (s *store) setInstance(fn func(*instanceState)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.inst)
	b, err := json.MarshalIndent(&s.inst, "", "  ")
	if err != nil {
		return fmt.Errorf("encode agent state: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(s.dir, stateFile), append(b, '\n'), 0o600, true); err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	return nil
}

// addTask records a new task (fsynced): its spec and desired status, no
// container yet. A task recorded before keeps its record.
func (s *store) addTask(spec agentproto.Task) error {
	s.mu.Lock()
	if s.tasks[spec.TaskArn] != nil {
		s.mu.Unlock()
		return nil
	}
	e := &taskEntry{path: filepath.Join(s.dir, tasksDir, taskFileName(spec.TaskArn)),
		t: savedTask{Format: recordFormat, Spec: &spec, Containers: map[string]string{}, Desired: spec.DesiredStatus}}
	e.mu.Lock() // before it is visible: its first write comes first
	s.tasks[spec.TaskArn] = e
	s.mu.Unlock()
	defer e.mu.Unlock()
	return e.write(true)
}

// updateTask changes a recorded task and writes its file (not fsynced: see
// the package's persistence notes). An unknown or deleted task is left
// alone.
func (s *store) updateTask(taskArn string, fn func(*savedTask)) error {
	return s.update(taskArn, false, fn)
}

// updateTaskDurably is updateTask with the file fsynced before the rename.
func (s *store) updateTaskDurably(taskArn string, fn func(*savedTask)) error {
	return s.update(taskArn, true, fn)
}

func (s *store) update(taskArn string, sync bool, fn func(*savedTask)) error {
	e := s.entry(taskArn)
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return nil
	}
	fn(&e.t)
	return e.write(sync)
}

// deleteTask forgets a task and removes its file.
func (s *store) deleteTask(taskArn string) error {
	e := s.entry(taskArn)
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gone = true
	s.mu.Lock()
	if s.tasks[taskArn] == e {
		delete(s.tasks, taskArn)
	}
	s.mu.Unlock()
	if err := os.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove agent task: %w", err)
	}
	return nil
}

// task returns a copy of a recorded task.
func (s *store) task(taskArn string) (savedTask, bool) {
	e := s.entry(taskArn)
	if e == nil {
		return savedTask{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return savedTask{}, false
	}
	return e.t.clone(), true
}

// allTasks returns a copy of every recorded task, by ARN.
func (s *store) allTasks() map[string]savedTask {
	s.mu.Lock()
	entries := make([]*taskEntry, 0, len(s.tasks))
	for _, e := range s.tasks {
		entries = append(entries, e)
	}
	s.mu.Unlock()
	out := make(map[string]savedTask, len(entries))
	for _, e := range entries {
		e.mu.Lock()
		if !e.gone {
			out[e.t.Spec.TaskArn] = e.t.clone()
		}
		e.mu.Unlock()
	}
	return out
}

func (s *store) entry(taskArn string) *taskEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[taskArn]
}

// write writes the entry's file; e.mu is held.
func (e *taskEntry) write(sync bool) error {
	b, err := json.Marshal(&e.t)
	if err != nil {
		return fmt.Errorf("encode agent task: %w", err)
	}
	if err := atomicfile.Write(e.path, b, 0o600, sync); err != nil {
		return fmt.Errorf("write agent task: %w", err)
	}
	return nil
}

// clone copies what a caller may change: the containers map. The spec, the
// stop and the final report are never changed once recorded (they are
// replaced).
func (t savedTask) clone() savedTask {
	cp := t
	cp.Containers = maps.Clone(t.Containers)
	if cp.Containers == nil {
		cp.Containers = map[string]string{}
	}
	return cp
}

// taskFileName names a task's file after its ID (the last segment of its
// ARN), or after a hash of the ARN when the ID is not a safe file name.
func taskFileName(taskArn string) string {
	if id := taskID(taskArn); safeFileName(id) {
		return id + ".json"
	}
	sum := sha256.Sum256([]byte(taskArn))
	return hex.EncodeToString(sum[:16]) + ".json"
}

// safeFileName: 1 to 128 of [a-zA-Z0-9_-].
func safeFileName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
