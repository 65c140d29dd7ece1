// Package selfimage makes Docker images of berth's own binary, FROM
// scratch, with no registry: the demo image `berth dev` offers
// (internal/demoimage) and the Docker runtime's pause image for sandboxes.
//
// Invariants:
//   - Nothing is downloaded or compiled: the image's only file of substance
//     is the given binary, at BinaryInImage; a binary linked dynamically
//     (cgo) brings its ELF interpreter and the libraries it names, copied
//     from the host at the paths it names them by.
//   - The image carries the binary's sha256 in the label Image.LabelSHA256:
//     Ensure does nothing when the tag already names an image of this
//     binary, so a check costs one image inspect.
//   - Ensure never removes an image: a tag it moves leaves the old image to
//     whoever else names it (or to `docker image prune`).
package selfimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// BinaryInImage is the berth binary's path in the image.
const BinaryInImage = "/berth"

// Image describes an image of a berth binary.
type Image struct {
	// Tag names the image, Exe is the binary it holds.
	Tag, Exe string
	// What names the image in messages and errors ("demo image").
	What string
	// EntryPoint is the image's ENTRYPOINT; Expose its EXPOSEd TCP ports.
	EntryPoint []string
	Expose     []int
	// LabelSHA256 is the label that holds the binary's hex sha256.
	LabelSHA256 string
	// Message is the import's commit message.
	Message string
}

// Ensure makes img.Tag an image of the binary img.Exe unless it already is
// one, writing what it does to progress. It reports whether it built.
func Ensure(ctx context.Context, cli *client.Client, img Image, progress io.Writer) (bool, error) {
	if runtime.GOOS != "linux" {
		return false, fmt.Errorf("%s: needs a linux binary; this is %s", img.What, runtime.GOOS)
	}
	sum, err := FileSHA256(img.Exe)
	if err != nil {
		return false, fmt.Errorf("%s: %w", img.What, err)
	}
	return EnsureSum(ctx, cli, img, sum, progress)
}

// EnsureSum is Ensure for a binary whose sha256 the caller knows.
func EnsureSum(ctx context.Context, cli *client.Client, img Image, sum string, progress io.Writer) (bool, error) {
	tag := img.Tag
	got, err := cli.ImageInspect(ctx, tag)
	switch {
	case err == nil && got.Config != nil && got.Config.Labels[img.LabelSHA256] == sum:
		return false, nil
	case err != nil && !cerrdefs.IsNotFound(err):
		return false, fmt.Errorf("%s: inspect %s: %w", img.What, tag, err)
	}
	start := time.Now()
	fmt.Fprintf(progress, "Making the %s %s from this berth binary (nothing to download)...\n", img.What, tag)
	rootfs, n, err := RootFS(img.Exe)
	if err != nil {
		return false, fmt.Errorf("%s: %w", img.What, err)
	}
	fmt.Fprintf(progress, "  packed %s and %d librar%s: %.1f MB; importing into Docker...\n",
		img.Exe, n, map[bool]string{true: "y", false: "ies"}[n == 1], float64(len(rootfs))/1e6)
	changes := []string{"ENTRYPOINT " + mustJSON(img.EntryPoint)}
	for _, p := range img.Expose {
		changes = append(changes, fmt.Sprintf("EXPOSE %d", p))
	}
	changes = append(changes, fmt.Sprintf("LABEL %s=%s", img.LabelSHA256, sum))
	resp, err := cli.ImageImport(ctx, client.ImageImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"}, tag,
		client.ImageImportOptions{Changes: changes, Message: img.Message})
	if err != nil {
		return false, fmt.Errorf("%s: import %s: %w", img.What, tag, err)
	}
	defer resp.Close()
	dec := json.NewDecoder(resp)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return false, fmt.Errorf("%s: import %s: %w", img.What, tag, err)
		}
		if m.Error != nil {
			return false, fmt.Errorf("%s: import %s: %s", img.What, tag, m.Error.Message)
		}
	}
	fmt.Fprintf(progress, "  built %s in %.1fs\n", tag, time.Since(start).Seconds())
	return true, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// FileSHA256 is the hex sha256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// RootFS is the image's file system as a tar stream, with fixed times:
// exe at BinaryInImage, the dynamic loader and libraries it needs, /tmp and
// an /etc/passwd with root and nobody. It returns the number of libraries
// (the loader included).
func RootFS(exe string) ([]byte, int, error) {
	body, err := os.ReadFile(exe)
	if err != nil {
		return nil, 0, err
	}
	libs, err := sharedLibraries(exe)
	if err != nil {
		return nil, 0, err
	}
	mtime := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, body []byte) error {
		name = strings.TrimPrefix(filepath.Clean("/"+name), "/")
		h := &tar.Header{Name: name, Mode: mode, ModTime: mtime, Typeflag: tar.TypeReg, Size: int64(len(body)), Format: tar.FormatPAX}
		if body == nil {
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	entries := []struct {
		name string
		mode int64
		body []byte
	}{
		{"etc", 0o755, nil},
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/:/berth\nnobody:x:65534:65534:nobody:/:/berth\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")},
		{"tmp", 0o1777, nil},
		{BinaryInImage, 0o755, body},
	}
	for _, e := range entries {
		if err := add(e.name, e.mode, e.body); err != nil {
			return nil, 0, err
		}
	}
	written := map[string]bool{}
	for _, lib := range libs {
		for _, d := range parents(lib) {
			if !written[d] {
				written[d] = true
				if err := add(d, 0o755, nil); err != nil {
					return nil, 0, err
				}
			}
		}
		b, err := os.ReadFile(lib) // follows symbolic links: the image gets the file at the name
		if err != nil {
			return nil, 0, err
		}
		if err := add(lib, 0o755, b); err != nil {
			return nil, 0, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), len(libs), nil
}

// parents are the directories above path, outermost first, except /etc
// and /tmp, which RootFS writes itself.
func parents(path string) []string {
	var out []string
	for d := filepath.Dir(path); d != "/" && d != "."; d = filepath.Dir(d) {
		out = append([]string{d}, out...)
	}
	keep := out[:0]
	for _, d := range out {
		if d != "/etc" && d != "/tmp" {
			keep = append(keep, d)
		}
	}
	return keep
}

// libraryDirs are where the dynamic loader looks (besides its own folder).
var libraryDirs = []string{
	"/lib/" + multiarch(), "/usr/lib/" + multiarch(), "/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

func multiarch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	}
	return runtime.GOARCH + "-linux-gnu"
}

// sharedLibraries lists the ELF interpreter of exe and the libraries it
// needs, transitively, as absolute host paths; nothing for a static binary.
func sharedLibraries(exe string) ([]string, error) {
	f, err := elf.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", exe, err)
	}
	defer f.Close()
	var interp string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", exe, err)
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if interp == "" {
		return nil, nil
	}
	out := []string{interp}
	seen := map[string]bool{}
	queue := []string{exe}
	dirs := append([]string{filepath.Dir(interp)}, libraryDirs...)
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		ef, err := elf.Open(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		names, err := ef.ImportedLibraries()
		ef.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			path := ""
			for _, d := range dirs {
				if p := filepath.Join(d, name); fileExists(p) {
					path = p
					break
				}
			}
			if path == "" {
				return nil, fmt.Errorf("%s needs %s, not found in %s", exe, name, strings.Join(dirs, ", "))
			}
			if path != interp {
				out = append(out, path)
			}
			queue = append(queue, path)
		}
	}
	return out, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
