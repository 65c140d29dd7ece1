package docker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"berth.dev/berth/internal/atomicfile"
)

// pullRecord remembers which images this agent pulled (or adopted from the
// cache), for the "once" policy. It survives restarts when it has a file.
type pullRecord struct {
	path string // "" keeps the record in memory

	mu     sync.Mutex // guards images and the file
	images map[string]pulledImage
}

type pulledImage struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

const pullRecordFile = "pulled-images.json"

func loadPullRecord(dir string) (*pullRecord, error) {
	r := &pullRecord{images: map[string]pulledImage{}}
	if dir == "" {
		return r, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pull record: %w", err)
	}
	r.path = filepath.Join(dir, pullRecordFile)
	b, err := os.ReadFile(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pull record: %w", err)
	}
	if err := json.Unmarshal(b, &r.images); err != nil {
		// A damaged record only means the agent cannot tell what it pulled:
		// cached images then count as pulled. Start afresh.
		r.images = map[string]pulledImage{}
	}
	return r, nil
}

func (r *pullRecord) has(image string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.images[image]
	return ok
}

func (r *pullRecord) add(image, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.images[image] = pulledImage{ID: id, At: time.Now().UTC()}
	return r.saveLocked()
}

// forget drops an image the engine no longer has (removed by a cleanup), so
// "once" pulls it again.
func (r *pullRecord) forget(image string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.images[image]; ok {
		delete(r.images, image)
		r.saveLocked()
	}
}

// saveLocked writes the record atomically (not fsynced: a lost record only
// means an image is pulled once more). r.mu must be held.
func (r *pullRecord) saveLocked() error {
	if r.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(r.images, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(r.path, b, 0o644, false)
}
