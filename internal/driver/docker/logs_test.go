package docker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func frame(stream byte, payload string) []byte {
	b := make([]byte, 8, 8+len(payload))
	b[0] = stream
	binary.BigEndian.PutUint32(b[4:], uint32(len(payload)))
	return append(b, payload...)
}

func ts(sec int) string {
	return time.Date(2026, 1, 2, 3, 4, sec, 500, time.UTC).Format(time.RFC3339Nano) + " "
}

func readAll(t *testing.T, s *logStream) ([]string, error) {
	t.Helper()
	var out []string
	for {
		l, err := s.Next()
		if err != nil {
			return out, err
		}
		out = append(out, l.Stream+"@"+l.Time.Format("05")+":"+string(l.Text))
	}
}

func newTestStream(b []byte, ctxErr func() error) *logStream {
	if ctxErr == nil {
		ctxErr = func() error { return nil }
	}
	return &logStream{body: io.NopCloser(nil), r: bufioReader(b), ctxErr: ctxErr}
}

func TestLogStreamDemultiplexes(t *testing.T) {
	var in bytes.Buffer
	in.Write(frame(1, ts(1)+"out one\n"))
	in.Write(frame(2, ts(2)+"err one\n"))
	in.Write(frame(1, ts(3)+"long li"))    // a line stored in parts
	in.Write(frame(2, ts(4)+"\n"))         // an empty line
	in.Write(frame(1, ts(5)+"ne\n"))       // the rest of the long line
	in.Write(frame(0, ts(6)+"stdin\n"))    // ignored
	in.Write(frame(1, ts(7)+"a\nb\n"))     // two lines in one frame
	in.Write(frame(2, ts(8)+"no newline")) // flushed at the end
	got, err := readAll(t, newTestStream(in.Bytes(), nil))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
	want := []string{"stdout@01:out one", "stderr@02:err one", "stderr@04:", "stdout@03:long line", "stdout@07:a", "stdout@07:b", "stderr@08:no newline"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines\n got %q\nwant %q", got, want)
	}
}

func TestLogStreamErrors(t *testing.T) {
	sys := append(frame(1, ts(1)+"x\n"), frame(3, "log driver broke")...)
	got, err := readAll(t, newTestStream(sys, nil))
	if len(got) != 1 || err == nil || !strings.Contains(err.Error(), "log driver broke") {
		t.Errorf("system error frame: %q, %v", got, err)
	}
	trunc := frame(1, ts(1)+"x\n")[:10]
	if _, err := readAll(t, newTestStream(trunc, nil)); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("truncated frame: %v", err)
	}
	cancelled := errors.New("cancelled")
	if _, err := readAll(t, newTestStream(trunc, func() error { return cancelled })); !errors.Is(err, cancelled) {
		t.Errorf("after the context ended: %v", err)
	}
	if _, err := readAll(t, newTestStream(nil, nil)); !errors.Is(err, io.EOF) {
		t.Errorf("empty stream: %v", err)
	}
}

func TestSplitTimestamp(t *testing.T) {
	tm, text := splitTimestamp([]byte("no timestamp here"))
	if !tm.IsZero() || string(text) != "no timestamp here" {
		t.Errorf("%v %q", tm, text)
	}
	tm, text = splitTimestamp([]byte(ts(9) + "hello world"))
	if tm.Second() != 9 || string(text) != "hello world" {
		t.Errorf("%v %q", tm, text)
	}
}
