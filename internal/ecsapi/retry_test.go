package ecsapi_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/ecsapi"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/state"
)

// lostAnswer commits every command, but answers the first one of a given
// type as a consensus layer does when the caller stopped waiting before the
// commit was confirmed: outcome unknown.
type lostAnswer struct {
	machineProposer
	mu     sync.Mutex
	lose   wire.Type
	lost   int
	writes int
}

func (p *lostAnswer) Apply(ctx context.Context, c wire.Command) (any, error) {
	v, err := p.machineProposer.Apply(ctx, c)
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.Type() == p.lose {
		p.writes++
		if p.lost == 0 {
			p.lost++
			return nil, fmt.Errorf("%w: the caller stopped waiting", fsm.ErrOutcomeUnknown)
		}
	}
	return v, err
}

func retryEnv(t *testing.T, lose wire.Type) (*ecs.Client, *fsm.Machine, *lostAnswer) {
	t.Helper()
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	if err := m.Restore(bytes.NewReader(fuzzState(t))); err != nil {
		t.Fatal(err)
	}
	p := &lostAnswer{machineProposer: machineProposer{m: m}, lose: lose}
	if _, err := p.Apply(context.Background(), wire.InstanceConnection{Meta: wire.Meta{Now: fuzzNow}, InstanceID: instanceID, Session: "s", Connected: true}); err != nil {
		t.Fatal(err)
	}
	api := ecsapi.New(ecsapi.Config{Namer: fuzzNamer, Auth: allowAll{}, State: m, Proposer: p,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow }})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	// The SDK's own retryer, as users run it: it retries a 500 with the
	// same request, clientToken included.
	client := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	return client, m, p
}

// A RunTask whose commit outcome is unknown is answered with a 500 that
// says so; the SDK retries it with the clientToken it generated, and the
// retry returns the tasks the first attempt created: no task twice.
func TestRunTaskRetryAfterUnknownOutcome(t *testing.T) {
	client, m, p := retryEnv(t, wire.TypeRunTask)
	if _, err := client.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{Family: aws.String("simple"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("b"), Memory: aws.Int32(64)}}}); err != nil {
		t.Fatal(err)
	}
	out, err := client.RunTask(context.Background(), &ecs.RunTaskInput{TaskDefinition: aws.String("simple"), Count: aws.Int32(2)})
	if err != nil {
		t.Fatalf("RunTask: %v", err)
	}
	if p.writes != 2 || p.lost != 1 {
		t.Fatalf("%d RunTask writes, %d answers lost: want the SDK's retry to have written again after the lost answer", p.writes, p.lost)
	}
	var ids []string
	m.Snapshot().Tasks("default", "", func(t *state.Task) bool { ids = append(ids, t.ID); return true })
	if len(ids) != 2 || len(out.Tasks) != 2 {
		t.Fatalf("%d tasks in the state, %d answered (%d failures): want the 2 of the first attempt", len(ids), len(out.Tasks), len(out.Failures))
	}
	for _, task := range out.Tasks {
		found := false
		for _, id := range ids {
			found = found || aws.ToString(task.TaskArn) == fuzzNamer.Task("default", id)
		}
		if !found {
			t.Errorf("answered task %s is not one the first attempt created (%v)", aws.ToString(task.TaskArn), ids)
		}
	}
}

// CreateService with a clientToken: the retry after an unknown outcome
// returns the service the first attempt created.
func TestCreateServiceRetryAfterUnknownOutcome(t *testing.T) {
	client, m, p := retryEnv(t, wire.TypeCreateService)
	out, err := client.CreateService(context.Background(), &ecs.CreateServiceInput{ServiceName: aws.String("web"),
		TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(1), ClientToken: aws.String("create-web-1"),
		LaunchType: types.LaunchTypeEc2})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	if p.writes != 2 || p.lost != 1 {
		t.Fatalf("%d CreateService writes, %d answers lost", p.writes, p.lost)
	}
	svc := m.Snapshot().Service("default", "web")
	if svc == nil || svc.Generation != 1 || len(svc.Deployments) != 1 {
		t.Fatalf("service after the retry: %+v", svc)
	}
	if got := aws.ToString(out.Service.Deployments[0].Id); got != svc.Deployments[0].ID {
		t.Fatalf("answered deployment %s, the first attempt created %s", got, svc.Deployments[0].ID)
	}
}

// The 500 of an unknown outcome says what happened, and is not the
// "not committed" answer.
func TestUnknownOutcomeMessage(t *testing.T) {
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	if err := m.Restore(bytes.NewReader(fuzzState(t))); err != nil {
		t.Fatal(err)
	}
	p := &lostAnswer{machineProposer: machineProposer{m: m}, lose: wire.TypeCreateCluster}
	api := ecsapi.New(ecsapi.Config{Namer: fuzzNamer, Auth: allowAll{}, State: m, Proposer: p,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow }})
	rec := serve(api, "CreateCluster", []byte(`{"clusterName":"x"}`))
	if rec.Code != 500 || !bytes.Contains(rec.Body.Bytes(), []byte("may or may not have been made")) {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}
