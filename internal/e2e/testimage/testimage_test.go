package testimage_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/e2e/testimage"
	"github.com/moby/moby/client"
)

func TestBinaryExitCode(t *testing.T) {
	bin, err := testimage.BinaryPath(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	again, err := testimage.BinaryPath(context.Background())
	if err != nil || again != bin {
		t.Fatalf("second BinaryPath = %q, %v; want %q", again, err, bin)
	}
	out, err := exec.Command(bin, "--exit-code", "7", "--print", "2").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("exit: %v, output %s", err, out)
	}
	for _, want := range []string{"stdout line 2\n", "stderr line 2\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

// TestBinaryServesAndDrains runs the binary as the process runtime will: it
// serves /health, turns unhealthy after /fail, and exits 0 after the drain
// that follows SIGTERM.
func TestBinaryServesAndDrains(t *testing.T) {
	bin, err := testimage.BinaryPath(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--drain", "300ms")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatal("no output")
	}
	addr, ok := strings.CutPrefix(sc.Text(), "listening on ")
	if !ok {
		t.Fatalf("first line %q", sc.Text())
	}
	go io.Copy(io.Discard, stdout)
	url := "http://" + addr
	if got := status(t, url+"/health"); got != 200 {
		t.Fatalf("/health = %d", got)
	}
	if out, err := exec.Command(bin, "health", url+"/health").CombinedOutput(); err != nil {
		t.Fatalf("health command: %v %s", err, out)
	}
	status(t, url+"/fail")
	if got := status(t, url+"/health"); got != 500 {
		t.Fatalf("/health after /fail = %d", got)
	}
	if err := exec.Command(bin, "health", url+"/health").Run(); err == nil {
		t.Fatal("health command succeeded against an unhealthy server")
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("exited %v after SIGTERM, before the 300ms drain", d)
	}
}

func TestBuildIdempotentConcurrent(t *testing.T) {
	cli := dockertest.RequireDocker(t)
	ctx := context.Background()
	tags := []string{uniqueTag(t), uniqueTag(t)}
	for _, tag := range tags {
		t.Cleanup(func() {
			if err := testimage.Remove(context.Background(), tag); err != nil {
				t.Error(err)
			}
		})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- testimage.Build(ctx, tags[i%2])
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	a := inspect(t, cli, tags[0])
	b := inspect(t, cli, tags[1])
	if a.ID != b.ID {
		t.Errorf("two builds of one binary gave two images: %s, %s", a.ID, b.ID)
	}
	if got := a.Config.Entrypoint; len(got) != 1 || got[0] != testimage.BinaryInImage {
		t.Errorf("entrypoint %q", got)
	}
	if a.Config.Labels[testimage.LabelSHA256] == "" {
		t.Errorf("labels %v lack %s", a.Config.Labels, testimage.LabelSHA256)
	}
	if err := testimage.Build(ctx, tags[0]); err != nil {
		t.Fatal(err)
	}
	if again := inspect(t, cli, tags[0]); again.ID != a.ID {
		t.Errorf("rebuild changed the image: %s -> %s", a.ID, again.ID)
	}
	if err := testimage.Remove(ctx, tags[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ImageInspect(ctx, tags[1]); err == nil {
		t.Errorf("%s still exists after Remove", tags[1])
	}
	inspect(t, cli, tags[0]) // the other tag keeps the image
}

func inspect(t *testing.T, cli *client.Client, tag string) client.ImageInspectResult {
	t.Helper()
	img, err := cli.ImageInspect(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var tagSeq struct {
	sync.Mutex
	n int
}

func uniqueTag(t *testing.T) string {
	tagSeq.Lock()
	defer tagSeq.Unlock()
	tagSeq.n++
	return fmt.Sprintf("berth-testimage-test:%d-%d", time.Now().UnixNano(), tagSeq.n)
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
