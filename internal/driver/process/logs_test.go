//go:build linux

package process

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

func TestLogsStreamsInOrder(t *testing.T) {
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, sh(`echo out1; echo err1 >&2; sleep 0.05; echo out2; echo err2 >&2; printf 'tail-without-newline'`))
	mustWait(t, d, h)
	lines := readLogs(t, d, h, false)
	if got := texts(lines, "stdout"); !reflect.DeepEqual(got, []string{"out1", "out2", "tail-without-newline"}) {
		t.Errorf("stdout %q", got)
	}
	if got := texts(lines, "stderr"); !reflect.DeepEqual(got, []string{"err1", "err2"}) {
		t.Errorf("stderr %q", got)
	}
	for i, l := range lines {
		if l.Time.IsZero() || (i > 0 && l.Time.Before(lines[i-1].Time)) {
			t.Errorf("line %d time %v out of order", i, l.Time)
		}
	}
	// The sleep orders the two bursts across streams too.
	idx := map[string]int{}
	for i, l := range lines {
		idx[string(l.Text)] = i
	}
	if idx["out2"] < idx["err1"] || idx["err2"] < idx["out1"] {
		t.Errorf("bursts out of order: %q", texts(lines, ""))
	}
}

func TestLogsFollowUntilExit(t *testing.T) {
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, sh(`for i in 1 2 3 4 5; do echo line-$i; sleep 0.05; done`))
	ls, err := d.Logs(ctxT(t), h, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	var got []string
	for {
		l, err := ls.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(l.Text))
	}
	if want := []string{"line-1", "line-2", "line-3", "line-4", "line-5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("followed %q, want %q", got, want)
	}
	if st, _ := d.Inspect(ctxT(t), h); !st.Exited {
		t.Fatalf("follow ended before the container exited: %+v", st)
	}
}

func TestLogsFollowEndsWithContext(t *testing.T) {
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, driver.Spec{Command: []string{"sleep", "1000"}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	ls, err := d.Logs(ctx, h, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Next(); err != context.DeadlineExceeded {
		t.Fatalf("next after the context ended: %v", err)
	}
	ls.Close()
	// Close unblocks a waiting Next.
	ls, err = d.Logs(context.Background(), h, true)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ls.Next()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ls.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("next returned a line after close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close did not unblock next")
	}
}

func TestLogsSplitLongLines(t *testing.T) {
	d := newDriver(t, Options{})
	h, _ := mustStart(t, d, sh(`head -c 40000 /dev/zero | tr '\0' x; echo; echo short`))
	mustWait(t, d, h)
	got := texts(readLogs(t, d, h, false), "stdout")
	if len(got) != 4 || len(got[0]) != maxLineBytes || len(got[1]) != maxLineBytes || got[3] != "short" {
		t.Fatalf("pieces: %d lines, lengths %v", len(got), lens(got))
	}
	if joined := got[0] + got[1] + got[2]; joined != strings.Repeat("x", 40000) {
		t.Fatalf("pieces do not rebuild the line (%d bytes)", len(joined))
	}
}

func lens(ss []string) []int {
	var out []int
	for _, s := range ss {
		out = append(out, len(s))
	}
	return out
}

func TestLogRotationBounds(t *testing.T) {
	const maxBytes, files, total = 1024, 3, 400
	d := newDriver(t, Options{LogMaxBytes: maxBytes, LogFiles: files})
	h, _ := mustStart(t, d, sh(`i=0; while [ $i -lt `+strconv.Itoa(total)+` ]; do echo line-$i; i=$((i+1)); done`))
	mustWait(t, d, h)
	logDir := filepath.Join(d.dir(h.ID), dirLogs)
	entries, err := os.ReadDir(logDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > files || len(entries) < 2 {
		t.Fatalf("%d log files, want 2..%d", len(entries), files)
	}
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Size() > maxBytes {
			t.Errorf("%s is %d bytes, above %d", e.Name(), fi.Size(), maxBytes)
		}
	}
	got := texts(readLogs(t, d, h, false), "stdout")
	if len(got) == 0 || len(got) >= total {
		t.Fatalf("kept %d lines of %d", len(got), total)
	}
	first, err := strconv.Atoi(strings.TrimPrefix(got[0], "line-"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range got {
		if want := fmt.Sprintf("line-%d", first+i); l != want {
			t.Fatalf("line %d is %q, want %q: not a contiguous suffix", i, l, want)
		}
	}
	if last := got[len(got)-1]; last != fmt.Sprintf("line-%d", total-1) {
		t.Fatalf("last line %q", last)
	}
}

func TestLogsFollowAcrossRotation(t *testing.T) {
	const total = 120
	d := newDriver(t, Options{LogMaxBytes: 1024, LogFiles: 3})
	h, _ := mustStart(t, d, sh(`i=0; while [ $i -lt `+strconv.Itoa(total)+` ]; do echo line-$i; i=$((i+1)); sleep 0.01; done`))
	got := texts(readLogs(t, d, h, true), "stdout")
	if len(got) != total {
		t.Fatalf("followed %d lines of %d", len(got), total)
	}
	for i, l := range got {
		if want := fmt.Sprintf("line-%d", i); l != want {
			t.Fatalf("line %d is %q, want %q", i, l, want)
		}
	}
	seqs, _ := listLogs(filepath.Join(d.dir(h.ID), dirLogs))
	if len(seqs) == 0 || seqs[len(seqs)-1] < 4 {
		t.Fatalf("only files %v: the test did not rotate enough", seqs)
	}
}

func TestRecordFormat(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 5000, time.UTC)
	rec := appendRecord(nil, at, "stderr", true, []byte("a b  c"))
	if string(rec) != "2025-03-01T12:00:00.000005000Z stderr P a b  c\n" {
		t.Fatalf("record %q", rec)
	}
	l, partial, err := parseRecord(rec[:len(rec)-1])
	if err != nil || !partial || l.Stream != "stderr" || string(l.Text) != "a b  c" || !l.Time.Equal(at) {
		t.Fatalf("parsed %+v %v %v", l, partial, err)
	}
	l, partial, err = parseRecord([]byte("2025-03-01T12:00:00.000000000Z stdout F "))
	if err != nil || partial || len(l.Text) != 0 {
		t.Fatalf("empty line: %+v %v %v", l, partial, err)
	}
	for _, bad := range []string{"", "garbage", "2025-03-01T12:00:00Z stdin F x", "2025-03-01T12:00:00Z stdout X x", "yesterday stdout F x", "2025-03-01T12:00:00Z stdout"} {
		if _, _, err := parseRecord([]byte(bad)); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}
