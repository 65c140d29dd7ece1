package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/internal/agentproto"
)

// holdStream opens an instance's agent stream (so it counts as connected)
// and keeps it open until the test ends. It runs no task: it is the
// smallest agent there is.
func (e *env) holdStream(t *testing.T, cluster, instanceArn string) {
	t.Helper()
	body, _ := json.Marshal(agentproto.StreamRequest{Cluster: cluster, ContainerInstanceArn: instanceArn})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint+agentproto.PathStream, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, hex.EncodeToString(sum[:]), "ecs", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got stream status %d, want 200", resp.StatusCode)
	}
	go func() {
		defer resp.Body.Close()
		buf := make([]byte, 4096)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if e.describeInstance(cluster, instanceArn).AgentConnected {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the instance never showed agentConnected")
}

// TestTasks_ConcurrentRunTaskNeverOverCommits fires many RunTasks at once
// at one instance that has room for a few tasks: the commit re-checks every
// placement, so the tasks created never hold more memory or CPU than the
// instance has, and every task that did not fit is a failure.
func TestTasks_ConcurrentRunTaskNeverOverCommits(t *testing.T) {
	e := start(t)
	c := ctx(t)
	e.createCluster("busy")
	out, err := e.ecs.RegisterContainerInstance(c, &ecs.RegisterContainerInstanceInput{
		Cluster: aws.String("busy"), InstanceIdentityDocument: aws.String(identityDoc("i-busy", "us-east-1a", "t3.small")),
		TotalResources: []types.Resource{
			{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1024},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 1000},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	instanceArn := aws.ToString(out.ContainerInstance.ContainerInstanceArn)
	e.holdStream(t, "busy", instanceArn)
	td := minimalTaskDef("hog")
	td.ContainerDefinitions[0].Memory = aws.Int32(90)
	td.ContainerDefinitions[0].Cpu = 100
	if _, err := e.ecs.RegisterTaskDefinition(c, td); err != nil {
		t.Fatal(err)
	}

	const callers, perCall = 12, 5 // 60 tasks asked for; 10 fit (CPU 1024/100, memory 1000/90)
	var mu sync.Mutex
	placed, failed := 0, 0
	reasons := map[string]int{}
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.ecs.RunTask(c, &ecs.RunTaskInput{Cluster: aws.String("busy"), TaskDefinition: aws.String("hog"), Count: aws.Int32(perCall)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			placed += len(r.Tasks)
			failed += perCall - len(r.Tasks)
			for _, f := range r.Failures {
				reasons[aws.ToString(f.Reason)]++
			}
		}()
	}
	wg.Wait()
	if placed+failed != callers*perCall {
		t.Fatalf("got %d placed + %d failed, want %d", placed, failed, callers*perCall)
	}
	if placed != 10 {
		t.Fatalf("got %d tasks placed, want exactly the 10 that fit", placed)
	}
	for reason := range reasons {
		if reason != "RESOURCE:CPU" && reason != "RESOURCE:MEMORY" {
			t.Fatalf("got failure reason %q, want RESOURCE:CPU or RESOURCE:MEMORY", reason)
		}
	}
	ci := e.describeInstance("busy", instanceArn)
	rem := resourceMap(ci.RemainingResources)
	if cpu, mem := rem["CPU"].IntegerValue, rem["MEMORY"].IntegerValue; cpu < 0 || mem < 0 || cpu != 24 || mem != 100 {
		t.Fatalf("got remaining CPU %d memory %d, want 24 and 100", cpu, mem)
	}
	if ci.RunningTasksCount != 10 || ci.PendingTasksCount != 10 {
		t.Fatalf("got running %d pending %d tasks on the instance, want 10 and 10", ci.RunningTasksCount, ci.PendingTasksCount)
	}
}
