package agent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/shape"
)

func testTask(n int) agentproto.Task {
	family := "web"
	return agentproto.Task{
		TaskArn:       fmt.Sprintf("arn:aws:ecs:us-east-1:000000000000:task/default/%032x", n),
		DesiredStatus: "RUNNING",
		Definition:    &shape.TaskDefinition{Family: &family, Revision: 1},
	}
}

func mustOpen(t *testing.T, dir string) *store {
	t.Helper()
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	if err := s.setInstance(func(i *instanceState) {
		i.Cluster, i.ContainerInstanceArn = "default", "arn:aws:ecs:us-east-1:000000000000:container-instance/default/1"
	}); err != nil {
		t.Fatal(err)
	}
	for n := range 3 {
		if err := s.addTask(testTask(n)); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := testTask(0).TaskArn, testTask(1).TaskArn, testTask(2).TaskArn
	if err := s.updateTask(a, func(t *savedTask) { t.Containers["app"] = "id-a" }); err != nil {
		t.Fatal(err)
	}
	if err := s.updateTask(b, func(t *savedTask) { t.Containers["app"], t.Reported = "id-b", "STOPPED" }); err != nil {
		t.Fatal(err)
	}
	if err := s.deleteTask(c); err != nil {
		t.Fatal(err)
	}
	// Changes to unknown or deleted tasks are dropped, not errors.
	if err := s.updateTask(c, func(t *savedTask) { t.Reported = "STOPPED" }); err != nil {
		t.Fatal(err)
	}
	// Adding a known task keeps its record.
	if err := s.addTask(testTask(0)); err != nil {
		t.Fatal(err)
	}

	// An agent restart reads the same.
	r := mustOpen(t, dir)
	if got := r.instance(); got != s.instance() {
		t.Fatalf("instance %+v, want %+v", got, s.instance())
	}
	all := r.allTasks()
	if len(all) != 2 {
		t.Fatalf("%d tasks, want 2: %+v", len(all), all)
	}
	if ta := all[a]; ta.Containers["app"] != "id-a" || ta.Reported != "" || ta.Spec.TaskArn != a || *ta.Spec.Definition.Family != "web" {
		t.Fatalf("task a: %+v", ta)
	}
	if tb := all[b]; tb.Containers["app"] != "id-b" || tb.Reported != "STOPPED" {
		t.Fatalf("task b: %+v", tb)
	}
	if _, ok := r.task(c); ok {
		t.Fatal("a deleted task came back")
	}
	// Copies: changing one changes nothing stored.
	ta, _ := r.task(a)
	ta.Containers["app"] = "changed"
	if again, _ := r.task(a); again.Containers["app"] != "id-a" {
		t.Fatal("task returned the stored map")
	}
	// One file per task, named by task ID.
	files, _ := filepath.Glob(filepath.Join(dir, tasksDir, "*"))
	if len(files) != 2 || filepath.Base(files[0]) != taskID(a)+".json" {
		t.Fatalf("task files %q", files)
	}
}

func TestStoreChangeWritesOneFile(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	for n := range 50 {
		if err := s.addTask(testTask(n)); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]time.Time{}
	files, _ := filepath.Glob(filepath.Join(dir, tasksDir, "*.json"))
	for _, f := range files {
		fi, _ := os.Stat(f)
		before[f] = fi.ModTime()
	}
	time.Sleep(20 * time.Millisecond)
	changed := testTask(7).TaskArn
	if err := s.updateTask(changed, func(t *savedTask) { t.Containers["app"] = "x" }); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fi, _ := os.Stat(f)
		if mod := !fi.ModTime().Equal(before[f]); mod != (filepath.Base(f) == taskID(changed)+".json") {
			t.Errorf("%s: modified %v", filepath.Base(f), mod)
		}
	}
}

func TestStoreConcurrentChanges(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	const tasks, changes = 20, 30
	var wg sync.WaitGroup
	for n := range tasks {
		if err := s.addTask(testTask(n)); err != nil {
			t.Fatal(err)
		}
		// Several writers per task: each change lands, in the order made.
		for w := range 3 {
			wg.Go(func() {
				for i := range changes {
					key := fmt.Sprintf("c%d", w)
					if err := s.updateTask(testTask(n).TaskArn, func(t *savedTask) { t.Containers[key] = strconv.Itoa(i) }); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	r := mustOpen(t, dir)
	for n := range tasks {
		st, ok := r.task(testTask(n).TaskArn)
		if !ok {
			t.Fatalf("task %d lost", n)
		}
		for w := range 3 {
			if v := st.Containers[fmt.Sprintf("c%d", w)]; v != strconv.Itoa(changes-1) {
				t.Errorf("task %d writer %d: last value %q on disk", n, w, v)
			}
		}
	}
}

func TestStoreRejectsAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	if err := s.addTask(testTask(1)); err != nil {
		t.Fatal(err)
	}
	// A temporary file an interrupted write left is removed; the task's
	// file is what was there before.
	tmp := filepath.Join(dir, tasksDir, "."+taskID(testTask(1).TaskArn)+".json.tmp-123")
	if err := os.WriteFile(tmp, []byte(`{"spec":`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := mustOpen(t, dir)
	if _, ok := r.task(testTask(1).TaskArn); !ok || len(r.allTasks()) != 1 {
		t.Fatalf("tasks after an interrupted write: %+v", r.allTasks())
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
	// A file that does not hold a task is an error, not a forgotten task.
	if err := os.WriteFile(filepath.Join(dir, tasksDir, "junk.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openStore(dir); err == nil {
		t.Fatal("opened a store with a task file without a task")
	}
}

func TestTaskFileName(t *testing.T) {
	if got := taskFileName("arn:aws:ecs:us-east-1:000000000000:task/default/0123abcd"); got != "0123abcd.json" {
		t.Fatalf("name %q", got)
	}
	for _, arn := range []string{"arn:aws:ecs:r:1:task/c/a.b", "weird name", "arn:aws:ecs:r:1:task/c/" + strings.Repeat("a", 200)} {
		got := taskFileName(arn)
		if strings.ContainsAny(got, "/ ") || len(got) != 32+len(".json") {
			t.Errorf("%q: name %q", arn, got)
		}
	}
}

// envCrashStore makes TestHelperStoreWriter write tasks into that dir
// until it is killed.
const envCrashStore = "BERTH_AGENT_TEST_CRASH_STORE"

// TestHelperStoreWriter is the agent TestStoreSurvivesKill kills: it keeps
// changing 20 tasks from 20 goroutines.
func TestHelperStoreWriter(t *testing.T) {
	dir := os.Getenv(envCrashStore)
	if dir == "" {
		t.Skip("helper process for TestStoreSurvivesKill")
	}
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for n := range 20 {
		if err := s.addTask(testTask(n)); err != nil {
			t.Fatal(err)
		}
	}
	os.Stdout.WriteString("ready\n")
	for n := range 20 {
		go func() {
			for i := 0; ; i++ {
				_ = s.updateTask(testTask(n).TaskArn, func(t *savedTask) {
					t.Containers["app"] = strconv.Itoa(i)
					t.Containers["pad"] = strings.Repeat("x", i%5000) // files of varying size
				})
			}
		}()
	}
	select {}
}

func TestStoreSurvivesKill(t *testing.T) {
	for round := range 3 {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStoreWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), envCrashStore+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("helper: %q %v", buf, err)
		}
		time.Sleep(time.Duration(50+100*round) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		// Every task is there, whole, with one of the values it was given.
		s, err := openStore(dir)
		if err != nil {
			t.Fatalf("round %d: open after a kill: %v", round, err)
		}
		all := s.allTasks()
		if len(all) != 20 {
			t.Fatalf("round %d: %d tasks", round, len(all))
		}
		for arn, st := range all {
			v, pad := st.Containers["app"], st.Containers["pad"]
			if v == "" {
				continue // killed before its first change
			}
			i, err := strconv.Atoi(v)
			if err != nil || len(pad) != i%5000 {
				t.Fatalf("round %d: task %s: app %q, pad of %d bytes", round, taskID(arn), v, len(pad))
			}
		}
		if tmps, _ := filepath.Glob(filepath.Join(dir, tasksDir, ".*")); len(tmps) != 0 {
			t.Fatalf("round %d: temporary files left after open: %q", round, tmps)
		}
	}
}

// A record the previous agent wrote (spec, containers, reported; none of
// the lifecycle fields) loads as format 0, and says whether it stopped.
func TestStoreLoadsOlderRecord(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, tasksDir), 0o700); err != nil {
		t.Fatal(err)
	}
	acked, running := testTask(1), testTask(2)
	for _, c := range []struct {
		task agentproto.Task
		body string
	}{
		{acked, `{"spec":{"taskArn":"` + acked.TaskArn + `","clusterArn":"","desiredStatus":"RUNNING","lastStatus":"PENDING","definition":{"family":"web","revision":1},"containers":null,"createdAt":"2025-01-01T00:00:00Z","version":3},"containers":{"app":"0123abcd"},"reported":"STOPPED"}`},
		{running, `{"spec":{"taskArn":"` + running.TaskArn + `","clusterArn":"","desiredStatus":"RUNNING","lastStatus":"PENDING","definition":{"family":"web","revision":1},"containers":null,"createdAt":"2025-01-01T00:00:00Z","version":1},"containers":null}`},
	} {
		if err := os.WriteFile(filepath.Join(dir, tasksDir, taskFileName(c.task.TaskArn)), []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := mustOpen(t, dir)
	a, ok := s.task(acked.TaskArn)
	if !ok || a.Format != 0 || !a.stopped() || a.Containers["app"] != "0123abcd" || a.StoppedAt != nil || a.Desired != "" || a.Stopping != nil {
		t.Errorf("acknowledged record %+v", a)
	}
	r, ok := s.task(running.TaskArn)
	if !ok || r.Format != 0 || r.stopped() || r.Containers == nil || r.Spec.DesiredStatus != "RUNNING" {
		t.Errorf("running record %+v", r)
	}
	// A record of this agent that stopped says so whatever its report.
	now := time.Now()
	if !(&savedTask{Format: recordFormat, StoppedAt: &now}).stopped() || (&savedTask{Format: recordFormat, Reported: "STOPPED"}).stopped() {
		t.Error("stopped() of a current record")
	}
}

// The lifecycle fields survive a restart of the store.
func TestStoreLifecycleFields(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	task := testTask(1)
	if err := s.addTask(task); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	final := &report{TaskArn: task.TaskArn, Status: "STOPPED", Reason: "Essential container in task exited",
		Containers: []containerReport{{Name: "app", RuntimeID: "id", Status: "STOPPED", ExitCode: ptr[int32](3)}}, Started: true}
	if err := s.updateTaskDurably(task.TaskArn, func(t *savedTask) {
		t.Desired = "STOPPED"
		t.Stopping = &stopRecord{Code: "EssentialContainerExited", Reason: "Essential container in task exited", At: at}
		t.StoppedAt, t.Final = &at, final
	}); err != nil {
		t.Fatal(err)
	}
	got, ok := mustOpen(t, dir).task(task.TaskArn)
	if !ok || got.Format != recordFormat || got.Desired != "STOPPED" || *got.Stopping != *(&stopRecord{Code: "EssentialContainerExited",
		Reason: "Essential container in task exited", At: at}) || !got.StoppedAt.Equal(at) || !reflect.DeepEqual(got.Final, final) {
		t.Fatalf("record after a restart %+v (final %+v)", got, got.Final)
	}
}
