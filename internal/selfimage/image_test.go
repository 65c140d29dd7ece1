package selfimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
)

// TestRootFS packs this test binary: it is at BinaryInImage, executable,
// with /etc/passwd, /tmp and whatever libraries it needs.
func TestRootFS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("images hold linux binaries")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, n, err := RootFS(exe)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
	}
	bin := entries[BinaryInImage[1:]]
	if fi, _ := os.Stat(exe); bin == nil || bin.Mode&0o111 == 0 || bin.Size != fi.Size() {
		t.Errorf("binary entry %+v", bin)
	}
	for _, name := range []string{"etc/passwd", "etc/group", "tmp/"} {
		if entries[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if libs, _ := sharedLibraries(exe); len(libs) != n {
		t.Errorf("%d libraries counted, %d found", n, len(libs))
	}
}
