package server

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// snapshotter gives the state as of one moment.
type snapshotter interface {
	Snapshot() *state.Snapshot
}

// stateCollector exports gauges derived from the state at scrape time, all
// from one snapshot so that they agree with each other: tasks by status,
// services' counts, deployments by rollout state, container instances and
// connected agents. A scrape reads each task, service and container
// instance once.
type stateCollector struct {
	state snapshotter
	log   *slog.Logger
}

var (
	descTasks = prometheus.NewDesc("berth_tasks",
		"Tasks by cluster, last status and desired status (STOPPED tasks stay until collected, an hour by default).",
		[]string{"cluster", "last_status", "desired_status"}, nil)
	descServiceDesired = prometheus.NewDesc("berth_service_desired_tasks",
		"Desired count of each ACTIVE or DRAINING service.",
		[]string{"cluster", "service"}, nil)
	descServiceRunning = prometheus.NewDesc("berth_service_running_tasks",
		"Tasks of each ACTIVE or DRAINING service whose last status is RUNNING (the service's runningCount).",
		[]string{"cluster", "service"}, nil)
	descServicePending = prometheus.NewDesc("berth_service_pending_tasks",
		"Tasks of each ACTIVE or DRAINING service that are PENDING, PROVISIONING or ACTIVATING (the service's pendingCount).",
		[]string{"cluster", "service"}, nil)
	descDeployments = prometheus.NewDesc("berth_service_deployments",
		"Deployments in the deployments of ACTIVE or DRAINING services, by cluster, status (PRIMARY or ACTIVE) and rollout state.",
		[]string{"cluster", "status", "rollout_state"}, nil)
	descInstances = prometheus.NewDesc("berth_container_instances",
		"Registered container instances by cluster and status.",
		[]string{"cluster", "status"}, nil)
	descAgents = prometheus.NewDesc("berth_agents_connected",
		"Container instances whose agent is connected (agentConnected) by cluster (clusters not deleted).",
		[]string{"cluster"}, nil)
)

// Describe sends the descriptors of every metric.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTasks, descServiceDesired, descServiceRunning, descServicePending, descDeployments, descInstances, descAgents} {
		ch <- d
	}
}

// Collect reads one snapshot and sends the gauges.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.state.Snapshot()
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
		if err != nil {
			c.log.Warn("state metric", "metric", d.String(), "err", err)
			return
		}
		ch <- m
	}
	var clusters []*shape.Cluster
	snap.Clusters("", func(cl *shape.Cluster) bool {
		clusters = append(clusters, cl)
		return true
	})
	for _, cl := range clusters {
		cluster := deref(cl.ClusterName)
		type statuses struct{ last, desired string }
		tasks := map[statuses]int{}
		type counts struct{ running, pending int }
		byGroup := map[string]*counts{}
		snap.Tasks(cluster, "", func(t *state.Task) bool {
			last := deref(t.Shape.LastStatus)
			tasks[statuses{last, deref(t.Shape.DesiredStatus)}]++
			g := byGroup[deref(t.Shape.Group)]
			if g == nil {
				g = &counts{}
				byGroup[deref(t.Shape.Group)] = g
			}
			switch last {
			case "RUNNING":
				g.running++
			case "PENDING", "PROVISIONING", "ACTIVATING":
				g.pending++
			}
			return true
		})
		for s, n := range tasks {
			gauge(descTasks, n, cluster, s.last, s.desired)
		}

		type rollout struct{ status, state string }
		deployments := map[rollout]int{}
		snap.Services(cluster, "", func(svc *state.Service) bool {
			if st := deref(svc.Shape.Status); st != "ACTIVE" && st != "DRAINING" {
				return true
			}
			gauge(descServiceDesired, int(svc.Shape.DesiredCount), cluster, svc.Name)
			g := byGroup[fsm.ServiceGroup(svc.Name)]
			if g == nil {
				g = &counts{}
			}
			gauge(descServiceRunning, g.running, cluster, svc.Name)
			gauge(descServicePending, g.pending, cluster, svc.Name)
			for _, d := range svc.Deployments {
				deployments[rollout{d.Status, d.RolloutState}]++
			}
			return true
		})
		for r, n := range deployments {
			gauge(descDeployments, n, cluster, r.status, r.state)
		}

		instances := map[string]int{}
		connected := 0
		snap.Instances(cluster, "", func(ci *state.ContainerInstance) bool {
			instances[deref(ci.Shape.Status)]++
			if ci.Shape.AgentConnected {
				connected++
			}
			return true
		})
		for st, n := range instances {
			gauge(descInstances, n, cluster, st)
		}
		if deref(cl.Status) != "INACTIVE" {
			gauge(descAgents, connected, cluster)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
