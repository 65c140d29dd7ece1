package awslogs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
)

// fakeLog yields fixed lines, then io.EOF; gate, when set, is waited for
// before each line.
type fakeLog struct {
	lines []driver.LogLine
	gate  chan struct{}
	eof   chan struct{} // when set, closed at the end
}

func (f *fakeLog) Next() (driver.LogLine, error) {
	if len(f.lines) == 0 {
		if f.eof != nil {
			close(f.eof)
			f.eof = nil
		}
		return driver.LogLine{}, io.EOF
	}
	if f.gate != nil {
		<-f.gate
	}
	l := f.lines[0]
	f.lines = f.lines[1:]
	return l, nil
}

func (f *fakeLog) Close() error { return nil }

type fakeSink struct {
	mu      sync.Mutex
	batches []Batch
	fail    error
	block   chan struct{} // when set, Put waits on it
}

func (s *fakeSink) Put(ctx context.Context, b Batch) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.batches = append(s.batches, b)
	return nil
}

func (s *fakeSink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, b := range s.batches {
		for _, e := range b.Events {
			out = append(out, e.Message)
		}
	}
	return out
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mkLines(texts ...string) []driver.LogLine {
	var out []driver.LogLine
	for i, t := range texts {
		out = append(out, driver.LogLine{Time: t0.Add(time.Duration(i) * time.Millisecond), Stream: "stdout", Text: []byte(t)})
	}
	return out
}

func run(t *testing.T, opts Options, cursor string, sink Sink, lines []driver.LogLine) *Shipper {
	t.Helper()
	s := New(Config{Options: opts, Stream: "p/c/task", Sink: sink, Cursor: cursor, FlushEvery: 20 * time.Millisecond})
	if err := s.Run(context.Background(), &fakeLog{lines: lines}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShipAll(t *testing.T) {
	sink := &fakeSink{}
	run(t, Options{Group: "g"}, "", sink, mkLines("a", "b", "c"))
	if got := strings.Join(sink.messages(), ","); got != "a,b,c" {
		t.Fatalf("shipped %q", got)
	}
	b := sink.batches[0]
	if b.Group != "g" || b.Stream != "p/c/task" || b.Events[1].Timestamp != t0.Add(time.Millisecond).UnixMilli() {
		t.Fatalf("batch %+v", b)
	}
}

func TestBatchLimits(t *testing.T) {
	var texts []string
	for i := range 25000 {
		texts = append(texts, fmt.Sprint(i))
	}
	sink := &fakeSink{}
	run(t, Options{Group: "g"}, "", sink, mkLines(texts...))
	if len(sink.messages()) != 25000 {
		t.Fatalf("shipped %d", len(sink.messages()))
	}
	for _, b := range sink.batches {
		if len(b.Events) > MaxBatchEvents {
			t.Fatalf("batch of %d events", len(b.Events))
		}
	}
	// Bytes: 300 lines of 10 KiB make more than 1 MiB.
	big := strings.Repeat("x", 10<<10)
	texts = texts[:0]
	for range 300 {
		texts = append(texts, big)
	}
	sink = &fakeSink{}
	run(t, Options{Group: "g"}, "", sink, mkLines(texts...))
	if len(sink.batches) < 3 {
		t.Fatalf("%d batches", len(sink.batches))
	}
	for _, b := range sink.batches {
		n := 0
		for _, e := range b.Events {
			n += len(e.Message) + EventOverhead
		}
		if n > MaxBatchBytes {
			t.Fatalf("batch of %d bytes", n)
		}
	}
	// One line longer than an event's limit is split.
	sink = &fakeSink{}
	run(t, Options{Group: "g"}, "", sink, mkLines(strings.Repeat("y", MaxEventBytes+10)))
	if m := sink.messages(); len(m) != 2 || len(m[0]) != MaxEventBytes || len(m[1]) != 10 {
		t.Fatalf("split into %d", len(m))
	}
}

func TestMultilinePattern(t *testing.T) {
	o, err := ParseOptions(map[string]string{"awslogs-group": "g", "awslogs-multiline-pattern": `INFO|ERROR`})
	if err != nil {
		t.Fatal(err)
	}
	sink := &fakeSink{}
	run(t, o, "", sink, mkLines("continuation before", "ERROR boom", "  at a.b", "  at c.d", "INFO ok", "INFO two", "  tail"))
	got := sink.messages()
	want := []string{"continuation before", "ERROR boom\n  at a.b\n  at c.d", "INFO ok", "INFO two\n  tail"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q want %q", got, want)
	}
	// The event keeps its first line's timestamp.
	if ts := sink.batches[0].Events[1].Timestamp; ts != t0.Add(time.Millisecond).UnixMilli() {
		t.Fatalf("timestamp %d", ts)
	}
}

func TestDatetimeFormat(t *testing.T) {
	o, err := ParseOptions(map[string]string{"awslogs-group": "g", "awslogs-datetime-format": `\[%Y-%m-%d %H:%M:%S\]`})
	if err != nil {
		t.Fatal(err)
	}
	sink := &fakeSink{}
	run(t, o, "", sink, mkLines("[2026-01-02 03:04:05] start", "more", "[2026-13-02 03:04:05] bad month", "[2026-01-02 23:59:59] next"))
	want := "[2026-01-02 03:04:05] start\nmore\n[2026-13-02 03:04:05] bad month|[2026-01-02 23:59:59] next"
	if got := strings.Join(sink.messages(), "|"); got != want {
		t.Fatalf("got %q", got)
	}
	for _, c := range []struct{ format, match, miss string }{
		{"%b %d, %Y", "Jan 02, 2026 x", "Foo 02, 2026"},
		{"%H:%M:%S.%f", "12:30:00.123456", "24:00:00.123456"},
		{"%Y-%m-%dT%H:%M:%S%z", "2026-01-02T03:04:05+0100", "2026-01-02 03:04:05+0100"},
		{"%a %%", "Mon %", "Mon x"},
		{`\[%b %d, %Y %H:%M:%S\]`, "[Jan 02, 2026 10:11:12] x", "Jan 02, 2026 10:11:12"},
	} {
		re := regexp.MustCompile("^" + StrftimeRegexp(c.format))
		if !re.MatchString(c.match) || re.MatchString(c.miss) {
			t.Errorf("%s: %s matches %q: %v, %q: %v", c.format, re, c.match, re.MatchString(c.match), c.miss, re.MatchString(c.miss))
		}
	}
	if _, err := ParseOptions(map[string]string{"awslogs-group": "g", "awslogs-datetime-format": "%Y", "awslogs-multiline-pattern": "x"}); err == nil {
		t.Fatal("both options accepted")
	}
}

// A pending multi-line event is shipped after a quiet flush interval, not
// only when the next event starts.
func TestMultilineFlushWhenQuiet(t *testing.T) {
	o, _ := ParseOptions(map[string]string{"awslogs-group": "g", "awslogs-multiline-pattern": `START`})
	sink := &fakeSink{}
	gate := make(chan struct{})
	src := &fakeLog{lines: mkLines("START a", "b", "START c"), gate: gate}
	s := New(Config{Options: o, Sink: sink, FlushEvery: 50 * time.Millisecond})
	done := make(chan error)
	go func() { done <- s.Run(context.Background(), src) }()
	gate <- struct{}{}
	gate <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for len(sink.messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := sink.messages(); len(got) != 1 || got[0] != "START a\nb" {
		t.Fatalf("got %q", got)
	}
	gate <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := sink.messages(); len(got) != 2 || got[1] != "START c" {
		t.Fatalf("got %q", got)
	}
}

func TestNonBlockingDrops(t *testing.T) {
	q := newQueue(10)
	for _, s := range []string{"aaaa", "bbbb", "cccc"} {
		if n := q.push(line{text: s}); s == "cccc" && n != 1 {
			t.Fatalf("dropped %d", n)
		}
	}
	q.close()
	var got []string
	for {
		ln, ok := q.pop(context.Background())
		if !ok {
			break
		}
		got = append(got, ln.text)
	}
	if strings.Join(got, ",") != "bbbb,cccc" {
		t.Fatalf("kept %q", got)
	}

	// Shipping is stuck: the reader goes on and drops the oldest lines.
	sink := &fakeSink{block: make(chan struct{})}
	var texts []string
	for i := range 1000 {
		texts = append(texts, fmt.Sprintf("line %04d", i))
	}
	s := New(Config{Options: Options{Group: "g", NonBlocking: true, MaxBuffer: 100}, Sink: sink, FlushEvery: 10 * time.Millisecond})
	done := make(chan error)
	eof := make(chan struct{})
	go func() { done <- s.Run(context.Background(), &fakeLog{lines: mkLines(texts...), eof: eof}) }()
	// The whole log is read while shipping is stuck.
	select {
	case <-eof:
	case <-time.After(10 * time.Second):
		t.Fatal("the reader waited for shipping")
	}
	close(sink.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got = sink.messages()
	if int64(len(got))+s.Dropped() != 1000 || s.Dropped() == 0 {
		t.Fatalf("shipped %d, dropped %d", len(got), s.Dropped())
	}
	if got[len(got)-1] != "line 0999" {
		t.Fatalf("last shipped %q", got[len(got)-1])
	}
}

func TestCursorResume(t *testing.T) {
	cursor := filepath.Join(t.TempDir(), "c", "cursor")
	// Lines with equal timestamps: the rank tells them apart.
	lines := mkLines("a", "b", "c", "d", "e")
	lines[2].Time = lines[1].Time
	lines[3].Time = lines[1].Time
	sink := &fakeSink{}
	run(t, Options{Group: "g"}, cursor, sink, lines[:3])
	// The agent restarts: the runtime's log holds all the lines again.
	run(t, Options{Group: "g"}, cursor, sink, lines)
	if got := strings.Join(sink.messages(), ","); got != "a,b,c,d,e" {
		t.Fatalf("shipped %q", got)
	}
	// Nothing new: nothing shipped.
	n := len(sink.batches)
	run(t, Options{Group: "g"}, cursor, sink, lines)
	if len(sink.batches) != n {
		t.Fatal("shipped again")
	}
}

// A refused batch is dropped (and logged); a failing one is retried.
func TestSinkErrors(t *testing.T) {
	sink := &fakeSink{fail: fmt.Errorf("no group: %w", ErrPermanent)}
	s := run(t, Options{Group: "g"}, "", sink, mkLines("a"))
	if s.Shipped() != 0 {
		t.Fatal("counted as shipped")
	}
	sink = &fakeSink{fail: errors.New("connection refused")}
	s = New(Config{Options: Options{Group: "g"}, Sink: sink, FlushEvery: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx, &fakeLog{lines: mkLines("a")}) }()
	time.Sleep(50 * time.Millisecond)
	sink.mu.Lock()
	sink.fail = nil
	sink.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); len(sink.messages()) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := sink.messages(); len(got) != 1 {
		t.Fatalf("shipped %q", got)
	}
}

func TestOptions(t *testing.T) {
	o, err := ParseOptions(map[string]string{"awslogs-group": "g", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "web",
		"awslogs-create-group": "true", "mode": "non-blocking", "max-buffer-size": "4m"})
	if err != nil || !o.CreateGroup || !o.NonBlocking || o.MaxBuffer != 4<<20 || o.Region != "eu-west-1" {
		t.Fatalf("%+v %v", o, err)
	}
	if o, _ := ParseOptions(map[string]string{"awslogs-group": "g"}); o.MaxBuffer != DefaultMaxBuffer || o.NonBlocking || o.CreateGroup {
		t.Fatalf("defaults %+v", o)
	}
	if _, err := ParseOptions(map[string]string{"awslogs-group": "g", "mode": "fast"}); err == nil {
		t.Fatal("bad mode accepted")
	}
	if StreamName("web", "app", "abc") != "web/app/abc" || StreamName("", "app", "abc") != "app/abc" {
		t.Fatal("stream names")
	}
	for s, n := range map[string]int{"1m": 1 << 20, "512k": 512 << 10, "2MiB": 2 << 20, "100": 100, "1.5k": 1536} {
		if got, err := ParseSize(s); err != nil || got != n {
			t.Errorf("%s: %d %v", s, got, err)
		}
	}
}
