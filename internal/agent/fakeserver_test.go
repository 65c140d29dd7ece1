package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/agentproto"
)

// fakeServer is the control plane of the synctest tests, hand-written: it
// keeps a task table as the server's stream sees it (a full list when a
// stream opens, deltas afterwards, a task removed once it is STOPPED),
// records every report, and can be down (every call fails).
type fakeServer struct {
	mu     sync.Mutex
	down   bool
	tasks  map[string]*serverTask
	order  []string
	stream *fakeStream
	opens  int
	// failReports fails the reports alone (the stream works).
	failReports bool
	// lagRemoved holds the Removed messages back until flushRemoved, as a
	// stream busy with earlier messages would.
	lagRemoved bool
	removed    []string
	reports    []*ecs.SubmitTaskStateChangeInput
	cReports   []*ecs.SubmitContainerStateChangeInput
	health     []agentproto.HealthReport
	// secretVals answers FetchSecrets, by task ARN; secretsReason, when
	// set, refuses every fetch with it.
	secretVals    map[string]map[string]map[string]string
	secretsReason string
	secretsDown   bool // the secrets calls fail as if the server were down
	secretFetches int
}

type serverTask struct {
	task agentproto.Task
	last string // PENDING, RUNNING or STOPPED: only moves forward
}

var _ controlPlane = (*fakeServer)(nil)

var errServerDown = errors.New("connection refused")

func newFakeServer() *fakeServer { return &fakeServer{tasks: map[string]*serverTask{}} }

// run adds a task for the agent, as RunTask does.
func (s *fakeServer) run(t agentproto.Task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks[t.TaskArn] = &serverTask{task: t, last: "PENDING"}
	s.order = append(s.order, t.TaskArn)
	if s.stream != nil {
		s.stream.carried[t.TaskArn] = true
		s.stream.send(agentproto.Message{Type: agentproto.TypeTasks, Tasks: []agentproto.Task{t}})
	}
}

// stopTask sets a task's desired status to STOPPED, as StopTask does.
func (s *fakeServer) stopTask(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.tasks[arn]
	st.task.DesiredStatus, st.task.StopCode, st.task.StoppedReason = "STOPPED", "UserInitiated", "stopped by the test"
	if s.stream != nil && s.stream.carried[arn] {
		s.stream.send(agentproto.Message{Type: agentproto.TypeTasks, Tasks: []agentproto.Task{{TaskArn: arn,
			DesiredStatus: "STOPPED", StopCode: "UserInitiated", StoppedReason: "stopped by the test"}}})
	}
}

// setDown takes the server down (its stream ends, every call fails) or
// brings it back.
func (s *fakeServer) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	if down && s.stream != nil {
		s.stream.Close()
		s.stream = nil
	}
}

func (s *fakeServer) setFailReports(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failReports = fail
}

// last is the task's lastStatus.
func (s *fakeServer) last(arn string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tasks[arn]; t != nil {
		return t.last
	}
	return ""
}

// taskReports returns the SubmitTaskStateChange calls for arn.
func (s *fakeServer) taskReports(arn string) []*ecs.SubmitTaskStateChangeInput {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*ecs.SubmitTaskStateChangeInput
	for _, r := range s.reports {
		if aws.ToString(r.Task) == arn {
			out = append(out, r)
		}
	}
	return out
}

// lastReport is the last SubmitTaskStateChange for arn (nil if none).
func (s *fakeServer) lastReport(arn string) *ecs.SubmitTaskStateChangeInput {
	rs := s.taskReports(arn)
	if len(rs) == 0 {
		return nil
	}
	return rs[len(rs)-1]
}

func (s *fakeServer) RegisterContainerInstance(_ context.Context, in *ecs.RegisterContainerInstanceInput, _ ...func(*ecs.Options)) (*ecs.RegisterContainerInstanceOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errServerDown
	}
	arn := aws.ToString(in.ContainerInstanceArn)
	if arn == "" {
		arn = "arn:aws:ecs:us-east-1:000000000000:container-instance/default/0123456789abcdef"
	}
	return &ecs.RegisterContainerInstanceOutput{ContainerInstance: &types.ContainerInstance{ContainerInstanceArn: aws.String(arn)}}, nil
}

func (s *fakeServer) CreateCluster(context.Context, *ecs.CreateClusterInput, ...func(*ecs.Options)) (*ecs.CreateClusterOutput, error) {
	return &ecs.CreateClusterOutput{}, nil
}

// OpenStream opens a stream that starts with the full task list and
// carries a heartbeat every agentproto.HeartbeatInterval.
func (s *fakeServer) OpenStream(context.Context, agentproto.StreamRequest) (messageStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errServerDown
	}
	if s.stream != nil {
		s.stream.Close()
	}
	st := &fakeStream{msgs: make(chan []byte, 4096), closed: make(chan struct{}), carried: map[string]bool{}}
	full := agentproto.Message{Type: agentproto.TypeTasks, Full: true, Tasks: []agentproto.Task{}}
	for _, arn := range s.order {
		if t := s.tasks[arn]; t.last != "STOPPED" {
			full.Tasks = append(full.Tasks, t.task)
			st.carried[arn] = true
		}
	}
	st.send(full)
	s.stream = st
	s.opens++
	go st.heartbeat()
	return st, nil
}

// SubmitTaskStateChange moves the task's lastStatus forward; a STOPPED task
// leaves the stream.
func (s *fakeServer) SubmitTaskStateChange(_ context.Context, in *ecs.SubmitTaskStateChangeInput, _ ...func(*ecs.Options)) (*ecs.SubmitTaskStateChangeOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down || s.failReports {
		return nil, errServerDown
	}
	s.reports = append(s.reports, in)
	arn := aws.ToString(in.Task)
	t := s.tasks[arn]
	if t == nil {
		return &ecs.SubmitTaskStateChangeOutput{}, nil
	}
	if rank(aws.ToString(in.Status)) > rank(t.last) {
		t.last = aws.ToString(in.Status)
	}
	if t.last == "STOPPED" && s.stream != nil && s.stream.carried[arn] {
		delete(s.stream.carried, arn)
		s.removed = append(s.removed, arn)
		if !s.lagRemoved {
			s.flushRemoved()
		}
	}
	return &ecs.SubmitTaskStateChangeOutput{}, nil
}

// flushRemoved sends the Removed messages held back; s.mu is held.
func (s *fakeServer) flushRemoved() {
	if len(s.removed) > 0 && s.stream != nil {
		s.stream.send(agentproto.Message{Type: agentproto.TypeTasks, Removed: s.removed})
	}
	s.removed = nil
}

func rank(status string) int {
	switch status {
	case "RUNNING":
		return 1
	case "STOPPED":
		return 2
	}
	return 0
}

func (s *fakeServer) SubmitContainerStateChange(_ context.Context, in *ecs.SubmitContainerStateChangeInput, _ ...func(*ecs.Options)) (*ecs.SubmitContainerStateChangeOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down || s.failReports {
		return nil, errServerDown
	}
	s.cReports = append(s.cReports, in)
	return &ecs.SubmitContainerStateChangeOutput{}, nil
}

func (s *fakeServer) ReportHealth(_ context.Context, rep agentproto.HealthReport) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errServerDown
	}
	s.health = append(s.health, rep)
	return nil
}

func (s *fakeServer) UploadLogs(_ context.Context, _ string, body io.Reader) error {
	_, err := io.Copy(io.Discard, body)
	return err
}

// fakeStream is one open stream.
type fakeStream struct {
	msgs    chan []byte
	closed  chan struct{}
	once    sync.Once
	carried map[string]bool // tasks the stream carried (under the server's lock)
}

func (st *fakeStream) send(m agentproto.Message) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	select {
	case st.msgs <- b:
	default:
		panic("fake stream: the agent reads nothing")
	}
}

func (st *fakeStream) heartbeat() {
	t := time.NewTicker(agentproto.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			select {
			case st.msgs <- []byte(`{"type":"heartbeat"}`):
			default:
			}
		case <-st.closed:
			return
		}
	}
}

func (st *fakeStream) Next() ([]byte, error) {
	select {
	case b := <-st.msgs:
		return b, nil
	case <-st.closed:
		return nil, errors.New("stream closed by the server")
	}
}

func (st *fakeStream) Close() error {
	st.once.Do(func() { close(st.closed) })
	return nil
}

func (s *fakeServer) FetchCredentials(_ context.Context, req agentproto.CredentialsRequest) (*agentproto.CredentialsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errServerDown
	}
	return &agentproto.CredentialsResponse{RoleArn: "arn:aws:iam::123456789012:role/app", AccessKeyID: "ASIAFAKE",
		SecretAccessKey: "secret", SessionToken: "token", Expiration: time.Now().Add(time.Hour)}, nil
}

func (s *fakeServer) FetchSecrets(_ context.Context, req agentproto.SecretsRequest) (*agentproto.SecretsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secretFetches++
	if s.down || s.secretsDown {
		return nil, errServerDown
	}
	if s.secretsReason != "" {
		return nil, &secretsRefused{reason: s.secretsReason}
	}
	return &agentproto.SecretsResponse{Containers: s.secretVals[req.TaskArn]}, nil
}
