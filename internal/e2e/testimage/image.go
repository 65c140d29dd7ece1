package testimage

import (
	"archive/tar"
	"bytes"
	"context"
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

const (
	// BinaryInImage is the binary's path in the image; it is the ENTRYPOINT,
	// and health checks call it: ["CMD", BinaryInImage, "health", URL].
	BinaryInImage = "/berth-testapp"
	// LabelSHA256 is the image label that holds the binary's hex sha256.
	LabelSHA256 = "berth.testapp.sha256"
	// Port is the port the application serves on unless told otherwise.
	Port = 8080
)

// Build makes tag name an image FROM scratch that runs the test application
// (see the package doc for its layout). When tag already names an image of
// the current binary it does nothing; when another tag does, it adds tag to
// that image; else it imports a new image. The Docker engine is the one
// DOCKER_HOST names (default: the local socket).
func Build(ctx context.Context, tag string) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("testimage: images need a linux binary; this is %s", runtime.GOOS)
	}
	bin, sum, err := binary(ctx)
	if err != nil {
		return err
	}
	dir, err := cacheDir()
	if err != nil {
		return err
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Errorf("testimage: %w", err)
	}
	defer cli.Close()

	unlock, err := lock(ctx, filepath.Join(dir, "image.lock"))
	if err != nil {
		return err
	}
	defer unlock()

	var previous string
	img, err := cli.ImageInspect(ctx, tag)
	switch {
	case err == nil && img.Config != nil && img.Config.Labels[LabelSHA256] == sum:
		return nil
	case err == nil:
		previous = img.ID
	case !cerrdefs.IsNotFound(err):
		return fmt.Errorf("testimage: inspect %s: %w", tag, err)
	}

	id, err := existing(ctx, cli, sum)
	if err != nil {
		return err
	}
	if id != "" {
		if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: id, Target: tag}); err != nil {
			return fmt.Errorf("testimage: tag %s: %w", tag, err)
		}
	} else if id, err = importImage(ctx, cli, bin, sum, tag); err != nil {
		return err
	}
	if previous != "" && previous != id {
		// The tag moved. Remove the old image if no tag names it any more
		// (removing by ID would also drop a last remaining tag); the engine
		// refuses while a container uses it, which is fine.
		if old, err := cli.ImageInspect(ctx, previous); err == nil && len(old.RepoTags) == 0 {
			cli.ImageRemove(ctx, previous, client.ImageRemoveOptions{PruneChildren: true})
		}
	}
	return nil
}

// Remove removes tag; the image goes with its last tag.
func Remove(ctx context.Context, tag string) error {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Errorf("testimage: %w", err)
	}
	defer cli.Close()
	if _, err := cli.ImageRemove(ctx, tag, client.ImageRemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("testimage: remove %s: %w", tag, err)
	}
	return nil
}

// existing returns the ID of an image built from the binary with this sum.
func existing(ctx context.Context, cli *client.Client, sum string) (string, error) {
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", LabelSHA256+"="+sum)})
	if err != nil {
		return "", fmt.Errorf("testimage: list images: %w", err)
	}
	for _, im := range list.Items {
		if im.Labels[LabelSHA256] == sum {
			return im.ID, nil
		}
	}
	return "", nil
}

// importImage imports the root filesystem as tag and returns the image ID.
func importImage(ctx context.Context, cli *client.Client, bin, sum, tag string) (string, error) {
	rootfs, err := rootFS(bin)
	if err != nil {
		return "", err
	}
	changes := []string{
		fmt.Sprintf(`ENTRYPOINT [%q]`, BinaryInImage),
		fmt.Sprintf("LABEL %s=%s", LabelSHA256, sum),
	}
	resp, err := cli.ImageImport(ctx, client.ImageImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"}, tag,
		client.ImageImportOptions{Changes: changes, Message: "berth test application"})
	if err != nil {
		return "", fmt.Errorf("testimage: import %s: %w", tag, err)
	}
	defer resp.Close()
	var id string
	dec := json.NewDecoder(resp)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("testimage: import %s: %w", tag, err)
		}
		if m.Error != nil {
			return "", fmt.Errorf("testimage: import %s: %s", tag, m.Error.Message)
		}
		if strings.HasPrefix(m.Status, "sha256:") {
			id = m.Status
		}
	}
	if id == "" {
		return "", fmt.Errorf("testimage: import %s: the engine returned no image ID", tag)
	}
	return id, nil
}

// rootFS is the image's file system as a tar stream, with fixed times so the
// same binary gives the same layer.
func rootFS(bin string) ([]byte, error) {
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("testimage: %w", err)
	}
	mtime := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	files := []struct {
		name string
		mode int64
		body []byte // nil for a directory
	}{
		{"etc/", 0o755, nil},
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/:/berth-testapp\nnobody:x:65534:65534:nobody:/:/berth-testapp\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")},
		{"tmp/", 0o1777, nil},
		{strings.TrimPrefix(BinaryInImage, "/"), 0o755, exe},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: mtime, Typeflag: tar.TypeReg, Size: int64(len(f.body)), Format: tar.FormatPAX}
		if f.body == nil {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("testimage: %w", err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("testimage: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("testimage: %w", err)
	}
	return buf.Bytes(), nil
}
