// Package atomicfile replaces files whole: a reader sees the old content or
// the new, never a mix, and a crash leaves no partial file under the name.
//
// Invariants: the data goes to a hidden temporary file in the same directory
// (".NAME.tmp-*", so the rename stays on one file system), which is fsynced
// before the rename when asked and removed on any failure. Without sync the
// rename may reach the disk before the data: after a power loss the file can
// be empty or missing, and callers that pass sync=false must treat that as
// "not written".
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data, with permissions perm. With sync the data
// is on disk before the new name points at it.
func Write(path string, data []byte, perm os.FileMode, sync bool) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && perm != 0o600 { // CreateTemp makes 0600 files
		err = f.Chmod(perm)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir flushes dir's entries (names created, renamed or removed in it)
// to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
