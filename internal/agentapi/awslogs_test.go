package agentapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/logstore"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

func newAWSLogsHarness(t *testing.T) (*API, *logstore.Store) {
	return newAWSLogsHarnessWith(t, false)
}

// newAWSLogsHarnessWith makes task t1 of app (containers app and side,
// app logging with awslogs, side too when sideAWSLogs) on instance i1.
func newAWSLogsHarnessWith(t *testing.T, sideAWSLogs bool) (*API, *logstore.Store) {
	t.Helper()
	st := state.New()
	txn := st.Txn()
	put := func(table string, rec any) {
		if err := txn.Put(table, rec); err != nil {
			t.Fatal(err)
		}
	}
	put(state.TableInstances, &state.ContainerInstance{ID: "i1", Cluster: "default",
		Shape: &shape.ContainerInstance{ContainerInstanceArn: ptr(instanceArn("i1")), Status: ptr("ACTIVE")}})
	awslogs := &shape.LogConfiguration{LogDriver: shape.LogDriverAwslogs,
		Options: map[string]string{"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}}
	var sideLogs *shape.LogConfiguration
	if sideAWSLogs {
		sideLogs = awslogs
	}
	put(state.TableTaskDefinitions, &state.TaskDefinition{Family: "app", Revision: 1, Def: &shape.TaskDefinition{Family: ptr("app"), Revision: 1,
		ContainerDefinitions: []shape.ContainerDefinition{
			{Name: ptr("app"), Image: ptr("busybox"), LogConfiguration: awslogs},
			{Name: ptr("side"), Image: ptr("busybox"), LogConfiguration: sideLogs},
		}}})
	put(state.TableTasks, &state.Task{ID: "t1", Cluster: "default", InstanceID: "i1", Family: "app", Revision: 1,
		Shape: &shape.Task{TaskArn: ptr(taskArn("t1")), LastStatus: ptr("STOPPED"), DesiredStatus: ptr("STOPPED"),
			Containers: []shape.Container{{Name: ptr("app")}, {Name: ptr("side")}}}})
	txn.Commit()
	store, err := logstore.Open(t.TempDir(), logstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return New(Config{Namer: tNamer, Auth: allow{}, State: storeReader{st}, Logs: store}), store
}

func putAWSLogs(t *testing.T, api *API, req agentproto.AWSLogsRequest) (int, string) {
	t.Helper()
	req.Cluster, req.ContainerInstanceArn, req.TaskArn = "default", instanceArn("i1"), taskArn("t1")
	body, _ := json.Marshal(req)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest(http.MethodPost, agentproto.PathAWSLogs, bytes.NewReader(body)))
	return w.Code, w.Body.String()
}

func TestAWSLogsEndpoint(t *testing.T) {
	api, store := newAWSLogsHarness(t)
	ev := []agentproto.AWSLogsEvent{{Timestamp: 1000, Message: "one"}, {Timestamp: 2000, Message: "two"}}
	// A missing group is refused without createGroup.
	code, body := putAWSLogs(t, api, agentproto.AWSLogsRequest{Group: "/ecs/app", Stream: "web/app/t1", Events: ev})
	if code != 400 || !strings.Contains(body, "ResourceNotFoundException") || !strings.Contains(body, "The specified log group does not exist.") {
		t.Fatalf("%d %s", code, body)
	}
	// The check without events creates the group and the stream.
	if code, body := putAWSLogs(t, api, agentproto.AWSLogsRequest{Group: "/ecs/app", Stream: "web/app/t1", CreateGroup: true}); code != 204 {
		t.Fatalf("%d %s", code, body)
	}
	if _, ok := store.GetGroup("/ecs/app"); !ok {
		t.Fatal("group not created")
	}
	if code, body := putAWSLogs(t, api, agentproto.AWSLogsRequest{Group: "/ecs/app", Stream: "web/app/t1", Events: ev}); code != 204 {
		t.Fatalf("%d %s", code, body)
	}
	// A new stream of an existing group is created as needed.
	if code, body := putAWSLogs(t, api, agentproto.AWSLogsRequest{Group: "/ecs/app", Stream: "web/other/t1", Events: ev[:1]}); code != 204 {
		t.Fatalf("%d %s", code, body)
	}
	var got []string
	if err := store.Scan("/ecs/app", "web/app/t1", logstore.Range{}, 0, func(e logstore.Event) bool {
		got = append(got, e.Message)
		return true
	}); err != nil || strings.Join(got, ",") != "one,two" {
		t.Fatalf("stored %q %v", got, err)
	}
	for _, bad := range []agentproto.AWSLogsRequest{{Group: "bad group", Stream: "s"}, {Group: "/ecs/app", Stream: "a:b"}, {Group: "/ecs/app"}} {
		if code, _ := putAWSLogs(t, api, bad); code != 400 {
			t.Errorf("%+v: %d", bad, code)
		}
	}

	// berth logs reads an awslogs container from the store (no agent is
	// connected); a container without awslogs still needs its agent.
	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest(http.MethodGet, agentproto.PathCLILog+"?cluster=default&task=t1&container=app", nil))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	var lines []agentproto.LogLine
	dec := json.NewDecoder(w.Body)
	for dec.More() {
		var l agentproto.LogLine
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 2 || lines[0].Text != "one" || lines[0].Container != "app" || lines[1].Time.UnixMilli() != 2000 {
		t.Fatalf("lines %+v", lines)
	}
	w = httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest(http.MethodGet, agentproto.PathCLILog+"?cluster=default&task=t1", nil))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "not connected") {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}

// berth logs of a task whose containers all log with awslogs gives their
// streams interleaved in timestamp order, also when a later batch holds
// older events.
func TestAWSLogsCLIOrder(t *testing.T) {
	api, _ := newAWSLogsHarnessWith(t, true)
	put := func(stream string, evs ...agentproto.AWSLogsEvent) {
		t.Helper()
		if code, body := putAWSLogs(t, api, agentproto.AWSLogsRequest{Group: "/ecs/app", Stream: stream, CreateGroup: true, Events: evs}); code != 204 {
			t.Fatalf("%d %s", code, body)
		}
	}
	put("web/app/t1", agentproto.AWSLogsEvent{Timestamp: 1000, Message: "app 1"}, agentproto.AWSLogsEvent{Timestamp: 3000, Message: "app 3"})
	put("web/side/t1", agentproto.AWSLogsEvent{Timestamp: 2000, Message: "side 2"}, agentproto.AWSLogsEvent{Timestamp: 4000, Message: "side 4"})
	put("web/app/t1", agentproto.AWSLogsEvent{Timestamp: 1500, Message: "app 1.5"}) // late
	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest(http.MethodGet, agentproto.PathCLILog+"?cluster=default&task=t1", nil))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	var got []string
	dec := json.NewDecoder(w.Body)
	for dec.More() {
		var l agentproto.LogLine
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(l.Text, l.Container+" ") {
			t.Errorf("line %q is attributed to %s", l.Text, l.Container)
		}
		got = append(got, l.Text)
	}
	if want := "app 1,app 1.5,side 2,app 3,side 4"; strings.Join(got, ",") != want {
		t.Fatalf("berth logs: %q, want %s", got, want)
	}
}
