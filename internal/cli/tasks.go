package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/shape"
)

func shortID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func newRunCmd(env *Env, f *clientFlags) *cobra.Command {
	var cluster, startedBy, group string
	var count int32
	var strategies, constraints, envs []string
	var wait bool
	cmd := &cobra.Command{
		Use:   "run TASK_DEFINITION",
		Short: "Run tasks (RunTask): family, family:revision or ARN",
		Args:  cobra.ExactArgs(1),
		RunE: withClient(env, f, func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error {
			in := &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(args[0]), Count: aws.Int32(count)}
			if startedBy != "" {
				in.StartedBy = aws.String(startedBy)
			}
			if group != "" {
				in.Group = aws.String(group)
			}
			for _, s := range strategies {
				typ, field, _ := strings.Cut(s, ":")
				ps := types.PlacementStrategy{Type: types.PlacementStrategyType(typ)}
				if field != "" {
					ps.Field = aws.String(field)
				}
				in.PlacementStrategy = append(in.PlacementStrategy, ps)
			}
			for _, s := range constraints {
				typ, expr, _ := strings.Cut(s, ":")
				pc := types.PlacementConstraint{Type: types.PlacementConstraintType(typ)}
				if expr != "" {
					pc.Expression = aws.String(expr)
				}
				in.PlacementConstraints = append(in.PlacementConstraints, pc)
			}
			if len(envs) > 0 {
				ov, err := envOverrides(envs)
				if err != nil {
					return &exitError{code: 2, msg: err.Error()}
				}
				in.Overrides = ov
			}
			out, err := c.RunTask(ctx, in)
			if err != nil {
				return err
			}
			if wait && len(out.Tasks) > 0 {
				arns := make([]string, len(out.Tasks))
				for i, t := range out.Tasks {
					arns[i] = aws.ToString(t.TaskArn)
				}
				w := ecs.NewTasksRunningWaiter(c, func(o *ecs.TasksRunningWaiterOptions) { o.MinDelay, o.MaxDelay = time.Second, 3*time.Second })
				d, err := w.WaitForOutput(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns}, 10*time.Minute)
				if err != nil {
					// Say why: the tasks that stopped, with their codes and
					// their containers' exit codes and reasons.
					tasks, derr := describeTasks(ctx, c, cluster, arns)
					if derr != nil {
						return fmt.Errorf("waiting for RUNNING: %w", err)
					}
					var why []string
					for _, t := range tasks {
						if aws.ToString(t.LastStatus) == "STOPPED" || aws.ToString(t.DesiredStatus) == "STOPPED" {
							why = append(why, whyStopped(t))
						}
					}
					if len(why) == 0 {
						return fmt.Errorf("waiting for RUNNING: %w", err)
					}
					printTasks(env.Stdout, tasks)
					return &exitError{code: 1, msg: strings.Join(why, "\n")}
				}
				out.Tasks = d.Tasks
			}
			if f.output == "json" {
				return writeWire[shape.RunTaskResponse](env.Stdout, out)
			}
			printTasks(env.Stdout, out.Tasks)
			for _, fl := range out.Failures {
				fmt.Fprintf(env.Stdout, "failure: %s %s %s\n", aws.ToString(fl.Reason), aws.ToString(fl.Arn), aws.ToString(fl.Detail))
			}
			if len(out.Tasks) == 0 {
				return &exitError{code: 1, msg: "no task was placed"}
			}
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&cluster, "cluster", "default", "cluster")
	fl.Int32Var(&count, "count", 1, "number of tasks (1-10)")
	fl.StringVar(&startedBy, "started-by", "", "startedBy tag of the tasks")
	fl.StringVar(&group, "group", "", "task group (default family:FAMILY)")
	fl.StringArrayVar(&strategies, "strategy", nil, "placement strategy type[:field], e.g. spread:attribute:ecs.availability-zone, binpack:memory (repeatable)")
	fl.StringArrayVar(&constraints, "constraint", nil, "placement constraint distinctInstance or memberOf:EXPRESSION (repeatable)")
	fl.StringArrayVar(&envs, "env", nil, "environment override CONTAINER:NAME=VALUE (repeatable)")
	fl.BoolVar(&wait, "wait", false, "wait until the tasks are RUNNING")
	return cmd
}

func envOverrides(envs []string) (*types.TaskOverride, error) {
	byContainer := map[string][]types.KeyValuePair{}
	var order []string
	for _, e := range envs {
		container, kv, ok := strings.Cut(e, ":")
		name, value, ok2 := strings.Cut(kv, "=")
		if !ok || !ok2 || container == "" || name == "" {
			return nil, fmt.Errorf("--env %q: use CONTAINER:NAME=VALUE", e)
		}
		if _, seen := byContainer[container]; !seen {
			order = append(order, container)
		}
		byContainer[container] = append(byContainer[container], types.KeyValuePair{Name: aws.String(name), Value: aws.String(value)})
	}
	ov := &types.TaskOverride{}
	for _, c := range order {
		ov.ContainerOverrides = append(ov.ContainerOverrides, types.ContainerOverride{Name: aws.String(c), Environment: byContainer[c]})
	}
	return ov, nil
}

// whyStopped says why a task stopped, or is stopping: its stop code and
// reason, then each container's exit code and reason.
func whyStopped(t types.Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "task %s %s", shortID(aws.ToString(t.TaskArn)), strings.ToLower(aws.ToString(t.LastStatus)))
	if t.StartedAt == nil {
		b.WriteString(" (never started)")
	}
	if t.StopCode != "" {
		fmt.Fprintf(&b, ": %s", t.StopCode)
	}
	if r := aws.ToString(t.StoppedReason); r != "" {
		fmt.Fprintf(&b, ": %s", r)
	}
	for _, c := range t.Containers {
		fmt.Fprintf(&b, "\n  container %s: %s", aws.ToString(c.Name), strings.ToLower(aws.ToString(c.LastStatus)))
		if c.ExitCode != nil {
			fmt.Fprintf(&b, ", exit code %d", *c.ExitCode)
		}
		if r := aws.ToString(c.Reason); r != "" {
			fmt.Fprintf(&b, ": %s", r)
		}
	}
	return b.String()
}

// ports lists a task's host port bindings, hostPort->containerPort/protocol.
func ports(t types.Task) string {
	var ps []string
	for _, c := range t.Containers {
		for _, nb := range c.NetworkBindings {
			proto := string(nb.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			host, ctr := fmt.Sprint(aws.ToInt32(nb.HostPort)), fmt.Sprint(aws.ToInt32(nb.ContainerPort))
			if nb.HostPortRange != nil {
				host = aws.ToString(nb.HostPortRange)
			}
			if nb.ContainerPortRange != nil {
				ctr = aws.ToString(nb.ContainerPortRange)
			}
			ps = append(ps, host+"->"+ctr+"/"+proto)
		}
	}
	return strings.Join(ps, ",")
}

// ips lists a task's private IPv4 addresses, once it has them.
func ips(t types.Task) string {
	var out []string
	for _, c := range t.Containers {
		for _, ni := range c.NetworkInterfaces {
			if a := aws.ToString(ni.PrivateIpv4Address); a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return strings.Join(out, ",")
}

func printTasks(w io.Writer, tasks []types.Task) {
	tw := table(w, "TASK", "DEFINITION", "LAST", "DESIRED", "HEALTH", "INSTANCE", "CREATED", "PORTS", "IP", "STOPPED")
	for _, t := range tasks {
		def := aws.ToString(t.TaskDefinitionArn)
		def = def[strings.LastIndex(def, "/")+1:]
		stopped := ""
		if t.StopCode != "" {
			stopped = string(t.StopCode) + ": " + aws.ToString(t.StoppedReason)
		}
		created := ""
		if t.CreatedAt != nil {
			created = t.CreatedAt.Local().Format("15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shortID(aws.ToString(t.TaskArn)), def, aws.ToString(t.LastStatus),
			aws.ToString(t.DesiredStatus), t.HealthStatus, shortID(aws.ToString(t.ContainerInstanceArn)), created, ports(t), ips(t), stopped)
	}
	tw.Flush()
}

func newPsCmd(env *Env, f *clientFlags) *cobra.Command {
	var cluster string
	var all bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List tasks (RUNNING desired status; --all adds recently stopped ones)",
		Args:  cobra.NoArgs,
		RunE: withClient(env, f, func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error {
			statuses := []types.DesiredStatus{types.DesiredStatusRunning}
			if all {
				statuses = append(statuses, types.DesiredStatusStopped)
			}
			var arns []string
			for _, s := range statuses {
				got, err := listAll(ctx, ecs.NewListTasksPaginator(c, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: s}),
					func(p *ecs.ListTasksOutput) []string { return p.TaskArns })
				if err != nil {
					return err
				}
				arns = append(arns, got...)
			}
			tasks, err := describeTasks(ctx, c, cluster, arns)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeWire[shape.DescribeTasksResponse](env.Stdout, &ecs.DescribeTasksOutput{Tasks: append([]types.Task{}, tasks...), Failures: []types.Failure{}})
			}
			printTasks(env.Stdout, tasks)
			return nil
		}),
	}
	cmd.Flags().StringVar(&cluster, "cluster", "default", "cluster")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "include stopped tasks")
	return cmd
}

func describeTasks(ctx context.Context, c *ecs.Client, cluster string, arns []string) ([]types.Task, error) {
	tasks, err := describeAll(arns, 100, func(b []string) ([]types.Task, error) {
		out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: b})
		if err != nil {
			return nil, err
		}
		return out.Tasks, nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(tasks, func(i, j int) bool {
		return aws.ToTime(tasks[i].CreatedAt).Before(aws.ToTime(tasks[j].CreatedAt))
	})
	return tasks, nil
}

func newStopCmd(env *Env, f *clientFlags) *cobra.Command {
	var cluster, reason string
	cmd := &cobra.Command{
		Use:   "stop TASK...",
		Short: "Stop tasks (StopTask)",
		Args:  cobra.MinimumNArgs(1),
		RunE: withClient(env, f, func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error {
			for _, t := range args {
				in := &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(t)}
				if reason != "" {
					in.Reason = aws.String(reason)
				}
				out, err := c.StopTask(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s %s\n", shortID(aws.ToString(out.Task.TaskArn)), aws.ToString(out.Task.LastStatus))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&cluster, "cluster", "default", "cluster")
	cmd.Flags().StringVar(&reason, "reason", "", "stoppedReason (default \"Task stopped by user\")")
	return cmd
}

func newInstancesCmd(env *Env, f *clientFlags) *cobra.Command {
	var cluster, filter string
	cmd := &cobra.Command{
		Use:   "instances",
		Short: "List container instances with their free resources",
		Args:  cobra.NoArgs,
		RunE: withClient(env, f, func(ctx context.Context, c *ecs.Client, cmd *cobra.Command, args []string) error {
			in := &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)}
			if filter != "" {
				in.Filter = aws.String(filter)
			}
			arns, err := listAll(ctx, ecs.NewListContainerInstancesPaginator(c, in),
				func(p *ecs.ListContainerInstancesOutput) []string { return p.ContainerInstanceArns })
			if err != nil {
				return err
			}
			insts, err := describeAll(arns, 100, func(b []string) ([]types.ContainerInstance, error) {
				out, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: b})
				if err != nil {
					return nil, err
				}
				return out.ContainerInstances, nil
			})
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeWire[shape.DescribeContainerInstancesResponse](env.Stdout, &ecs.DescribeContainerInstancesOutput{ContainerInstances: append([]types.ContainerInstance{}, insts...), Failures: []types.Failure{}})
			}
			tw := table(env.Stdout, "INSTANCE", "STATUS", "AGENT", "RUNNING", "PENDING", "CPU FREE/TOTAL", "MEMORY FREE/TOTAL", "AZ", "RUNTIME")
			for _, ci := range insts {
				res := func(rs []types.Resource, name string) int32 {
					for _, r := range rs {
						if aws.ToString(r.Name) == name {
							return r.IntegerValue
						}
					}
					return 0
				}
				attr := func(name string) string {
					for _, a := range ci.Attributes {
						if aws.ToString(a.Name) == name {
							return aws.ToString(a.Value)
						}
					}
					return ""
				}
				agent := "disconnected"
				if ci.AgentConnected {
					agent = "connected"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d/%d\t%d/%d\t%s\t%s\n", shortID(aws.ToString(ci.ContainerInstanceArn)),
					aws.ToString(ci.Status), agent, ci.RunningTasksCount, ci.PendingTasksCount,
					res(ci.RemainingResources, "CPU"), res(ci.RegisteredResources, "CPU"),
					res(ci.RemainingResources, "MEMORY"), res(ci.RegisteredResources, "MEMORY"),
					attr("ecs.availability-zone"), attr("berth.runtime"))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&cluster, "cluster", "default", "cluster")
	cmd.Flags().StringVar(&filter, "filter", "", "cluster query language filter")
	return cmd
}

func newLogsCmd(env *Env, f *clientFlags) *cobra.Command {
	var cluster, container string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs TASK",
		Short: "Print a task's container output (awslogs containers: from the log store; others: from its agent)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ep, region, creds, err := resolveClient(env, f)
			if err != nil {
				return err
			}
			// A task that never started has no output: say why instead.
			c, err := newECSClient(ctx, env, f)
			if err != nil {
				return err
			}
			d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{args[0]}})
			if err != nil {
				return err
			}
			if len(d.Tasks) == 1 && d.Tasks[0].StartedAt == nil && aws.ToString(d.Tasks[0].LastStatus) == "STOPPED" {
				return &exitError{code: 1, msg: "no logs: " + whyStopped(d.Tasks[0])}
			}
			q := url.Values{"cluster": {cluster}, "task": {args[0]}}
			if container != "" {
				q.Set("container", container)
			}
			if follow {
				q.Set("follow", "true")
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(ep, "/")+agentproto.PathCLILog+"?"+q.Encode(), nil)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(nil)
			if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ecs", region, time.Now()); err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				var e struct {
					Type    string `json:"__type"`
					Message string `json:"message"`
				}
				b, _ := io.ReadAll(resp.Body)
				if json.Unmarshal(b, &e) == nil && e.Type != "" {
					return fmt.Errorf("%s: %s", e.Type, e.Message)
				}
				return fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
			}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64*1024), 1<<20)
			for sc.Scan() {
				var l agentproto.LogLine
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					continue
				}
				if f.output == "json" {
					fmt.Fprintln(env.Stdout, sc.Text())
					continue
				}
				if container == "" {
					fmt.Fprintf(env.Stdout, "%s | %s\n", l.Container, l.Text)
				} else {
					fmt.Fprintln(env.Stdout, l.Text)
				}
			}
			return sc.Err()
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster", "default", "cluster")
	cmd.Flags().StringVar(&container, "container", "", "only this container")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new output")
	return cmd
}
