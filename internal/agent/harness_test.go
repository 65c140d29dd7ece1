package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/fakedriver"
	"berth.dev/berth/internal/shape"
)

// host is what outlives an agent in the synctest tests: its data dir, the
// runtime and its containers, and the server.
type host struct {
	t    *testing.T
	dir  string
	rt   *fakedriver.Runtime
	srv  *fakeServer
	logs *logRecorder
	cfg  Config // the agents' config, without driver and log
	// wrap, when set, is the driver the agents get around rt.
	wrap func(*fakedriver.Runtime) driver.Driver
}

// newHost returns a host whose runtime calls take 10ms of fake time, so
// that events one after the other happen at different times (the planner
// needs it).
func newHost(t *testing.T) *host {
	rt := fakedriver.New()
	for _, op := range []fakedriver.Op{fakedriver.OpPull, fakedriver.OpCreate, fakedriver.OpStart, fakedriver.OpStop, fakedriver.OpRemove} {
		rt.SetLatency(op, 10*time.Millisecond)
	}
	dir := t.TempDir()
	return &host{t: t, dir: dir, rt: rt, srv: newFakeServer(), logs: &logRecorder{},
		cfg: Config{Server: "http://berth.invalid", DataDir: dir, AccessKeyID: "key", SecretAccessKey: "secret",
			InstanceID: "i-0123456789abcdef0", StopTimeout: 2 * time.Second}}
}

// testAgent is one agent of a host, running until stop.
type testAgent struct {
	h      *host
	a      *Agent
	cancel context.CancelFunc
	done   chan error
}

// start starts an agent on the host and waits until it is settled (the
// server being up).
func (h *host) start() *testAgent {
	h.t.Helper()
	ta := h.startAsync()
	if !h.srv.isDown() {
		ta.settle()
	}
	return ta
}

// startAsync starts an agent without waiting for anything.
func (h *host) startAsync() *testAgent {
	h.t.Helper()
	cfg := h.cfg
	cfg.Driver = h.rt
	if h.wrap != nil {
		cfg.Driver = h.wrap(h.rt)
	}
	cfg.Log = slog.New(h.logs)
	a, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	a.dial = func(context.Context, *Config) (controlPlane, error) { return h.srv, nil }
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testAgent{h: h, a: a, cancel: cancel, done: make(chan error, 1)}
	go func() { ta.done <- a.Run(ctx) }()
	h.t.Cleanup(ta.stop)
	return ta
}

func (s *fakeServer) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// settle waits until the agent has read what the server sent (every
// goroutine blocks) and is settled.
func (ta *testAgent) settle() {
	ta.h.t.Helper()
	synctest.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if err := ta.a.WaitSettled(ctx); err != nil {
		ta.h.t.Fatalf("the agent did not settle within an hour: %v", err)
	}
	if ta.a.work.under {
		ta.h.t.Fatal("the agent's work tally went below zero")
	}
}

// stop stops the agent and waits until Run returns.
func (ta *testAgent) stop() {
	if ta.cancel == nil {
		return
	}
	ta.cancel()
	ta.cancel = nil
	if err := <-ta.done; err != nil {
		ta.h.t.Errorf("agent run: %v", err)
	}
	if ta.a.work.under {
		ta.h.t.Error("the agent's work tally went below zero")
	}
}

// records returns the names of the files in the tasks dir.
func (h *host) records() []string {
	h.t.Helper()
	entries, err := os.ReadDir(filepath.Join(h.dir, tasksDir))
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// record reads task arn's record.
func (h *host) record(arn string) (savedTask, bool) {
	h.t.Helper()
	s, err := openStore(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	return s.task(arn)
}

// calls counts the runtime calls of the given ops.
func (h *host) calls(ops ...fakedriver.Op) int { return len(h.rt.Calls(ops...)) }

// app is a task with one essential container per image, named c0, c1...
func app(n int, images ...string) agentproto.Task {
	family := "app"
	def := &shape.TaskDefinition{Family: &family, Revision: 1}
	for i, img := range images {
		def.ContainerDefinitions = append(def.ContainerDefinitions, shape.ContainerDefinition{
			Name: ptr(fmt.Sprintf("c%d", i)), Image: ptr(img)})
	}
	return agentproto.Task{
		TaskArn:       fmt.Sprintf("arn:aws:ecs:us-east-1:000000000000:task/default/%032x", n),
		ClusterArn:    "arn:aws:ecs:us-east-1:000000000000:cluster/default",
		DesiredStatus: "RUNNING", LastStatus: "PENDING", Definition: def, CreatedAt: time.Now(),
	}
}

func ptr[T any](v T) *T { return &v }

// containersOf returns the runtime's containers of task arn.
func (h *host) containersOf(arn string) []fakedriver.Container {
	var out []fakedriver.Container
	for _, c := range h.rt.Containers() {
		if c.Handle.Labels[driver.LabelTaskARN] == arn {
			out = append(out, c)
		}
	}
	return out
}

// logRecorder is a slog handler that keeps every record's level, message
// and task attribute (BERTH_TEST_LOG=1 with -v also prints them).
type logRecorder struct {
	mu    sync.Mutex
	lines []logLine
}

type logLine struct {
	level slog.Level
	msg   string
	task  string
	text  string // the message and every attribute
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	line := logLine{level: r.Level, msg: r.Message}
	text := []string{r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "task" {
			line.task = a.Value.String()
		}
		text = append(text, a.String())
		return true
	})
	line.text = strings.Join(text, " ")
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	if testing.Verbose() && os.Getenv("BERTH_TEST_LOG") != "" {
		fmt.Fprintf(os.Stderr, "%s %s %s task=%s\n", time.Now().Format(time.TimeOnly), r.Level, r.Message, line.task)
	}
	return nil
}

func (l *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &childRecorder{root: l, attrs: attrs}
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// childRecorder is the recorder with attributes.
type childRecorder struct {
	root  *logRecorder
	attrs []slog.Attr
}

func (c *childRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (c *childRecorder) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(c.attrs...)
	return c.root.Handle(ctx, r)
}

func (c *childRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &childRecorder{root: c.root, attrs: append(slices.Clone(c.attrs), attrs...)}
}

func (c *childRecorder) WithGroup(string) slog.Handler { return c }

// count returns how many records have message msg.
func (l *logRecorder) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if line.msg == msg {
			n++
		}
	}
	return n
}
