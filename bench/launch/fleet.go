package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth.dev/berth/bench/internal/harness"
	"berth.dev/berth/internal/agentproto"
)

// fleet is a set of fake agents: container instances registered through the
// ECS API whose agent stream (agentproto) the bench holds open, reporting
// every task it is sent as RUNNING, and as STOPPED once asked to stop it,
// through SubmitTaskStateChange, like a real agent whose containers start
// and stop at once. No container runs anywhere: the fleet loads the control
// plane only (state, placement, streams, state changes).
type fleet struct {
	s       *harness.Server
	c       *ecs.Client
	cluster string
	http    *http.Client

	instances []string // container instance ARNs

	mu       sync.Mutex
	reported map[string]string // task ARN → last status reported (or being reported)
	reports  chan [2]string    // task ARN, status
	streams  atomic.Int64      // open streams
	errs     atomic.Int64
	firstErr atomic.Value
	wg       sync.WaitGroup
	cancel   context.CancelFunc
}

func newFleet(s *harness.Server, c *ecs.Client, cluster string) *fleet {
	return &fleet{s: s, c: c, cluster: cluster, reported: map[string]string{}, reports: make(chan [2]string, 4096),
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

func (f *fleet) fail(err error) {
	f.errs.Add(1)
	f.firstErr.CompareAndSwap(nil, err.Error())
}

// fakeAttributes are the attributes a real berth agent registers (built-in
// and capabilities), so any task definition the real agent takes is placed.
func fakeAttributes() []types.Attribute {
	attrs := []types.Attribute{
		{Name: aws.String("ecs.os-type"), Value: aws.String("linux")},
		{Name: aws.String("ecs.os-family"), Value: aws.String("LINUX")},
		{Name: aws.String("ecs.cpu-architecture"), Value: aws.String("x86_64")},
		{Name: aws.String("berth.runtime"), Value: aws.String("fake")},
	}
	for _, c := range []string{
		"ecs.capability.container-health-check", "ecs.capability.container-ordering",
		"ecs.capability.task-cpu-mem-limit", "com.amazonaws.ecs.capability.logging-driver.json-file",
		"com.amazonaws.ecs.capability.logging-driver.none",
	} {
		attrs = append(attrs, types.Attribute{Name: aws.String(c)})
	}
	for minor := 17; minor <= 44; minor++ {
		attrs = append(attrs, types.Attribute{Name: aws.String("com.amazonaws.ecs.capability.docker-remote-api.1." + strconv.Itoa(minor))})
	}
	return attrs
}

// register registers n instances from callers goroutines, each with its own
// instance identity document (instanceId i-benchNNNNNNNNNN).
func (f *fleet) register(ctx context.Context, n, callers int, cpu, memMiB int32) error {
	arns := make([]string, n)
	work := make(chan int, n)
	for i := range n {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range callers {
		wg.Go(func() {
			for i := range work {
				doc, _ := json.Marshal(map[string]string{
					"instanceId": fmt.Sprintf("i-bench%010d", i), "availabilityZone": f.s.Region + "a",
					"instanceType": "fake", "region": f.s.Region,
				})
				out, err := f.c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
					Cluster: aws.String(f.cluster), InstanceIdentityDocument: aws.String(string(doc)),
					TotalResources: []types.Resource{
						{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: cpu},
						{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: memMiB},
						{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: []string{"22"}},
						{Name: aws.String("PORTS_UDP"), Type: aws.String("STRINGSET"), StringSetValue: []string{}},
					},
					VersionInfo: &types.VersionInfo{AgentVersion: aws.String("bench"), AgentHash: aws.String("bench-fake"), DockerVersion: aws.String("fake")},
					Attributes:  fakeAttributes(),
				})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("RegisterContainerInstance: %w", err)
					}
					mu.Unlock()
					return
				}
				arns[i] = aws.ToString(out.ContainerInstance.ContainerInstanceArn)
			}
		})
	}
	wg.Wait()
	f.instances = arns
	return firstErr
}

// connect opens every instance's stream and starts reporters workers that
// submit state changes. It returns once every stream answered.
func (f *fleet) connect(ctx context.Context, reporters int) error {
	ctx, f.cancel = context.WithCancel(ctx)
	for range reporters {
		f.wg.Go(func() { f.reporter(ctx) })
	}
	opened := make(chan error, len(f.instances))
	for _, arn := range f.instances {
		f.wg.Go(func() { f.stream(ctx, arn, opened) })
	}
	for range f.instances {
		select {
		case err := <-opened:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// close ends every stream and reporter.
func (f *fleet) close() {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
}

func (f *fleet) signed(ctx context.Context, path string, body any) (*http.Request, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.s.Endpoint+path, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	creds := aws.Credentials{AccessKeyID: f.s.KeyID, SecretAccessKey: f.s.Secret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ecs", f.s.Region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

// stream holds one instance's agent stream open until ctx ends.
func (f *fleet) stream(ctx context.Context, instanceArn string, opened chan<- error) {
	req, err := f.signed(ctx, agentproto.PathStream, agentproto.StreamRequest{Cluster: f.cluster, ContainerInstanceArn: instanceArn})
	if err != nil {
		opened <- err
		return
	}
	resp, err := f.http.Do(req)
	if err != nil {
		opened <- fmt.Errorf("open stream: %w", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		opened <- fmt.Errorf("open stream: HTTP %d: %s", resp.StatusCode, b)
		return
	}
	f.streams.Add(1)
	defer f.streams.Add(-1)
	opened <- nil
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		var m agentproto.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			f.fail(fmt.Errorf("bad stream message: %w", err))
			continue
		}
		if m.Type != agentproto.TypeTasks {
			continue
		}
		for _, t := range m.Tasks {
			want := ""
			switch {
			case t.DesiredStatus == "STOPPED" && t.LastStatus != "STOPPED":
				want = "STOPPED"
			case t.DesiredStatus == "RUNNING" && t.LastStatus == "PENDING":
				want = "RUNNING"
			default:
				continue
			}
			f.mu.Lock()
			dup := f.reported[t.TaskArn] == want
			if !dup {
				f.reported[t.TaskArn] = want
			}
			f.mu.Unlock()
			if !dup {
				select {
				case f.reports <- [2]string{t.TaskArn, want}:
				case <-ctx.Done():
					return
				}
			}
		}
	}
	if ctx.Err() == nil {
		f.fail(fmt.Errorf("stream of %s ended: %v", instanceArn, sc.Err()))
	}
}

// reporter submits queued state changes.
func (f *fleet) reporter(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-f.reports:
			in := &ecs.SubmitTaskStateChangeInput{
				Cluster: aws.String(f.cluster), Task: aws.String(r[0]), Status: aws.String(r[1]),
				Containers: []types.ContainerStateChange{{ContainerName: aws.String("app"), Status: aws.String(r[1]),
					RuntimeId: aws.String("fake-" + r[0][len(r[0])-12:])}},
			}
			if r[1] == "STOPPED" {
				in.Containers[0].ExitCode = aws.Int32(143)
			}
			// Like the real agent's reporter: retry until acknowledged.
			for attempt := 0; ; attempt++ {
				_, err := f.c.SubmitTaskStateChange(ctx, in)
				if err == nil || ctx.Err() != nil {
					break
				}
				f.fail(fmt.Errorf("SubmitTaskStateChange: %w", err))
				select {
				case <-ctx.Done():
				case <-time.After(min(time.Duration(attempt+1)*200*time.Millisecond, 5*time.Second)):
				}
			}
		}
	}
}

// firstError is the first error the fleet met, or "".
func (f *fleet) firstError() string {
	if v, ok := f.firstErr.Load().(string); ok {
		return v
	}
	return ""
}
