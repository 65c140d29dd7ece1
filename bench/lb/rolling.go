package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth.dev/berth/bench/internal/harness"
	"berth.dev/berth/internal/demoimage"
)

// runLabel is the Docker label of every container of a rolling run, for
// the clean-up.
const runLabel = "berth.bench.lb.run"

// rollRun is one rolling deployment.
type rollRun struct {
	round                     int
	loadavg                   string
	create                    time.Duration // CreateService → steady on v1
	firstNew, allNewHealthy   time.Duration // first v2 target registered, every v2 target healthy
	oldGone, completed, seen  time.Duration // every v1 target out of the group, COMPLETED (server's time, and seen by a poll)
	minHealthy, maxRegistered int
	err                       string
}

// floor is the least time the rolling update can take with these settings:
// with maximumPercent 200 ECS starts every new task in one wave; a new ALB
// target turns healthy on its first passing check, which berth's data
// plane runs as soon as the target is registered (AWS needs the healthy
// threshold's passes, one interval apart); the old tasks are then
// deregistered and stop only after the deregistration delay. Starting the
// containers is left out (it is measured: "all v2 healthy").
func (o *options) floor() time.Duration {
	const checks = 1
	return time.Duration(checks-1)*o.healthInt + o.dereg
}

func (o *options) floorFormula() string {
	return fmt.Sprintf("(1 passing check − 1) × %s interval + %s deregistration delay = %s (one wave: maximumPercent 200 starts all %d new tasks at once; a new ALB target is healthy on its first pass, checked at registration)",
		o.healthInt, o.dereg, o.floor(), o.tasks)
}

// runRolling measures --repeat rolling deployments, each on a berth dev of
// its own.
func (e *env) runRolling(ctx, hard context.Context) error {
	o := e.o
	rt := o.runtimeName
	if rt == "" || rt == "docker" {
		d, err := harness.OpenDocker(ctx)
		switch {
		case err == nil:
			rt = "docker"
			e.machine.Docker = d.Version
			d.Close()
		case rt == "docker":
			return fmt.Errorf("--runtime docker: %w", err)
		default:
			rt = "process"
		}
	}
	e.rollCfg = fmt.Sprintf("berth dev, %s runtime; %d tasks of %s (bridge, dynamic host port, no container health check) behind an ALB instance target group: "+
		"health check GET /health every %s, timeout 2s, healthy/unhealthy threshold 2, deregistration delay %s; minimumHealthyPercent 100, maximumPercent 200; poll every %s",
		rt, o.tasks, demoimage.Tag, o.healthInt, o.dereg, o.poll)
	for round := 1; round <= o.repeat && ctx.Err() == nil; round++ {
		r := e.rollOnce(ctx, hard, rt, round)
		e.rolling = append(e.rolling, r)
		if r.err != "" {
			fmt.Fprintf(os.Stderr, "rolling %d: %s\n", round, r.err)
			continue
		}
		fmt.Fprintf(os.Stderr, "rolling %d: all v2 healthy %.2fs, v1 out of the group %.2fs, COMPLETED %.2fs (floor %s)\n",
			round, r.allNewHealthy.Seconds(), r.oldGone.Seconds(), r.completed.Seconds(), o.floor())
	}
	return ctx.Err()
}

func (e *env) rollOnce(ctx, hard context.Context, rt string, round int) (r *rollRun) {
	r = &rollRun{round: round, loadavg: harness.LoadAvg()}
	if err := e.rollErr(ctx, hard, rt, r); err != nil {
		r.err = harness.FirstLine(err)
	}
	return r
}

func (e *env) rollErr(ctx, hard context.Context, rt string, r *rollRun) (err error) {
	o := e.o
	dir, err := os.MkdirTemp(e.root, fmt.Sprintf("dev-%d-", r.round))
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s := &harness.Server{KeyID: "AKIABENCH" + strings.ToUpper(harness.RandomHex(6))[:11], Secret: harness.RandomHex(20), Region: o.Region,
		DataDir: filepath.Join(dir, "dev")}
	p, err := harness.StartProc("berth dev", e.berth, []string{"dev", "--data-dir", s.DataDir, "--listen", "127.0.0.1:0", "--region", o.Region,
		"--lb-addresses", o.devPool, "--runtime", rt, "--log-level", "warn",
		"--dns-listen", "127.0.0.1:0", "--dns-forward", "none", "--task-dns", "off"}, s.Env(), filepath.Join(dir, "dev.log"))
	if err != nil {
		return err
	}
	s.Proc = p
	runName := fmt.Sprintf("%s-%d", harness.RandomHex(4), r.round)
	defer func() {
		if serr := p.Stop(30 * time.Second); serr != nil && err == nil {
			err = serr
		}
		if rt == "docker" {
			if d, derr := harness.OpenDocker(context.Background()); derr == nil {
				_, _ = d.RemoveLabelled(context.Background(), runLabel, runName)
				d.Close()
			}
		}
		if err != nil {
			err = fmt.Errorf("%w\nberth dev log (end):\n%s", err, p.LogTail(3000))
		}
	}()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if !p.Running() {
			return fmt.Errorf("berth dev exited (%v)", p.Err)
		}
		if s.Endpoint = harness.ReadyEndpoint(s.DataDir); s.Endpoint != "" {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("berth dev not ready within 2 minutes (%v)", ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, err := harness.NewClient(ctx, s, 0)
	if err != nil {
		return err
	}
	ec, err := harness.NewELBClient(ctx, s)
	if err != nil {
		return err
	}
	const cluster, service = "default", "web"
	if _, err := harness.WaitInstance(ctx, c, cluster, nil, 2*time.Minute); err != nil {
		return err
	}
	var tgARN string
	if _, err := createALBWith(ctx, ec, "web", nil, 8080, o.healthInt, o.dereg, &tgARN); err != nil {
		return err
	}
	var defs [2]string
	for i, v := range []string{"v1", "v2"} {
		out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeBridge,
			ContainerDefinitions: []ecstypes.ContainerDefinition{{
				Name: aws.String("app"), Image: aws.String(demoimage.Tag), Essential: aws.Bool(true), Memory: aws.Int32(32),
				Environment:  []ecstypes.KeyValuePair{{Name: aws.String("VERSION"), Value: aws.String(v)}},
				PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: ecstypes.TransportProtocolTcp}},
				DockerLabels: map[string]string{runLabel: runName},
			}},
		})
		if err != nil {
			return err
		}
		defs[i] = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	start := time.Now()
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(service), TaskDefinition: aws.String(defs[0]), DesiredCount: aws.Int32(int32(o.tasks)),
		LoadBalancers:           []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tgARN), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200)},
	}); err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(hard, time.Minute)
		defer cancel()
		if _, derr := c.DeleteService(dctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(service), Force: aws.Bool(true)}); derr != nil {
			return
		}
		for dctx.Err() == nil {
			lt, lerr := c.ListTasks(dctx, &ecs.ListTasksInput{Cluster: aws.String(cluster)})
			if lerr == nil && len(lt.TaskArns) == 0 {
				return
			}
			harness.Sleep(dctx, 250*time.Millisecond)
		}
	}()
	targets := func() (map[string]elbtypes.TargetHealthStateEnum, error) {
		th, err := ec.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			return nil, err
		}
		m := map[string]elbtypes.TargetHealthStateEnum{}
		for _, d := range th.TargetHealthDescriptions {
			m[aws.ToString(d.Target.Id)+":"+strconv.Itoa(int(aws.ToInt32(d.Target.Port)))] = d.TargetHealth.State
		}
		return m, nil
	}
	describe := func() (*ecstypes.Service, error) {
		ds, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
		if err != nil {
			return nil, err
		}
		if len(ds.Services) != 1 {
			return nil, fmt.Errorf("DescribeServices: %d services", len(ds.Services))
		}
		return &ds.Services[0], nil
	}
	var old map[string]elbtypes.TargetHealthStateEnum
	for deadline := time.Now().Add(o.timeout); ; {
		svc, err := describe()
		if err == nil && len(svc.Deployments) == 1 && svc.RunningCount == int32(o.tasks) &&
			svc.Deployments[0].RolloutState == ecstypes.DeploymentRolloutStateCompleted {
			if old, err = targets(); err == nil && healthyCount(old, nil) == o.tasks && len(old) == o.tasks {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("service not steady on v1 with %d healthy targets after %s (%v)", o.tasks, o.timeout, err)
		}
		harness.Sleep(ctx, o.poll)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	r.create = time.Since(start)
	harness.Sleep(ctx, time.Second)

	t0 := time.Now()
	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(service), TaskDefinition: aws.String(defs[1])})
	if err != nil {
		return err
	}
	var newID string
	for _, d := range up.Service.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			newID = aws.ToString(d.Id)
		}
	}
	r.minHealthy = o.tasks
	for deadline := t0.Add(o.timeout); ; {
		if time.Now().After(deadline) {
			return fmt.Errorf("deployment not COMPLETED after %s", o.timeout)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ts, terr := targets()
		svc, serr := describe()
		now := time.Since(t0)
		if terr == nil {
			r.minHealthy = min(r.minHealthy, healthyCount(ts, nil))
			r.maxRegistered = max(r.maxRegistered, len(ts))
			isNew := func(k string) bool { _, ok := old[k]; return !ok }
			nNew := 0
			for k := range ts {
				if isNew(k) {
					nNew++
				}
			}
			if nNew > 0 && r.firstNew == 0 {
				r.firstNew = now
			}
			if r.allNewHealthy == 0 && healthyCount(ts, isNew) == o.tasks {
				r.allNewHealthy = now
			}
			if r.oldGone == 0 && nNew == len(ts) && r.allNewHealthy > 0 {
				r.oldGone = now
			}
		}
		if serr == nil {
			for _, d := range svc.Deployments {
				if aws.ToString(d.Id) != newID {
					continue
				}
				switch d.RolloutState {
				case ecstypes.DeploymentRolloutStateFailed:
					return fmt.Errorf("deployment FAILED: %s", aws.ToString(d.RolloutStateReason))
				case ecstypes.DeploymentRolloutStateCompleted:
					if r.seen == 0 {
						r.seen = now
						r.completed = now
						if u := aws.ToTime(d.UpdatedAt); !u.IsZero() && u.After(t0) {
							r.completed = u.Sub(t0)
						}
					}
				}
			}
		}
		if r.seen > 0 && r.oldGone > 0 {
			return nil
		}
		harness.Sleep(ctx, o.poll)
	}
}

// healthyCount counts the healthy targets for which f holds (all: nil).
func healthyCount(ts map[string]elbtypes.TargetHealthStateEnum, f func(string) bool) int {
	n := 0
	for k, s := range ts {
		if s == elbtypes.TargetHealthStateEnumHealthy && (f == nil || f(k)) {
			n++
		}
	}
	return n
}
