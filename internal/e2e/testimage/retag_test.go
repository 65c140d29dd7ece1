package testimage_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"testing"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/e2e/testimage"
	"github.com/moby/moby/client"
)

// TestBuildMovesAStaleTag points two tags at an image that is not the test
// application's (as after a source change); Build moves one tag and keeps
// the old image, which the other tag still names; the old image goes when
// the second tag moves too.
func TestBuildMovesAStaleTag(t *testing.T) {
	cli := dockertest.RequireDocker(t)
	ctx := context.Background()
	a, b := uniqueTag(t), uniqueTag(t)
	for _, tag := range []string{a, b} {
		t.Cleanup(func() { testimage.Remove(context.Background(), tag) })
	}
	stale := importStub(t, cli, a)
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: stale, Target: b}); err != nil {
		t.Fatal(err)
	}
	if err := testimage.Build(ctx, a); err != nil {
		t.Fatal(err)
	}
	if img := inspect(t, cli, a); img.ID == stale || img.Config.Labels[testimage.LabelSHA256] == "" {
		t.Fatalf("%s still names the stale image", a)
	}
	if img := inspect(t, cli, b); img.ID != stale {
		t.Fatalf("%s was moved or removed: %s", b, img.ID)
	}
	if err := testimage.Build(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ImageInspect(ctx, stale); err == nil {
		t.Errorf("the stale image %s survived with no tag", stale)
	}
}

func importStub(t *testing.T, cli *client.Client, tag string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "stub", Mode: 0o644, Size: 4})
	tw.Write([]byte("stub"))
	tw.Close()
	resp, err := cli.ImageImport(context.Background(), client.ImageImportSource{Source: &buf, SourceName: "-"}, tag, client.ImageImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp)
	resp.Close()
	return inspect(t, cli, tag).ID
}
