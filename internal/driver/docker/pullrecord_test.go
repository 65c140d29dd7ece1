package docker

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPullRecordPersists(t *testing.T) {
	dir := t.TempDir()
	r, err := loadPullRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.has("img:1") {
		t.Fatal("empty record has an image")
	}
	if err := r.add("img:1", "sha256:aa"); err != nil {
		t.Fatal(err)
	}
	if err := r.add("img:2", "sha256:bb"); err != nil {
		t.Fatal(err)
	}
	r.forget("img:2")
	again, err := loadPullRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.has("img:1") || again.has("img:2") {
		t.Errorf("reloaded record: %v", again.images)
	}
}

func TestPullRecordDamagedOrMemory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, pullRecordFile), []byte("{not json"), 0o644)
	r, err := loadPullRecord(dir)
	if err != nil || len(r.images) != 0 {
		t.Fatalf("damaged record: %v %v", r, err)
	}
	m, err := loadPullRecord("")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.add("img", "id"); err != nil || !m.has("img") {
		t.Errorf("memory record: %v", err)
	}
}
