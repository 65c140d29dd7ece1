// Command launch measures how fast berth launches tasks to RUNNING, with
// the process runtime and with the Docker runtime, and how fast Docker Swarm
// starts the same image on the same engine; and what memory berth's server
// and agent use while doing it. It is a program, not a test: it asserts
// nothing, it prints what it measured.
//
// Every run starts `berth server` and one `berth agent` (built from this
// module, or --berth-bin) as processes with fresh data dirs, launches the
// test application (internal/e2e/testapp) with RunTask from many concurrent
// callers, waits until every task is RUNNING, stops them all and waits until
// every task is STOPPED. The Swarm run does `docker swarm init` (only when
// the engine is in no swarm), `docker service create --replicas N` of the
// same image, waits until N tasks run, removes the service and leaves the
// swarm again (only when it joined it). --state-scale adds a run that loads
// one server with many fake agents (see fleet.go). The awsvpc runs compare
// the awsvpc network mode with bridge mode on one agent (see awsvpc.go).
// See docs/benchmarks.md.
//
//	go run ./bench/launch                         # 1,000 process tasks once; 50 Docker tasks and Swarm 3 times each
//	go run ./bench/launch --phases process --repeat 1
//	go run ./bench/launch --state-scale --out bench-results.md
//	go run ./bench/launch --phases awsvpc-process,awsvpc-docker   # awsvpc against bridge, as root
package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/bench/internal/harness"
)

type options struct {
	phases        []string
	processTasks  int
	dockerTasks   int
	repeat        int
	processRepeat int
	callers       int
	perCall       int
	poll          time.Duration
	timeout       time.Duration
	settle        time.Duration
	memory        int
	cpu           int
	stopTimeout   time.Duration

	vpcSizes  []int
	vpcRounds int
	vpcPause  time.Duration
	vpcLogs   string

	stateScale     bool
	scaleInstances int
	scaleTasks     int
	scaleMemory    int

	harness.Common

	targetProcessRate float64
	targetRatio       float64
	targetServerMiB   float64
	targetAgentMiB    float64
	targetVPCRatio    float64
}

func main() {
	// The first Ctrl-C (or SIGTERM) ends the measurement: the bench then
	// stops the tasks it launched and cleans up. A second one also gives up
	// waiting for the tasks to stop; the processes, containers and swarm are
	// still cleaned up.
	harness.Main("bench/launch", parseFlags,
		"interrupted: stopping the tasks and cleaning up (interrupt again to stop waiting for the tasks)",
		"interrupted again: cleaning up without waiting for the tasks", benchmark)
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("launch", flag.ContinueOnError)
	o := &options{}
	phases := fs.String("phases", "process,docker,swarm", "runs to make, in this order per repetition: process, docker, swarm; and, after them, awsvpc-process, awsvpc-docker (awsvpc against bridge mode, needs root)")
	fs.IntVar(&o.processTasks, "process-tasks", 1000, "tasks the process-runtime run launches")
	fs.IntVar(&o.dockerTasks, "docker-tasks", 50, "tasks the Docker-runtime run launches, and Swarm replicas")
	fs.IntVar(&o.repeat, "repeat", 3, "repetitions of the docker and swarm runs; the summary shows medians")
	fs.IntVar(&o.processRepeat, "process-repeat", 1, "repetitions of the process run (the long one)")
	fs.IntVar(&o.callers, "callers", 20, "concurrent RunTask (and StopTask) callers")
	fs.IntVar(&o.perCall, "count", 10, "tasks per RunTask call (1-10)")
	fs.DurationVar(&o.poll, "poll-interval", 250*time.Millisecond, "pause between two rounds of DescribeTasks (or Swarm TaskList) while waiting")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long to wait for all tasks to be RUNNING, and then STOPPED")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "pause before the idle and after memory readings")
	fs.IntVar(&o.memory, "task-memory", 16, "container memory (MiB, hard limit) of every task")
	fs.IntVar(&o.cpu, "task-cpu", 0, "container cpu units of every task")
	fs.DurationVar(&o.stopTimeout, "agent-stop-timeout", 30*time.Second, "the agents' --stop-timeout (the test app exits at once on SIGTERM)")
	vpcTasks := fs.String("awsvpc-tasks", "50,200", "task counts of the awsvpc runs (each launched in both modes every round)")
	fs.IntVar(&o.vpcRounds, "awsvpc-rounds", 5, "rounds of the awsvpc runs (alternating which mode goes first); the summary shows medians")
	fs.DurationVar(&o.vpcPause, "awsvpc-pause", time.Second, "pause after each launch-and-stop of the awsvpc runs")
	fs.StringVar(&o.vpcLogs, "awsvpc-logs", "", "keep the awsvpc runs' server and agent logs in this directory, the agent's at level info (its veths made and removed, with times)")
	fs.BoolVar(&o.stateScale, "state-scale", false, "also run the state-scale run: one server, --scale-instances fake agents, --scale-tasks tasks")
	fs.IntVar(&o.scaleInstances, "scale-instances", 1000, "fake container instances of the state-scale run")
	fs.IntVar(&o.scaleTasks, "scale-tasks", 10000, "tasks of the state-scale run")
	fs.IntVar(&o.scaleMemory, "scale-instance-memory", 4096, "MiB each fake instance registers")
	o.Register(fs, "berth-bench-launch:testapp", "tag of the test application image the Docker and Swarm runs use (built from internal/e2e/testapp)", "keep the image tag at the end (default: remove it)")
	fs.Float64Var(&o.targetProcessRate, "target-process-rate", 200, "target tasks/s to RUNNING with the process runtime (reported, not asserted)")
	fs.Float64Var(&o.targetRatio, "target-swarm-ratio", 2, "target ratio of berth's Docker-runtime rate to Swarm's (reported, not asserted)")
	fs.Float64Var(&o.targetServerMiB, "target-server-rss", 300, "target server RSS in MiB at the state scale (reported, not asserted)")
	fs.Float64Var(&o.targetVPCRatio, "target-awsvpc-ratio", 1.3, "target ratio of awsvpc's time to RUNNING to bridge's, same tasks (reported, not asserted)")
	fs.Float64Var(&o.targetAgentMiB, "target-agent-rss", 50, "target idle agent RSS in MiB (reported, not asserted)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for p := range strings.SplitSeq(*phases, ",") {
		p = strings.TrimSpace(p)
		switch p {
		case "":
			continue
		case "process", "docker", "swarm", "awsvpc-process", "awsvpc-docker":
		default:
			return nil, fmt.Errorf("--phases: unknown run %q (process, docker, swarm, awsvpc-process, awsvpc-docker)", p)
		}
		if !slices.Contains(o.phases, p) {
			o.phases = append(o.phases, p)
		}
	}
	var err error
	if o.vpcSizes, err = vpcSizes(*vpcTasks); err != nil {
		return nil, err
	}
	switch {
	case len(o.phases) == 0 && !o.stateScale:
		return nil, errors.New("nothing to run: give --phases or --state-scale")
	case o.perCall < 1 || o.perCall > 10:
		return nil, errors.New("--count must be between 1 and 10 (RunTask's limit)")
	case o.processTasks < 1 || o.dockerTasks < 1 || o.repeat < 1 || o.processRepeat < 1 || o.callers < 1 || o.vpcRounds < 1:
		return nil, errors.New("--process-tasks, --docker-tasks, --repeat, --process-repeat, --awsvpc-rounds and --callers must be positive")
	case o.poll <= 0 || o.timeout <= 0 || o.settle < 0:
		return nil, errors.New("--poll-interval and --timeout must be positive, --settle not negative")
	case o.memory < 6 || o.cpu < 0:
		return nil, errors.New("--task-memory must be at least 6 (Docker's minimum) and --task-cpu not negative")
	case o.stateScale && (o.scaleInstances < 1 || o.scaleTasks < 1):
		return nil, errors.New("--scale-instances and --scale-tasks must be positive")
	}
	return o, nil
}
