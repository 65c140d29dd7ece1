package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"berth.dev/berth/internal/agentproto"
)

// stateFile holds what the agent must remember across restarts.
const stateFile = "agent-state.json"

// savedState is the agent's persisted memory.
type savedState struct {
	Cluster              string                `json:"cluster"`
	ContainerInstanceArn string                `json:"containerInstanceArn,omitempty"`
	Tasks                map[string]*savedTask `json:"tasks,omitempty"`
}

// savedTask remembers a task, its containers and what was last reported.
type savedTask struct {
	Spec       *agentproto.Task  `json:"spec"`
	Containers map[string]string `json:"containers"` // name → runtime ID
	Reported   string            `json:"reported,omitempty"`
}

// store persists savedState atomically (write to a temp file, fsync, rename).
type store struct {
	mu   sync.Mutex
	path string
	st   savedState
}

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create agent data dir: %w", err)
	}
	s := &store{path: filepath.Join(dir, stateFile)}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read agent state: %w", err)
	default:
		if err := json.Unmarshal(b, &s.st); err != nil {
			return nil, fmt.Errorf("read agent state %s: %w", s.path, err)
		}
	}
	if s.st.Tasks == nil {
		s.st.Tasks = map[string]*savedTask{}
	}
	return s, nil
}

// update changes the state under the lock and writes it.
func (s *store) update(fn func(*savedState)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.st)
	b, err := json.MarshalIndent(&s.st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode agent state: %w", err)
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	if _, err := f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	return nil
}

// read returns a copy of the state.
func (s *store) read() savedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(&s.st)
	var cp savedState
	_ = json.Unmarshal(b, &cp)
	if cp.Tasks == nil {
		cp.Tasks = map[string]*savedTask{}
	}
	return cp
}
